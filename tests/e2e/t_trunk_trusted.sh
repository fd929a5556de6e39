#!/bin/bash
#
# t_trunk_trusted.sh: only the CUCM nodes in <sip trusted> are served.
#
# The daemon listens on 127.0.0.1 with trusted="127.0.0.1 127.0.0.3". SIPp bound to 127.0.0.2 (an
# untrusted host) sends an OPTIONS ping, an INVITE pair over UDP, an INVITE over TCP and an UPDATE:
# each must get 403, with a log line "METHOD from untrusted 127.0.0.2:PORT refused with 403" naming
# sipp's real source port, the refused_untrusted counter must count them, and nothing is recorded.
# Then a second CUCM node, 127.0.0.3, is served as the first one: its OPTIONS gets 200 and its
# call (both legs sent from 127.0.0.3, checked in /proc/net/udp) is recorded, as is a call from
# 127.0.0.1 right after it. While the 127.0.0.3 call runs, 127.0.0.2 sends an UPDATE forged into
# its dialog (same Call-ID and tags, new far-end parameters): 403, and the recording keeps its far
# end.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 20
E2E_SIP_ATTRS='trusted="127.0.0.1 127.0.0.3"'
write_config
plan 22
diag "daemon on 127.0.0.1:$E2E_SIP_PORT trusting 127.0.0.1 and 127.0.0.3, files in $E2E_DIR"

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts with trusted=\"127.0.0.1 127.0.0.3\""

# The daemon logs "METHOD from untrusted ADDR:PORT refused with 403 (...)" (src/sip/sip.c).
untrusted_re() { echo "$1 from untrusted 127\.0\.0\.2:$2 refused with 403"; }

E2E_SIPP_IP=127.0.0.2 sipp_once untrusted-options trunk_options_403.xml u1
ok $? "an OPTIONS ping from 127.0.0.2 gets 403"
wait_for_log "$(untrusted_re OPTIONS "$E2E_SIPP_PORT_AUX")" 3
ok $? "the log names the OPTIONS and its real source 127.0.0.2:$E2E_SIPP_PORT_AUX" ||
    diag_file "$E2E_DAEMON_LOG" 10

rest="x-nearendclusterid=StandAloneCluster;x-nearenddevice=SEP00AABBCCDD01;x-nearendaddr=4001"
rest="$rest;x-farendrefci=27110469;x-farendclusterid=StandAloneCluster"
rest="$rest;x-farenddevice=SEP00AABBCCDD02;x-farendaddr=4002"
E2E_SIPP_IP=127.0.0.2 sipp_once untrusted-near trunk_invite_403.xml u1 \
    -set from_params ";x-nearend;x-refci=27110470;$rest"
s1=$?
E2E_SIPP_IP=127.0.0.2 sipp_once untrusted-far trunk_invite_403.xml u1 \
    -set from_params ";x-farend;x-refci=27110470;$rest"
s2=$?
[ "$s1" -eq 0 ] && [ "$s2" -eq 0 ]
ok $? "both INVITEs of a recording pair from 127.0.0.2 over UDP get 403"
wait_for_log "$(untrusted_re INVITE "$E2E_SIPP_PORT_AUX")" 3
ok $? "the log names the INVITEs and their source 127.0.0.2:$E2E_SIPP_PORT_AUX" ||
    diag_file "$E2E_DAEMON_LOG" 10

E2E_SIPP_IP=127.0.0.2 sipp_once untrusted-tcp trunk_invite_403.xml t1 \
    -set from_params ";x-nearend;x-refci=27110471;$rest"
ok $? "an INVITE from 127.0.0.2 over TCP gets 403"
[ "$(grep -Ec "$(untrusted_re INVITE '[0-9]+')" "$E2E_DAEMON_LOG")" -eq 3 ]
ok $? "the log has one untrusted-INVITE line per INVITE (3)" || diag_file "$E2E_DAEMON_LOG" 10

# sofia-sip's nua answers an UPDATE outside any dialog with 481 itself (RFC 3261 12.2.2: there
# is no dialog), before bibrecd's trust check could run: nothing reaches the session layer, so
# nothing can be recorded or changed. An UPDATE inside a dialog from an untrusted host gets 403
# (below).
E2E_SIPP_IP=127.0.0.2 sipp_once untrusted-update trunk_update_481.xml u1 \
    -set from_tag oob-1 -set to_tag oob-2 -set cseq 102 -set refci 27110480
ok $? "an out-of-dialog UPDATE from 127.0.0.2 is refused (481 from the stack: no dialog)"

is "$(daemon_stat refused_untrusted)" 4 "bibrec stats counts 4 refused_untrusted (OPTIONS, 3 INVITEs)"
is "$(daemon_stat legs_total)" 0 "no INVITE from 127.0.0.2 became a recording leg"

list_recordings
[ "$E2E_LIST_STATUS" -eq 0 ] && [ "$(recording_count)" -eq 0 ]
ok $? "nothing is recorded for the untrusted host" || show_list
untrusted_before=$(daemon_stat refused_untrusted)

# The second CUCM node.
E2E_SIPP_IP=127.0.0.3 sipp_once node2-options options.xml u1
ok $? "an OPTIONS ping from the second trusted node 127.0.0.3 gets 200"

