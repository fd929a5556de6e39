#!/bin/bash
#
# t_consent.sh: RFC 4733 digits on the far leg, into the timeline and as a withdrawal of consent.
#
# The far leg's SIP comes from SIPp (no RTP of its own) and its RTP from rtpsend, which sends a
# 1 kHz tone and telephone-events. On line 4001 (no stop digit) a '5' pressed at 1.5 s ends up in
# the recording's timeline; on line 4060 (consent basis, stop-digit 9) a '9' ends the recording at
# once and erases it, with the reason in the ledger.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 31
RTPSEND=$E2E_TOP_BUILDDIR/tests/e2e/rtpsend
[ -x "$RTPSEND" ] || bail_out "$RTPSEND is missing; run make check"
E2E_CONFIG_EXTRA='  <profile name="desk" basis="contract"><match dn="4001"/></profile>
  <profile name="sales" basis="consent" stop-digit="9"><match dn="4060"/></profile>'
write_config
plan 6
start_daemon || bail_out "bibrecd did not start"

# call DN REFCI DTMF: near leg with its tone from SIPp, far leg's media from rtpsend.
call() {
    local dn=$1 refci=$2 dtmf=$3 port
    _sipp_start "near-$refci" cucm_leg.xml u1 "$E2E_SIPP_PORT_NEAR" "$E2E_MEDIA_PORT_NEAR" 20 \
        -key tone_stream "$E2E_TONE_NEAR,-1,0" -set stream x-nearend -set refci "$refci" \
        -set far_refci $((refci - 1)) -set near_device SEP00AABBCCDD01 -set near_dn "$dn" \
        -set far_device SEP00AABBCCDD02 -set far_dn 4999 -set duration_ms 4000
    near_pid=$E2E_LAST_SIPP_PID
    _sipp_start "far-$refci" cucm_leg_silent.xml u1 "$E2E_SIPP_PORT_FAR" "$E2E_MEDIA_PORT_FAR" 20 \
        -set stream x-farend -set refci "$refci" -set far_refci $((refci - 1)) \
        -set near_device SEP00AABBCCDD01 -set near_dn "$dn" -set far_device SEP00AABBCCDD02 \
        -set far_dn 4999 -set duration_ms 4000 -set q850 16
    far_pid=$E2E_LAST_SIPP_PID
    wait_for_log "far end of refci $refci.*rtp port [0-9]+" 5 || return 1
    port=$(grep -oE "far end of refci $refci.*rtp port [0-9]+" "$E2E_DAEMON_LOG" | grep -oE "[0-9]+$")
    "$RTPSEND" 127.0.0.1 "$port" 3.5 --tone 1000 --dtmf "$dtmf"
    _sipp_wait "near-$refci" "$near_pid"
    _sipp_wait "far-$refci" "$far_pid"
    return 0
}

call 4001 28600010 5@1.5
wait_for_state sealed 5
id1=$(field 1)
bibrec_cli show "$id1" >"$E2E_DIR/out/show1.txt" 2>&1
grep -qP "^event\t1\.[0-9]+\tdtmf\tfar\tdigit=5 duration_ms=160$" "$E2E_DIR/out/show1.txt"
ok $? "a '5' pressed at 1.5 s on the far leg is in the timeline" || diag_file "$E2E_DIR/out/show1.txt"
bibrec_cli export "$id1" "$E2E_DIR/out/1.wav" >/dev/null 2>&1
"$WAVCHECK" --expect-left "$E2E_NEAR_HZ" --expect-right 1000 "$E2E_DIR/out/1.wav" >"$E2E_DIR/out/wc.txt" 2>&1
ok $? "and the far leg's tone is on the right" || diag_file "$E2E_DIR/out/wc.txt"

call 4060 28600020 9@1.5
wait_for_log "pressed 9: consent withdrawn" 5
ok $? "a '9' on line 4060 withdraws consent" || diag_file "$E2E_DAEMON_LOG"
list_recordings
id2=$(grep -v "^$id1" <<<"$E2E_RECORDINGS" | cut -f1) # an erased recording lists without its numbers
is "$(grep -P "^$id2\t" <<<"$E2E_RECORDINGS" | cut -f6)" erased "the recording is erased" || show_list
bibrec_cli audit export >"$E2E_DIR/out/audit.csv" 2>&1
grep -q ",erased,caller (consent withdrawn by DTMF),erase,$id2,rtp,ok,consent withdrawn by the other party" \
    "$E2E_DIR/out/audit.csv"
ok $? "the ledger says who withdrew consent and how" || diag_file "$E2E_DIR/out/audit.csv"
bibrec_cli verify >"$E2E_DIR/out/verify.txt" 2>&1
ok $? "everything verifies" || diag_file "$E2E_DIR/out/verify.txt"
stop_daemon
