#!/bin/bash
#
# t_ledger.sh: the ledger an auditor can trust.
#
# Two calls are recorded; a signed checkpoint is taken and saved as an auditor would; a third call
# follows. Then: an inclusion proof for a recording checks offline with only the public key; the
# ledger verifies with the public key and `verify --since` the saved checkpoint proves it only
# grew; the audit trail (CSV) names who exported what; a backup of the running store verifies on
# its own. Finally, with the daemon stopped, an altered ledger entry, a replaced recording and a
# roll-back of the newest entries are each detected.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 5
plan 17
start_daemon || bail_out "bibrecd did not start"

cucm_call refci=28000010 duration=1500 || bail_out "first call failed"
cucm_call refci=28000020 duration=1500 || bail_out "second call failed"
list_recordings
is "$(recording_count)" 2 "two recordings" || show_list
id1=$(field 1 "$(sed -n 1p <<<"$E2E_RECORDINGS")")
id2=$(field 1 "$(sed -n 2p <<<"$E2E_RECORDINGS")")

bibrec_cli keys export-public >"$E2E_DIR/pub.pem" 2>"$E2E_DIR/out/keys.err"
grep -q "BEGIN PUBLIC KEY" "$E2E_DIR/pub.pem"
ok $? "keys export-public gives the checkpoint key's public half" || diag_file "$E2E_DIR/out/keys.err"

bibrec_cli checkpoint >"$E2E_DIR/saved-checkpoint.txt" 2>&1
grep -q "^bibrec-checkpoint v1 seq=0 " "$E2E_DIR/saved-checkpoint.txt"
ok $? "checkpoint signs the ledger head" || diag_file "$E2E_DIR/saved-checkpoint.txt"

bibrec_cli prove "$id1" >"$E2E_DIR/proof.txt" 2>&1
ok $? "prove gives an inclusion proof for the first recording" || diag_file "$E2E_DIR/proof.txt"
"$BIBREC" check-proof "$E2E_DIR/proof.txt" --pubkey "$E2E_DIR/pub.pem" >"$E2E_DIR/out/check.txt" 2>&1 &&
    grep -q "^ok recording $id1 was sealed" "$E2E_DIR/out/check.txt"
ok $? "check-proof confirms it with nothing but the proof and the public key" ||
    diag_file "$E2E_DIR/out/check.txt"
sed -i 's/^\(entry [0-9]* ..........\)\(.\)/\1f/' "$E2E_DIR/proof.txt"
"$BIBREC" check-proof "$E2E_DIR/proof.txt" --pubkey "$E2E_DIR/pub.pem" >/dev/null 2>&1
[ $? -ne 0 ]
ok $? "an altered proof does not check"

cucm_call refci=28000030 duration=1500 || bail_out "third call failed"
bibrec_cli export "$id2" "$E2E_DIR/out/2.wav" >/dev/null 2>&1
bibrec_cli checkpoint >/dev/null 2>&1
bibrec_cli verify --pubkey "$E2E_DIR/pub.pem" --since "$E2E_DIR/saved-checkpoint.txt" \
    >"$E2E_DIR/out/verify.txt" 2>&1
ok $? "verify with the public key and --since the saved checkpoint passes" ||
    diag_file "$E2E_DIR/out/verify.txt"
grep -q "^ok ledger grew from [0-9]* to [0-9]* entries since checkpoint 0" "$E2E_DIR/out/verify.txt"
ok $? "it proves the ledger only grew since the saved checkpoint" || diag_file "$E2E_DIR/out/verify.txt"

bibrec_cli audit export --format csv >"$E2E_DIR/out/audit.csv" 2>&1
head -1 "$E2E_DIR/out/audit.csv" | grep -q "^seq,time,type,actor,action,target,source,outcome,detail"
ok $? "audit export writes a CSV with a header row" || diag_file "$E2E_DIR/out/audit.csv"
grep -q ",audit,$(id -un),export,$id2,control-socket pid [0-9]* uid $(id -u),ok," "$E2E_DIR/out/audit.csv"
ok $? "the export of the second recording is an audit event naming user, recording and outcome" ||
    diag_file "$E2E_DIR/out/audit.csv"
is "$(grep -c ',sealed,bibrecd,seal,' "$E2E_DIR/out/audit.csv")" 3 "each sealing is in the ledger"

bibrec_cli backup "$E2E_DIR/backup" >"$E2E_DIR/out/backup.txt" 2>&1
ok $? "backup copies the running store" || diag_file "$E2E_DIR/out/backup.txt"
stop_daemon
ok $? "bibrecd stops cleanly"
bibrec_cli verify --store "$E2E_DIR/backup" --pubkey "$E2E_DIR/pub.pem" >"$E2E_DIR/out/vb.txt" 2>&1
ok $? "the backup verifies on its own" || diag_file "$E2E_DIR/out/vb.txt"

# An altered ledger entry: the first sealing's recorded hash.
"$TAMPER" "$E2E_DB" "ledger/e/0000000000000000" 60 >/dev/null
bibrec_cli verify --pubkey "$E2E_DIR/pub.pem" >"$E2E_DIR/out/v1.txt" 2>&1
[ $? -ne 0 ] && grep -q "FAIL ledger: checkpoint 0 .*root mismatch" "$E2E_DIR/out/v1.txt"
ok $? "an altered ledger entry breaks the signed checkpoints" || diag_file "$E2E_DIR/out/v1.txt"
"$TAMPER" "$E2E_DB" "ledger/e/0000000000000000" 60 >/dev/null

# A replaced recording: its seal no longer matches the hash the ledger recorded.
"$TAMPER" "$E2E_DB" "rec/$id2/seal" 10 >/dev/null
bibrec_cli verify --pubkey "$E2E_DIR/pub.pem" >"$E2E_DIR/out/v2.txt" 2>&1
[ $? -ne 0 ] && grep -q "FAIL $id2: recording differs from what the ledger recorded" "$E2E_DIR/out/v2.txt"
ok $? "a replaced recording is named" || diag_file "$E2E_DIR/out/v2.txt"
"$TAMPER" "$E2E_DB" "rec/$id2/seal" 10 >/dev/null

# Roll-back: the newest checkpoints and the entries after the saved one disappear.
saved_size=$(sed -n 's/.* size=\([0-9]*\) .*/\1/p' "$E2E_DIR/saved-checkpoint.txt")
for key in $("$TAMPER" "$E2E_DB" --list ledger/c/ | tail -n +2) $("$TAMPER" "$E2E_DB" --list ledger/e/ | tail -n +$((saved_size + 1))); do
    "$TAMPER" "$E2E_DB" --delete "$key" >/dev/null
done
bibrec_cli verify --pubkey "$E2E_DIR/pub.pem" --since "$E2E_DIR/saved-checkpoint.txt" \
    >"$E2E_DIR/out/v3.txt" 2>&1
[ $? -ne 0 ] && grep -q "FAIL" "$E2E_DIR/out/v3.txt"
ok $? "a roll-back is caught against the auditor's saved checkpoint" || diag_file "$E2E_DIR/out/v3.txt"
diag "$(grep FAIL "$E2E_DIR/out/v3.txt" | head -3)"
