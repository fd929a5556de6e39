#!/bin/bash
#
# t_record_call.sh: one recorded call from the first INVITE to a tamper-evident store.
#
# Starts bibrecd, checks that it answers an OPTIONS ping, and plays one CUCM built-in-bridge call:
# the near end sends a 440 Hz tone and the far end a 1000 Hz tone, 5 s of RTP each. The recording
# must be listed as sealed with the call's metadata, export to a stereo WAV with the near end on
# the left and the far end on the right, and pass `bibrec verify` both through the running daemon
# and, once it has stopped, from the store alone. Then one byte of segment 1 is flipped and verify
# must fail and name that recording and segment.
#
# E2E_TRANSPORT=t1 sends SIP over TCP instead of UDP (t_record_tcp.sh does that).

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

transport=${E2E_TRANSPORT:-u1}
e2e_init "${E2E_NUM:-1}"
plan 18
diag "SIP transport $transport, daemon on 127.0.0.1:$E2E_SIP_PORT, files in $E2E_DIR"

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts and creates its control socket"

sipp_once options options.xml "$transport"
ok $? "an out-of-dialog OPTIONS is answered with 200"

cucm_call refci=27110452 near_dn=4001 far_dn=4002 duration=5000 transport="$transport"
ok $? "both legs complete: INVITE, 200 with SDP offer, ACK with answer, 5 s of RTP, BYE"

# Sealing may finish a moment after the last BYE.
wait_for_state sealed 10
[ "$(recording_count)" -ge 1 ] || { show_list; bail_out "no recording listed after the call"; }
is "$(recording_count)" 1 "bibrec list shows exactly one recording" || show_list
id=$(field 1)
is "$(field 6)" sealed "the recording is sealed"
[[ "$id" =~ ^[0-9a-f]{20}$ ]]
ok $? "the recording id '$id' is 20 lowercase hex digits"
is "$(field 4)" 4001 "NEAR_DN is the near end's x-nearendaddr"
is "$(field 5)" 4002 "FAR_ADDR is the far end's x-farendaddr"
duration=$(field 3)
in_range "$duration" 4.7 5.3 && [[ "$duration" =~ ^[0-9]+\.[0-9]{2}$ ]]
ok $? "DURATION '$duration' has two decimals and is 5 s +/- 0.3 s"
start=$(field 2)
start_s=$(date -u -d "$start" +%s 2>/dev/null) &&
    [[ "$start" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|\+00:?00)$ ]] &&
    [ $(($(date -u +%s) - start_s)) -ge 0 ] && [ $(($(date -u +%s) - start_s)) -le 120 ]
ok $? "START '$start' is an ISO 8601 UTC time within the last two minutes"

wav=$E2E_DIR/out/$id.wav
bibrec_cli export "$id" "$wav" >"$E2E_DIR/out/export.txt" 2>&1 && [ -s "$wav" ]
ok $? "bibrec export writes the recording to a WAV file" || diag_file "$E2E_DIR/out/export.txt"

"$WAVCHECK" --expect-rate 8000 --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" \
    --expect-duration 5 --tolerance-duration 0.3 "$wav" >"$E2E_DIR/out/wavcheck.txt" 2>&1
ok $? "the WAV is 8 kHz stereo, 5 s, near end's 440 Hz left, far end's 1000 Hz right, not mixed"
diag "$(cat "$E2E_DIR/out/wavcheck.txt")"

bibrec_cli verify >"$E2E_DIR/out/verify1.txt" 2>&1 &&
    grep -Eq "^ok $id segments=[0-9]+" "$E2E_DIR/out/verify1.txt"
ok $? "bibrec verify passes through the running daemon's control socket" ||
    diag_file "$E2E_DIR/out/verify1.txt"

stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"

bibrec_cli verify >"$E2E_DIR/out/verify2.txt" 2>&1 &&
    grep -Eq "^ok $id segments=[0-9]+" "$E2E_DIR/out/verify2.txt"
ok $? "bibrec verify passes on the store without a daemon" || diag_file "$E2E_DIR/out/verify2.txt"

audio_file=$E2E_STORE/audio/${id#"${id%??}"}/$id
diag "segments: $("$TAMPER" --segments "$audio_file" 2>&1)"
"$TAMPER" --segment "$audio_file" 1 >"$E2E_DIR/out/tamper.txt" 2>&1
ok $? "tamper flips one byte of segment 1" || diag_file "$E2E_DIR/out/tamper.txt"
diag "$(cat "$E2E_DIR/out/tamper.txt")"

bibrec_cli verify >"$E2E_DIR/out/verify3.txt" 2>&1
status=$?
[ "$status" -ne 0 ] && [ "$status" -lt 124 ]
ok $? "bibrec verify exits non-zero (status $status) on the tampered store" ||
    diag_file "$E2E_DIR/out/verify3.txt"
grep -Eq "^FAIL $id segment 1:" "$E2E_DIR/out/verify3.txt"
ok $? "verify's output names recording $id, segment 1" || diag_file "$E2E_DIR/out/verify3.txt"
