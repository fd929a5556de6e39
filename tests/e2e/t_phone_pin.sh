#!/bin/bash
#
# t_phone_pin.sh: the phone service with PINs, and notices pushed to the phone.
#
# With <http phone-pin="yes"> a phone must first enter the PIN of a <phone-user> allowed on that
# device (a CiscoIPPhoneInput, numeric and masked); the PIN then holds for that device at that
# address. Wrong PINs are counted and lock the device after five. fake_axl plays the phone's web
# server for pushes (POST /CGI/Execute, HTTP Basic as the push user): keeping a recording pushes
# "Recording kept"; a push that cannot be delivered is logged and changes nothing else. Every PIN
# attempt is in the audit trail, and actions name the user who entered the PIN.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 34
command -v xmllint >/dev/null || skip_all "xmllint not found (Debian package libxml2-utils)"
FAKE=$E2E_TOP_BUILDDIR/tests/e2e/fake_axl
[ -x "$FAKE" ] || bail_out "$FAKE is missing; run make check"
PROFILES='  <profile name="sales" basis="consent" mode="on-demand" keep-confirm-minutes="15"><match dn="4050"/></profile>
  <profile name="direct" basis="consent" require-consent="yes"><match dn="4070"/></profile>'
E2E_CONFIG_EXTRA=$PROFILES
write_config
plan 19

# PINs are made by the store's key: once with the daemon, once without (the CLI opens the store).
start_daemon || bail_out "bibrecd did not start"
pin_a=$(echo 2468 | bibrec_cli phone-pin 2>&1)
[[ "$pin_a" =~ ^hmac-sha256\$[0-9a-f]{16}\$[0-9a-f]{64}$ ]]
ok $? "bibrec phone-pin makes the stored form of a PIN read from stdin ($pin_a)"
out=$(echo 12 | bibrec_cli phone-pin 2>&1)
status=$?
[ "$status" -ne 0 ] && [[ "$out" == *"a PIN has 4 to 16 digits"* ]]
ok $? "and refuses a PIN of two digits ($out)"
stop_daemon >/dev/null
pin_b=$(echo 1357 | bibrec_cli phone-pin 2>&1)
[[ "$pin_b" =~ ^hmac-sha256 ]] || bail_out "phone-pin without a daemon: $pin_b"

mkdir -p "$E2E_DIR/phone"
"$FAKE" "$E2E_DIR/phone" --auth pushuser:s3cret --idle 60 2>"$E2E_DIR/phone/stderr" &
fake_pid=$!
for _ in $(seq 50); do [ -s "$E2E_DIR/phone/port" ] && break; sleep 0.1; done
[ -s "$E2E_DIR/phone/port" ] || bail_out "fake phone did not start"
E2E_CONFIG_EXTRA="$PROFILES
  <phone-user name=\"alice\" devices=\"SEP00AABBCCDD01\" pin=\"$pin_a\"/>
  <phone-user name=\"bob\" devices=\"SEP00AABBCCDD03 SEP00AABBCCDD04\" pin=\"$pin_b\"/>
  <phone-push user=\"pushuser\" port=\"$(cat "$E2E_DIR/phone/port")\"/>"
write_config
sed -i "s|<http address=\"127.0.0.1\" port=\"$E2E_HTTP_PORT\"/>|<http address=\"127.0.0.1\" port=\"$E2E_HTTP_PORT\" phone-networks=\"127.0.0.0/8\" phone-pin=\"yes\"/>|" "$E2E_CONFIG"
export BIBREC_PUSH_PASSWORD=s3cret
start_daemon || bail_out "bibrecd did not start with PINs"

base="http://127.0.0.1:$E2E_HTTP_PORT"
phone() { # phone URL OUTFILE [curl args]: GET as a Cisco 8861 would
    local url=$1 out=$2
    shift 2
    curl -s -o "$out" -w '%{http_code}' -H 'x-CiscoIPPhoneModelName: CP-8861' \
        -H 'x-CiscoIPPhoneDisplay: 800,480,24,C' -H 'Accept: x-CiscoIPPhone/*;version=3.0' "$@" "$url"
}
xp() { xmllint --xpath "$1" "$2" 2>/dev/null; }

