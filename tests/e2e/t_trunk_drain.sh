#!/bin/bash
#
# t_trunk_drain.sh: <session drain-ms="3000">: on SIGTERM, calls in progress may finish.
#
# 1. SIGTERM 3 s into a call whose legs hang up 1 s later: during the drain an OPTIONS ping and a
#    new INVITE get 503 (with Retry-After); the call ends by its own BYE, both legs complete
#    normally, and the recording is sealed with its full 4 s and without the "shutdown" flag. The
#    daemon exits 0 as soon as that call is sealed, not at the end of the drain time.
# 2. SIGTERM 2 s into a call that would last 10 s: at the drain deadline (3 s later) the daemon
#    seals it with the "shutdown" flag (about 5 s long), hangs up both legs with BYE, and exits 0.
# Both recordings verify and export with the right tones.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 23
SIPP_PORT_AUX2=$((E2E_SIP_PORT + 8))
MEDIA_PORT_AUX2=$((E2E_SIP_PORT + 32))
_check_ports_free "$SIPP_PORT_AUX2" "$MEDIA_PORT_AUX2" $((MEDIA_PORT_AUX2 + 2))
E2E_SESSION_ATTRS='drain-ms="3000"'
write_config
plan 25
diag "daemon on 127.0.0.1:$E2E_SIP_PORT with drain-ms=3000, files in $E2E_DIR"

# wavcheck_rec LINE SECONDS TOLERANCE: exports the recording of a `bibrec list` line and checks
# its tones and duration.
wavcheck_rec() {
    local id wav
    id=$(field 1 "$1")
    wav=$E2E_DIR/out/$id.wav
    bibrec_cli export "$id" "$wav" >"$E2E_DIR/out/export-$id.txt" 2>&1 &&
        "$WAVCHECK" --expect-rate 8000 --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" \
            --expect-duration "$2" --tolerance-duration "$3" "$wav" >"$E2E_DIR/out/wavcheck-$id.txt" 2>&1
    local status=$?
    [ "$status" -eq 0 ] || diag_file "$E2E_DIR/out/export-$id.txt"
    diag "$(cat "$E2E_DIR/out/wavcheck-$id.txt" 2>/dev/null)"
    return "$status"
}

# ---- 1. the call ends by itself during the drain
start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts with drain-ms=\"3000\""

cucm_call_start refci=27110500 near_dn=4101 far_dn=4102 duration=4000 || bail_out "could not start sipp"
t0=$(now_ms)
wait_for_state recording 2.5
ok $? "the first call is recording" || show_list

sleep_until_ms $((t0 + 3000))
daemon_signal TERM
sig_status=$?
t_sig=$(now_ms)
ok "$sig_status" "SIGTERM sent 3 s into the call, 1 s before its legs hang up"

# Both at once, so both are answered well before the call ends.
rest="x-nearendclusterid=StandAloneCluster;x-nearenddevice=SEP00AABBCCDD07;x-nearendaddr=4111"
rest="$rest;x-farendrefci=27110501;x-farendclusterid=StandAloneCluster"
rest="$rest;x-farenddevice=SEP00AABBCCDD08;x-farendaddr=4112"
_sipp_start drain-options trunk_options_503.xml u1 "$E2E_SIPP_PORT_AUX" "$E2E_MEDIA_PORT_AUX" 5
pid_opt=$E2E_LAST_SIPP_PID
_sipp_start drain-invite trunk_invite_503.xml u1 "$SIPP_PORT_AUX2" "$MEDIA_PORT_AUX2" 5 \
    -set from_params ";x-nearend;x-refci=27110502;$rest"
pid_inv=$E2E_LAST_SIPP_PID
_sipp_wait drain-options "$pid_opt"
ok $? "during the drain an OPTIONS ping gets 503 with Retry-After"
_sipp_wait drain-invite "$pid_inv"
ok $? "during the drain a new INVITE gets 503 with Retry-After"
grep -Eq 'INVITE .* refused: shutting down' "$E2E_DAEMON_LOG"
ok $? "the log says why: INVITE ... refused: shutting down" || diag_file "$E2E_DAEMON_LOG" 10

