#!/bin/bash
# Builds and runs the search benchmark (bench_search.c): a store of N recordings' metadata and
# blind-index entries (no audio) made with the real store API on tmpfs, then number and DN
# searches through the API handler, first there and then on a copy on disk; and the time of one
# Argon2id hash. Prints the machine and Markdown tables for docs/performance.md.
#   usage: contrib/bench/search-bench.sh [BUILDDIR] [N ...]      (default: . 100000 1000000)
# BUILDDIR is a configured build folder, best without --enable-sanitizers.
set -eu

builddir=${1:-.}
shift $(($# < 1 ? $# : 1))
sizes=${*:-100000 1000000}
make -C "$builddir" -s contrib/bench/bench_search >&2
bin=$builddir/contrib/bench/bench_search
shm=${SHM:-/dev/shm}
disk=${DISK:-/var/tmp}

echo "## Machine"
echo
echo "* $(nproc) CPU(s): $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo); $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
echo "* generated on $shm ($(findmnt -n -o FSTYPE --target "$shm" | head -n 1)), copied to $disk ($(findmnt -n -o FSTYPE --target "$disk" | head -n 1), $(df -P "$disk" | awk 'NR == 2 { print $1 }'))"
echo "* Debian $(cat /etc/debian_version), LevelDB $(dpkg-query -W -f '${Version}' libleveldb1d 2>/dev/null || echo '?'), libargon2 $(dpkg-query -W -f '${Version}' libargon2-1 2>/dev/null || echo '?')"
echo
"$bin" argon2 50
for n in $sizes; do
    gen=$(mktemp -d "$shm/bibrec-search-bench.XXXXXX")
    echo
    echo "### $n recordings"
    echo
    start=$(date +%s)
    "$bin" generate "$gen" "$n" 2>"$gen.log"
    echo "generated in $(($(date +%s) - start)) s: $(tail -n 1 "$gen.log"); store $(du -sh "$gen/store" | cut -f1)"
    echo
    echo "On tmpfs:"
    echo
    "$bin" query "$gen" 1000
    copy=$(mktemp -d "$disk/bibrec-search-bench.XXXXXX")
    cp -a "$gen/." "$copy/"
    rm -rf "$gen" "$gen.log"
    sync
    echo
    echo "On the disk copy (each search appends an audit event, synced):"
    echo
    "$bin" query "$copy" 1000
    rm -rf "$copy"
done
