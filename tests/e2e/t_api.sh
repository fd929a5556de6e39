#!/bin/bash
#
# t_api.sh: the JSON API under /api/v1 with users of every role.
#
# Two recorded calls: A on line 4001 (profile "sales", access group sales-team) and B on line 4003
# (profile "support", access group support-team); the far party is +44 20 7946 0002 in both. Users
# of each role are made with the CLI over the control socket; curl logs in as each and walks the
# role matrix (search, metadata, play, export, hold, delete, subject export, audit, verify), checks
# each HTTP status, and finds every allowed and refused request in `bibrec audit export`. Then:
# the first administrator's one-time password and forced change, byte ranges on the WAV (206, 416),
# the double-submit CSRF check for cookie sessions, private recordings, throttled logins (429), and
# hostile input (bad JSON, a huge body, bad ids) with the daemon still serving.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 40
command -v curl >/dev/null || skip_all "curl not found"
E2E_CONFIG_EXTRA='  <profile name="sales" basis="consent" retention-days="30" access="sales-team"><match dn="4001"/></profile>
  <profile name="support" basis="contract" retention-days="30" access="support-team"><match dn="4003"/></profile>'
write_config
plan 67
start_daemon || bail_out "bibrecd did not start"
base="http://127.0.0.1:$E2E_HTTP_PORT/api/v1"
out=$E2E_DIR/out
declare -A TOK CSRF

