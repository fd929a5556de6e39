#!/bin/bash
#
# t_trunk_badinput.sh: malformed SIP on the trunk port does not hurt a call in progress.
#
# While a 12 s call is being recorded, these are sent to the SIP port, each over UDP (one datagram)
# and over TCP (one connection each), with bash's /dev/udp and /dev/tcp:
#   - 2000 bytes from /dev/urandom (after a letter), and 2000 starting with what sofia-sip takes
#     for STUN (0x00 0x01) or SigComp (0xF8)
#   - an INVITE cut off after 200 bytes
#   - an INVITE with Content-Length: 999999 and a 5-byte body
#   - an INVITE with broken header lines (no colon, Via "???", CSeq "abc", Content-Length -5)
#   - an INVITE whose From has 5000 ";x-pN=v" parameters (about 48 KB)
# Then: no bad input got a 2xx or became a recording leg; the 5000-parameter INVITEs got 400 with
# the reason in a Warning header; the log names the garbage (sofia-sip's "received garbage" for
# UDP and TCP) and the refused INVITEs ("refused: too-many-parameters"); the daemon still answers
# OPTIONS over UDP and TCP; the call's recording is sealed with its full 12 s, the right tones,
# and verifies. (The truncated, oversized and broken-header INVITEs get a 400 from sofia-sip or
# nothing, and leave no log line: nothing is asserted about them beyond "no harm".)

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 25
plan 22
diag "daemon on 127.0.0.1:$E2E_SIP_PORT, files in $E2E_DIR"

bad=$E2E_DIR/bad
mkdir -p "$bad"

# invite NAME TRANSPORT FROM-PARAMS [CONTENT-LENGTH]: a delayed-offer INVITE as CUCM sends it.
invite() {
    printf '%s\r\n' \
        "INVITE sip:7000@127.0.0.1:$E2E_SIP_PORT SIP/2.0" \
        "Via: SIP/2.0/$2 127.0.0.1:5999;branch=z9hG4bK-$1;rport" \
        "From: \"Bad Input\" <sip:4001@127.0.0.1$3>;tag=bad-$1" \
        "To: <sip:7000@127.0.0.1>" \
        "Call-ID: $1@127.0.0.1" \
        "CSeq: 101 INVITE" \
        "User-Agent: Cisco-CUCM14.0" \
        "Contact: <sip:4001@127.0.0.1:5999;transport=${2,,}>" \
        "Max-Forwards: 70" \
        "Content-Length: ${4:-0}" \
        ""
}
# Random bytes, but the first one a letter: sofia-sip hands datagrams and streams that start with
# 0x00-0x03 to its STUN code and 0xF8-0xFF to SigComp, which drop them without a log line, so only
# this way the log line asserted below is certain. Those two kinds are sent as well, to show they do
# no harm (nothing is asserted about their logging).
{ printf 'G'; head -c 1999 /dev/urandom; } >"$bad/garbage"
{ printf '\000\001'; head -c 1998 /dev/urandom; } >"$bad/garbage-stun"
{ printf '\370'; head -c 1999 /dev/urandom; } >"$bad/garbage-sigcomp"
many=$(for i in $(seq 1 5000); do printf ';x-p%d=v' "$i"; done)
for proto in udp tcp; do
    P=${proto^^}
    invite "truncated-$proto" "$P" ";x-nearend;x-refci=27110611" | head -c 200 >"$bad/truncated-$proto"
    { invite "huge-length-$proto" "$P" ";x-nearend;x-refci=27110612" 999999; printf 'v=0\r\n'; } \
        >"$bad/huge-length-$proto"
    printf '%s\r\n' \
        "INVITE sip:7000@127.0.0.1:$E2E_SIP_PORT SIP/2.0" \
        "Via: SIP/2.0/$P ???;;;" \
        "this line has no colon" \
        "From: <sip:4001@127.0.0.1;x-nearend;x-refci=27110613;tag=x" \
        "To: <sip:7000@127.0.0.1>" \
        "Call-ID: bad-headers-$proto@127.0.0.1" \
        "CSeq: abc INVITE" \
        "Max-Forwards: many" \
        "Content-Length: -5" \
        "" >"$bad/bad-headers-$proto"
    invite "many-params-$proto" "$P" ";x-nearend;x-refci=27110614$many" >"$bad/many-params-$proto"
done
diag "the 5000-parameter INVITE is $(wc -c <"$bad/many-params-udp") bytes"

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts"

cucm_call_start refci=27110600 near_dn=4301 far_dn=4302 duration=12000 || bail_out "could not start sipp"
t0=$(now_ms)
wait_for_state recording 3
ok $? "a 12 s call is recording" || show_list

