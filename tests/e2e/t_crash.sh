#!/bin/bash
#
# t_crash.sh: kill -9 during a recording loses at most the unwritten tail.
#
# The daemon is killed 3 s into a call whose legs would send 10 s of RTP. Restarted, it seals the
# unfinished recording as "recovered" with the audio that reached the store: at most one segment
# (1 s) plus the jitter allowance (0.2 s) short of the 3 s recorded. The chains and the ledger
# verify, and the recovered audio has the right tone on each side.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 6
plan 9
start_daemon || bail_out "bibrecd did not start"

cucm_call_start refci=28100010 duration=10000 || bail_out "could not start sipp"
t0=$(now_ms)
wait_for_state recording 2
ok $? "the call is recording" || show_list
sleep_until_ms $((t0 + 3000))
kill -KILL "$E2E_DAEMON_PID"
wait "$E2E_DAEMON_PID" 2>/dev/null
E2E_DAEMON_PID=
cucm_call_abort
pass "bibrecd killed with SIGKILL 3 s into the call"

start_daemon || bail_out "bibrecd did not restart"
grep -q "sealed 1 recording(s) left unfinished by an earlier stop as recovered" "$E2E_DAEMON_LOG"
ok $? "the restarted daemon seals the unfinished recording as recovered" || diag_file "$E2E_DAEMON_LOG"

list_recordings
is "$(field 6)" recovered "bibrec list shows it as recovered" || show_list
duration=$(field 3)
in_range "$duration" 1.6 3.2
ok $? "its duration $duration s lost at most one segment and the jitter allowance of ~3 s"
id=$(field 1)

bibrec_cli keys export-public >"$E2E_DIR/pub.pem" 2>/dev/null
bibrec_cli checkpoint >/dev/null 2>&1
bibrec_cli verify --pubkey "$E2E_DIR/pub.pem" >"$E2E_DIR/out/verify.txt" 2>&1
ok $? "chains, ledger and checkpoint verify after the crash" || diag_file "$E2E_DIR/out/verify.txt"
bibrec_cli audit export >"$E2E_DIR/out/audit.csv" 2>&1
grep -q ",sealed,recovery,seal,$id,-,ok,state=recovered" "$E2E_DIR/out/audit.csv"
ok $? "the recovery is in the ledger" || diag_file "$E2E_DIR/out/audit.csv"

bibrec_cli export "$id" "$E2E_DIR/out/rec.wav" >"$E2E_DIR/out/export.txt" 2>&1
ok $? "the recovered recording exports" || diag_file "$E2E_DIR/out/export.txt"
"$WAVCHECK" --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" "$E2E_DIR/out/rec.wav" \
    >"$E2E_DIR/out/wavcheck.txt" 2>&1
ok $? "with the near tone left and the far tone right" || diag_file "$E2E_DIR/out/wavcheck.txt"
stop_daemon
