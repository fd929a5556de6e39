#!/bin/bash
#
# t_trunk_capacity.sh: <session max-calls="1">: a recorder at its limit says so with 503.
#
# The first call records. While it runs, the two INVITEs of a second recording pair (sent at the
# same time, as CUCM does) each get 503 with Retry-After, the log says why ("at capacity"), the
# counter refused_capacity counts them, and an OPTIONS ping gets 503 with Retry-After too, so
# CUCM takes the trunk out of service. Once the first call has ended, OPTIONS gets 200 again and
# a third call records. Nothing is kept of the refused pair.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 22
# A second spare sipp (SIP port +8, media ports +32 and +34) so both refused legs go at once.
SIPP_PORT_AUX2=$((E2E_SIP_PORT + 8))
MEDIA_PORT_AUX2=$((E2E_SIP_PORT + 32))
_check_ports_free "$SIPP_PORT_AUX2" "$MEDIA_PORT_AUX2" $((MEDIA_PORT_AUX2 + 2))
E2E_SESSION_ATTRS='max-calls="1"'
write_config
plan 19
diag "daemon on 127.0.0.1:$E2E_SIP_PORT with max-calls=1, files in $E2E_DIR"

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts with max-calls=\"1\""

sipp_once options-idle options.xml u1
ok $? "with no call, an OPTIONS ping gets 200"

cucm_call_start refci=27110490 near_dn=4041 far_dn=4042 duration=5000 || bail_out "could not start sipp"
wait_for_state recording 3
ok $? "the first call is recording" || show_list

rest="x-nearendclusterid=StandAloneCluster;x-nearenddevice=SEP00AABBCCDD05;x-nearendaddr=4051"
rest="$rest;x-farendrefci=27110491;x-farendclusterid=StandAloneCluster"
rest="$rest;x-farenddevice=SEP00AABBCCDD06;x-farendaddr=4052"
_sipp_start full-near trunk_invite_503.xml u1 "$E2E_SIPP_PORT_AUX" "$E2E_MEDIA_PORT_AUX" 20 \
    -set from_params ";x-nearend;x-refci=27110492;$rest"
pid_near=$E2E_LAST_SIPP_PID
_sipp_start full-far trunk_invite_503.xml u1 "$SIPP_PORT_AUX2" "$MEDIA_PORT_AUX2" 20 \
    -set from_params ";x-farend;x-refci=27110492;$rest"
pid_far=$E2E_LAST_SIPP_PID
_sipp_wait full-near "$pid_near"
ok $? "the near INVITE of a second pair gets 503 with Retry-After"
_sipp_wait full-far "$pid_far"
ok $? "the far INVITE of the second pair gets 503 with Retry-After"
ra=$(grep -m 1 -i '^Retry-After:' "$E2E_DIR/sipp/full-near.messages.log" | tr -d '\r')
diag "the 503 carries '$ra'"

[ "$(grep -Ec 'INVITE .* refused with 503: at capacity \(1 concurrent recordings\)' "$E2E_DAEMON_LOG")" -eq 2 ]
ok $? "the log says why, once per INVITE: refused with 503: at capacity (1 concurrent recordings)" ||
    diag_file "$E2E_DAEMON_LOG" 10

sipp_once options-full trunk_options_503.xml u1
ok $? "while the limit is reached, an OPTIONS ping gets 503 with Retry-After"

is "$(daemon_stat refused_capacity)" 2 "bibrec stats counts 2 refused_capacity"
is "$(daemon_stat active_calls)" 1 "bibrec stats shows 1 active call"

cucm_call_wait
ok $? "the first call completes undisturbed"
wait_for_state sealed 10
ok $? "the first call's recording is sealed" || show_list

sipp_once options-free options.xml u1
ok $? "after the call, an OPTIONS ping gets 200 again"

cucm_call refci=27110494 near_dn=4061 far_dn=4062 duration=2000
ok $? "a third call is answered now that there is room"

deadline=$(($(now_ms) + 10000))
while :; do
    list_recordings
    n_sealed=$(cut -f 6 <<<"$E2E_RECORDINGS" | grep -c '^sealed$')
    [ "$n_sealed" -ge 2 ] || [ "$(now_ms)" -ge "$deadline" ] && break
    sleep 0.2
done
is "$(recording_count)/$n_sealed" 2/2 "bibrec list shows two sealed recordings" || show_list
first=$(awk -F'\t' '$4 == "4041"' <<<"$E2E_RECORDINGS")
[ -n "$first" ] && in_range "$(field 3 "$first")" 4.7 5.3 && [ "$(field 8 "$first")" = - ]
ok $? "the first recording is 5 s long with no flags" || show_list
[ -n "$(awk -F'\t' '$4 == "4061"' <<<"$E2E_RECORDINGS")" ] &&
    [ -z "$(awk -F'\t' '$4 == "4051"' <<<"$E2E_RECORDINGS")" ]
ok $? "the third call is listed and nothing of the refused pair (NEAR 4051) is" || show_list

wav=$E2E_DIR/out/first.wav
bibrec_cli export "$(field 1 "$first")" "$wav" >"$E2E_DIR/out/export.txt" 2>&1 &&
    "$WAVCHECK" --expect-rate 8000 --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" \
        --expect-duration 5 --tolerance-duration 0.3 "$wav" >"$E2E_DIR/out/wavcheck.txt" 2>&1
ok $? "the first recording exports with 440 Hz left and 1000 Hz right, 5 s" || {
    diag_file "$E2E_DIR/out/export.txt"
    diag_file "$E2E_DIR/out/wavcheck.txt"
}

verify_all 2
ok $? "bibrec verify passes for both recordings" || diag_file "$E2E_DIR/out/verify.txt"

stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"
