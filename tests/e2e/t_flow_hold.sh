#!/bin/bash
#
# t_flow_hold.sh: hold and resume split a call into parts, which the recorder stitches together.
#
# When the recorded party puts the call on hold, CUCM ends both recording dialogs with BYE; on
# resume it sends a new INVITE pair with the same x-refci (cucm-bib notes, section 4). With
# stitch-window-s="4":
#   part 1  refci 27110600, 3 s: near 440 Hz, far 1000 Hz
#   hold    1.5 s
#   part 2  the same x-refci, 2.5 s: near 600 Hz, far 1500 Hz
# must give two recordings of one call (same CALL in bibrec list, call_part 1 and 2), one line in
# bibrec calls with PARTS 2 and GAPS about 1.5 s, and bibrec export-call must write one WAV with
# both parts back to back (no silence for the hold), in order. Then, after 5.5 s without any call
# (longer than the window), a part 3 with the same x-refci must start a call of its own; and the
# same for another x-refci whose second pair comes 5.5 s later while another call is recorded.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 15
plan 26
config_add '<session stitch-window-s="4"/>'
diag "daemon on 127.0.0.1:$E2E_SIP_PORT, files in $E2E_DIR"

make_tone near2 600
near2=$E2E_TONE
make_tone far2 1500
far2=$E2E_TONE

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts and creates its control socket"

refci=27110600
cucm_call refci=$refci duration=3000
ok $? "part 1: both legs complete (3 s), then BYE on both"
sleep 1.5
cucm_call refci=$refci duration=2500 near_tone="$near2" far_tone="$far2"
ok $? "part 2, 1.5 s later: a new INVITE pair with the same x-refci completes (2.5 s)"

wait_for_recordings 2 10
is "$(recording_count)" 2 "bibrec list shows two recordings" || show_list
row1=$(sed -n 1p <<<"$E2E_RECORDINGS")
row2=$(sed -n 2p <<<"$E2E_RECORDINGS")
id1=$(field 1 "$row1")
id2=$(field 1 "$row2")
d1=$(field 3 "$row1")
d2=$(field 3 "$row2")
is "$(field 7 "$row1")/$(field 7 "$row2")" "$id1/$id1" "both have CALL $id1, the first part's id"
is "$(show_value "$id1" call_part)/$(show_value "$id2" call_part)" "1/2" "bibrec show: call_part 1 and 2"
in_range "$d1" 2.8 3.3 && in_range "$d2" 2.3 2.8
ok $? "the parts last 3 s and 2.5 s ($d1, $d2): the hold is in neither"
wait_for_log "recording $id2 continues call $id1 as part 2 \\(same x-refci $refci\\)" 2
ok $? "the daemon logs that $id2 continues call $id1 as part 2" || diag_file "$E2E_DAEMON_LOG" 10

bibrec_cli calls >"$E2E_DIR/out/calls.txt" 2>"$E2E_DIR/out/calls.err"
ok $? "bibrec calls runs" || diag_file "$E2E_DIR/out/calls.err"
call_row=$(awk -F '\t' -v c="$id1" '$1 == c' "$E2E_DIR/out/calls.txt")
is "$(tail -n +2 "$E2E_DIR/out/calls.txt" | grep -c .)/$(cut -f 3 <<<"$call_row")" "1/2" \
    "bibrec calls: one call, PARTS 2" || diag_file "$E2E_DIR/out/calls.txt"
recorded=$(cut -f 4 <<<"$call_row")
gaps=$(cut -f 5 <<<"$call_row")
sum=$(awk -v a="$d1" -v b="$d2" 'BEGIN { printf "%.2f", a + b }')
# Each value is rounded to 10 ms on its own.
awk -v r="$recorded" -v s="$sum" 'BEGIN { exit !(r - s < 0.021 && s - r < 0.021) }'
ok $? "RECORDED $recorded is the sum of the parts ($sum)"
in_range "$gaps" 1.2 3.0
ok $? "GAPS $gaps is about the 1.5 s hold"

