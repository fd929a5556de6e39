#!/bin/bash
# Builds the libFuzzer harnesses of tests/fuzz/ with clang, ASan and UBSan in
# a build folder of their own, runs each for a while on a fresh copy of its
# seed corpus and reports the results as TAP, one test per harness.
#
#   tests/fuzz/run.sh [SECONDS_PER_HARNESS]      (default 20)
#
# FUZZ_BUILD_DIR names the build folder (default build-fuzz, relative to the
# top source folder). The seed corpora in tests/fuzz/corpus/ are only read:
# what a run discovers stays in a temporary folder, and inputs that crash a
# harness are kept in FUZZ_BUILD_DIR/artifacts/. A failing harness is a
# "not ok" line with exit status 0; only a missing tool or a failed build
# exits non-zero, because then nothing was tested.

set -u

secs=${1:-20}
case $secs in
'' | *[!0-9]*)
    echo "usage: $0 [SECONDS_PER_HARNESS]" >&2
    exit 2
    ;;
esac

harnesses="fuzz_cucm_from fuzz_rtp fuzz_sdp fuzz_config fuzz_ctl_proto fuzz_meta fuzz_http_range fuzz_api fuzz_prompt fuzz_consent fuzz_audio"
count=11

case $0 in
*/*) here=${0%/*} ;;
*) here=. ;;
esac
top=$(cd "$here/../.." && pwd) || exit 2
build=${FUZZ_BUILD_DIR:-build-fuzz}
case $build in
/*) ;;
*) build=$top/$build ;;
esac

# Prints every harness as failed with the reason, the last lines of a log as
# TAP comments, and stops: without a build there is nothing to test.
bail_out() {
    local why=$1 log=${2:-}
    echo "1..$count"
    local n=0
    for h in $harnesses; do
        n=$((n + 1))
        echo "not ok $n - $h: $why"
    done
    if [ -n "$log" ] && [ -f "$log" ]; then
        tail -n 40 "$log" | sed 's/^/# /'
        echo "# full log: $log"
    fi
    echo "Bail out! $why"
    exit 1
}

# The tools, named by the Debian package that provides them.
if ! command -v clang >/dev/null 2>&1; then
    bail_out "clang not found (Debian package: clang)"
fi
clang_major=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
probe=$(mktemp -d "${TMPDIR:-/tmp}/bibrec-fuzz-probe.XXXXXX") || exit 2
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    >"$probe/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined -o "$probe/probe" "$probe/probe.c" >"$probe/log" 2>&1; then
    cat "$probe/log" >&2
    rm -rf "$probe"
    bail_out "clang cannot link -fsanitize=fuzzer (Debian package: libclang-rt-${clang_major:-N}-dev)"
fi
rm -rf "$probe"

if [ ! -x "$top/configure" ]; then
    command -v autoreconf >/dev/null 2>&1 ||
        bail_out "$top has no configure and autoreconf is missing (Debian packages: autoconf automake)"
    (cd "$top" && autoreconf -fi) >"$top/autoreconf-fuzz.log" 2>&1 ||
        bail_out "autoreconf -fi failed in $top" "$top/autoreconf-fuzz.log"
    rm -f "$top/autoreconf-fuzz.log"
fi

mkdir -p "$build" || bail_out "cannot create $build"

# Automake refuses a build in a separate folder once the source folder has
# been configured in place ("source directory already configured"), and a
# "make distclean" there would throw away someone else's build. So in that
# case the sources are mirrored into $build/src (only files that differ are
# copied again, times kept, so make stays incremental) and built from there.
if [ -f "$top/config.status" ]; then
    git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
        bail_out "$top is configured in place and is not a git checkout: run 'make distclean' there or use a clean copy"
    src=$build/src
    obj=$build/obj
    mkdir -p "$src" "$obj"
    # The build folder itself may lie inside the work tree without being
    # ignored by git; it must not be copied into itself.
    skip=.git
    case $build in "$top"/*) skip=${build#"$top"/} ;; esac
    {
        # Tracked and new files, then the bootstrap output that git ignores.
        git -C "$top" ls-files -z --cached --others --exclude-standard -- . ":(exclude)$skip"
        (cd "$top" && find configure aclocal.m4 config.h.in build-aux m4 -type f -print0 2>/dev/null)
        (cd "$top" && find . -path ./.git -prune -o -path "./$skip" -prune -o \
            -name Makefile.in -type f -print0)
    } | (
        cd "$top" || exit 1
        while IFS= read -r -d '' f; do
            f=${f#./}
            [ -f "$f" ] || continue # deleted in the work tree but still tracked
            case $f in tests/fuzz/corpus/*) continue ;; esac
            cmp -s -- "$f" "$src/$f" || cp -p --parents -- "$f" "$src/" || exit 1
        done
    ) || bail_out "cannot mirror the sources into $src"
else
    src=$top
    obj=$build
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
# UBSan only reports and carries on by default; halting makes libFuzzer
# treat undefined behaviour as the crash it is and keep the input.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

if [ ! -f "$obj/config.status" ] || ! grep -q -- '--enable-fuzzers' "$obj/config.status"; then
    (cd "$obj" && "$src/configure" CC=clang \
        CFLAGS='-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined' \
        LDFLAGS='-fsanitize=address,undefined' --enable-fuzzers) >"$build/configure.log" 2>&1 ||
        bail_out "configure failed (see $obj/config.log)" "$build/configure.log"
fi
make -C "$obj" -j2 fuzzers >"$build/build.log" 2>&1 ||
    bail_out "make fuzzers failed" "$build/build.log"

work=$(mktemp -d "${TMPDIR:-/tmp}/bibrec-fuzz.XXXXXX") || bail_out "cannot create a temporary folder"
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/artifacts"

echo "1..$count"
n=0
for h in $harnesses; do
    n=$((n + 1))
    bin=$obj/tests/fuzz/$h
    dir=$work/$h
    mkdir -p "$dir/corpus" "$dir/artifacts"
    if [ ! -x "$bin" ]; then
        echo "not ok $n - $h: $bin was not built"
        continue
    fi
    if [ -d "$top/tests/fuzz/corpus/$h" ]; then
        cp -R "$top/tests/fuzz/corpus/$h/." "$dir/corpus/"
    fi

    (cd "$dir" && exec "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/" corpus) >"$dir/log" 2>&1
    status=$?

    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -n 1)
    if [ "$status" -eq 0 ]; then
        echo "ok $n - $h: ${runs:-?} runs, no crash"
        echo "# $h: ${speed:-?} exec/s over ${secs} s, corpus grew to $(find "$dir/corpus" -type f | wc -l) inputs"
        continue
    fi

    # Name the failure by the most specific line: our invariant message,
    # then the sanitizer's summary, then libFuzzer's own verdict.
    why=$(grep -m1 'invariant violated' "$dir/log" ||
        grep -m1 '^SUMMARY: ' "$dir/log" ||
        grep -m1 '==ERROR: libFuzzer' "$dir/log" ||
        echo "exit status $status")
    why=$(echo "$why" | sed -E 's/^==[0-9]+== ?//; s/ \([^)]*\)//g')
    # The innermost frame in the project's own code says where to look.
    where=$(grep -E '^ +#[0-9]+ 0x[0-9a-f]+ in [^ ]+ .*/(src/[a-z]+|sql-free-store)/[^/ ]+\.c:' "$dir/log" |
        head -n 1 | sed -E 's#.* in ([^ ]+) .*/((src/[a-z]+|sql-free-store)/[^/ ]+\.c:[0-9]+).*#\1 \2#')
    echo "not ok $n - $h: ${runs:-?} runs, $why${where:+ at $where}"
    for a in "$dir"/artifacts/*; do
        [ -f "$a" ] || continue
        mkdir -p "$build/artifacts/$h"
        cp "$a" "$build/artifacts/$h/"
        echo "# input kept: $build/artifacts/$h/$(basename "$a")"
        echo "# reproduce: $bin $build/artifacts/$h/$(basename "$a")"
    done
    tail -n 40 "$dir/log" | sed 's/^/# /'
done
exit 0