cucm_call_wait
ok $? "the call in progress ends normally: both legs' BYE is answered with 200"

daemon_wait_exit 10
exit_status=$?
t_exit=$(now_ms)
ok "$exit_status" "bibrecd exits 0 after the call ended"
diag "bibrecd exited $((t_exit - t_sig)) ms after SIGTERM (drain time 3000 ms, the call ended after about 1000)"
[ $((t_exit - t_sig)) -lt 2800 ]
ok $? "it exits once the last call is sealed, before the drain deadline"

list_recordings
line1=$(awk -F'\t' '$4 == "4101"' <<<"$E2E_RECORDINGS")
is "$(recording_count)" 1 "bibrec list (no daemon) shows one recording; none for the refused INVITE" || show_list
is "$(field 6 "$line1")" sealed "the drained call's recording is sealed"
duration=$(field 3 "$line1")
in_range "$duration" 3.7 4.3
ok $? "it has the call's full duration: '$duration' is 4 s +/- 0.3 s"
is "$(field 8 "$line1")" - "its FLAGS are '-': the call ended by its own BYE, not by the shutdown"
wavcheck_rec "$line1" 4 0.3
ok $? "it exports with 440 Hz left and 1000 Hz right, 4 s"

# ---- 2. the call outlasts the drain time
start_daemon || bail_out "bibrecd did not start again"
pass "bibrecd starts again on the same store"

cucm_call_start refci=27110504 near_dn=4121 far_dn=4122 duration=10000 || bail_out "could not start sipp"
t0=$(now_ms)
wait_for_state recording 1.7
sleep_until_ms $((t0 + 2000))
daemon_signal TERM
sig_status=$?
t_sig=$(now_ms)
ok "$sig_status" "SIGTERM sent 2 s into a call that would last 10 s"

daemon_wait_exit 15
exit_status=$?
t_exit=$(now_ms)
ok "$exit_status" "bibrecd exits 0"
diag "bibrecd exited $((t_exit - t_sig)) ms after SIGTERM (drain time 3000 ms)"
grep -q 'drain time over: sealing 1 recording(s) in progress' "$E2E_DAEMON_LOG"
ok $? "the log says the drain time was over with 1 recording in progress" || diag_file "$E2E_DAEMON_LOG" 10

# The daemon hung up both legs at the deadline; sipp, which was not expecting it, logged the BYE.
n_bye=0
for leg in near far; do
    grep -q '^BYE sip:' "$E2E_DIR/sipp/call$E2E_CALL_N-$leg.messages.log" && n_bye=$((n_bye + 1))
done
is "$n_bye" 2 "both legs received a BYE from the recorder"
cucm_call_abort

list_recordings
line2=$(awk -F'\t' '$4 == "4121"' <<<"$E2E_RECORDINGS")
is "$(recording_count)" 2 "bibrec list shows both recordings" || show_list
is "$(field 6 "$line2")" sealed "the cut call's recording is sealed"
is "$(field 8 "$line2")" shutdown "its FLAGS are 'shutdown'"
duration=$(field 3 "$line2")
# On a loaded machine the signal may leave later than 2 s in; the recording runs to the signal plus
# the 3 s drain, whenever the signal went.
want=$(awk -v ms=$((t_sig - t0)) 'BEGIN { printf "%.1f", ms / 1000 + 3 }')
in_range "$duration" "$(awk -v w="$want" 'BEGIN { print w - 0.7 }')" "$(awk -v w="$want" 'BEGIN { print w + 1 }')"
ok $? "it was sealed at the drain deadline: '$duration' is about $want s (the signal's time + 3 s drain)"
wavcheck_rec "$line2" "$want" 1
ok $? "it exports with 440 Hz left and 1000 Hz right, about $want s"

verify_all 2
ok $? "bibrec verify passes for both recordings" || diag_file "$E2E_DIR/out/verify.txt"
