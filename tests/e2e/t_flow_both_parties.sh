#!/bin/bash
#
# t_flow_both_parties.sh: both parties of a conversation are recorded, so the recorder gets four
# INVITEs: two pairs whose x-refci and x-farendrefci cross (cucm-bib notes, section 1).
#
#   pair A  x-refci 27110700, x-farendrefci 27110701: 4001 (440 Hz) is the near end, 4002 far
#   pair B  x-refci 27110701, x-farendrefci 27110700: 4002 (1000 Hz) is the near end, 4001 far,
#           1 s after A, while A is recorded
# The two recordings must name each other's call in peer_call (bibrec show) and PEER (bibrec
# calls), the linked counter must count both, and each must have its own near end on the left.
# Then pair D (27110711 / 27110710) comes after pair C (27110710 / 27110711) has ended: D names C.
# A pair E that claims C as its far end (x-farendrefci 27110710) while C's far end is another
# party must not be linked to anything.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 16
plan 21
diag "daemon on 127.0.0.1:$E2E_SIP_PORT, files in $E2E_DIR"

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts and creates its control socket"

# pair NAME SLOT_NEAR SLOT_FAR REFCI FAR_REFCI NEAR_DN FAR_DN NEAR_TONE FAR_TONE MS
pair() {
    local common="refci=$4 far_refci=$5 near_dn=$6 far_dn=$7 near_device=SEP00AABBCC$6 far_device=SEP00AABBCC$7 duration=${10}"
    # shellcheck disable=SC2086 # common is a list of KEY=VALUE words
    leg_start "$1-near" cucm_leg.xml "$2" stream=near $common tone="$8"
    # shellcheck disable=SC2086
    leg_start "$1-far" cucm_leg.xml "$3" stream=far $common tone="$9"
}

pair a 1 2 27110700 27110701 4001 4002 "$E2E_TONE_NEAR" "$E2E_TONE_FAR" 4000
sleep 1
pair b 3 4 27110701 27110700 4002 4001 "$E2E_TONE_FAR" "$E2E_TONE_NEAR" 3000
legs_wait
ok $? "the four legs of pairs A and B complete"
wait_for_recordings 2 10
is "$(recording_count)" 2 "bibrec list shows two recordings" || show_list
rec_a=$(awk -F '\t' '$4 == 4001 && $5 == 4002' <<<"$E2E_RECORDINGS")
rec_b=$(awk -F '\t' '$4 == 4002 && $5 == 4001' <<<"$E2E_RECORDINGS")
id_a=$(field 1 "$rec_a")
id_b=$(field 1 "$rec_b")
call_a=$(field 7 "$rec_a")
call_b=$(field 7 "$rec_b")
[ -n "$id_a" ] && [ -n "$id_b" ] && [ "$call_a" != "$call_b" ]
ok $? "one is 4001's (near 4001, far 4002), the other 4002's (near 4002, far 4001), two calls" || show_list
is "$(show_value "$id_b" peer_call)" "$call_a" "the later recording (B) names A's call as peer_call"
is "$(show_value "$id_a" peer_call)" "$call_b" "the earlier recording (A) names B's call as peer_call"
wait_for_log "recording $id_b linked with $id_a: both parties recorded" 2
ok $? "the daemon logs that $id_b is linked with $id_a" || diag_file "$E2E_DAEMON_LOG" 10
bibrec_cli calls >"$E2E_DIR/out/calls.txt" 2>&1
is "$(awk -F '\t' -v c="$call_a" '$1 == c { print $8 }' "$E2E_DIR/out/calls.txt")/$(awk -F '\t' -v c="$call_b" '$1 == c { print $8 }' "$E2E_DIR/out/calls.txt")" \
    "$call_b/$call_a" "bibrec calls: each call's PEER is the other one" || diag_file "$E2E_DIR/out/calls.txt"
is "$(daemon_stat linked)" 2 "bibrec stats: linked 2 (both recordings)"

for r in a b; do
    if [ "$r" = a ]; then
        id=$id_a left=$E2E_NEAR_HZ right=$E2E_FAR_HZ secs=4
    else
        id=$id_b left=$E2E_FAR_HZ right=$E2E_NEAR_HZ secs=3
    fi
    bibrec_cli export "$id" "$E2E_DIR/out/$r.wav" >"$E2E_DIR/out/export-$r.txt" 2>&1 &&
        "$WAVCHECK" --expect-rate 8000 --expect-left "$left" --expect-right "$right" \
            --expect-duration $secs --tolerance-duration 0.3 "$E2E_DIR/out/$r.wav" >"$E2E_DIR/out/wav-$r.txt" 2>&1
    ok $? "recording ${r^^} exports to $secs s with its own party's voice ($left Hz) left, the other's ($right Hz) right" ||
        diag "$(cat "$E2E_DIR/out/export-$r.txt" "$E2E_DIR/out/wav-$r.txt")"
done

# C, then D after C has ended; E (with D) claims C's x-refci as its far end, but C's far end is
# 27110711, not E.
pair c 1 2 27110710 27110711 4003 4004 "$E2E_TONE_NEAR" "$E2E_TONE_FAR" 1500
legs_wait
ok $? "pair C (27110710 / 27110711) completes"
wait_for_recordings 3 10
pair d 1 2 27110711 27110710 4004 4003 "$E2E_TONE_FAR" "$E2E_TONE_NEAR" 1500
pair e 3 4 27110720 27110710 4005 4003 "$E2E_TONE_NEAR" "$E2E_TONE_FAR" 1500
legs_wait
ok $? "then pairs D (27110711 / 27110710) and E (27110720 / 27110710) complete"
wait_for_recordings 5 10
is "$(recording_count)" 5 "bibrec list shows five recordings" || show_list
id_c=$(awk -F '\t' '$4 == 4003 { print $1 }' <<<"$E2E_RECORDINGS")
id_d=$(awk -F '\t' '$4 == 4004 { print $1 }' <<<"$E2E_RECORDINGS")
id_e=$(awk -F '\t' '$4 == 4005 { print $1 }' <<<"$E2E_RECORDINGS")
call_c=$(field 7 "$(list_row "$id_c")")
is "$(show_value "$id_d" peer_call)" "$call_c" "D names C's call as peer_call, though C had ended"
diag "C's peer_call: $(show_value "$id_c" peer_call) (C was sealed before D began)"
is "$(show_value "$id_e" peer_call)" "-" "E is linked to nothing: its x-refci is not C's x-farendrefci"
call_e=$(field 7 "$(list_row "$id_e")")
n=0
for id in "$id_a" "$id_b" "$id_c" "$id_d"; do
    [ "$(show_value "$id" peer_call)" = "$call_e" ] && n=$((n + 1))
done
is "$n" 0 "and no recording names E's call"
is "$(daemon_stat linked)" 3 "bibrec stats: linked 3"

bibrec_cli verify >"$E2E_DIR/out/verify.txt" 2>&1 && [ "$(grep -Ec '^ok [0-9a-f]{20} segments=[0-9]+' "$E2E_DIR/out/verify.txt")" -eq 5 ]
ok $? "bibrec verify passes for the five recordings" || diag_file "$E2E_DIR/out/verify.txt"
stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"
daemon_log_clean
ok $? "the daemon's log has no AddressSanitizer, LeakSanitizer or UBSan report"
