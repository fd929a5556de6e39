#!/bin/bash
#
# t_trunk_burst.sh: 100 recording pairs arriving within one second.
#
# Two sipp processes play the near and the far legs of 100 calls at 100 calls per second (one call
# every 10 ms, -m 100), taking each call's x-refci and numbers from one injection file, so call k
# of both processes forms one pair. Both start their calls on one signal (sipp's control port), so
# the two INVITEs of a pair leave within about a millisecond, as CUCM sends them. Every leg sends
# 3 s of RTP (near 440 Hz, far 1000 Hz). All 200 INVITEs must be answered with 200 and every call
# must complete; then `bibrec list` must show 100 sealed recordings, one per pair (NEAR 5001..5100
# with FAR 6001..6100, none single-leg, each holding its 3 s), the counters must agree, three
# sample recordings must export with the right tones, and `bibrec verify` must pass for all 100.
#
# Latency is measured, not asserted: the INVITE->200 time of each INVITE, from the timestamps in
# sipp's message logs (sent INVITE to received 200, per Call-ID), reported as TAP diagnostics and
# in $top_builddir/test-output/burst-latency.txt: all legs, by near/far, and by first/second leg of
# a pair as the daemon saw them (its log says "first of its pair" or "paired"). The first leg of a
# pair is answered only when its partner arrives (or after answer-wait-ms, 300 by default), so its
# time includes the wait for the partner; the gap between the two INVITEs of each pair is reported
# as well. BURST_CALLS=N plays N pairs instead of 100 (at N per second).
#
# The daemon gets an RTP range of its own for this script, 24000-24799 (400 even ports for 200
# legs), outside the 20000+100*N ranges of the other scripts and below the ephemeral ports.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

CALLS=${BURST_CALLS:-100}
RTP_MS=3000
e2e_init 26
E2E_RTP_MIN=24000
E2E_RTP_MAX=24799
CTL_NEAR=$((E2E_SIP_PORT + 10)) # the sipp processes' control ports
CTL_FAR=$((E2E_SIP_PORT + 12))
_check_ports_free $(seq "$E2E_RTP_MIN" "$E2E_RTP_MAX") "$CTL_NEAR" "$CTL_FAR"
write_config
plan 15
diag "daemon on 127.0.0.1:$E2E_SIP_PORT, RTP $E2E_RTP_MIN-$E2E_RTP_MAX, $CALLS pairs, files in $E2E_DIR"

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts with RTP ports $E2E_RTP_MIN-$E2E_RTP_MAX"

# One line per call: refci;far_refci;near_dn;far_dn
csv=$E2E_DIR/calls.csv
{
    echo SEQUENTIAL
    for i in $(seq 1 "$CALLS"); do
        echo "$((27120000 + 2 * i));$((27120000 + 2 * i - 1));$((5000 + i));$((6000 + i));"
    done
} >"$csv"

# burst_leg NAME LOCAL_PORT MEDIA_PORT CONTROL_PORT STREAM TONE: one sipp playing one leg of every
# call. It starts at rate 0 and waits: `cset rate R` on its control port (UDP) starts the calls, so
# that both processes begin together however long each took to start. The rate period is 10 ms
# (R = calls per 10 ms) because a waiting sipp only looks at its rate again every period.
burst_leg() {
    local base=$E2E_DIR/sipp/$1
    "$SIPP" "127.0.0.1:$E2E_SIP_PORT" -sf "$E2E_SRC/trunk_burst_leg.xml" -t u1 \
        -i 127.0.0.1 -p "$2" -mi 127.0.0.1 -mp "$3" -bind_local -cp "$4" \
        -m "$CALLS" -r 0 -rp 10 -l $((2 * CALLS)) -s 7000 -nostdin -aa \
        -inf "$csv" -key tone_stream "$6,-1,0" -set stream "$5" -set duration_ms "$RTP_MS" \
        -timeout 60s -timeout_error -recv_timeout 10000 \
        -trace_err -error_file "$base.errors.log" \
        -trace_msg -message_file "$base.messages.log" \
        >"$base.out" 2>&1 </dev/null &
    E2E_LAST_SIPP_PID=$!
    E2E_SIPP_PIDS+=("$E2E_LAST_SIPP_PID")
}

