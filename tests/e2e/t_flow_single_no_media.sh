#!/bin/bash
#
# t_flow_single_no_media.sh: recordings that lack a leg or lack media are still kept, flagged.
#
# With answer-wait-ms="1000" and pair-wait-ms="2000":
#   a lone near leg (3.5 s of 440 Hz) whose far leg never comes: answered alone after about 1 s,
#     recorded with the near channel only, flagged single-leg (the pair wait runs out during it);
#   a lone far leg (0.5 s of 1000 Hz): the same with the far channel, ending before the pair wait;
#   a normal pair (ACK with SDP answer, normal BYE) that sends no RTP at all for 2 s: answered at
#     once, kept as a 2 s silent recording flagged no-media;
#   a near leg (4.5 s of 440 Hz) whose far leg's INVITE comes 2.6 s later, past the pair wait (as
#     when CUCM's first INVITEs were lost and retransmitted): the far leg joins the near leg's
#     recording, which ends up with both channels and without the single-leg flag.
# The counters single_leg and no_media count each recording once.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 17
plan 30
config_add '<session answer-wait-ms="1000" pair-wait-ms="2000"/>'
diag "daemon on 127.0.0.1:$E2E_SIP_PORT, files in $E2E_DIR"

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts and creates its control socket"

# channel_silent WAVCHECK_OUTPUT N: channel N has no tone and no level.
channel_silent() {
    grep -Eq "^ch$2 freq=0\\.0 rms=0\\.0\$" "$1"
}

# lone STREAM REFCI MS: one leg alone. Sets delay (ms from its INVITE to the 200).
lone() {
    local stream=$1 refci=$2 ms=$3 slot=1
    [ "$stream" = far ] && slot=2
    leg_start "lone-$stream" cucm_leg.xml $slot stream="$stream" refci="$refci" duration="$ms"
    legs_wait
    ok $? "a lone $stream leg (refci $refci, $ms ms of RTP) completes"
    delay=$(sipp_delay_ms "lone-$stream" '^INVITE ' '^SIP/2.0 200')
    [ -n "$delay" ] && [ "$delay" -ge 950 ]
    ok $? "it is not answered before answer-wait-ms (1000) has passed (${delay:-?} ms)"
}

lone near 27110800 3500
# The session's 100 ms tick starts the recording 1.0 to 1.1 s after the INVITE; the 200 should
# leave at once.
[ -n "$delay" ] && [ "$delay" -le 1250 ]
ok $? "it is answered as soon as answer-wait-ms has passed: ${delay:-?} ms after its INVITE (at most 1250)"
wait_for_log "the far leg of refci 27110800 never came; recording one channel" 2
ok $? "the daemon logs that the far leg never came" || diag_file "$E2E_DAEMON_LOG" 10
wait_for_recordings 1 10
row=$(sed -n 1p <<<"$E2E_RECORDINGS")
id1=$(field 1 "$row")
is "$(field 8 "$row")" single-leg "bibrec list: FLAGS single-leg" || show_list
is "$(show_value "$id1" near.present)/$(show_value "$id1" far.present)" "yes/no" "bibrec show: near.present yes, far.present no"
# The recording starts when answer-wait-ms has passed (whenever the 200 leaves) and ends at the BYE.
span=$(awk -v a="$(_sipp_trace time lone-near '^INVITE ' 1)" -v b="$(_sipp_trace time lone-near '^BYE ' 1)" \
    'BEGIN { d = b - a; if (d < 0) d += 86400; printf "%.2f", d - 1.0 }')
awk -v d="$(field 3 "$row")" -v s="$span" 'BEGIN { exit !(d - s < 0.2 && s - d < 0.2) }'
ok $? "it lasts from answer-wait-ms after the INVITE to the BYE ($(field 3 "$row") s, expected $span s)"
bibrec_cli export "$id1" "$E2E_DIR/out/lone-near.wav" >"$E2E_DIR/out/export1.txt" 2>&1 &&
    "$WAVCHECK" --expect-rate 8000 --expect-left "$E2E_NEAR_HZ" "$E2E_DIR/out/lone-near.wav" \
        >"$E2E_DIR/out/wav1.txt" 2>&1 && channel_silent "$E2E_DIR/out/wav1.txt" 1
ok $? "its WAV has the 440 Hz tone left and silence right" || diag "$(cat "$E2E_DIR/out/export1.txt" "$E2E_DIR/out/wav1.txt")"

lone far 27110810 500
wait_for_recordings 2 10
row=$(sed -n 2p <<<"$E2E_RECORDINGS")
id2=$(field 1 "$row")
is "$(field 8 "$row")/$(show_value "$id2" near.present)/$(show_value "$id2" far.present)" "single-leg/no/yes" \
    "the lone far leg's recording: FLAGS single-leg, near.present no, far.present yes" || show_list
bibrec_cli export "$id2" "$E2E_DIR/out/lone-far.wav" >"$E2E_DIR/out/export2.txt" 2>&1 &&
    "$WAVCHECK" --expect-rate 8000 --expect-right "$E2E_FAR_HZ" "$E2E_DIR/out/lone-far.wav" \
        >"$E2E_DIR/out/wav2.txt" 2>&1 && channel_silent "$E2E_DIR/out/wav2.txt" 0
