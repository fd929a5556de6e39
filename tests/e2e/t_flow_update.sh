#!/bin/bash
#
# t_flow_update.sh: the far end changes behind a trunk while a call is recorded.
#
# CUCM reports a remote transfer or conference with an in-dialog UPDATE whose From keeps its tag
# but carries new far-end URI parameters (cucm-bib notes, section 4); it sends it on both legs.
# Both legs here send four UPDATEs, 1.2 s apart, into a 6 s call:
#   1. transfer: the far end becomes 5003 on SEP00AABBCCDD03 (x-farendrefci 27110540)
#   2. the same parameters again (a refresh: nothing changed)
#   3. conference: the far end becomes the bridge CFB_2, with an empty x-farendaddr
#   4. the conference ends and the far end is the original party again (4002, SEP00AABBCCDD02)
# Every UPDATE must be answered 200. The recording keeps the original far end in its far.*
# fields and gets one far-end-changed event per change (not per leg, none for the refresh) at the
# time it happened, the far_end_changes counter counts them, and the audio is not disturbed.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 12
plan 20
diag "daemon on 127.0.0.1:$E2E_SIP_PORT, files in $E2E_DIR"

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts and creates its control socket"

refci=27110530
far_orig="x-farendrefci=27110529;x-farendclusterid=StandAloneCluster;x-farenddevice=SEP00AABBCCDD02;x-farendaddr=4002"
far_xfer="x-farendrefci=27110540;x-farendclusterid=StandAloneCluster;x-farenddevice=SEP00AABBCCDD03;x-farendaddr=5003"
far_conf="x-farendrefci=27110541;x-farendclusterid=StandAloneCluster;x-farenddevice=CFB_2;x-farendaddr="
for leg in near far; do
    slot=1
    [ "$leg" = far ] && slot=2
    leg_start "update-$leg" cucm_update.xml $slot stream=$leg refci=$refci far_refci=27110529 \
        far_dn=4002 far_device=SEP00AABBCCDD02 timeout=30 -- -set step_ms 1200 \
        -set far1 "$far_xfer" -set far2 "$far_xfer" -set far3 "$far_conf" -set far4 "$far_orig"
done
legs_wait
ok $? "both legs complete: INVITE, ACK, four UPDATEs 1.2 s apart, BYE"
answered=0
for leg in near far; do
    for n in 1 2 3 4 5 6; do
        sipp_msg "update-$leg" '^SIP/2.0 200' $n | grep -Eq '^CSeq: 10[2-5] UPDATE$' && answered=$((answered + 1))
    done
done
is "$answered" 8 "all eight UPDATEs are answered 200"

wait_for_state sealed 10
is "$(recording_count)" 1 "bibrec list shows one recording" || show_list
id=$(field 1)
is "$(field 5)" 4002 "FAR in bibrec list is still the original far end, 4002"
is "$(show_value "$id" far.addr)/$(show_value "$id" far.device)/$(show_value "$id" far.refci)" \
    "4002/SEP00AABBCCDD02/27110529" "bibrec show: far.addr, far.device and far.refci are the original ones"
duration=$(field 3)
in_range "$duration" 5.7 6.5
ok $? "the recording lasts the whole call, about 6 s ($duration)"

show_events "$id" >"$E2E_DIR/out/events.txt"
diag "$(cat "$E2E_DIR/out/events.txt")"
changes=$(grep -c '	far-end-changed	' "$E2E_DIR/out/events.txt")
# event TAB seconds TAB kind TAB channel TAB refci=.. device=.. addr=..
ev_xfer=$(awk -F '\t' '$3 == "far-end-changed" && $5 == "refci=27110540 device=SEP00AABBCCDD03 addr=5003"' "$E2E_DIR/out/events.txt")
ev_conf=$(awk -F '\t' '$3 == "far-end-changed" && $5 == "refci=27110541 device=CFB_2 addr=-"' "$E2E_DIR/out/events.txt")
ev_back=$(awk -F '\t' '$3 == "far-end-changed" && $5 == "refci=27110529 device=SEP00AABBCCDD02 addr=4002"' "$E2E_DIR/out/events.txt")
is "$(grep -c . <<<"$ev_xfer")" 1 "one far-end-changed event for the transfer to 5003 (though both legs sent the UPDATE)"
in_range "$(cut -f 2 <<<"$ev_xfer" | head -n 1)" 0.9 1.6
ok $? "... at about 1.2 s into the recording ($(cut -f 2 <<<"$ev_xfer" | head -n 1))"
is "$(grep -c . <<<"$ev_conf")" 1 "one far-end-changed event for the conference bridge CFB_2 with no address"
in_range "$(cut -f 2 <<<"$ev_conf" | head -n 1)" 3.3 4.0
ok $? "... at about 3.6 s ($(cut -f 2 <<<"$ev_conf" | head -n 1))"
! awk -F '\t' '$2 >= 2.0 && $2 <= 3.0' "$E2E_DIR/out/events.txt" | grep -q .
ok $? "the refresh UPDATE (same parameters, at 2.4 s) adds no event"
back_at=$(cut -f 2 <<<"$ev_back" | head -n 1)
[ "$(grep -c . <<<"$ev_back")" -eq 1 ] && in_range "$back_at" 4.5 5.2
ok $? "one far-end-changed event, at about 4.8 s (${back_at:-none}), when the far end becomes the original party 4002 again"
is "$changes" "$(printf '%s\n' "$ev_xfer" "$ev_conf" "$ev_back" | grep -c .)" "no other far-end-changed events ($changes in all)"
is "$(daemon_stat far_end_changes)" "$changes" "bibrec stats: far_end_changes counts the events ($changes)"

wav=$E2E_DIR/out/update.wav
bibrec_cli export "$id" "$wav" >"$E2E_DIR/out/export.txt" 2>&1 && [ -s "$wav" ]
ok $? "bibrec export writes the recording" || diag_file "$E2E_DIR/out/export.txt"
"$WAVCHECK" --expect-rate 8000 --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" \
    --expect-duration "$duration" --tolerance-duration 0.1 "$wav" >"$E2E_DIR/out/wavcheck.txt" 2>&1
ok $? "the WAV holds the whole call undisturbed: 440 Hz left, 1000 Hz right" ||
    diag "$(cat "$E2E_DIR/out/wavcheck.txt")"
bibrec_cli verify "$id" >"$E2E_DIR/out/verify.txt" 2>&1 && grep -Eq "^ok $id segments=[0-9]+" "$E2E_DIR/out/verify.txt"
ok $? "bibrec verify passes (the events are in the sealed metadata)" || diag_file "$E2E_DIR/out/verify.txt"

stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"
daemon_log_clean
ok $? "the daemon's log has no AddressSanitizer, LeakSanitizer or UBSan report"