burst_leg near "$E2E_SIPP_PORT_NEAR" "$E2E_MEDIA_PORT_NEAR" "$CTL_NEAR" x-nearend "$E2E_TONE_NEAR"
pid_near=$E2E_LAST_SIPP_PID
burst_leg far "$E2E_SIPP_PORT_FAR" "$E2E_MEDIA_PORT_FAR" "$CTL_FAR" x-farend "$E2E_TONE_FAR"
pid_far=$E2E_LAST_SIPP_PID
# Once both control sockets are bound (or after 10 s), both get the start signal at once.
for i in $(seq 1 100); do
    n_bound=$(_ports_in_use | grep -cxE "$CTL_NEAR|$CTL_FAR")
    [ "$n_bound" -eq 2 ] && break
    sleep 0.1
done
exec {ctl_near}<>"/dev/udp/127.0.0.1/$CTL_NEAR" {ctl_far}<>"/dev/udp/127.0.0.1/$CTL_FAR"
rate=$(awk -v n="$CALLS" 'BEGIN { print n / 100 }') # per 10 ms: CALLS per second
t0=$(now_ms)
printf 'cset rate %s' "$rate" >&"$ctl_near"
printf 'cset rate %s' "$rate" >&"$ctl_far"
exec {ctl_near}>&- {ctl_far}>&-
_sipp_wait near "$pid_near"
st_near=$?
_sipp_wait far "$pid_far"
st_far=$?
t1=$(now_ms)
diag "both sipp processes finished $((t1 - t0)) ms after the start signal"
[ "$st_near" -eq 0 ] && [ "$st_far" -eq 0 ]
ok $? "sipp reports all $CALLS calls of both legs successful (INVITE, 200, ACK, RTP, BYE, 200)" ||
    diag_file "$E2E_DAEMON_LOG" 20