send_status=0
for proto in udp tcp; do
    for name in garbage garbage-stun garbage-sigcomp truncated huge-length bad-headers many-params; do
        file=$bad/$name-$proto
        [ "${name%%-*}" = garbage ] && file=$bad/$name
        # Long enough for the final answer to the 5000-parameter INVITE (UDP: after 100 Trying).
        case $name in
        garbage*) wait_s=0.1 ;; # nothing comes back
        many-params) wait_s=0.5 ;;
        *) wait_s=0.25 ;;
        esac
        sip_raw_send "$proto" "$file" "$bad/$name-$proto.reply" "$wait_s" || {
            send_status=1
            diag "could not send $name over $proto"
        }
    done
done
t_sent=$(now_ms)
list_recordings
ok "$send_status" "all 14 bad inputs were sent (seven kinds, UDP and TCP)"
is "$(field 6)" recording "the call was still in progress when the last of them had been sent" ||
    show_list
diag "sent in the call's first $((t_sent - t0)) ms; the answers (status lines):"
for reply in "$bad"/*.reply; do
    answers=$(grep -a '^SIP/2.0 ' "$reply" | tr -d '\r' | sort -u | tr '\n' ' ')
    diag "  $(basename "$reply" .reply): ${answers:-(none)}"
done

! grep -aq '^SIP/2.0 2' "$bad"/*.reply
ok $? "none of them got a 2xx"

for proto in udp tcp; do
    grep -aq '^SIP/2.0 400 ' "$bad/many-params-$proto.reply" &&
        grep -aq '^Warning: 399 bibrec "too-many-parameters"' "$bad/many-params-$proto.reply"
    ok $? "the 5000-parameter INVITE over ${proto^^} gets 400 with Warning: 399 bibrec \"too-many-parameters\"" ||
        diag_file "$bad/many-params-$proto.reply" 12
    wait_for_log "INVITE many-params-$proto@127\.0\.0\.1 from 127\.0\.0\.1:[0-9]+ refused: too-many-parameters" 2
    ok $? "the log names it: INVITE many-params-$proto@127.0.0.1 from 127.0.0.1:PORT refused: too-many-parameters" ||
        diag_file "$E2E_DAEMON_LOG" 10
done

grep -q 'sofia-sip: nta_agent: received garbage from udp/' "$E2E_DAEMON_LOG"
ok $? "the log reports the UDP garbage (sofia-sip: nta_agent: received garbage from udp/...)" ||
    diag_file "$E2E_DAEMON_LOG" 15
grep -q 'sofia-sip: nta_agent: received garbage from tcp/127\.0\.0\.1:' "$E2E_DAEMON_LOG"
ok $? "the log reports the TCP garbage and its source (received garbage from tcp/127.0.0.1:PORT)" ||
    diag_file "$E2E_DAEMON_LOG" 15

daemon_running
ok $? "bibrecd is still running"
is "$(daemon_stat legs_total)/$(daemon_stat refused_bad_from)" 2/2 \
    "bibrec stats: only the call's 2 legs were taken, the 2 many-parameter INVITEs counted as refused_bad_from"

sipp_once options-udp options.xml u1
ok $? "an OPTIONS ping over UDP still gets 200"
sipp_once options-tcp options.xml t1
ok $? "an OPTIONS ping over TCP still gets 200"

cucm_call_wait
ok $? "the call in progress completes normally"
wait_for_state sealed 10
list_recordings
is "$(recording_count)" 1 "bibrec list shows only the call's recording" || show_list
is "$(field 6)" sealed "it is sealed"
duration=$(field 3)
in_range "$duration" 11.7 12.3
ok $? "it has the call's full duration: '$duration' is 12 s +/- 0.3 s"
id=$(field 1)
bibrec_cli show "$id" >"$E2E_DIR/out/show.txt" 2>&1
diag "$(grep -E '^(near|far)\.(packets|lost|dropped)' "$E2E_DIR/out/show.txt" | tr '\t\n' '= ')"

wav=$E2E_DIR/out/$id.wav
bibrec_cli export "$id" "$wav" >"$E2E_DIR/out/export.txt" 2>&1 &&
    "$WAVCHECK" --expect-rate 8000 --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" \
        --expect-duration 12 --tolerance-duration 0.3 "$wav" >"$E2E_DIR/out/wavcheck.txt" 2>&1
ok $? "it exports with 440 Hz left and 1000 Hz right, 12 s" || diag_file "$E2E_DIR/out/export.txt"
diag "$(cat "$E2E_DIR/out/wavcheck.txt" 2>/dev/null)"

verify_all 1
ok $? "bibrec verify passes" || diag_file "$E2E_DIR/out/verify.txt"

stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"
