#!/bin/bash
# media-bench.sh: runs bibrecd under a real CUCM-like load and reports, per
# number of concurrent calls N: packets lost by the recorder, CPU seconds per
# call-minute and percent of one core, resident memory per call, bytes stored
# per call-minute, and whether sampled recordings hold the right tones. The
# same media load then goes to bench_rx (epoll + recvmmsg, counts only), the
# baseline for the CPU-per-packet ratio, and with --peer rtpengine to
# rtpengine (userspace, pcap recording, media blocked).
#
#   usage: contrib/bench/media-bench.sh [--peer rtpengine] [--duration S]
#            [--rate R] [--build DIR] [--out FILE] [--src per-call|per-stream|K]
#            [--keep] [--rt] [--continue] [--bye-delay MS] [N...]
#
# --continue measures every N even after one failed (the verdicts stay).
# --bye-delay is the time between a call's last RTP packet and its BYEs.
# --rt runs the generator at real-time priority (chrt -f 10), so that other
# work on the machine does not make it late (its lag is reported either way).
#
# N defaults to 100 500 1000 2000 4000; the ladder stops at the first N that
# fails (a packet lost, a call not set up) and reports the largest N that
# passed. Everything runs on 127.0.0.1 only; every process started here is
# stopped by its PID; every wait is bounded.
#
# Ports (chosen to stay clear of the e2e tests' 10000-29999):
#   bibrecd SIP 61990 (UDP); rtpengine ng 61991
#   RTP of the recorder (and of bench_rx, rtpengine): 30000-51999
#   bench_load: SIP sockets 52000 + i, RTP sources 52000 + N + i
set -u

peer=
duration_arg=60
rate=200
builddir=
out=
src=per-call
keep=0
keep_going=0
bye_delay=100
rt=()
ns=()
while [ $# -gt 0 ]; do
    case $1 in
    --peer) peer=$2; shift 2 ;;
    --duration) duration_arg=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --build) builddir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --src) src=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --rt) rt=(chrt -f 10); shift ;;
    --continue) keep_going=1; shift ;;
    --bye-delay) bye_delay=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d'; exit 0 ;;
    [0-9]*) ns+=("$1"); shift ;;
    *) echo "media-bench.sh: unknown argument $1" >&2; exit 64 ;;
    esac
done
[ ${#ns[@]} -gt 0 ] || ns=(100 500 1000 2000 4000)
case $peer in "" | rtpengine) ;; *) echo "media-bench.sh: --peer rtpengine is the only peer" >&2; exit 64 ;; esac

top=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "$builddir" ]; then
    if [ -x ./bibrecd ] && [ -f ./Makefile ]; then builddir=.; else builddir=$top/build; fi
fi
builddir=$(cd "$builddir" && pwd) || exit 1

# BENCH_STORE_ATTRS adds attributes to the daemon's <store> element, e.g.
# 'segment-ms="500"' or 'compress="no"'.
store_extra=${BENCH_STORE_ATTRS:+ $BENCH_STORE_ATTRS}
# BENCH_RTP_ATTRS does the same for <rtp>, e.g. 'read-ms="40"'.
rtp_extra=${BENCH_RTP_ATTRS:+ $BENCH_RTP_ATTRS}
# The port plan; BENCH_SIP_PORT, BENCH_RTP_MIN, BENCH_RTP_TOP and BENCH_GEN_BASE
# move it, so that a second benchmark can run on the same machine.
SIP_PORT=${BENCH_SIP_PORT:-61990}
NG_PORT=$((SIP_PORT + 1))
RTP_MIN=${BENCH_RTP_MIN:-30000}
RTP_TOP=${BENCH_RTP_TOP:-51999}
GEN_BASE=${BENCH_GEN_BASE:-52000}

log() { echo "media-bench: $*" >&2; }
die() { log "$*"; exit 1; }

# ---- build, limits, machine ------------------------------------------------

make -C "$builddir" -s bibrecd bibrec bench tests/e2e/wavcheck >&2 || die "build failed in $builddir"
BIBRECD=$builddir/bibrecd
BIBREC=$builddir/bibrec
LOAD=$builddir/contrib/bench/bench_load
RX=$builddir/contrib/bench/bench_rx
WAVCHECK=$builddir/tests/e2e/wavcheck
NGPY=$top/contrib/bench/rtpengine-ng.py