# login USER PASSWORD: sets LOGIN_STATUS (the HTTP status), keeps the token, the CSRF token and
# the cookie jar.
login() {
    LOGIN_STATUS=$(curl -s -o "$out/login-$1.json" -w '%{http_code}' -c "$out/jar-$1" -X POST \
        -d "{\"user\":\"$1\",\"password\":\"$2\"}" "$base/login")
    TOK[$1]=$(sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p' "$out/login-$1.json")
    CSRF[$1]=$(sed -n 's/.*"csrf_token":"\([0-9a-f]*\)".*/\1/p' "$out/login-$1.json")
}
# api USER METHOD PATH [CURL-ARGS...]: a request with USER's bearer token; prints the status, the
# body goes to $out/last.
api() {
    local user=$1 method=$2 path=$3
    shift 3
    curl -s -o "$out/last" -w '%{http_code}' -X "$method" -H "Authorization: Bearer ${TOK[$user]:-none}" \
        "$@" "$base$path"
}
json_field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$out/last" | head -1; }

# ---- the first administrator ------------------------------------------------------------------
adminpw=$(sed -n "s/.*created the first administrator 'admin' with the one-time password \([A-Za-z0-9]*\) .*/\1/p" "$E2E_DAEMON_LOG")
[ ${#adminpw} -eq 20 ] && ! grep -rqa "$adminpw" "$E2E_STORE" "$E2E_DIR/bibrec.xml"
ok $? "the first start made 'admin' with a one-time password in the log and nowhere in the store"
login admin "$adminpw"
is "$LOGIN_STATUS" 200 "admin logs in with it"
grep -q '"password_change_required":true' "$out/login-admin.json"
ok $? "and is told to change it"
is "$(api admin GET /users)" 403 "before the change the API refuses everything else"
is "$(api admin POST /password -d "{\"old_password\":\"$adminpw\",\"new_password\":\"admin password 2026\"}")" 200 \
    "the password is changed"
is "$(api admin GET /users)" 401 "which ends the session"
curl -s -D - -o /dev/null -H "Authorization: Bearer ${TOK[admin]}" "$base/users" | tr -d '\r' | grep -qi '^WWW-Authenticate: Bearer realm="bibrec"$'
ok $? "a 401 names the Bearer scheme (RFC 6750)"
login admin "admin password 2026"

# ---- users of each role, through the CLI and the control socket ------------------------------
pw="correct horse battery staple"
for u in "sup --role supervisor --group sales-team" "aud --role auditor" "po --role privacy-officer" \
    "usr --role user --dn 4003"; do
    # shellcheck disable=SC2086 # the options are words
    echo "$pw" | bibrec_cli user add $u --password-stdin >>"$out/users.txt" 2>&1 || fail "user add $u"
done
bibrec_cli user add gen --role user >"$out/gen.txt" 2>&1
genpw=$(sed -n 's/.*first login): \([A-Za-z0-9]*\)$/\1/p' "$out/gen.txt")
bibrec_cli user list >"$out/list.txt" 2>&1
[ "$(grep -c . "$out/list.txt")" -eq 7 ] && grep -qP '^sup\tsupervisor\tsales-team\t-\tactive$' "$out/list.txt" &&
    grep -qP '^usr\tuser\t-\t4003\tactive$' "$out/list.txt" && [ ${#genpw} -eq 20 ]
ok $? "user add (stdin and generated passwords) and user list" || diag_file "$out/list.txt"
! grep -q "$pw\|$genpw" "$E2E_DAEMON_LOG" && bibrec_cli audit export | grep -q ',user,add sup supervisor sales-team,' &&
    ! bibrec_cli audit export | grep -q "$pw"
ok $? "user commands are audited, passwords are in neither the log nor the audit trail"
for u in sup aud po usr; do
    login $u "$pw"
    [ "$LOGIN_STATUS" = 200 ] || fail "login $u"
done
pass "each role logs in"

# ---- two recorded calls -------------------------------------------------------------------------
cucm_call refci=29400010 near_dn=4001 far_dn=+442079460002 duration=2000 || bail_out "call A failed"
cucm_call refci=29400020 near_dn=4003 far_dn=+442079460002 near_device=SEP00AABBCCDD03 duration=2000 ||
    bail_out "call B failed"
wait_for_recordings 2 10 || bail_out "the calls were not sealed"
A=$(grep -P "\t4001\t" <<<"$E2E_RECORDINGS" | cut -f1)
B=$(grep -P "\t4003\t" <<<"$E2E_RECORDINGS" | cut -f1)

# ---- the role matrix ----------------------------------------------------------------------------
# matrix NAME EXPECTED(admin sup aud po usr) METHOD PATH [CURL-ARGS]: one request per role.
matrix() {
    local name=$1 want=$2 method=$3 path=$4 got="" u
    shift 4
    for u in admin sup aud po usr; do
        got="$got $(api $u "$method" "$path" "$@")"
    done
    is "${got# }" "$want" "$name: admin sup aud po usr get $want"
}
matrix "search" "403 200 200 200 200" GET "/recordings"
api sup GET /recordings >/dev/null
is "$(json_field total)" 1 "a supervisor finds only the sales-team's recording" || diag_file "$out/last"
grep -q "\"id\":\"$A\"" "$out/last"
ok $? "and it is call A"
api usr GET /recordings >/dev/null
is "$(json_field total)/$(grep -c "\"id\":\"$B\"" "$out/last")" 1/1 "a user finds only their own line's recording"
api aud GET "/recordings?number=%2B44%2020%207946%200002" >/dev/null
is "$(json_field total)" 2 "search by number (blind index) finds both calls"
api po GET "/recordings?dn=4001&profile=sales&basis=consent&consent=yes&min_duration=1&from=2020-01-01" >/dev/null
is "$(json_field total)" 1 "combined filters narrow it to call A"
is "$(api po GET "/recordings?number=999")/$(json_field total)" 200/0 "a number nobody called: none found"
api po GET "/recordings?per_page=1&page=2" >/dev/null
is "$(json_field total)/$(grep -o '"id":"[0-9a-f]*"' "$out/last" | grep -c .)" 2/1 "paging: page 2 of 1 per page"
matrix "metadata of A" "403 200 200 200 403" GET "/recordings/$A"
matrix "play A" "403 200 403 200 403" GET "/recordings/$A/audio"
matrix "export A" "403 200 403 200 403" POST /export -d "{\"ids\":[\"$A\"]}"
matrix "hold A" "403 403 403 200 403" POST "/recordings/$A/hold" -d '{"reason":"complaint 7"}'
matrix "delete A (on hold)" "403 403 403 409 403" DELETE "/recordings/$A?reason=test"
matrix "subject export" "403 403 403 200 403" POST /subject/export -d '{"numbers":["+442079460002"]}'
matrix "audit trail" "403 403 200 403 403" GET /audit
matrix "verify" "403 403 200 403 403" POST /verify
matrix "users" "200 403 403 403 403" GET /users

api po POST /subject/export -d '{"numbers":["+442079460002"]}' >/dev/null
is "$(tar -tf "$out/last" | sort | tr '\n' ' ')" "$(printf '%s\n' README.txt audit.csv consents.csv recordings.csv "audio/$A.wav" "audio/$B.wav" | sort | tr '\n' ' ')" \
    "the subject export is the same archive as the CLI's"
api sup POST /export -d "{\"ids\":[\"$A\"]}" >/dev/null
mkdir -p "$E2E_DIR/x" && tar -xf "$out/last" -C "$E2E_DIR/x" && grep -q "^$A," "$E2E_DIR/x/recordings.csv" &&
    "$WAVCHECK" --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" "$E2E_DIR/x/audio/$A.wav" >/dev/null 2>&1
ok $? "an export holds the manifest and the WAV with the right tones"
is "$(api sup POST /export -d "{\"ids\":[\"$A\",\"$B\"]}")" 403 "an export with one recording outside the group is refused whole"
api aud POST /verify >/dev/null
grep -q '"ok":true' "$out/last"
ok $? "verify through the API passes" || diag_file "$out/last"
api aud GET "/audit?format=json&from=2020-01-01" >/dev/null
grep -q '"action":"api-hold"' "$out/last"
ok $? "the audit trail as JSON"

# ---- audio and byte ranges --------------------------------------------------------------------
curl -s -D "$out/h0" -o "$out/full.wav" -H "Authorization: Bearer ${TOK[sup]}" "$base/recordings/$A/audio"
total=$(stat -c %s "$out/full.wav")
grep -qi '^accept-ranges: bytes' "$out/h0" && grep -q '^HTTP/1.1 200' "$out/h0" &&
    "$WAVCHECK" --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" "$out/full.wav" >/dev/null 2>&1
ok $? "the whole WAV ($total bytes) plays with the right tones and announces byte ranges"
curl -s -D "$out/h1" -o "$out/r1" -r 0-99 -H "Authorization: Bearer ${TOK[sup]}" "$base/recordings/$A/audio"
grep -q '^HTTP/1.1 206' "$out/h1" && [ "$(stat -c %s "$out/r1")" -eq 100 ] &&
    grep -qi "^content-range: bytes 0-99/$total" "$out/h1" && cmp -s "$out/r1" <(head -c 100 "$out/full.wav")
ok $? "-r 0-99: 206, 100 bytes, Content-Range bytes 0-99/$total" || diag_file "$out/h1"
curl -s -D "$out/h2" -o "$out/r2" -r 1000- -H "Authorization: Bearer ${TOK[sup]}" "$base/recordings/$A/audio"
grep -q '^HTTP/1.1 206' "$out/h2" && [ "$(stat -c %s "$out/r2")" -eq $((total - 1000)) ] &&
    grep -qi "^content-range: bytes 1000-$((total - 1))/$total" "$out/h2" && cmp -s "$out/r2" <(tail -c +1001 "$out/full.wav")
ok $? "open-ended -r 1000-: the rest of the file"
curl -s -D "$out/h3" -o "$out/r3" -r -500 -H "Authorization: Bearer ${TOK[sup]}" "$base/recordings/$A/audio"
[ "$(stat -c %s "$out/r3")" -eq 500 ] && cmp -s "$out/r3" <(tail -c 500 "$out/full.wav")
ok $? "suffix -r -500: the last 500 bytes"
status=$(curl -s -D "$out/h4" -o /dev/null -w '%{http_code}' -r "$total-" -H "Authorization: Bearer ${TOK[sup]}" "$base/recordings/$A/audio")
[ "$status" = 416 ] && grep -qi "^content-range: bytes \*/$total" "$out/h4"
ok $? "a range past the end: 416 with Content-Range bytes */$total (got $status)"

# ---- CSRF: cookies need the double-submit header --------------------------------------------
status=$(curl -s -o "$out/c1" -w '%{http_code}' -b "$out/jar-po" -X POST -d '{"reason":"x"}' "$base/recordings/$B/hold")
is "$status" 403 "a cookie-authenticated POST without X-CSRF-Token is refused"
status=$(curl -s -o "$out/c2" -w '%{http_code}' -b "$out/jar-po" -H "X-CSRF-Token: ${CSRF[aud]}" -X POST \
    -d '{"reason":"x"}' "$base/recordings/$B/hold")
is "$status" 403 "and with another session's token"
status=$(curl -s -o "$out/c3" -w '%{http_code}' -b "$out/jar-po" -H "X-CSRF-Token: ${CSRF[po]}" -X POST \
    -d '{"reason":"dispute"}' "$base/recordings/$B/hold")
is "$status" 200 "with its own token it passes"
grep -q 'bibrec_session=.*HttpOnly; SameSite=Strict' <(curl -s -D - -o /dev/null -X POST -d "{\"user\":\"aud\",\"password\":\"$pw\"}" "$base/login")
ok $? "the session cookie is HttpOnly and SameSite=Strict"
status=$(curl -s -o /dev/null -w '%{http_code}' -b "$out/jar-sup" "$base/recordings/$A")
is "$status" 200 "a cookie-authenticated GET needs no CSRF token"

# ---- hold, erase, private ---------------------------------------------------------------------
is "$(api po DELETE "/recordings/$A")" 400 "delete without a reason is refused"
is "$(api po POST "/recordings/$A/unhold")" 200 "the hold is lifted"
is "$(api po DELETE "/recordings/$A" -d '{"reason":"Art. 17 request 12"}')" 200 "the privacy officer erases A"
is "$(api po GET "/recordings/$A/audio")" 410 "its audio is gone" || diag_file "$out/last"
is "$(api usr POST "/recordings/$B/private")" 200 "the user marks their recording private"
is "$(api aud GET "/recordings/$B")/$(api sup GET "/recordings/$B")/$(api po GET "/recordings/$B")/$(api usr GET "/recordings/$B")" \
    403/403/200/200 "a private recording: auditor and supervisor refused, privacy officer and its user allowed"
is "$(api usr POST "/recordings/$A/private")" 403 "a user cannot mark someone else's recording"

# ---- every decision is in the audit trail ---------------------------------------------------
bibrec_cli audit export >"$out/audit.csv" 2>&1
missing=""
for row in "admin,api-search,-,refused" "sup,api-search,$A,ok" "usr,api-search,$B,ok" \
    "admin,api-play,$A,refused" "sup,api-play,$A,ok" "aud,api-play,$A,refused" "po,api-play,$A,ok" \
    "usr,api-play,$A,refused" "sup,api-export,$A,ok" "usr,api-export,$A,refused" \
    "po,api-hold,$A,ok" "sup,api-hold,$A,refused" "po,api-delete,$A,refused" "aud,api-delete,$A,refused" \
    "po,api-delete,$A,ok" "po,api-subject-export,subject numbers=1 devices=0,ok" \
    "sup,api-subject-export,-,refused" "aud,api-audit,-,ok" "po,api-audit,-,refused" \
    "aud,api-verify,-,ok" "usr,api-verify,-,refused" "po,api-hold,-,refused" "usr,api-private,$B,ok" \
    "aud,api-metadata,$B,refused"; do
    IFS=, read -r actor action target outcome <<<"$row"
    awk -F, -v a="$actor" -v c="$action" -v t="$target" -v o="$outcome" \
        '{ line = $0 } $4 == a && $5 == c && (index(line, "," t ",") > 0) && index(line, "," o ",") > 0 { f = 1 } END { exit !f }' \
        "$out/audit.csv" || missing="$missing $row"
done
is "${missing# }" "" "every allowed and refused request of the matrix is an audit event naming user, recording and outcome"
grep -q ',erased,po,erase,'"$A"',.*,ok,Art. 17 request 12' "$out/audit.csv"
ok $? "the erasure's tombstone names the privacy officer and the reason"

# ---- throttled logins --------------------------------------------------------------------------
codes=""
for i in 1 2 3 4 5 6; do
    login usr "wrong password $i"
    codes="$codes $LOGIN_STATUS"
done
is "${codes# }" "401 401 401 401 401 429" "five wrong passwords, then 429"
retry=$(curl -s -D - -o /dev/null -X POST -d "{\"user\":\"usr\",\"password\":\"$pw\"}" "$base/login" | tr -d '\r' | sed -n 's/^Retry-After: //Ip')
[ -n "$retry" ] && [ "$retry" -ge 1 ]
ok $? "even the right password waits, with Retry-After ($retry s)"
bibrec_cli audit export | grep -q ',api-login,usr,.*,refused,429 too many failed logins'
ok $? "the throttled attempt is audited"

# ---- hostile input -----------------------------------------------------------------------------
is "$(curl -s -o "$out/h" -w '%{http_code}' -X POST -d '{"user":' "$base/login")" 400 "truncated JSON: 400"
grep -q '"error":"malformed JSON body' "$out/h"
ok $? "with a reason"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '["admin"]' "$base/login")" 400 "a JSON array instead of an object: 400"
head -c 100000 /dev/zero | tr '\0' 'a' >"$out/big"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$out/big" "$base/login")" 413 "a 100 kB body: 413"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$out/big" "$base/login")" 413 \
    "the same chunked, without Content-Length: 413"
got="$(api po GET /recordings/../../etc/passwd) $(api po GET /recordings/ZZZZ) $(api po GET "/recordings/${B}0") $(api po POST /export -d '{"ids":["nothex"]}') $(api po POST /export -d '{"ids":"x"}')"
is "$got" "404 400 400 400 400" "bad ids and paths get 4xx"
got="$(api po GET '/recordings?from=yesterday') $(api po GET '/recordings?per_page=100000') $(api po GET '/recordings?direction=in') $(api po PUT /recordings)"
is "$got" "400 400 400 405" "bad filters and methods get 4xx"
is "$(api po POST "/recordings/$B/hold?reason=%ff%fe")" 200 "a reason that is not UTF-8 is taken"
api aud GET "/audit?format=json" >/dev/null
grep -q '"action":"api-hold","target":"'"$B"'","source":"127.0.0.1:[0-9]*","outcome":"ok","detail":"??"' "$out/last"
ok $? "and the JSON audit trail shows it with the bytes replaced, rather than dropping the entry"
is "$(api po GET /me)" 200 "the daemon still serves" && daemon_running
ok $? "and still runs"
daemon_log_clean
ok $? "no sanitizer report in the daemon's log"
stop_daemon
ok $? "the daemon stops cleanly"
