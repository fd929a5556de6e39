#!/bin/bash
# Builds and runs the store benchmark (bench_store.c) and prints the machine
# it ran on with the table, ready to paste into the store issue.
#   usage: contrib/bench/store-bench.sh [BUILDDIR] [full|quick] [-- BENCH_STORE_OPTIONS...]
# BUILDDIR is a configured build folder (default: the current one). "full"
# (the default) is 100000 recordings and 50000 batch audit entries; "quick"
# is 10000 and 10000. Anything after "--" goes to bench_store as is, e.g.
#   contrib/bench/store-bench.sh build-bench full -- --segment-bytes 1600
set -eu

builddir=${1:-.}
mode=${2:-full}
shift $(($# < 2 ? $# : 2))
[ "${1:-}" = "--" ] && shift

case $mode in
full) args=(--recordings 100000 --audits 50000) ;;
quick) args=(--recordings 10000 --audits 10000) ;;
*)
    echo "usage: $0 [BUILDDIR] [full|quick] [-- BENCH_STORE_OPTIONS...]" >&2
    exit 2
    ;;
esac

make -C "$builddir" -s bench >&2
bin=$builddir/contrib/bench/bench_store
tmp=${TMPDIR:-/tmp}

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
disk=$(df -P "$tmp" | awk 'NR == 2 { print $1 }')
dev=$(basename "$disk")
rota=$(cat "/sys/block/$dev/queue/rotational" 2>/dev/null || echo "?")
fs=$(findmnt -n -o FSTYPE --target "$tmp" 2>/dev/null || echo "?")
echo "## Machine"
echo
echo "* $(nproc) CPU(s): ${cpu:-unknown}; $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
echo "* disk under $tmp: $disk ($fs, rotational=$rota), $(df -hP "$tmp" | awk 'NR == 2 { print $4 }') free"
echo "* Debian $(cat /etc/debian_version), kernel $(uname -r), LevelDB $(dpkg-query -W -f '${Version}' libleveldb1d 2>/dev/null || echo '?'), GnuTLS $(dpkg-query -W -f '${Version}' libgnutls30 2>/dev/null || echo '?')"
echo "* command: $bin ${args[*]} $*"
echo
start=$(date +%s)
"$bin" "${args[@]}" "$@"
echo
echo "Total run time: $(($(date +%s) - start)) s"