wav=$E2E_DIR/out/call.wav
bibrec_cli export-call "$id1" "$wav" >"$E2E_DIR/out/export.txt" 2>&1 && [ -s "$wav" ]
ok $? "bibrec export-call writes the call to one WAV" || diag_file "$E2E_DIR/out/export.txt"
"$WAVCHECK" --expect-rate 8000 --expect-duration "$sum" --tolerance-duration 0.021 "$wav" \
    >"$E2E_DIR/out/wavcheck.txt" 2>&1
ok $? "its duration is the sum of the parts, $sum s: the hold is not padded" ||
    diag "$(cat "$E2E_DIR/out/wavcheck.txt")"
wav_section "$wav" "$E2E_DIR/out/part1.wav" 0.2 "$(awk -v d="$d1" 'BEGIN { print d - 0.4 }')" &&
    "$WAVCHECK" --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" "$E2E_DIR/out/part1.wav" \
        >"$E2E_DIR/out/part1.txt" 2>&1
ok $? "it starts with part 1: 440 Hz left, 1000 Hz right" || diag "$(cat "$E2E_DIR/out/part1.txt")"
wav_section "$wav" "$E2E_DIR/out/part2.wav" "$(awk -v d="$d1" 'BEGIN { print d + 0.2 }')" \
    "$(awk -v d="$d2" 'BEGIN { print d - 0.4 }')" &&
    "$WAVCHECK" --expect-left 600 --expect-right 1500 "$E2E_DIR/out/part2.wav" >"$E2E_DIR/out/part2.txt" 2>&1
ok $? "and goes on with part 2 right after it: 600 Hz left, 1500 Hz right" ||
    diag "$(cat "$E2E_DIR/out/part2.txt")"
is "$(daemon_stat stitched)" 1 "bibrec stats: stitched 1"

# The window passes while the recorder is idle; then the same x-refci comes again.
sleep 5.5
cucm_call refci=$refci duration=1500
ok $? "part 3, 5.5 s after part 2 with no call in between (window 4 s): the same x-refci again"
wait_for_recordings 3 10
row3=$(sed -n 3p <<<"$E2E_RECORDINGS")
id3=$(field 1 "$row3")
is "$(field 7 "$row3")/$(show_value "$id3" call_part)/$(daemon_stat stitched)" "$id3/1/1" \
    "it is a call of its own (CALL = its id, part 1; stitched still 1): the stitch window had passed"

# The same with another call in progress while the window passes.
refci2=27110610
cucm_call refci=$refci2 duration=1000
ok $? "refci $refci2, part 1: 1 s"
leg_start busy-near cucm_leg.xml 3 stream=near refci=27110620 near_dn=4101 duration=5500
leg_start busy-far cucm_leg.xml 4 stream=far refci=27110620 near_dn=4101 duration=5500
sleep 5.5
cucm_call refci=$refci2 duration=1000
ok $? "refci $refci2 again 5.5 s later, while another call (refci 27110620) is being recorded"
legs_wait
ok $? "the other call completes"
wait_for_recordings 6 10
# In id (creation) order: refci2 part 1, the other call (near 4101), refci2 again.
id4=$(awk -F '\t' -v id="$id3" '$1 > id && $4 == 4001 { print $1 }' <<<"$E2E_RECORDINGS" | head -n 1)
id6=$(awk -F '\t' -v id="$id3" '$1 > id && $4 == 4001 { print $1 }' <<<"$E2E_RECORDINGS" | tail -n 1)
[ "$(recording_count)" -eq 6 ] && [ -n "$id4" ] && [ "$id4" != "$id6" ] &&
    [ "$(field 7 "$(list_row "$id6")")/$(show_value "$id6" call_part)" = "$id6/1" ]
ok $? "the second refci $refci2 recording is a call of its own: the window is applied"

bibrec_cli verify >"$E2E_DIR/out/verify.txt" 2>&1 && [ "$(grep -Ec '^ok [0-9a-f]{20} segments=[0-9]+' "$E2E_DIR/out/verify.txt")" -eq 6 ]
ok $? "bibrec verify passes for all six recordings" || diag_file "$E2E_DIR/out/verify.txt"

stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"
daemon_log_clean
ok $? "the daemon's log has no AddressSanitizer, LeakSanitizer or UBSan report"
