#!/bin/bash
# Builds bibrec with AddressSanitizer and UndefinedBehaviorSanitizer and
# runs the whole test suite: unit tests, end-to-end tests (the real daemon
# driven by SIPp playing CUCM, with RTP), and the fuzz harnesses for a
# bounded time each. Installs what it needs first. Ends with one line
# "N passed, N failed[, N skipped]" and exits non-zero on any failure.
#
# Environment: FUZZ_SECONDS (per harness, default 20), JOBS (default: nproc).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash contrib/deps.sh --test || { echo "0 passed, 1 failed"; exit 1; }

jobs=${JOBS:-$(nproc)}
passed=0 failed=0 skipped=0
log=$top/test-output
mkdir -p "$log"

# ---- build (sanitizers on) -------------------------------------------------
if ! { autoreconf -fi >"$log/autoreconf.log" 2>&1 &&
       mkdir -p build-san && cd build-san &&
       { [ -f Makefile ] || ../configure --enable-sanitizers >"$log/configure.log" 2>&1; } &&
       make -j"$jobs" >"$log/build.log" 2>&1; }; then
    echo "build failed; see $log/*.log" >&2
    tail -30 "$log/build.log" "$log/configure.log" 2>/dev/null >&2
    echo "0 passed, 1 failed"
    exit 1
fi

# ---- unit and end-to-end tests ----------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}
make -j"$jobs" check >"$log/check.log" 2>&1
check_rc=$?
grep -E '^(PASS|FAIL|XFAIL|XPASS|SKIP|ERROR):' "$log/check.log" | grep -v '^PASS' || true
count() { grep -E "^# $1: *[0-9]+" "$log/check.log" | tail -1 | awk '{print $3}'; }
p=$(count PASS) f=$(count FAIL) e=$(count ERROR) s=$(count SKIP) xp=$(count XPASS)
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-0} + ${e:-0} + ${xp:-0}))
skipped=$((skipped + ${s:-0}))
if [ "$check_rc" -ne 0 ] && [ "${f:-0}${e:-0}" = "00" ]; then
    echo "make check failed outside the tests; see $log/check.log" >&2
    tail -30 "$log/check.log" >&2
    failed=$((failed + 1))
fi
find . -name '*.log' -path '*tests*' -newer "$log/build.log" -exec cp --parents {} "$log/" \; 2>/dev/null
cd "$top"

# ---- fuzzing ---------------------------------------------------------------
if [ -x tests/fuzz/run.sh ] || [ -f tests/fuzz/run.sh ]; then
    bash tests/fuzz/run.sh "${FUZZ_SECONDS:-20}" >"$log/fuzz.log" 2>&1
    fp=$(grep -c '^ok ' "$log/fuzz.log")
    ff=$(grep -c '^not ok ' "$log/fuzz.log")
    grep -E '^(not ok|Bail out)' -A5 "$log/fuzz.log" || true
    if [ "$fp" -eq 0 ] && [ "$ff" -eq 0 ]; then
        echo "fuzzing ran no harness; see $log/fuzz.log" >&2
        tail -20 "$log/fuzz.log" >&2
        ff=1
    fi
    passed=$((passed + fp))
    failed=$((failed + ff))
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