# Every call costs the recorder 2 sockets and the generator up to 3: raise
# the descriptor limit for this shell and its children (not persistently).
ulimit -Hn 65536 2>/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null
nofile=$(ulimit -n)

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
machine="$(nproc) CPU(s) ($cpu_model), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM;"
machine+=" Debian $(cat /etc/debian_version), kernel $(uname -r), clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null);"
machine+=" net.core.rmem_default $(sysctl -n net.core.rmem_default) rmem_max $(sysctl -n net.core.rmem_max) wmem_max $(sysctl -n net.core.wmem_max); ulimit -n $nofile"

if [ "$peer" = rtpengine ] && ! command -v rtpengine >/dev/null; then
    log "rtpengine not found: installing the Debian package rtpengine-daemon"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rtpengine-daemon >&2 ||
        { log "rtpengine-daemon cannot be installed: the peer is skipped"; peer=; }
fi
rtpe_version=
[ "$peer" = rtpengine ] && rtpe_version=$(rtpengine --version 2>&1 | head -1)

work=$(mktemp -d /tmp/media-bench.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    [ "$keep" = 1 ] && log "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- measuring helpers -------------------------------------------------------

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# The anonymous part of it: without the pages of files the process maps
# (LevelDB maps its table files; those pages are the page cache's).
rss_anon_kib() { awk '/^RssAnon/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# Whole machine: busy and total jiffies.
sys_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
udp_rcvbuf_errors() { awk '/^Udp:/ { n++; if (n == 1) for (i = 1; i <= NF; i++) h[$i] = i; else print $h["RcvbufErrors"] }' /proc/net/snmp; }
# Drops counted on the sockets bound in [lo, hi] (last column of /proc/net/udp).
sock_drops() {
    awk -v lo="$1" -v hi="$2" '
        function hex(s,  i, v) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789ABCDEF", toupper(substr(s, i, 1))) - 1; return v }
        NR > 1 { split($2, a, ":"); p = hex(a[2]); if (p >= lo && p <= hi) d += $NF } END { print d + 0 }' /proc/net/udp
}
now_s() { date +%s.%N; }
fcalc() { awk "BEGIN { printf \"$1\", $2 }"; }
kv() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" "$1" | tail -1; }

# wait_for FILE PATTERN SECONDS: until a line matching PATTERN is in FILE.
wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# measure_window PID LOADOUT T0 N TAG: called when bench_load (started at T0,
# monotonic seconds of `now_s`) has every call up. Samples PID's CPU between
# two points inside [all up + 2 s, first call's end - 2 s], with the machine's
# CPU, the kernel's receive-buffer drops and PID's RSS. Writes TAG_* vars.
measure_window() {
    local pid=$1 loadout=$2 t0=$3 n=$4 tag=$5 duration=$6 start end c0 c1 s0 s1 e0 e1 w v
    for v in win cpu rss rss_anon busy rcvbuf_err sockdrops; do eval "${tag}_$v=0"; done
    eval "${tag}_win=1"
    if ! wait_for "$loadout" '^ALL_UP' $((n / ${rate%.*} + 60)); then
        log "$tag: the calls were not all up in time"
        eval "${tag}_ok=0"
        return 1
    fi
    sleep 2
    start=$(now_s)
    end=$(fcalc '%.3f' "$t0 + $duration - 2")
    w=$(fcalc '%.3f' "$end - $start")
    if awk "BEGIN { exit !($w < 3) }"; then
        log "$tag: steady-state window only $w s: use a longer --duration or a higher --rate"
        eval "${tag}_ok=0"
        return 1
    fi
    c0=$(cpu_ticks "$pid")
    read -r s0 s0t < <(sys_ticks)
    e0=$(udp_rcvbuf_errors)
    sleep "$w"
    c1=$(cpu_ticks "$pid")
    read -r s1 s1t < <(sys_ticks)
    e1=$(udp_rcvbuf_errors)
    eval "${tag}_ok=1"
    eval "${tag}_win=$w"
    eval "${tag}_cpu=$(fcalc '%.3f' "($c1 - $c0) / $hz")"
    eval "${tag}_rss=$(rss_kib "$pid")"
    eval "${tag}_rss_anon=$(rss_anon_kib "$pid")"
    eval "${tag}_busy=$(fcalc '%.0f' "100 * ($s1 - $s0) / ($s1t - $s0t)")"
    eval "${tag}_rcvbuf_err=$((e1 - e0))"
    eval "${tag}_sockdrops=$(sock_drops $RTP_MIN $RTP_TOP)"
}

# ---- one N ---------------------------------------------------------------------

rows=()
peer_rows=()
best=0
failed_at=

run_n() {
    local n=$1 d=$work/n$n rtp_max gen_args t0 rc bpid lpid i
    local duration=$duration_arg ramp
    mkdir -p "$d"
    # Every call must still be up for a steady-state window after the ramp.
    ramp=$(fcalc '%.0f' "$n / $rate")
    if [ "$duration" -lt $((ramp + 20)) ]; then
        duration=$((ramp + 20))
        log "N=$n: the ramp takes $ramp s: calls last $duration s instead of $duration_arg s"
    fi
    rtp_max=$((RTP_MIN + 4 * n + 98))
    [ "$rtp_max" -le "$RTP_TOP" ] || { log "N=$n is too large for the port plan"; return 1; }
    [ $((GEN_BASE + 2 * n)) -le 60999 ] || { log "N=$n is too large for the generator's ports"; return 1; }
    gen_args=(--calls "$n" --duration "$duration" --rate "$rate" --local-base-port "$GEN_BASE" --src "$src"
        --bye-delay "$bye_delay" --quiet)

    # -- bibrecd ----------------------------------------------------------------
    cat >"$d/bibrec.xml" <<XML
<bibrec>
  <log level="warn"/>
  <store path="$d/store" master-key="$d/master.key" signing-key="$d/signing.key"$store_extra/>
  <sip address="127.0.0.1" port="$SIP_PORT" udp="yes" tcp="no"/>
  <rtp address="127.0.0.1" port-min="$RTP_MIN" port-max="$rtp_max"$rtp_extra/>
  <control socket="$d/bibrecd.sock"/>
  <session max-calls="$((n + 100))"/>
  <http port="0"/>
</bibrec>
XML
    # Builds from before the phone XML service know no <http> (it is off there).
    "$BIBRECD" --check-config "$d/bibrec.xml" >/dev/null 2>&1 || sed -i '/<http /d' "$d/bibrec.xml"
    "$BIBRECD" -c "$d/bibrec.xml" 2>"$d/bibrecd.log" &
    bpid=$!
    pids+=("$bpid")
    for ((i = 0; i < 100; i++)); do [ -S "$d/bibrecd.sock" ] && break; sleep 0.1; done
    [ -S "$d/bibrecd.sock" ] || { cat "$d/bibrecd.log" >&2; die "bibrecd did not start"; }
    sleep 1
    local idle_rss idle_anon
    idle_rss=$(rss_kib "$bpid")
    idle_anon=$(rss_anon_kib "$bpid")
    log "N=$n: bibrecd $bpid up (idle RSS $idle_rss KiB); $n calls of $duration s at $rate set-ups/s"

    t0=$(now_s)
    "${rt[@]}" "$LOAD" "${gen_args[@]}" --target 127.0.0.1:$SIP_PORT --calls-out "$d/calls.txt" >"$d/load.out" 2>"$d/load.err" &
    lpid=$!
    pids+=("$lpid")
    measure_window "$bpid" "$d/load.out" "$t0" "$n" B "$duration"
    wait "$lpid"
    rc=$?
    [ -s "$d/load.out" ] && grep -v '^RESULT' "$d/load.out" | sed 's/^/  /' >&2
    # A recorder that fell behind still has BYEs and seals queued: give it up
    # to 60 s to finish them (bibrec stats: active_calls), and say so.
    local unsealed=0 caught_up_s=0
    local wait_end=$((SECONDS + 60))
    while :; do
        unsealed=$(timeout 10 "$BIBREC" -c "$d/bibrec.xml" stats 2>/dev/null | awk '$1 == "active_calls" { print $2 }')
        [ "${unsealed:-x}" = 0 ] && break
        [ "$SECONDS" -ge "$wait_end" ] && break
        sleep 1
    done
    # Seals are written by the store writer thread after the call has ended:
    # a recording still "recording" in the list has counters from its start.
    # Give the writer up to 120 s more to have sealed them all.
    local wait_seal=$((SECONDS + 120)) open_recs=
    while :; do
        open_recs=$(timeout 30 "$BIBREC" -c "$d/bibrec.xml" list 2>/dev/null | awk -F'\t' 'NR > 1 && $6 == "recording"' | wc -l)
        [ "$open_recs" = 0 ] && break
        [ "$SECONDS" -ge "$wait_seal" ] && break
        sleep 2
    done
    caught_up_s=$((SECONDS + 60 - wait_end))

    local up failed sent lag99 valid received=0 lost_rtp=0 dropped=0 secs=0 bytes calls_min
    up=$(kv "$d/load.out" up)
    failed=$(kv "$d/load.out" failed)
    sent=$(kv "$d/load.out" sent)
    lag99=$(kv "$d/load.out" lag_p99_ms)
    valid=$(kv "$d/load.out" valid)
    # Bytes stored: before any CLI command (each writes an audit entry). The
    # LevelDB folder and the audio files, not the space held back for a full disk.
    mkdir -p "$d/store/audio"
    bytes=$(du -scb "$d/store/db" "$d/store/audio" | awk 'END { print $1 }')
    timeout 120 "$BIBREC" -c "$d/bibrec.xml" list >"$d/list.txt" 2>"$d/list.err"
    secs=$(awk -F'\t' 'NR > 1 { s += $3 } END { printf "%.2f", s }' "$d/list.txt")
    calls_min=$(fcalc '%.4f' "$secs / 60")
    # Packets received per recording, summed (bibrec show, 8 at a time).
    awk -F'\t' 'NR > 1 { print $1 }' "$d/list.txt" |
        timeout 150 xargs -P 8 -n 1 timeout 20 "$BIBREC" -c "$d/bibrec.xml" show 2>>"$d/show.err" |
        awk -F'\t' '$1 == "id" { if (id) print id, v["near.addr"], v["near.packets"], v["far.packets"], v["near.lost"], v["far.lost"], v["near.dropped"], v["far.dropped"]; id = $2 }
                    { v[$1] = $2 }
                    END { if (id) print id, v["near.addr"], v["near.packets"], v["far.packets"], v["near.lost"], v["far.lost"], v["near.dropped"], v["far.dropped"] }' >"$d/recs.txt"
    read -r received lost_rtp dropped < <(awk '{ p += $3 + $4; l += $5 + $6; d += $7 + $8 } END { print p + 0, l + 0, d + 0 }' "$d/recs.txt")
    # Where packets went missing: per leg, what was sent against what the recording counted.
    local leg_loss
    leg_loss=$(awk 'NR == FNR { if ($1 !~ /^#/) { ns[4000 + $1 % 5000] = $9; fs[4000 + $1 % 5000] = $10 }; next }
                    { for (k = 0; k < 2; k++) { x = (k ? fs[$2] : ns[$2]) - $(3 + k); if (x != 0) { legs++; if (x > mx) mx = x; t += x } } }
                    END { printf "%d legs short, %d packets, at most %d in one leg", legs, t, mx }' "$d/calls.txt" "$d/recs.txt")
    local leg_dropped
    leg_dropped=$(awk '{ for (k = 7; k <= 8; k++) if ($k > 0) { legs++; if ($k > mx) mx = $k } }
                       END { printf "%d legs, at most %d in one leg", legs, mx }' "$d/recs.txt")
    local nrec
    nrec=$(($(wc -l <"$d/list.txt") - 1))

    # Tones of three sampled recordings: first, middle and last call.
    local tones_ok=0 tones_n=0 idx id nh fh
    for idx in 0 $((n / 2)) $((n - 1)); do
        read -r nh fh < <(awk -v i="$idx" '$1 == i { print $7, $8 }' "$d/calls.txt")
        id=$(awk -F'\t' -v dn=$((4000 + idx % 5000)) 'NR > 1 && $4 == dn { print $1; exit }' "$d/list.txt")
        tones_n=$((tones_n + 1))
        if [ -n "$id" ] && timeout 30 "$BIBREC" -c "$d/bibrec.xml" export "$id" "$d/sample-$idx.wav" >/dev/null 2>>"$d/export.err" &&
            "$WAVCHECK" --expect-left "$nh" --expect-right "$fh" "$d/sample-$idx.wav" >"$d/wavcheck-$idx.txt" 2>&1; then
            tones_ok=$((tones_ok + 1))
        else
            log "N=$n: call $idx (recording ${id:-none}, expected $nh/$fh Hz) failed the tone check"
            cat "$d/wavcheck-$idx.txt" >&2 2>/dev/null
        fi
    done
    kill -TERM "$bpid"
    # It seals what is left; a recorder that cannot is stopped after 60 s.
    for ((i = 0; i < 600; i++)); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$bpid" 2>/dev/null && { log "N=$n: bibrecd still busy 60 s after SIGTERM: killed"; kill -KILL "$bpid"; }
    wait "$bpid"

    local lost=$((sent - received))
    # -- the bare receiver on the same ports, same load -------------------------
    # The calls that were set up, with the ports bibrecd gave them.
    awk '!/^#/ && $11 != "failed" && $5 > 0 && $6 > 0 { print $5, $6 }' "$d/calls.txt" >"$d/ports.txt"
    local n_rx
    n_rx=$(wc -l <"$d/ports.txt")
    "$RX" --ports "$d/ports.txt" --ready "$d/rx.ready" >"$d/rx.out" 2>"$d/rx.err" &
    local rpid=$!
    pids+=("$rpid")
    wait_for "$d/rx.ready" . 10 || die "bench_rx did not start: $(cat "$d/rx.err")"
    t0=$(now_s)
    "${rt[@]}" "$LOAD" "${gen_args[@]}" --calls "$n_rx" --no-sip --ports "$d/ports.txt" --target 127.0.0.1:9 >"$d/load-rx.out" 2>"$d/load-rx.err" &
    lpid=$!
    pids+=("$lpid")
    measure_window "$rpid" "$d/load-rx.out" "$t0" "$n" R "$duration"
    wait "$lpid"
    sleep 0.5
    kill -TERM "$rpid"
    wait "$rpid"
    local rx_sent rx_recv rx_lag99 rx_valid
    rx_sent=$(kv "$d/load-rx.out" sent)
    rx_recv=$(kv "$d/rx.out" packets)
    rx_lag99=$(kv "$d/load-rx.out" lag_p99_ms)
    rx_valid=$(kv "$d/load-rx.out" valid)

    # -- figures -------------------------------------------------------------------
    # Packets per second offered: 2 streams x 50 packets/s per call that was up.
    local pps=$((100 * ${up:-n})) pps_r=$((100 * n_rx)) cpm pct us_b us_r ratio rss_call bpcm
    cpm=$(fcalc '%.4f' "$B_cpu / ($n * $B_win / 60)")
    pct=$(fcalc '%.1f' "100 * $B_cpu / $B_win")
    us_b=$(fcalc '%.2f' "1e6 * $B_cpu / ($pps * $B_win)")
    us_r=$(fcalc '%.2f' "1e6 * $R_cpu / ($pps_r * $R_win)")
    ratio=$(awk -v b="$us_b" -v r="$us_r" 'BEGIN { if (r > 0) printf "%.2f", b / r; else print "n/a" }')
    rss_call=$(awk -v r="$B_rss" -v i="$idle_rss" -v u="${up:-0}" 'BEGIN { if (u > 0) printf "%.1f", (r - i) / u; else print "n/a" }')
    local anon_call
    anon_call=$(awk -v r="$B_rss_anon" -v i="$idle_anon" -v u="${up:-0}" 'BEGIN { if (u > 0) printf "%.1f", (r - i) / u; else print "n/a" }')
    bpcm=$(awk -v b="$bytes" -v m="$calls_min" 'BEGIN { if (m > 0) printf "%.0f", b / m; else print "n/a" }')
    local verdict=pass why=""
    [ "${up:-0}" = "$n" ] && [ "${failed:-1}" = 0 ] || { verdict=FAIL; why+=" set-up failures"; }
    [ "$lost" -eq 0 ] || { verdict=FAIL; why+=" $lost packets lost"; }
    [ "$valid" = 1 ] || { verdict=INVALID; why+=" generator behind"; }
    # The baseline's own run only gives the ratio: if its generator fell
    # behind, the ratio is not reported, and bibrecd's verdict stands.
    [ "$rx_valid" = 1 ] || { ratio="n/a"; why+=" (baseline's generator behind: no ratio)"; }
    [ "$tones_ok" = "$tones_n" ] || { verdict=FAIL; why+=" tones"; }

    {
        echo
        echo "### N = $n ($duration s calls, $rate set-ups/s, RTP sources $src)"
        echo
        echo "| | bibrecd | bare receiver (bench_rx) |"
        echo "|---|---|---|"
        echo "| calls set up / failed | $up / $failed | $n_rx calls (media only) |"
        echo "| recordings in the store | $nrec, $secs s in total; still recording $caught_up_s s after the last BYE: ${unsealed:-?}, not yet sealed then: ${open_recs:-?}; shown (150 s limit): $(wc -l <"$d/recs.txt") | |"
        echo "| packets sent / received | $sent / $received | $rx_sent / $rx_recv |"
        echo "| packets lost by the receiver | **$lost** | $((rx_sent - rx_recv)) |"
        echo "| where: legs whose recording counted fewer packets than were sent | $leg_loss | |"
        echo "| RTP lost (sequence gaps) / dropped, as the recorder counts them | $lost_rtp / $dropped ($leg_dropped) | |"
        echo "| kernel: RcvbufErrors in the window / drops on the RTP sockets at its end | $B_rcvbuf_err / $B_sockdrops | $R_rcvbuf_err / $R_sockdrops |"
        echo "| steady-state window | $B_win s | $R_win s |"
        echo "| CPU in the window | $B_cpu s = **$pct %** of one core | $R_cpu s = $(fcalc '%.1f' "100 * $R_cpu / $R_win") % |"
        echo "| CPU seconds per call-minute | **$cpm** | $(fcalc '%.4f' "$R_cpu / ($n * $R_win / 60)") |"
        echo "| CPU per packet | $us_b µs | $us_r µs |"
        echo "| ratio bibrecd / bare receiver | **$ratio** | 1 |"
        echo "| whole machine busy in the window | $B_busy % | $R_busy % |"
        echo "| RSS idle / steady / per call set up | $idle_rss / $B_rss KiB / **$rss_call KiB** | $R_rss KiB |"
        echo "| of which anonymous (RssAnon) idle / steady / per call | $idle_anon / $B_rss_anon KiB / $anon_call KiB | |"
        echo "| bytes stored per call-minute (LevelDB folder and audio files) | **$bpcm** ($bytes bytes for $calls_min call-minutes) | |"
        echo "| sampled recordings with the right tones | $tones_ok of $tones_n | |"
        echo "| generator lag p99 | $lag99 ms | $rx_lag99 ms |"
        echo "| verdict | **$verdict**$why | |"
    } | tee -a "$work/report.md"
    rows+=("| $n | $up/$failed | $sent | $lost | $cpm | $pct | $us_b | $us_r | $ratio | $rss_call ($anon_call) | $bpcm | $tones_ok/$tones_n | $lag99 / $rx_lag99 | $verdict |")

    # -- rtpengine -------------------------------------------------------------------
    if [ "$peer" = rtpengine ]; then
        run_rtpengine "$n" "$d" "$cpm" "$bpcm" "$lost" "$duration"
    fi
    [ "$verdict" = pass ]
}

run_rtpengine() {
    local n=$1 d=$2 b_cpm=$3 b_bpcm=$4 b_lost=$5 duration=$6 ppid lpid t0 i
    mkdir -p "$d/rtpe"
    # (from its own folder, so that a core file lands there)
    (cd "$d/rtpe" && exec rtpengine --foreground --table=-1 --interface=127.0.0.1 --listen-ng=127.0.0.1:$NG_PORT \
        --port-min=$RTP_MIN --port-max=$RTP_TOP --recording-method=pcap --recording-dir="$d/rtpe" \
        --log-stderr --log-level=4 --delete-delay=0 --timeout=3600 --silent-timeout=3600 \
        --final-timeout=0) >"$d/rtpengine.log" 2>&1 &
    ppid=$!
    pids+=("$ppid")
    for ((i = 0; i < 50; i++)); do
        python3 "$NGPY" ping 127.0.0.1:$NG_PORT >/dev/null 2>&1 && break
        sleep 0.2
    done
    local idle_rss
    idle_rss=$(rss_kib "$ppid")
    log "N=$n: rtpengine $ppid up; creating $n calls over ng"
    if ! timeout 300 python3 "$NGPY" setup 127.0.0.1:$NG_PORT "$n" $((GEN_BASE + n)) "$d/rtpe-ports.txt" 2>"$d/ng.err"; then
        log "rtpengine call set-up failed: $(tail -2 "$d/ng.err")"
        kill "$ppid"; wait "$ppid"
        peer_rows+=("| $n | $b_cpm | (set-up failed) | $b_bpcm | | $b_lost | |")
        return
    fi
    t0=$(now_s)
    "${rt[@]}" "$LOAD" --calls "$n" --duration "$duration" --rate "$rate" --local-base-port "$GEN_BASE" --src "$src" --quiet \
        --no-sip --ports "$d/rtpe-ports.txt" --target 127.0.0.1:9 >"$d/load-rtpe.out" 2>"$d/load-rtpe.err" &
    lpid=$!
    pids+=("$lpid")
    measure_window "$ppid" "$d/load-rtpe.out" "$t0" "$n" P "$duration"
    wait "$lpid"
    sleep 0.5
    timeout 300 python3 "$NGPY" teardown 127.0.0.1:$NG_PORT "$n" >"$d/ng-teardown.out" 2>>"$d/ng.err"
    kill -TERM "$ppid"
    wait "$ppid"
    local sent recv bytes secs cpm bpcm lag99
    sent=$(kv "$d/load-rtpe.out" sent)
    recv=$(kv "$d/ng-teardown.out" packets)
    lag99=$(kv "$d/load-rtpe.out" lag_p99_ms)
    bytes=$(du -sb "$d/rtpe" | awk '{ print $1 }')
    # Call-minutes as recorded: the same calls as bibrecd's, duration each.
    secs=$(fcalc '%.2f' "$n * $duration")
    cpm=$(fcalc '%.4f' "$P_cpu / ($n * $P_win / 60)")
    bpcm=$(fcalc '%.0f' "$bytes / ($secs / 60)")
    {
        echo
        echo "rtpengine ($rtpe_version, --table=-1, pcap recording, media blocked), N = $n: packets sent $sent," \
            "received ${recv:-?} (lost $((sent - ${recv:-0}))); CPU $P_cpu s in $P_win s" \
            "($(fcalc '%.1f' "100 * $P_cpu / $P_win") % of one core), $cpm CPU s per call-minute;" \
            "RSS $idle_rss -> $P_rss KiB ($(fcalc '%.1f' "($P_rss - $idle_rss) / $n") KiB per call);" \
            "$bytes bytes of pcap = $bpcm bytes per call-minute; kernel RcvbufErrors $P_rcvbuf_err; generator lag p99 $lag99 ms."
    } | tee -a "$work/report.md"
    peer_rows+=("| $n | $b_cpm | $cpm | $b_bpcm | $bpcm | $b_lost | $((sent - ${recv:-0})) |")
}

# ---- the ladder ---------------------------------------------------------------------

cmd="contrib/bench/media-bench.sh${peer:+ --peer $peer}${rt:+ --rt}$([ "$keep_going" = 1 ] && echo " --continue") --bye-delay $bye_delay --duration $duration_arg --rate $rate --src $src ${ns[*]}"
{
    echo "## Media benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "* machine: $machine"
    echo "* bibrecd: $("$BIBRECD" --version 2>&1 | head -1), git $(git -C "$top" describe --always --dirty 2>/dev/null); build $builddir"
    echo "* command: \`$cmd\`"
    echo "* load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$work/report.md"

for n in "${ns[@]}"; do
    if run_n "$n"; then
        [ -z "$failed_at" ] && best=$n
    else
        [ -z "$failed_at" ] && failed_at=$n
        [ "$keep_going" = 1 ] || break
    fi
done

{
    echo
    echo "### Summary"
    echo
    echo "| N | calls up/failed | packets sent | lost by bibrecd | CPU s per call-minute | % of one core | µs per packet | bare rx µs per packet | ratio | RSS KiB per call (anonymous) | bytes per call-minute | tones | gen lag p99 ms (bibrecd / rx) | verdict |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for r in "${rows[@]}"; do echo "$r"; done
    if [ ${#peer_rows[@]} -gt 0 ]; then
        echo
        echo "| N | bibrecd CPU s per call-minute | rtpengine CPU s per call-minute | bibrecd bytes per call-minute | rtpengine bytes per call-minute | bibrecd loss | rtpengine loss |"
        echo "|---|---|---|---|---|---|---|"
        for r in "${peer_rows[@]}"; do echo "$r"; done
    fi
    echo
    if [ -n "$failed_at" ]; then
        echo "Largest N that passed: **$best** (N = $failed_at failed)."
    else
        echo "Largest N that passed: **$best** (every N passed)."
    fi
    echo "* load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$work/report.md"

if [ -n "$out" ]; then
    cat "$work/report.md" >>"$out"
    log "appended to $out"
fi
[ -z "$failed_at" ]
