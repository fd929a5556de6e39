#!/bin/bash
#
# t_refused.sh: INVITEs that are not CUCM recording legs are refused and leave nothing behind.
#
# An INVITE whose From URI lacks the x-nearend/x-farend flag, and one whose x-refci is not a
# decimal number, must each get a 4xx, with a daemon log line giving the reason by its short
# name; the daemon keeps running and `bibrec list` shows no recording.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 3
plan 8
diag "daemon on 127.0.0.1:$E2E_SIP_PORT, files in $E2E_DIR"

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts and creates its control socket"

# Everything CUCM sends, except what each case leaves out or breaks.
rest="x-nearendclusterid=StandAloneCluster;x-nearenddevice=SEP00AABBCCDD01;x-nearendaddr=4001"
rest="$rest;x-farendrefci=27110469;x-farendclusterid=StandAloneCluster"
rest="$rest;x-farenddevice=SEP00AABBCCDD02;x-farendaddr=4002"

sipp_once noflag plain_invite.xml u1 -set from_params ";x-refci=27110470;$rest"
ok $? "an INVITE without x-nearend or x-farend gets a 4xx"
wait_for_log 'not-a-recording-leg' 3
ok $? "the daemon logs why: not-a-recording-leg" || diag_file "$E2E_DAEMON_LOG" 10

sipp_once badrefci plain_invite.xml u1 -set from_params ";x-nearend;x-refci=12ab;$rest"
ok $? "an INVITE with x-refci=12ab gets a 4xx"
wait_for_log 'invalid-refci' 3
ok $? "the daemon logs why: invalid-refci" || diag_file "$E2E_DAEMON_LOG" 10

daemon_running
ok $? "bibrecd is still running"

list_recordings
[ "$E2E_LIST_STATUS" -eq 0 ] && [ "$(wc -l <"$E2E_DIR/out/list.txt")" -eq 1 ]
ok $? "bibrec list prints only its header line" || show_list

stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"