# ---- INVITE->200 per INVITE, from sipp's message logs: "LEG CALL-ID MS" lines.
latencies() {
    awk -v leg="$1" '
        function secs(t, a) { split(t, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
        function flush() {
            if (first != "" && cid != "") {
                if (dir == "out" && first ~ /^INVITE / && !(cid in inv)) inv[cid] = ts
                if (dir == "in" && first ~ /^SIP\/2\.0 200/ && cseq ~ / INVITE$/ && !(cid in ans))
                    ans[cid] = ts
            }
            first = cid = cseq = dir = ""
        }
        { sub(/\r$/, "") }
        /^-----------------------------------------------/ { flush(); ts = secs($3); next }
        dir == "" && / message sent/ { dir = "out"; next }
        dir == "" && / message received/ { dir = "in"; next }
        first == "" && /^(SIP\/2\.0 |[A-Z]+ sip:)/ { first = $0; next }
        /^Call-ID:/ { cid = $2 }
        /^CSeq:/ { cseq = $0 }
        END {
            flush()
            for (c in inv)
                if (c in ans) {
                    d = ans[c] - inv[c]
                    if (d < 0) d += 86400 # midnight
                    printf "%s %s %.3f\n", leg, c, d * 1000
                }
        }
    ' "$E2E_DIR/sipp/$1.messages.log"
}
lat=$E2E_DIR/out/latency.txt
{ latencies near; latencies far; } >"$lat"
is "$(wc -l <"$lat" | tr -d ' ')" $((2 * CALLS)) "each of the $((2 * CALLS)) INVITEs got a 200 (by Call-ID in sipp's message logs)"

# Which leg of each pair the daemon saw first: "leg CALL-ID: near end of refci R (first of its
# pair)" or "(paired)".
order=$E2E_DIR/out/order.txt
sed -nE 's/.* leg ([^ ]+): (near|far) end of refci [0-9]+ \((first of its pair|paired)\).*/\1 \3/p' \
    "$E2E_DAEMON_LOG" | sed 's/ first of its pair$/ first/; s/ paired$/ second/' >"$order"
awk 'NR == FNR { kind[$1] = $2; next } { print $0, ($2 in kind ? kind[$2] : "unknown") }' \
    "$order" "$lat" >"$lat.kind"

# percentiles FORMAT: reads numbers (ms), one a line; prints FORMAT with n, median, p99 and max
# (nearest rank) in that order, or nothing without numbers.
percentiles() {
    sort -n | awk -v fmt="$1" '
        { v[NR] = $1 }
        END {
            if (NR == 0) exit
            m = int((NR + 1) / 2); p = int(NR * 0.99); if (p < NR * 0.99) p++
            printf fmt "\n", NR, v[m], v[p], v[NR]
        }'
}
# summary LABEL [AWK-CONDITION]: the INVITE->200 times of the INVITEs that match (the condition is
# awk, on "LEG CALL-ID MS first|second" lines, hence in single quotes below).
summary() {
    awk "${2:-1} { print \$3 }" "$lat.kind" | percentiles "$1: n %d, median %.1f ms, p99 %.1f ms, max %.1f ms"
}
# gaps: for each call k, how far apart the near and far sipp sent its two INVITEs, in ms.
gaps() {
    awk '
        function secs(t, a) { split(t, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
        FNR == 1 { leg++ }
        { sub(/\r$/, "") }
        /^-----------------------------------------------/ { ts = secs($3); next }
        /^INVITE / { want = 1; next }
        want && /^Call-ID:/ {
            split($2, c, "-") # sipp Call-IDs are CALLNUMBER-PID@IP
            if (!((leg, c[1]) in t)) t[leg, c[1]] = ts
            want = 0
        }
        END {
            for (k = 1; (1, k) in t && (2, k) in t; k++) {
                d = (t[1, k] - t[2, k]) * 1000
                print (d < 0 ? -d : d)
            }
        }
    ' "$E2E_DIR/sipp/near.messages.log" "$E2E_DIR/sipp/far.messages.log"
}
outdir=$E2E_TOP_BUILDDIR/test-output
mkdir -p "$outdir"
# shellcheck disable=SC2016 # the conditions are awk's
{
    awk '{ print $3 }' "$lat.kind" | percentiles "%d %.1f %.1f %.1f" |
        while read -r _ median p99 _; do echo "burst: INVITE->200 median $median ms, p99 $p99 ms"; done
    echo "burst: $CALLS pairs at $CALLS calls/s over UDP, $RTP_MS ms of RTP per leg, answer-wait-ms 300," \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    summary "burst: all INVITEs"
    summary "burst: near legs" '$1 == "near"'
    summary "burst: far legs" '$1 == "far"'
    summary "burst: first leg of a pair (answered when its partner arrives)" '$4 == "first"'
    summary "burst: second leg of a pair (answered at once)" '$4 == "second"'
    # The first leg's time includes the wait for its partner, that is this gap.
    gaps | percentiles "burst: gap between the two INVITEs of a pair as sent: n %d, median %.1f ms, p99 %.1f ms, max %.1f ms"
    awk '
        function secs(t, a) { split(t, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
        { sub(/\r$/, "") }
        /^-----------------------------------------------/ { ts = secs($3); next }
        /^INVITE / { want = 1; next }
        want && /^Call-ID:/ {
            want = 0
            if (seen[$2]++) next # a retransmission
            if (n++ == 0 || ts < lo) lo = ts
            if (ts > hi) hi = ts
        }
        END { if (n) printf "burst: the %d INVITEs were sent within %.0f ms\n", n, (hi - lo) * 1000 }
    ' "$E2E_DIR/sipp/near.messages.log" "$E2E_DIR/sipp/far.messages.log"
} >"$outdir/burst-latency.txt"
while IFS= read -r line; do diag "$line"; done <"$outdir/burst-latency.txt"
diag "(also in $outdir/burst-latency.txt)"
[ "$(grep -c ' first$' "$lat.kind")" -eq "$CALLS" ] && [ "$(grep -c ' second$' "$lat.kind")" -eq "$CALLS" ]
ok $? "the daemon saw $CALLS first legs and $CALLS partners join them (its log: first of its pair / paired)" ||
    diag "$(cut -d' ' -f4 "$lat.kind" | sort | uniq -c)"

# ---- the recordings
deadline=$(($(now_ms) + 20000))
while :; do
    list_recordings
    n_sealed=$(cut -f 6 <<<"$E2E_RECORDINGS" | grep -c '^sealed$')
    [ "$n_sealed" -ge "$CALLS" ] || [ "$(now_ms)" -ge "$deadline" ] && break
    sleep 0.5
done
is "$(recording_count)" "$CALLS" "bibrec list shows $CALLS recordings" || show_list
is "$n_sealed" "$CALLS" "all $CALLS are sealed"
want=$(seq 5001 $((5000 + CALLS)) | awk '{ print $1 "\t" $1 + 1000 }')
got=$(cut -f 4,5 <<<"$E2E_RECORDINGS" | sort -n)
[ "$got" = "$want" ]
ok $? "one recording per pair: NEAR 5001..$((5000 + CALLS)), each with FAR = NEAR + 1000" ||
    diag "$(diff <(echo "$want") <(echo "$got") | head -20)"
n_flagged=$(cut -f 8 <<<"$E2E_RECORDINGS" | grep -vc '^-$')
is "$n_flagged" 0 "none has a flag (no single-leg, no-media, storage-error)" ||
    diag "$(cut -f 8 <<<"$E2E_RECORDINGS" | sort | uniq -c)"
# A recording runs from its first INVITE to its last BYE, so it holds the 3 s of RTP plus however
# long the answer took: only the lower bound is a matter of correctness (the upper one is a
# sanity bound, wide enough for a loaded machine or a sanitizer build).
min_s=$(awk -v ms="$RTP_MS" 'BEGIN { print ms / 1000 - 0.1 }')
max_s=$(awk -v ms="$RTP_MS" 'BEGIN { print ms / 1000 + 10 }')
n_bad_duration=$(cut -f 3 <<<"$E2E_RECORDINGS" | awk -v lo="$min_s" -v hi="$max_s" '$1 < lo || $1 > hi' | wc -l)
is "$n_bad_duration" 0 "every recording holds its 3 s of RTP ($min_s s to $max_s s long)" ||
    diag "$(cut -f 3 <<<"$E2E_RECORDINGS" | sort -n | uniq -c | head -20)"
diag "durations: $(cut -f 3 <<<"$E2E_RECORDINGS" | sort -n | uniq -c | awk '{ printf "%s x %s s, ", $1, $2 }')"

stats=$E2E_DIR/out/stats.txt
bibrec_cli stats >"$stats" 2>&1
counter() { awk -v n="$1" '$1 == n { print $2 }' "$stats"; }
is "$(counter calls_total)/$(counter legs_total)/$(counter recordings_sealed)/$(counter single_leg)/$(counter active_calls)" \
    "$CALLS/$((2 * CALLS))/$CALLS/0/0" \
    "bibrec stats: calls_total $CALLS, legs_total $((2 * CALLS)), recordings_sealed $CALLS, single_leg 0, active_calls 0"
refused=$(awk '$1 ~ /^refused_/ || $1 == "cancelled" || $1 == "sip_errors" || $1 == "storage_errors" { s += $2 }
    END { print s + 0 }' "$stats")
is "$refused" 0 "nothing was refused, cancelled or in error" || diag_file "$stats" 30

diag "RTP: $(grep -o 'near [0-9]* packets ([0-9]* lost), far [0-9]* packets ([0-9]* lost)' "$E2E_DAEMON_LOG" |
    awk '{ np += $2; nl += substr($4, 2); fp += $7; fl += substr($9, 2) }
         END { printf "near %d packets (%d lost), far %d packets (%d lost) in %d recordings", np, nl, fp, fl, NR }')"

status=0
for dn in 5001 $((5000 + CALLS / 2)) $((5000 + CALLS)); do
    line=$(awk -F'\t' -v dn="$dn" '$4 == dn' <<<"$E2E_RECORDINGS")
    id=$(field 1 "$line")
    wav=$E2E_DIR/out/$id.wav
    if ! bibrec_cli export "$id" "$wav" >"$E2E_DIR/out/export-$dn.txt" 2>&1 ||
        ! "$WAVCHECK" --expect-rate 8000 --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" \
            --expect-duration "$(field 3 "$line")" --tolerance-duration 0.05 "$wav" \
            >"$E2E_DIR/out/wavcheck-$dn.txt" 2>&1; then
        status=1
        diag "recording of NEAR $dn:"
        diag_file "$E2E_DIR/out/export-$dn.txt"
        diag_file "$E2E_DIR/out/wavcheck-$dn.txt"
    fi
done
ok "$status" "the first, middle and last recordings export with 440 Hz left, 1000 Hz right, as long as listed"

verify_all "$CALLS"
ok $? "bibrec verify passes for all $CALLS recordings" || diag_file "$E2E_DIR/out/verify.txt"

daemon_running
ok $? "bibrecd is still running"
stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"
