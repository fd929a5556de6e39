#!/bin/bash
#
# t_keys.sh: master key rotation without downtime.
#
# A recording made under the first master key; `keys rotate` while the daemon runs makes a new
# key, re-wraps every data key under it and keeps the old key file until `keys retire`; a call
# recorded after the rotation uses the new key. Retiring a key still in use is refused; retiring
# the old one deletes its file; after a restart both recordings still export with their tones, and
# the blind-index key (rotated with the data keys) still finds them by number.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 7
plan 12
start_daemon || bail_out "bibrecd did not start"
cucm_call refci=28200010 duration=1500 || bail_out "first call failed"

bibrec_cli keys list >"$E2E_DIR/out/k1.txt" 2>&1
old=$(sed -n 2p "$E2E_DIR/out/k1.txt" | cut -f1)
is "$(sed -n 2p "$E2E_DIR/out/k1.txt" | cut -f2)" 2 "one data key and the index key under master key $old"

bibrec_cli keys rotate >"$E2E_DIR/out/rotate.txt" 2>&1
ok $? "keys rotate succeeds while the daemon runs" || diag_file "$E2E_DIR/out/rotate.txt"
grep -q "2 data key(s) re-wrapped" "$E2E_DIR/out/rotate.txt"
ok $? "the existing data key and the index key are re-wrapped" || diag_file "$E2E_DIR/out/rotate.txt"
[ -f "$E2E_DIR/master.key.$old" ] && [ "$(stat -c %a "$E2E_DIR/master.key")" = 600 ]
ok $? "the old key is kept as master.key.$old, the new one is 0600"

cucm_call refci=28200020 duration=1500 || bail_out "second call failed"
bibrec_cli keys list >"$E2E_DIR/out/k2.txt" 2>&1
new=$(sed -n 2p "$E2E_DIR/out/k2.txt" | cut -f1)
[ "$new" != "$old" ] && [ "$(wc -l <"$E2E_DIR/out/k2.txt")" -eq 2 ] &&
    [ "$(sed -n 2p "$E2E_DIR/out/k2.txt" | cut -f2)" = 3 ]
ok $? "both recordings' data keys and the index key are under the new key $new only" || diag_file "$E2E_DIR/out/k2.txt"

bibrec_cli keys retire "$new" >"$E2E_DIR/out/r1.txt" 2>&1
[ $? -ne 0 ] && grep -q "still need" "$E2E_DIR/out/r1.txt"
ok $? "retiring a key that data keys still need is refused" || diag_file "$E2E_DIR/out/r1.txt"
bibrec_cli keys retire "$old" >"$E2E_DIR/out/r2.txt" 2>&1 && [ ! -e "$E2E_DIR/master.key.$old" ]
ok $? "retiring the old key deletes its file" || diag_file "$E2E_DIR/out/r2.txt"

stop_daemon
start_daemon || bail_out "bibrecd did not restart"
list_recordings
n=0
while read -r line; do
    id=$(cut -f1 <<<"$line")
    bibrec_cli export "$id" "$E2E_DIR/out/$id.wav" >/dev/null 2>&1 &&
        "$WAVCHECK" --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" "$E2E_DIR/out/$id.wav" \
            >/dev/null 2>&1 && n=$((n + 1))
done <<<"$E2E_RECORDINGS"
is "$n" 2 "after a restart both recordings export with their tones"
bibrec_cli search --number 4002 >"$E2E_DIR/out/search.txt" 2>&1
is "$(grep -c '^[0-9a-f]\{20\},' "$E2E_DIR/out/search.txt")" 2 "and the search by number still finds both" ||
    diag_file "$E2E_DIR/out/search.txt"
bibrec_cli verify >"$E2E_DIR/out/verify.txt" 2>&1
ok $? "everything verifies" || diag_file "$E2E_DIR/out/verify.txt"
bibrec_cli audit export >"$E2E_DIR/out/audit.csv" 2>&1
grep -q ",keys,rotate," "$E2E_DIR/out/audit.csv" && grep -q ",keys,retire $old," "$E2E_DIR/out/audit.csv"
ok $? "rotation and retirement are audit events" || diag_file "$E2E_DIR/out/audit.csv"
stop_daemon
ok $? "bibrecd stops cleanly"
