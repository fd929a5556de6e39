#!/bin/bash
#
# t_console.sh: the web console in a real browser.
#
# The daemon serves the console over HTTPS (a self-signed certificate made with certtool). SIPp
# records three calls with the same other party: on line 4001 (profile "desk", access group desk,
# 5 s), 4002 (the same profile, to be erasable) and 4003 (profile "claims", a legal obligation).
# Users of each role are made with the CLI. console_test.py then drives Debian's headless chromium
# through chromedriver: sign in as each role, search the call, play it (the audio element plays
# and its duration matches), seek, the two-lane level picture, export, the supervisor's missing
# erasure controls and the API refusing the erasure anyway, the auditor's verification and audit
# trail, the privacy officer's erasure preview. Screenshots go to test-output/console/.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 46
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
[ -x "$CHROMIUM" ] || skip_all "chromium not found (Debian package chromium)"
[ -x "$CHROMEDRIVER" ] || skip_all "chromedriver not found (Debian package chromium-driver)"
command -v python3 >/dev/null || skip_all "python3 not found"
command -v certtool >/dev/null || skip_all "certtool not found (Debian package gnutls-bin)"

# A certificate for 127.0.0.1, as an administrator would make one.
certtool --generate-privkey --key-type=ecdsa --outfile "$E2E_DIR/http.key" >/dev/null 2>&1
cat >"$E2E_DIR/cert.tmpl" <<TMPL
cn = "127.0.0.1"
ip_address = "127.0.0.1"
expiration_days = 2
tls_www_server
signing_key
TMPL
certtool --generate-self-signed --load-privkey "$E2E_DIR/http.key" --template "$E2E_DIR/cert.tmpl" \
    --outfile "$E2E_DIR/http.pem" >/dev/null 2>&1 || bail_out "certtool failed"
E2E_CONFIG_EXTRA='  <profile name="desk" basis="contract" retention-days="30" access="desk"><match dn="4001"/><match dn="4002"/></profile>
  <profile name="claims" basis="legal-obligation" retention-days="30" access="desk"><match dn="4003"/></profile>'
write_config
sed -i "s|<http address=\"127.0.0.1\" port=\"$E2E_HTTP_PORT\"/>|<http address=\"127.0.0.1\" port=\"$E2E_HTTP_PORT\" tls-cert=\"http.pem\" tls-key=\"http.key\"/>|" "$E2E_CONFIG"
CHECKS=24
plan $((CHECKS + 4))
start_daemon || bail_out "bibrecd did not start"
url="https://127.0.0.1:$E2E_HTTP_PORT/console/"

status=$(curl -sk -o "$E2E_DIR/out/index.html" -D "$E2E_DIR/out/headers.txt" -w '%{http_code}' "$url")
[ "$status" = 200 ] && grep -qi "^content-security-policy: default-src 'none'; script-src 'self';" "$E2E_DIR/out/headers.txt" &&
    grep -qi "^x-frame-options: DENY" "$E2E_DIR/out/headers.txt"
ok $? "the console is served over HTTPS with a strict Content-Security-Policy" || diag_file "$E2E_DIR/out/headers.txt"

cucm_call refci=28900010 near_dn=4001 far_dn=+441632960077 duration=5000 || bail_out "call 1 failed"
cucm_call refci=28900020 near_dn=4002 far_dn=+441632960077 duration=1500 || bail_out "call 2 failed"
cucm_call refci=28900030 near_dn=4003 far_dn=+441632960077 duration=1500 || bail_out "call 3 failed"
list_recordings
rec=$(grep -P "\t4001\t" <<<"$E2E_RECORDINGS" | cut -f1)
erasable=$(grep -P "\t4002\t" <<<"$E2E_RECORDINGS" | cut -f1)
legal=$(grep -P "\t4003\t" <<<"$E2E_RECORDINGS" | cut -f1)
[ -n "$rec" ] && [ -n "$erasable" ] && [ -n "$legal" ]
ok $? "three calls recorded" || show_list

pw="correct horse battery staple"
for u in "sup --role supervisor --group desk" "aud --role auditor" "po --role privacy-officer"; do
    # shellcheck disable=SC2086 # the options are words
    echo "$pw" | bibrec_cli user add $u --password-stdin >>"$E2E_DIR/out/users.txt" 2>&1 ||
        bail_out "user add $u: $(cat "$E2E_DIR/out/users.txt")"
done
cat >"$E2E_DIR/spec.json" <<JSON
{"users": {"supervisor": {"name": "sup", "password": "$pw"},
           "auditor": {"name": "aud", "password": "$pw"},
           "privacy-officer": {"name": "po", "password": "$pw"}},
 "recording": "$rec", "erasable_recording": "$erasable", "legal_obligation_recording": "$legal",
 "near_dn": "4001", "far_number": "+441632960077", "duration_s": 5.0}
JSON

driver_port=$((E2E_SIP_PORT + 90))
"$CHROMEDRIVER" --port="$driver_port" >"$E2E_DIR/chromedriver.log" 2>&1 &
driver_pid=$!
for _ in $(seq 100); do
    curl -s "http://127.0.0.1:$driver_port/status" 2>/dev/null | grep -q '"ready": *true' && break
    sleep 0.1
done
out=${TEST_OUTPUT_DIR:-$E2E_TOP_BUILDDIR/test-output}/console
rm -rf "$out" && mkdir -p "$out"
python3 "$E2E_SRC/console_test.py" "http://127.0.0.1:$driver_port" "$url" "$out" "$E2E_DIR/spec.json" \
    >"$E2E_DIR/out/browser.txt" 2>"$E2E_DIR/out/browser.err"
kill "$driver_pid" 2>/dev/null
wait "$driver_pid" 2>/dev/null
n=0
while IFS= read -r line; do
    case $line in
    "ok - "*) ok 0 "browser: ${line#ok - }" ;;
    "not ok - "*) ok 1 "browser: ${line#not ok - }" ;;
    *) continue ;;
    esac
    n=$((n + 1))
done <"$E2E_DIR/out/browser.txt"
[ -s "$E2E_DIR/out/browser.err" ] && diag_file "$E2E_DIR/out/browser.err" 20
while [ "$n" -lt "$CHECKS" ]; do # checks the browser never reached
    ok 1 "browser: check $((n + 1)) did not run"
    n=$((n + 1))
done
ls "$out"/screenshots/*.png >/dev/null 2>&1
ok $? "screenshots of the main pages are in $out/screenshots"
bibrec_cli verify >"$E2E_DIR/out/verify.txt" 2>&1
ok $? "everything verifies afterwards" || diag_file "$E2E_DIR/out/verify.txt"
stop_daemon
