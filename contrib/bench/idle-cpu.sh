#!/bin/bash
# Measures the daemon's CPU use while idle (no calls): starts bibrecd on a
# temporary store, waits for it to be ready, and reads its user+system CPU
# time from /proc over SECONDS (default 60). sofia-sip's reactor is driven
# from libuv without polling, so this should be close to zero.
#   usage: contrib/bench/idle-cpu.sh [BIBRECD] [SECONDS]
set -eu
bin=${1:-./bibrecd}
secs=${2:-60}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
cat >"$dir/cfg.xml" <<XML
<bibrec>
  <sip address="127.0.0.1" port="25060"/>
  <rtp address="127.0.0.1" port-min="41000" port-max="41100"/>
  <http port="0"/>
</bibrec>
XML
"$bin" -c "$dir/cfg.xml" 2>"$dir/log" &
pid=$!
for _ in $(seq 50); do [ -S "$dir/bibrec-data/bibrecd.sock" ] && break; sleep 0.1; done
[ -S "$dir/bibrec-data/bibrecd.sock" ] || { cat "$dir/log"; exit 1; }
tck=$(getconf CLK_TCK)
t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
sleep "$secs"
t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
awk -v t="$((t1 - t0))" -v hz="$tck" -v s="$secs" -v rss="$rss" 'BEGIN {
    printf "idle: %.3f CPU seconds in %d s = %.3f %% of one core; RSS %d KiB\n", t / hz, s, 100 * t / hz / s, rss }'