ok $? "its WAV has silence left and the 1000 Hz tone right" || diag "$(cat "$E2E_DIR/out/export2.txt" "$E2E_DIR/out/wav2.txt")"
is "$(daemon_stat single_leg)" 2 "bibrec stats: single_leg 2 (once per recording)"

leg_start silent-near cucm_leg_silent.xml 1 stream=near refci=27110820 duration=2000 -- -set q850 16
leg_start silent-far cucm_leg_silent.xml 2 stream=far refci=27110820 duration=2000 -- -set q850 16
legs_wait
ok $? "a pair with SDP answers but no RTP completes (2 s, BYE with cause 16)"
d_near=$(sipp_delay_ms silent-near '^INVITE ' '^SIP/2.0 200')
d_far=$(sipp_delay_ms silent-far '^INVITE ' '^SIP/2.0 200')
[ -n "$d_near" ] && [ -n "$d_far" ] && [ "$d_near" -lt 500 ] && [ "$d_far" -lt 500 ]
ok $? "its legs are answered as soon as both are there (${d_near:-?} and ${d_far:-?} ms)"
wait_for_recordings 3 10
row=$(sed -n 3p <<<"$E2E_RECORDINGS")
id3=$(field 1 "$row")
is "$(field 8 "$row")" no-media "bibrec list: it is kept, FLAGS no-media" || show_list
in_range "$(field 3 "$row")" 1.8 2.3
ok $? "it lasts the 2 s of the call ($(field 3 "$row"))"
is "$(show_value "$id3" near.packets)/$(show_value "$id3" far.packets)" "0/0" "bibrec show: no packet on either leg"
bibrec_cli export "$id3" "$E2E_DIR/out/silent.wav" >"$E2E_DIR/out/export3.txt" 2>&1 &&
    "$WAVCHECK" --expect-rate 8000 --expect-duration "$(field 3 "$row")" --tolerance-duration 0.01 \
        "$E2E_DIR/out/silent.wav" >"$E2E_DIR/out/wav3.txt" 2>&1 &&
    channel_silent "$E2E_DIR/out/wav3.txt" 0 && channel_silent "$E2E_DIR/out/wav3.txt" 1
ok $? "its WAV is $(field 3 "$row") s of silence on both channels" || diag "$(cat "$E2E_DIR/out/export3.txt" "$E2E_DIR/out/wav3.txt")"
is "$(daemon_stat no_media)/$(daemon_stat failed_attempts)/$(daemon_stat recordings_sealed)/$(daemon_stat single_leg)" \
    "1/0/3/2" "bibrec stats: no_media 1, failed_attempts 0, recordings_sealed 3, single_leg 2"

leg_start late-near cucm_leg.xml 1 stream=near refci=27110830 duration=4500
sleep 2.6
leg_start late-far cucm_leg.xml 2 stream=far refci=27110830 duration=1000
legs_wait
ok $? "a near leg (4.5 s) and a far leg whose INVITE comes 2.6 s later complete"
wait_for_log "the far leg of refci 27110830 came [0-9.]+ s after its partner; it joins the recording" 5
ok $? "the daemon logs that the late far leg joins its partner's recording" || diag_file "$E2E_DAEMON_LOG" 10
wait_for_recordings 4 10
is "$(grep -c . <<<"$E2E_RECORDINGS")" 4 "one recording for the pair, not one per leg" || show_list
row=$(sed -n 4p <<<"$E2E_RECORDINGS")
id4=$(field 1 "$row")
is "$(field 8 "$row")/$(show_value "$id4" near.present)/$(show_value "$id4" far.present)" "-/yes/yes" \
    "it has no single-leg flag, near.present yes, far.present yes" || show_list
bibrec_cli export "$id4" "$E2E_DIR/out/late.wav" >"$E2E_DIR/out/export4.txt" 2>&1 &&
    "$WAVCHECK" --expect-rate 8000 --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" \
        "$E2E_DIR/out/late.wav" >"$E2E_DIR/out/wav4.txt" 2>&1
ok $? "its WAV has the 440 Hz tone left and the late leg's 1000 Hz tone right" || diag "$(cat "$E2E_DIR/out/export4.txt" "$E2E_DIR/out/wav4.txt")"
is "$(daemon_stat recordings_sealed)/$(daemon_stat single_leg)" "4/2" \
    "bibrec stats: recordings_sealed 4, single_leg still 2"

bibrec_cli verify >"$E2E_DIR/out/verify.txt" 2>&1 && [ "$(grep -Ec '^ok [0-9a-f]{20} segments=[0-9]+' "$E2E_DIR/out/verify.txt")" -eq 4 ]
ok $? "bibrec verify passes for the four recordings" || diag_file "$E2E_DIR/out/verify.txt"
stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"
daemon_log_clean
ok $? "the daemon's log has no AddressSanitizer, LeakSanitizer or UBSan report"