cucm_call_start refci=27110482 near_dn=4021 far_dn=4022 duration=3000 local_ip=127.0.0.3 ||
    bail_out "could not start sipp"
# While the call runs, both legs' SIP sockets must be bound to 127.0.0.3 (/proc/net/udp shows the
# local address as little-endian hex: 0300007F), so that is really where they send from.
bound=0
for i in $(seq 1 30); do
    bound=0
    for port in "$E2E_SIPP_PORT_NEAR" "$E2E_SIPP_PORT_FAR"; do
        grep -q "^ *[0-9]*: 0300007F:$(printf '%04X' "$port") " /proc/net/udp && bound=$((bound + 1))
    done
    [ "$bound" -eq 2 ] && break
    sleep 0.1
done
is "$bound" 2 "both legs' sipp sockets are bound to 127.0.0.3 (ports $E2E_SIPP_PORT_NEAR, $E2E_SIPP_PORT_FAR)"

# dialog_of MESSAGES_LOG: "CALL-ID FROM-TAG TO-TAG" of the first 200 OK to an INVITE in a sipp
# message log (-trace_msg), once it is there.
dialog_of() {
    awk '
        function flush() {
            if (!done && first ~ /^SIP\/2\.0 200/ && cseq ~ /INVITE/ && ttag != "") {
                print cid, ftag, ttag
                done = 1
            }
            first = cseq = cid = ftag = ttag = ""
        }
        { sub(/\r$/, "") }
        /^-----------------------------------------------/ { flush(); next }
        first == "" && /^(SIP\/2\.0 |[A-Z]+ sip:)/ { first = $0; next }
        /^Call-ID:/ { cid = $2 }
        /^CSeq:/ { cseq = $0 }
        /^From:/ && match($0, /;tag=[^;> ]+/) { ftag = substr($0, RSTART + 5, RLENGTH - 5) }
        /^To:/ && match($0, /;tag=[^;> ]+/) { ttag = substr($0, RSTART + 5, RLENGTH - 5) }
        END { flush() }
    ' "$1" 2>/dev/null
}
dialog=
for i in $(seq 1 20); do
    dialog=$(dialog_of "$E2E_DIR/sipp/call$E2E_CALL_N-near.messages.log")
    [ -n "$dialog" ] && break
    sleep 0.1
done
read -r d_cid d_ftag d_ttag <<<"$dialog"
if [ -n "$dialog" ]; then
    # The same dialog (Call-ID, both tags), but sent from the untrusted host.
    E2E_SIPP_IP=127.0.0.2 sipp_once forged-update trunk_update_403.xml u1 -cid_str "$d_cid" \
        -set from_tag "$d_ftag" -set to_tag "$d_ttag" -set cseq 102 -set refci 27110482
    ok $? "an UPDATE from 127.0.0.2 inside node 127.0.0.3's dialog ($d_cid) gets 403"
else
    fail "an UPDATE from 127.0.0.2 inside node 127.0.0.3's dialog gets 403"
    diag "no 200 OK to the near leg's INVITE in its sipp message log"
fi

cucm_call_wait
ok $? "the call from 127.0.0.3 is answered and completes, undisturbed by the forged UPDATE"

cucm_call refci=27110484 near_dn=4031 far_dn=4032 duration=2000 local_ip=127.0.0.1
ok $? "a call from the first node 127.0.0.1 right after it completes too"

deadline=$(($(now_ms) + 10000))
while :; do
    list_recordings
    n_sealed=$(cut -f 6 <<<"$E2E_RECORDINGS" | grep -c '^sealed$')
    [ "$n_sealed" -ge 2 ] || [ "$(now_ms)" -ge "$deadline" ] && break
    sleep 0.2
done
is "$(recording_count)/$n_sealed" 2/2 "bibrec list shows two sealed recordings" || show_list
line3=$(awk -F'\t' '$4 == "4021"' <<<"$E2E_RECORDINGS")
[ -n "$line3" ] && [ "$(field 5 "$line3")" = 4022 ] && in_range "$(field 3 "$line3")" 2.7 3.3 &&
    [ "$(field 8 "$line3")" = - ]
ok $? "node 127.0.0.3's recording has NEAR 4021, FAR 4022, about 3 s, no flags" || show_list
bibrec_cli show "$(field 1 "$line3")" >"$E2E_DIR/out/show3.txt" 2>&1 &&
    grep -qx "far.addr	4022" "$E2E_DIR/out/show3.txt" && ! grep -q "^event" "$E2E_DIR/out/show3.txt"
ok $? "the forged UPDATE changed nothing: far.addr 4022, no far-end-changed event" ||
    diag_file "$E2E_DIR/out/show3.txt" 40

grep -Eq "from untrusted 127\.0\.0\.(1|3):" "$E2E_DAEMON_LOG"
[ $? -eq 1 ] && [ "$(daemon_stat refused_untrusted)" = $((untrusted_before + 1)) ]
ok $? "nothing from 127.0.0.1 or 127.0.0.3 was refused as untrusted (only the forged UPDATE counted)" ||
    diag_file "$E2E_DAEMON_LOG" 20

verify_all 2
ok $? "bibrec verify passes for both recordings" || diag_file "$E2E_DIR/out/verify.txt"

stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"
