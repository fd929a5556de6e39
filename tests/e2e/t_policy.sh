#!/bin/bash
#
# t_policy.sh: recording profiles decide per call.
#
# Two profiles: line 4001 is always recorded under a contract basis with 30 days' retention;
# line 4050 is on-demand and its recordings are erased unless the user keeps them. A call from
# line 7777, which no profile covers, is refused and nothing is recorded. Each recording carries
# its profile, basis and erasure date; `keep` moves an on-demand recording to its retention;
# `erase` crypto-shreds a recording, leaves every chain verifiable and is in the audit trail;
# `bibrec policy` renders the policy document from the same configuration.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 9
E2E_CONFIG_EXTRA='  <controller name="Example AG" contact="privacy@example.com"/>
  <profile name="service-desk" basis="contract" retention-days="30" access="supervisors"
           purpose="to document support commitments"><match dn="4001"/></profile>
  <profile name="sales" basis="consent" mode="on-demand" keep-confirm-minutes="15"
           retention-days="90" notice="tone" purpose="to record orders on request">
    <match dn="4050"/></profile>'
write_config
plan 15
start_daemon || bail_out "bibrecd did not start"

cucm_call refci=28400010 near_dn=7777 duration=1000
wait_for_log "no recording profile covers line 7777" 5
ok $? "a line no profile covers is refused, and the log says why" || diag_file "$E2E_DAEMON_LOG"
list_recordings
is "$(recording_count)" 0 "nothing is recorded for it"

cucm_call refci=28400020 near_dn=4001 duration=1500 || bail_out "call on 4001 failed"
cucm_call refci=28400030 near_dn=4050 duration=1500 || bail_out "call on 4050 failed"
list_recordings
is "$(recording_count)" 2 "the covered lines are recorded" || show_list
id1=$(grep -P "\t4001\t" <<<"$E2E_RECORDINGS" | cut -f1)
id2=$(grep -P "\t4050\t" <<<"$E2E_RECORDINGS" | cut -f1)

bibrec_cli show "$id1" >"$E2E_DIR/out/show1.txt" 2>&1
grep -q "^profile	service-desk$" "$E2E_DIR/out/show1.txt" && grep -q "^basis	contract$" "$E2E_DIR/out/show1.txt" &&
    grep -q "^mode	always$" "$E2E_DIR/out/show1.txt"
ok $? "the recording on 4001 carries its profile, basis and mode" || diag_file "$E2E_DIR/out/show1.txt"
grep -q "^erase_after	$(date -u -d '+30 days' +%Y-%m-%d)T.*	retention$" "$E2E_DIR/out/show1.txt"
ok $? "and is due for erasure after its 30 days" || diag_file "$E2E_DIR/out/show1.txt"

bibrec_cli show "$id2" >"$E2E_DIR/out/show2.txt" 2>&1
grep -q "^mode	on-demand$" "$E2E_DIR/out/show2.txt" && grep -q "^erase_after	.*	unless kept$" "$E2E_DIR/out/show2.txt"
ok $? "the on-demand recording waits to be kept" || diag_file "$E2E_DIR/out/show2.txt"
bibrec_cli keep "$id2" >"$E2E_DIR/out/keep.txt" 2>&1
ok $? "keep" || diag_file "$E2E_DIR/out/keep.txt"
bibrec_cli show "$id2" >"$E2E_DIR/out/show2b.txt" 2>&1
grep -q "^erase_after	$(date -u -d '+90 days' +%Y-%m-%d)T.*	retention$" "$E2E_DIR/out/show2b.txt"
ok $? "once kept, its profile's 90 days apply" || diag_file "$E2E_DIR/out/show2b.txt"

bibrec_cli erase "$id1" --reason "customer asked" >"$E2E_DIR/out/erase.txt" 2>&1
ok $? "erase with a reason" || diag_file "$E2E_DIR/out/erase.txt"
list_recordings
is "$(grep -P "^$id1\t" <<<"$E2E_RECORDINGS" | cut -f6)" erased "it lists as erased"
bibrec_cli export "$id1" "$E2E_DIR/out/x.wav" >/dev/null 2>&1
[ $? -ne 0 ]
ok $? "and can no longer be exported"
bibrec_cli verify >"$E2E_DIR/out/verify.txt" 2>&1
ok $? "chains and ledger still verify" || diag_file "$E2E_DIR/out/verify.txt"
bibrec_cli audit export >"$E2E_DIR/out/audit.csv" 2>&1
grep -q ",erased,$(id -un),erase,$id1,.*,ok,customer asked" "$E2E_DIR/out/audit.csv"
ok $? "the erasure is in the ledger with who and why" || diag_file "$E2E_DIR/out/audit.csv"

grep -q ",audit,bibrecd,config-loaded,-,$E2E_CONFIG,ok,sha256=$(sha256sum "$E2E_CONFIG" | cut -d' ' -f1) profiles=2" \
    "$E2E_DIR/out/audit.csv"
ok $? "the configuration (the policy) that runs is in the audit trail by its SHA-256" ||
    diag_file "$E2E_DIR/out/audit.csv"
bibrec_cli policy >"$E2E_DIR/out/policy.md" 2>&1 &&
    grep -q '^## Recording profile "sales"' "$E2E_DIR/out/policy.md" &&
    grep -q "Art. 6(1)(b) GDPR (contract)" "$E2E_DIR/out/policy.md"
ok $? "bibrec policy renders the document from the running configuration" ||
    diag_file "$E2E_DIR/out/policy.md"
stop_daemon
