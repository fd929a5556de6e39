#!/bin/bash
#
# t_flow_nocodec.sh: recording attempts that CUCM gives up because no codec matches.
#
# When CUCM finds no codec in common with the recorder's offer, it sends an ACK without SDP and at
# once a BYE with "Reason: Q.850;cause=47" (cucm-bib notes, section 2). With no RTP received, such
# an attempt must leave nothing behind: no recording listed, nothing in the store, a log line
# "failed recording attempt", and the failed_attempts and recordings_discarded counters. Three
# variants, each on both legs:
#   A  ACK without SDP, BYE with cause 47 (what CUCM sends)
#   B  ACK with an SDP answer, but no RTP and BYE with cause 47
#   C  ACK without SDP, no RTP and a BYE with the normal cause 16 (the missing answer says enough)

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 14
plan 23
diag "daemon on 127.0.0.1:$E2E_SIP_PORT, files in $E2E_DIR"

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts and creates its control socket"

# attempt NAME SCENARIO REFCI CAUSE MS: both legs of one attempt, BYE MS after the ACK.
attempt() {
    leg_start "$1-near" "$2" 1 stream=near refci="$3" duration="$5" -- -set q850 "$4"
    leg_start "$1-far" "$2" 2 stream=far refci="$3" duration="$5" -- -set q850 "$4"
    legs_wait
}

attempt a cucm_nocodec.xml 27110570 47 300
ok $? "A: both legs complete: INVITE, 200 with the offer, ACK without SDP, BYE with Q.850 cause 47"
wait_for_log 'refci 27110570: failed recording attempt' 3
ok $? "A: the daemon logs a failed recording attempt for refci 27110570" || diag_file "$E2E_DAEMON_LOG" 10
[ "$(grep -c 'ACK without SDP answer' "$E2E_DAEMON_LOG")" -eq 2 ] &&
    [ "$(grep -c 'Q.850 cause 47: no common codec' "$E2E_DAEMON_LOG")" -eq 2 ]
ok $? "A: it logs each leg's ACK without SDP answer and BYE with cause 47" || diag_file "$E2E_DAEMON_LOG" 10
list_recordings
[ "$E2E_LIST_STATUS" -eq 0 ] && [ "$(wc -l <"$E2E_DIR/out/list.txt")" -eq 1 ]
ok $? "A: bibrec list prints only its header line" || show_list
is "$(daemon_stat failed_attempts)/$(daemon_stat recordings_discarded)/$(daemon_stat recordings_sealed)/$(daemon_stat calls_total)" \
    "1/1/0/1" "A: bibrec stats: failed_attempts 1, recordings_discarded 1, recordings_sealed 0, calls_total 1"

# 2.5 s: the recorder has written segments (of silence) by the time the BYEs come.
attempt b cucm_leg_silent.xml 27110580 47 2500
ok $? "B: both legs complete: ACK with an SDP answer, 2.5 s without RTP, BYE with Q.850 cause 47"
wait_for_log 'refci 27110580: failed recording attempt' 3
ok $? "B: the daemon logs a failed recording attempt for refci 27110580" || diag_file "$E2E_DAEMON_LOG" 10
is "$(daemon_stat failed_attempts)/$(daemon_stat recordings_discarded)" "2/2" \
    "B: bibrec stats: failed_attempts 2, recordings_discarded 2"

attempt c cucm_nocodec.xml 27110590 16 300
ok $? "C: both legs complete: ACK without SDP, no RTP, BYE with the normal cause 16"
wait_for_log 'refci 27110590: failed recording attempt' 3
ok $? "C: the daemon logs a failed recording attempt for refci 27110590" || diag_file "$E2E_DAEMON_LOG" 10
is "$(daemon_stat failed_attempts)/$(daemon_stat recordings_discarded)/$(daemon_stat recordings_sealed)" "3/3/0" \
    "C: bibrec stats: failed_attempts 3, recordings_discarded 3, recordings_sealed 0"
is "$(daemon_stat active_calls)/$(daemon_stat active_legs)/$(daemon_stat no_media)" "0/0/0" \
    "bibrec stats: active_calls 0, active_legs 0, no_media 0 (nothing was kept as a no-media recording)"

list_recordings
[ "$E2E_LIST_STATUS" -eq 0 ] && [ "$(wc -l <"$E2E_DIR/out/list.txt")" -eq 1 ]
ok $? "bibrec list still prints only its header line" || show_list
bibrec_cli calls >"$E2E_DIR/out/calls.txt" 2>&1 && [ "$(wc -l <"$E2E_DIR/out/calls.txt")" -eq 1 ]
ok $? "bibrec calls prints only its header line" || diag_file "$E2E_DIR/out/calls.txt"
bibrec_cli verify >"$E2E_DIR/out/verify.txt" 2>&1 && ! grep -Eq '^(ok|FAIL) [0-9a-f]{20}' "$E2E_DIR/out/verify.txt"
ok $? "bibrec verify passes and has no recording to report" || diag_file "$E2E_DIR/out/verify.txt"
deadline=$(($(now_ms) + 2000))
while udp_ports_bound "$E2E_RTP_MIN" "$E2E_RTP_MAX" | grep -q . && [ "$(now_ms)" -lt "$deadline" ]; do
    sleep 0.1
done
is "$(udp_ports_bound "$E2E_RTP_MIN" "$E2E_RTP_MAX" | tr '\n' ' ')" "" "every RTP port is released"

stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"
"$TAMPER" "$E2E_DB" --list rec/ >"$E2E_DIR/out/rec-keys.txt" 2>&1
ok $? "tamper can list the store's keys" || diag_file "$E2E_DIR/out/rec-keys.txt"
! grep -q . "$E2E_DIR/out/rec-keys.txt"
ok $? "the store holds no rec/ key: no metadata, segment or seal of the attempts" ||
    diag_file "$E2E_DIR/out/rec-keys.txt" 10
"$TAMPER" "$E2E_DB" --list key/ >"$E2E_DIR/out/key-keys.txt" 2>&1 && ! grep -q . "$E2E_DIR/out/key-keys.txt"
ok $? "the store holds no key/ entry: the attempts' data keys are gone too" ||
    diag_file "$E2E_DIR/out/key-keys.txt" 10
find "$E2E_STORE" -path '*/audio/*' -type f >"$E2E_DIR/out/audio-files.txt" 2>&1 &&
    ! grep -q . "$E2E_DIR/out/audio-files.txt"
ok $? "the store holds no audio file of the attempts" || diag_file "$E2E_DIR/out/audio-files.txt" 10
daemon_log_clean
ok $? "the daemon's log has no AddressSanitizer, LeakSanitizer or UBSan report"