phone "$base/phone?device=SEP00AABBCCDD01" "$E2E_DIR/out/ask.xml" >/dev/null
[ "$(xp 'string(/CiscoIPPhoneInput/InputItem/QueryStringParam)' "$E2E_DIR/out/ask.xml")" = pin ] &&
    [ "$(xp 'string(/CiscoIPPhoneInput/InputItem/InputFlags)' "$E2E_DIR/out/ask.xml")" = NP ] &&
    [ "$(xp 'string(/CiscoIPPhoneInput/URL)' "$E2E_DIR/out/ask.xml")" = "$base/phone/login?device=SEP00AABBCCDD01" ]
ok $? "the device name alone gets a PIN prompt: CiscoIPPhoneInput, numeric and masked" ||
    diag_file "$E2E_DIR/out/ask.xml"
phone "$base/phone/keep?device=SEP00AABBCCDD01&rec=0123456789abcdef0123" "$E2E_DIR/out/ask2.xml" >/dev/null
[ "$(xp 'string(/CiscoIPPhoneInput/InputItem/QueryStringParam)' "$E2E_DIR/out/ask2.xml")" = pin ]
ok $? "so does an action"

phone "$base/phone/login?device=SEP00AABBCCDD01&pin=1357" "$E2E_DIR/out/bob.xml" >/dev/null
is "$(xp 'string(/CiscoIPPhoneInput/Prompt)' "$E2E_DIR/out/bob.xml")" "Wrong PIN. Enter your PIN" \
    "another user's PIN does not open a phone that is not theirs"

for i in 1 2 3 4 5; do
    phone "$base/phone/login?device=SEP00AABBCCDD03&pin=000$i" "$E2E_DIR/out/wrong$i.xml" >/dev/null
done
is "$(xp 'string(/CiscoIPPhoneText/Text)' "$E2E_DIR/out/wrong5.xml")" "Too many wrong PINs. Try again later." \
    "the fifth wrong PIN locks the device"
phone "$base/phone/login?device=SEP00AABBCCDD03&pin=1357" "$E2E_DIR/out/locked.xml" >/dev/null
is "$(xp 'string(/CiscoIPPhoneText/Text)' "$E2E_DIR/out/locked.xml")" "Too many wrong PINs. Try again later." \
    "while locked, even the right PIN is refused"
phone "$base/phone/login?device=SEP00AABBCCDD04&pin=1357" "$E2E_DIR/out/bob4.xml" >/dev/null
is "$(xp 'string(/CiscoIPPhoneText/Text)' "$E2E_DIR/out/bob4.xml")" "No call is being recorded on this phone." \
    "the lock is per device: bob's other phone opens with his PIN"

phone "$base/phone/login?device=SEP00AABBCCDD01&pin=2468" "$E2E_DIR/out/alice.xml" >/dev/null
is "$(xp 'string(/CiscoIPPhoneText/Text)' "$E2E_DIR/out/alice.xml")" "No call is being recorded on this phone." \
    "alice's PIN opens her phone"
phone "$base/phone?device=SEP00AABBCCDD01" "$E2E_DIR/out/other.xml" --interface 127.0.0.2 >/dev/null
[ "$(xp 'string(/CiscoIPPhoneInput/InputItem/QueryStringParam)' "$E2E_DIR/out/other.xml")" = pin ]
ok $? "the PIN holds for that address only: the same device name from elsewhere is asked again"

cucm_call_start refci=28800010 near_dn=4050 duration=4000 || bail_out "sipp did not start"
wait_for_state recording 3 || bail_out "the call is not recording"
id=$(field 1)
phone "$base/phone?device=SEP00AABBCCDD01" "$E2E_DIR/out/menu.xml" >/dev/null
names=$(xp '/CiscoIPPhoneMenu/MenuItem/Name/text()' "$E2E_DIR/out/menu.xml" | tr '\n' '|')
is "$names" "Keep recording|Tag...|Mark private|Stop and delete|Status|" \
    "within its time the PIN holds: the menu, without asking again" || diag_file "$E2E_DIR/out/menu.xml"
