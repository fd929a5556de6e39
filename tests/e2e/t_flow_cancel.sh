#!/bin/bash
#
# t_flow_cancel.sh: a recording leg that CUCM cancels before the recorder answers it.
#
# A lone near leg waits for its partner up to answer-wait-ms (3 s here) before the recorder answers
# it alone; CUCM sends CANCEL after 1.5 s. The recorder must answer the CANCEL 200 and the INVITE
# 487, store nothing (bibrec list stays empty), count the leg in `cancelled` and the attempt in
# `recordings_discarded`, and release the RTP port it had opened for the leg. A normal call with
# the same x-refci afterwards is recorded as a call of its own (not a second part of the
# cancelled attempt), and its legs, both present, are answered at once, not after answer-wait-ms.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 11
plan 22
config_add '<session answer-wait-ms="3000"/>'
diag "daemon on 127.0.0.1:$E2E_SIP_PORT, files in $E2E_DIR"

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts and creates its control socket"

refci=27110520
leg_start cancelled cucm_cancel.xml 1 stream=near refci=$refci -- -set cancel_ms 1500
wait_for_log "leg .*: near end of refci $refci .*rtp port [0-9]+" 3
ok $? "the daemon takes the INVITE as the near leg of refci $refci" || diag_file "$E2E_DAEMON_LOG" 10
port=$(grep -E "near end of refci $refci .*rtp port [0-9]+" "$E2E_DAEMON_LOG" | sed -n 's/.*rtp port \([0-9]*\).*/\1/p' | head -n 1)
[ -n "$port" ] && udp_port_bound "$port"
ok $? "while the leg waits for its partner, its RTP port ${port:-?} is open"
# One `bibrec stats` for both counters: two calls could straddle the CANCEL on a slow machine.
stats=$(bibrec_cli stats 2>/dev/null)
is "$(awk '$1 == "active_calls" {c = $2} $1 == "active_legs" {l = $2} END {print c "/" l}' <<<"$stats")" "1/1" \
    "bibrec stats while it waits: active_calls 1, active_legs 1"

legs_wait
ok $? "sipp: INVITE, CANCEL after 1.5 s, 487 for the INVITE, ACK"
sipp_msg cancelled '^SIP/2.0 200' | grep -q '^CSeq: 101 CANCEL$'
ok $? "the CANCEL is answered 200"
inv_487=$(sipp_msg cancelled '^SIP/2.0 487')
grep -q '^CSeq: 101 INVITE$' <<<"$inv_487"
ok $? "the INVITE is answered 487 Request Terminated"
! sipp_msg cancelled '^SIP/2.0 200' 1 | grep -q '^CSeq: 101 INVITE$' &&
    ! sipp_msg cancelled '^SIP/2.0 200' 2 | grep -q '^CSeq: 101 INVITE$'
ok $? "the INVITE was never answered 200"
wait_for_log "refci $refci: no recording started" 3
ok $? "the daemon logs that no recording was started" || diag_file "$E2E_DAEMON_LOG" 10

deadline=$(($(now_ms) + 3000))
while [ -n "$port" ] && udp_port_bound "$port" && [ "$(now_ms)" -lt "$deadline" ]; do
    sleep 0.1
done
[ -n "$port" ] && ! udp_port_bound "$port"
ok $? "the RTP port ${port:-?} is released"

list_recordings
[ "$E2E_LIST_STATUS" -eq 0 ] && [ "$(wc -l <"$E2E_DIR/out/list.txt")" -eq 1 ]
ok $? "bibrec list prints only its header line" || show_list
is "$(daemon_stat cancelled)/$(daemon_stat recordings_discarded)" "1/1" \
    "bibrec stats: cancelled 1, recordings_discarded 1"
is "$(daemon_stat calls_total)/$(daemon_stat recordings_sealed)/$(daemon_stat active_calls)/$(daemon_stat active_legs)" \
    "0/0/0/0" "bibrec stats: calls_total 0, recordings_sealed 0, active_calls 0, active_legs 0"

# The same x-refci again, as a normal call: both legs come, so both are answered at once.
cucm_call refci=$refci duration=2000
ok $? "a normal call with the same x-refci completes"
for leg in near far; do
    delay=$(sipp_delay_ms "call1-$leg" '^INVITE ' '^SIP/2.0 200')
    [ -n "$delay" ] && [ "$delay" -lt 1000 ]
    ok $? "its $leg leg is answered ${delay:-?} ms after its INVITE, well before answer-wait-ms (3000)"
done
wait_for_state sealed 10
is "$(recording_count)" 1 "bibrec list shows one recording" || show_list
id=$(field 1)
is "$(field 7)/$(show_value "$id" call_part)" "$id/1" \
    "it is a call of its own (CALL = its id, part 1): the cancelled attempt left no call to join"
wav=$E2E_DIR/out/call.wav
bibrec_cli export "$id" "$wav" >"$E2E_DIR/out/export.txt" 2>&1 &&
    "$WAVCHECK" --expect-rate 8000 --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" \
        --expect-duration 2 --tolerance-duration 0.3 "$wav" >"$E2E_DIR/out/wavcheck.txt" 2>&1
ok $? "it exports to 2 s of 440 Hz left and 1000 Hz right" ||
    diag "$(cat "$E2E_DIR/out/export.txt" "$E2E_DIR/out/wavcheck.txt")"
is "$(daemon_stat stitched)/$(daemon_stat cancelled)/$(daemon_stat recordings_sealed)" "0/1/1" \
    "bibrec stats: stitched 0, cancelled 1, recordings_sealed 1"

stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"
daemon_log_clean
ok $? "the daemon's log has no AddressSanitizer, LeakSanitizer or UBSan report"
