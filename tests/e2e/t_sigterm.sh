#!/bin/bash
#
# t_sigterm.sh: SIGTERM in the middle of a call seals what was recorded so far.
#
# A call whose legs would send 10 s of RTP is running when the daemon gets SIGTERM about 2 s in.
# The daemon must exit 0, and afterwards (no daemon) the recording must be listed as sealed, about
# 2 s long, pass verify, and export with the right tone on each side.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 2
plan 9
diag "daemon on 127.0.0.1:$E2E_SIP_PORT, files in $E2E_DIR"

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts and creates its control socket"

cucm_call_start refci=27110460 near_dn=4011 far_dn=4012 duration=10000 transport=u1 ||
    bail_out "could not start sipp"
t0=$(now_ms)

# Until the SIGTERM, the call in progress is visible through the control socket. The deadline
# keeps the SIGTERM on time however slowly the CLI answers.
wait_for_state recording 1.7
ok $? "while the call runs, bibrec list shows it as recording" || show_list

# SIGTERM two seconds after the legs were started.
sleep_until_ms $((t0 + 2000))
stop_daemon
ok $? "bibrecd exits 0 on SIGTERM during the call"
# Nobody answers the legs' BYE any more.
cucm_call_abort

list_recordings
is "$(recording_count)" 1 "without the daemon, bibrec list shows the one recording" || show_list
is "$(field 6)" sealed "the interrupted recording is sealed"
duration=$(field 3)
in_range "$duration" 1 4
ok $? "its duration '$duration' is about 2 s (1 to 4 s)"
id=$(field 1)

bibrec_cli verify >"$E2E_DIR/out/verify.txt" 2>&1 &&
    grep -Eq "^ok $id segments=[0-9]+" "$E2E_DIR/out/verify.txt"
ok $? "bibrec verify passes" || diag_file "$E2E_DIR/out/verify.txt"

wav=$E2E_DIR/out/$id.wav
bibrec_cli export "$id" "$wav" >"$E2E_DIR/out/export.txt" 2>&1 && [ -s "$wav" ]
ok $? "bibrec export writes the recording to a WAV file" || diag_file "$E2E_DIR/out/export.txt"

"$WAVCHECK" --expect-rate 8000 --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" \
    --expect-duration 2.5 --tolerance-duration 1.5 "$wav" >"$E2E_DIR/out/wavcheck.txt" 2>&1
ok $? "the WAV has the near end's 440 Hz left and the far end's 1000 Hz right, 1 to 4 s long"
diag "$(cat "$E2E_DIR/out/wavcheck.txt")"