phone "$base/phone/keep?device=SEP00AABBCCDD01&rec=$id" "$E2E_DIR/out/kept.xml" >/dev/null
is "$(xp 'string(/CiscoIPPhoneText/Text)' "$E2E_DIR/out/kept.xml")" "The recording will be kept." "Keep"
for _ in $(seq 50); do [ -s "$E2E_DIR/phone/01.request" ] && break; sleep 0.1; done
grep -q "^POST /CGI/Execute " "$E2E_DIR/phone/01.request" &&
    grep -qi "^Authorization: Basic $(printf 'pushuser:s3cret' | base64)" "$E2E_DIR/phone/01.request" &&
    grep -q "^XML=.*CiscoIPPhoneText.*Recording%20kept" "$E2E_DIR/phone/01.body"
ok $? "a CiscoIPPhoneText 'Recording kept' is pushed to the phone's /CGI/Execute as the push user" ||
    diag_file "$E2E_DIR/phone/01.request"
wait_for_log "pushed a notice to SEP00AABBCCDD01 .*HTTP 200" 5
ok $? "and the daemon logs it was delivered"
cucm_call_wait

# A line that records only with consent, called by someone who never gave it: refused, and the
# phone is told.
cucm_call refci=28800015 near_dn=4070 far_dn=+441632969999 duration=1000 >/dev/null 2>&1
for _ in $(seq 50); do [ -s "$E2E_DIR/phone/02.body" ] && break; sleep 0.1; done
grep -q "^XML=.*Call%20not%20recorded%3A%20no%20consent" "$E2E_DIR/phone/02.body" &&
    grep -q "profile direct records only with the other party's consent" "$E2E_DAEMON_LOG"
ok $? "a recording refused for want of consent is refused, and the phone is told" ||
    diag_file "$E2E_DIR/phone/02.body"

kill -TERM "$fake_pid" 2>/dev/null
wait "$fake_pid" 2>/dev/null
cucm_call_start refci=28800020 near_dn=4050 duration=3000 || bail_out "sipp did not start"
for _ in $(seq 30); do
    list_recordings
    id2=$(grep -v "^$id" <<<"$E2E_RECORDINGS" | grep -P "\trecording\t" | cut -f1 | head -1)
    [ -n "$id2" ] && break
    sleep 0.1
done
[ -n "$id2" ] || bail_out "the second call is not recording"
phone "$base/phone/keep?device=SEP00AABBCCDD01&rec=$id2" "$E2E_DIR/out/kept2.xml" >/dev/null
wait_for_log "push to SEP00AABBCCDD01 .* failed" 6 && daemon_running
ok $? "a push the phone does not take is logged, and the daemon carries on" || diag_file "$E2E_DAEMON_LOG" 10
cucm_call_wait

bibrec_cli audit export >"$E2E_DIR/out/audit.csv" 2>&1
[ "$(grep -c ",phone SEP00AABBCCDD03,phone-login,-,127.0.0.1:[0-9]*,refused," "$E2E_DIR/out/audit.csv")" -eq 6 ] &&
    grep -q ",phone SEP00AABBCCDD01,phone-login,-,127.0.0.1:[0-9]*,ok,PIN accepted for alice" "$E2E_DIR/out/audit.csv"
ok $? "every PIN attempt is audited, right or wrong" || diag_file "$E2E_DIR/out/audit.csv"
grep -q ",alice (phone SEP00AABBCCDD01),phone-keep,$id,127.0.0.1:[0-9]*,ok," "$E2E_DIR/out/audit.csv"
ok $? "and the Keep names alice, who entered the PIN" || diag_file "$E2E_DIR/out/audit.csv"
grep -q "$pin_a\|2468" "$E2E_DIR/out/audit.csv"
ok $((!$?)) "no PIN, nor its stored form, is in the audit trail"
stop_daemon
