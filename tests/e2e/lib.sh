# shellcheck shell=bash disable=SC2034  # many variables are for the scripts that source this file
#
# lib.sh: shared helpers for bibrec's end-to-end tests.
#
# Every tests/e2e/t_*.sh script sources this file, calls e2e_init with a number of its own, and
# then drives the real bibrecd on 127.0.0.1: SIPp plays CUCM's built-in-bridge legs with real RTP
# tones, the bibrec CLI lists, exports and verifies the result, and wavcheck and tamper (built from
# this folder) inspect the WAV file and the store. Output is TAP for automake's tap-driver.sh.
#
# The per-script number (1..99) picks ports that no other script uses, so `make -j2 check` can run
# the scripts side by side:
#   daemon SIP (UDP+TCP)   10000 + 100*N
#   sipp SIP ports         10000 + 100*N + 2, 4, 6, 8
#   sipp RTP ports         10000 + 100*N + 20 .. 39 (sipp binds each -mp port and -mp + 2)
#   daemon HTTP            10000 + 100*N + 80
#   daemon RTP range       20000 + 100*N .. + 99
# Everything stays below Linux's ephemeral range (32768 and up), so outgoing connections of
# other programs cannot take them while a test runs.
#
# Environment: top_srcdir, top_builddir (set by `make check`; default: the current folder),
# BIBRECD, BIBREC, SIPP (programs to use instead of the built ones), KEEP=1 (keep the temporary
# folder), BIBREC_E2E_LOG_LEVEL (daemon log level, default info).
#
# Variables for the scripts after e2e_init: E2E_DIR (temporary folder), E2E_CONFIG, E2E_SOCK,
# E2E_DB (the LevelDB folder, for tamper), E2E_DAEMON_LOG, E2E_SIP_PORT, E2E_NEAR_HZ, E2E_FAR_HZ,
# WAVCHECK, TAMPER.

E2E_TAP_PLANNED=
E2E_TAP_RUN=0
E2E_TAP_FAILED=0
E2E_ABORTED=0
E2E_DIR=
E2E_DAEMON_PID=
E2E_SIPP_PIDS=()
E2E_CALL_PIDS=()
E2E_CALL_NAMES=()
E2E_CALL_N=0

# ---------------------------------------------------------------------------------------------
# TAP output

plan() {
    E2E_TAP_PLANNED=$1
    echo "1..$1"
}

# TAP reads "#" in a description as the start of a directive, so it is escaped.
_tap_line() {
    local result=$1
    shift
    E2E_TAP_RUN=$((E2E_TAP_RUN + 1))
    local msg="$*"
    echo "$result $E2E_TAP_RUN - ${msg//#/\\#}"
}

# ok STATUS DESCRIPTION: passes when STATUS (an exit status) is 0, e.g. `cmd; ok $? "cmd works"`.
ok() {
    local status=$1
    shift
    if [ "$status" -eq 0 ] 2>/dev/null; then
        _tap_line ok "$@"
        return 0
    fi
    _tap_line "not ok" "$@"
    E2E_TAP_FAILED=$((E2E_TAP_FAILED + 1))
    return 1
}

pass() { ok 0 "$@"; }
fail() { ok 1 "$@"; }

# is GOT WANT DESCRIPTION: string comparison that shows both values when they differ.
is() {
    if [ "$1" = "$2" ]; then
        pass "$3"
        return 0
    fi
    fail "$3"
    diag "  got:  '$1'"
    diag "  want: '$2'"
    return 1
}

# skip DESCRIPTION REASON: a test that could not run because an earlier step failed.
skip() {
    E2E_TAP_RUN=$((E2E_TAP_RUN + 1))
    echo "ok $E2E_TAP_RUN - ${1//#/\\#} # SKIP ${2:-}"
}

diag() {
    local line
    while IFS= read -r line; do
        echo "# $line"
    done <<<"$*"
}

# diag_file FILE [LINES]: the last LINES (default 30) lines of FILE as diagnostics.
diag_file() {
    local file=$1 lines=${2:-30} line
    if [ ! -s "$file" ]; then
        diag "($file is empty or missing)"
        return 0
    fi
    diag "---- last $lines lines of $file"
    # sipp leaves the last line of its error log without a newline; read would drop it.
    tail -n "$lines" "$file" | while IFS= read -r line || [ -n "$line" ]; do
        echo "#   $line"
    done
}

skip_all() {
    echo "1..0 # SKIP $*"
    E2E_TAP_PLANNED=0
    exit 0
}

bail_out() {
    echo "Bail out! $*"
    E2E_ABORTED=1
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Setup and cleanup

_abspath() {
    (cd "$1" 2>/dev/null && pwd)
}

# Ports in use anywhere on the host, read from /proc so that no tool beyond coreutils and awk is
# needed. TCP sockets in TIME_WAIT are left out: servers bind over them with SO_REUSEADDR.
_ports_in_use() {
    local f
    for f in /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6; do
        [ -r "$f" ] || continue
        awk 'NR > 1 && $4 != "06" { split($2, a, ":"); print a[2] }' "$f"
    done | while read -r hex; do
        echo $((16#$hex))
    done | sort -un
}

_check_ports_free() {
    local used port
    used=$(_ports_in_use)
    for port in "$@"; do
        if grep -qx "$port" <<<"$used"; then
            bail_out "port $port is already in use (a stale bibrecd or sipp from an earlier run?)"
        fi
    done
}

# e2e_init NUMBER: checks the tools, makes the temporary folder with the config and the tones,
# and arranges the cleanup. NUMBER (1..99) must be unique among the e2e scripts.
e2e_init() {
    local n=$1 p
    if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 99 ]; then
        bail_out "e2e_init: test number '$n' is not in 1..99"
    fi

    E2E_TOP_SRCDIR=$(_abspath "${top_srcdir:-.}") || bail_out "top_srcdir '${top_srcdir:-.}' not found"
    E2E_TOP_BUILDDIR=$(_abspath "${top_builddir:-.}") || bail_out "top_builddir '${top_builddir:-.}' not found"
    E2E_SRC=$E2E_TOP_SRCDIR/tests/e2e
    BIBRECD=${BIBRECD:-$E2E_TOP_BUILDDIR/bibrecd}
    BIBREC=${BIBREC:-$E2E_TOP_BUILDDIR/bibrec}
    SIPP=${SIPP:-sipp}
    WAVCHECK=$E2E_TOP_BUILDDIR/tests/e2e/wavcheck
    TAMPER=$E2E_TOP_BUILDDIR/tests/e2e/tamper

    command -v "$SIPP" >/dev/null 2>&1 || skip_all "sipp not found (Debian package sip-tester)"
    command -v sox >/dev/null 2>&1 || skip_all "sox not found (Debian package sox)"
    for p in "$BIBRECD" "$BIBREC" "$WAVCHECK" "$TAMPER"; do
        [ -x "$p" ] || bail_out "$p is missing; run make (make check builds the test programs)"
    done
    [ -f "$E2E_SRC/cucm_leg.xml" ] || bail_out "$E2E_SRC/cucm_leg.xml not found; is top_srcdir right?"

    E2E_SIP_PORT=$((10000 + 100 * n))
    E2E_SIPP_PORT_NEAR=$((E2E_SIP_PORT + 2))
    E2E_SIPP_PORT_FAR=$((E2E_SIP_PORT + 4))
    E2E_SIPP_PORT_AUX=$((E2E_SIP_PORT + 6))
    E2E_MEDIA_PORT_NEAR=$((E2E_SIP_PORT + 20))
    E2E_MEDIA_PORT_FAR=$((E2E_SIP_PORT + 24))
    E2E_MEDIA_PORT_AUX=$((E2E_SIP_PORT + 28))
    E2E_HTTP_PORT=$((E2E_SIP_PORT + 80))
    E2E_RTP_MIN=$((20000 + 100 * n))
    E2E_RTP_MAX=$((E2E_RTP_MIN + 99))
    _check_ports_free "$E2E_SIP_PORT" "$E2E_SIPP_PORT_NEAR" "$E2E_SIPP_PORT_FAR" \
        "$E2E_SIPP_PORT_AUX" $(seq "$E2E_MEDIA_PORT_NEAR" $((E2E_MEDIA_PORT_AUX + 3))) \
        $(seq "$E2E_RTP_MIN" "$E2E_RTP_MAX")

    E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bibrec-e2e-${E2E_NAME:-$(basename "$0" .sh)}.XXXXXX") ||
        bail_out "cannot create a temporary folder under ${TMPDIR:-/tmp}"
    trap _e2e_cleanup EXIT
    # Without these, a signal would end the script without the EXIT trap and leave bibrecd and
    # sipp running.
    trap 'E2E_ABORTED=1; exit 129' HUP
    trap 'E2E_ABORTED=1; exit 130' INT
    trap 'E2E_ABORTED=1; exit 141' PIPE
    trap 'E2E_ABORTED=1; exit 143' TERM

    E2E_CONFIG=$E2E_DIR/bibrec.xml
    E2E_SOCK=$E2E_DIR/bibrecd.sock
    E2E_STORE=$E2E_DIR/store
    E2E_DB=$E2E_STORE/db
    E2E_DAEMON_LOG=$E2E_DIR/bibrecd.log
    mkdir -p "$E2E_DIR/sipp" "$E2E_DIR/out"
    write_config
    make_tones "$E2E_DIR/tones"
}

# The config uses relative paths on purpose: the daemon resolves them against the config's folder.
# Optional extras for scripts that test other settings (unset: nothing changes):
#   E2E_SIP_ATTRS      more attributes of <sip>, e.g. 'trusted="127.0.0.1" tls-port="10110"'
#   E2E_SESSION_ATTRS  more attributes of <session>, e.g. 'max-calls="1" drain-ms="3000"'
#   E2E_CONFIG_EXTRA   more elements inside <bibrec>
# Change them (or E2E_RTP_MIN/E2E_RTP_MAX) after e2e_init and call write_config again.
write_config() {
    cat >"$E2E_CONFIG" <<EOF
<?xml version="1.0"?>
<bibrec>
  <log level="${BIBREC_E2E_LOG_LEVEL:-info}"/>
  <store path="store" master-key="master.key" segment-ms="1000"/>
  <sip address="127.0.0.1" port="$E2E_SIP_PORT" udp="yes" tcp="yes"${E2E_SIP_ATTRS:+ $E2E_SIP_ATTRS}/>
  <rtp address="127.0.0.1" port-min="$E2E_RTP_MIN" port-max="$E2E_RTP_MAX"/>
  <control socket="bibrecd.sock"/>
  <http address="127.0.0.1" port="$E2E_HTTP_PORT"/>
  <session pair-wait-ms="5000"${E2E_SESSION_ATTRS:+ $E2E_SESSION_ATTRS}/>${E2E_CONFIG_EXTRA:+
$E2E_CONFIG_EXTRA}
</bibrec>
EOF
}

# make_tones DIR: the near (440 Hz) and far (1000 Hz) tones at -6 dBFS, 8 kHz mono mu-law, both as
# WAV for people and as raw mu-law for SIPp, which streams a file's bytes as they are. Four
# seconds hold a whole number of periods of either tone, so looping the file adds no click.
E2E_NEAR_HZ=440
E2E_FAR_HZ=1000
make_tones() {
    local dir=$1 name hz
    mkdir -p "$dir"
    for name in near far; do
        if [ "$name" = near ]; then hz=$E2E_NEAR_HZ; else hz=$E2E_FAR_HZ; fi
        sox -D -n -r 8000 -c 1 -e u-law "$dir/$name.wav" synth 4 sine "$hz" gain -6 ||
            bail_out "sox could not make the $hz Hz tone"
        sox -D "$dir/$name.wav" -t raw -e u-law "$dir/$name.ulaw" ||
            bail_out "sox could not convert the $hz Hz tone to raw mu-law"
    done
    E2E_TONE_NEAR=$dir/near.ulaw
    E2E_TONE_FAR=$dir/far.ulaw
}

_kill_and_reap() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# The exit status is what tap-driver.sh checks besides the TAP lines: 0 only when every planned
# test ran and passed, whatever the script's last command returned.
_e2e_cleanup() {
    local status=$? pid
    trap - EXIT HUP INT PIPE TERM
    [ "$E2E_ABORTED" = 1 ] || status=0
    for pid in "${E2E_SIPP_PIDS[@]}"; do
        _kill_and_reap "$pid"
    done
    if [ -n "$E2E_DAEMON_PID" ]; then
        diag "bibrecd was still running at exit; stopping it"
        _kill_and_reap "$E2E_DAEMON_PID"
    fi
    if [ -n "$E2E_TAP_PLANNED" ] && [ "$E2E_TAP_RUN" -ne "$E2E_TAP_PLANNED" ]; then
        diag "planned $E2E_TAP_PLANNED tests but ran $E2E_TAP_RUN"
        status=1
    fi
    [ "$E2E_TAP_FAILED" -gt 0 ] && status=1
    if [ -n "$E2E_DIR" ] && [ -d "$E2E_DIR" ]; then
        if [ "${KEEP:-0}" = 1 ]; then
            diag "kept $E2E_DIR"
        else
            [ "$status" -ne 0 ] && diag "run with KEEP=1 to keep the daemon log, sipp traces and store"
            rm -rf "$E2E_DIR"
        fi
    fi
    exit "$status"
}

# ---------------------------------------------------------------------------------------------
# The daemon and the CLI

# start_daemon: starts bibrecd in the background and waits up to 10 s for its control socket,
# which the daemon creates only once SIP and the store are up.
start_daemon() {
    local i
    # A socket left by a killed daemon would look like readiness.
    rm -f "$E2E_SOCK"
    "$BIBRECD" -c "$E2E_CONFIG" >>"$E2E_DAEMON_LOG" 2>&1 &
    E2E_DAEMON_PID=$!
    for i in $(seq 1 100); do
        if [ -S "$E2E_SOCK" ]; then
            return 0
        fi
        if ! kill -0 "$E2E_DAEMON_PID" 2>/dev/null; then
            wait "$E2E_DAEMON_PID"
            diag "bibrecd exited with status $? before its control socket appeared"
            diag_file "$E2E_DAEMON_LOG"
            E2E_DAEMON_PID=
            return 1
        fi
        sleep 0.1
    done
    diag "bibrecd's control socket $E2E_SOCK did not appear within 10 s"
    diag_file "$E2E_DAEMON_LOG"
    _kill_and_reap "$E2E_DAEMON_PID"
    E2E_DAEMON_PID=
    return 1
}

# stop_daemon: SIGTERM, then waits up to 15 s; returns the daemon's exit status (137 if it had to
# be killed).
stop_daemon() {
    local pid=$E2E_DAEMON_PID status i
    if [ -z "$pid" ]; then
        diag "stop_daemon: bibrecd is not running"
        return 1
    fi
    E2E_DAEMON_PID=
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        diag "bibrecd did not exit within 15 s of SIGTERM; killing it"
        diag_file "$E2E_DAEMON_LOG"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid"
    status=$?
    if [ "$status" -ne 0 ]; then
        diag "bibrecd exited with status $status"
        diag_file "$E2E_DAEMON_LOG"
    fi
    return "$status"
}

daemon_running() {
    [ -n "$E2E_DAEMON_PID" ] && kill -0 "$E2E_DAEMON_PID" 2>/dev/null
}

# daemon_signal SIGNAL: sends SIGNAL (e.g. TERM) to bibrecd without waiting, for tests that look at
# the daemon while it drains; daemon_wait_exit collects it.
daemon_signal() {
    if [ -z "$E2E_DAEMON_PID" ]; then
        diag "daemon_signal: bibrecd is not running"
        return 1
    fi
    kill -"$1" "$E2E_DAEMON_PID"
}

# daemon_wait_exit [SECONDS]: waits up to SECONDS (default 15) for bibrecd to exit after
# daemon_signal and returns its exit status (137 if it had to be killed, as stop_daemon).
daemon_wait_exit() {
    local pid=$E2E_DAEMON_PID deadline=$(($(now_ms) + $(_ms "${1:-15}"))) status
    if [ -z "$pid" ]; then
        diag "daemon_wait_exit: bibrecd is not running"
        return 1
    fi
    while kill -0 "$pid" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        diag "bibrecd did not exit within ${1:-15} s; killing it"
        diag_file "$E2E_DAEMON_LOG"
        kill -KILL "$pid" 2>/dev/null
    fi
    E2E_DAEMON_PID=
    wait "$pid"
    status=$?
    if [ "$status" -ne 0 ]; then
        diag "bibrecd exited with status $status"
        diag_file "$E2E_DAEMON_LOG"
    fi
    return "$status"
}

# daemon_stat NAME: prints one counter of `bibrec stats` (running daemon only), empty if absent.
daemon_stat() {
    bibrec_cli stats 2>/dev/null | awk -v n="$1" '$1 == n { print $2; found = 1 } END { exit !found }'
}

# bibrec_cli ARGS...: the CLI on the test's config; it never gets more than 30 s.
bibrec_cli() {
    timeout -k 5 30 "$BIBREC" -c "$E2E_CONFIG" "$@"
}

# list_recordings: runs `bibrec list` into $E2E_DIR/out/list.txt and sets E2E_LIST_STATUS and
# E2E_RECORDINGS (the lines after the header).
list_recordings() {
    bibrec_cli list >"$E2E_DIR/out/list.txt" 2>"$E2E_DIR/out/list.err"
    E2E_LIST_STATUS=$?
    E2E_RECORDINGS=$(tail -n +2 "$E2E_DIR/out/list.txt" | grep -v '^[[:space:]]*$')
    return "$E2E_LIST_STATUS"
}

# recording_count: number of recordings in the last list_recordings.
recording_count() {
    if [ -z "$E2E_RECORDINGS" ]; then
        echo 0
    else
        wc -l <<<"$E2E_RECORDINGS" | tr -d ' '
    fi
}

# field N [LINE]: the Nth tab-separated field (1 = ID ... 6 = STATE) of LINE, default the first
# recording of the last list.
field() {
    local line=${2-$(head -n 1 <<<"$E2E_RECORDINGS")}
    cut -f "$1" <<<"$line"
}

# verify_all N [FILE]: runs `bibrec verify` into FILE (default $E2E_DIR/out/verify.txt); succeeds
# when it exits 0 and reports "ok ID segments=..." for exactly N recordings (other lines, such as the
# ledger's, are not counted).
verify_all() {
    local want=$1 out=${2:-$E2E_DIR/out/verify.txt}
    bibrec_cli verify >"$out" 2>&1 || return 1
    [ "$(grep -Ec '^ok [0-9a-f]{20} segments=[0-9]+' "$out")" -eq "$want" ]
}

# wait_for_state STATE [SECONDS]: lists until the first recording has STATE or SECONDS (default
# 10, decimals allowed) have passed, since a recording may be sealed a moment after the last BYE.
wait_for_state() {
    local want=$1 deadline=$(($(now_ms) + $(_ms "${2:-10}")))
    while :; do
        list_recordings
        if [ "$(recording_count)" -ge 1 ] && [ "$(field 6)" = "$want" ]; then
            return 0
        fi
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# wait_for_log PATTERN [SECONDS]: waits up to SECONDS (default 5) for an extended regular
# expression to appear in the daemon's log.
wait_for_log() {
    local pattern=$1 deadline=$(($(now_ms) + $(_ms "${2:-5}")))
    while :; do
        grep -Eq -- "$pattern" "$E2E_DAEMON_LOG" 2>/dev/null && return 0
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

show_list() {
    diag "bibrec list (status $E2E_LIST_STATUS):"
    diag "$(cat "$E2E_DIR/out/list.txt" "$E2E_DIR/out/list.err" 2>/dev/null)"
}

# now_ms: wall-clock milliseconds, for deadlines that must not stretch with slow commands.
now_ms() {
    date +%s%3N
}

# _ms SECONDS: SECONDS (may have decimals) in whole milliseconds.
_ms() {
    awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'
}

# sleep_until_ms T: sleeps until now_ms reaches T (returns at once if it has).
sleep_until_ms() {
    local left=$(($1 - $(now_ms)))
    [ "$left" -gt 0 ] || return 0
    sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
}

# in_range VALUE MIN MAX: decimal comparison, for durations.
in_range() {
    awk -v v="$1" -v lo="$2" -v hi="$3" \
        'BEGIN { exit !(v ~ /^[0-9]+(\.[0-9]+)?$/ && v + 0 >= lo + 0 && v + 0 <= hi + 0) }'
}

# ---------------------------------------------------------------------------------------------
# SIPp

# The address sipp sends SIP and RTP from (-i, -mi, bound with -bind_local). Any 127.x.y.z works
# on Linux's loopback, so a script can play a second CUCM node (127.0.0.3) or an untrusted host.
E2E_SIPP_IP=127.0.0.1

# _sipp_start NAME SCENARIO TRANSPORT LOCAL_PORT MEDIA_PORT TIMEOUT_S [SIPP ARGS...]: one sipp in
# the background, one call, every trace in $E2E_DIR/sipp/NAME.*; sets E2E_LAST_SIPP_PID.
# -timeout with -timeout_error and -recv_timeout make sure it can never hang a test.
_sipp_start() {
    local name=$1 scenario=$2 transport=$3 lport=$4 mport=$5 limit=$6
    shift 6
    local base=$E2E_DIR/sipp/$name
    "$SIPP" "127.0.0.1:$E2E_SIP_PORT" -sf "$E2E_SRC/$scenario" -t "$transport" \
        -i "$E2E_SIPP_IP" -p "$lport" -mi "$E2E_SIPP_IP" -mp "$mport" -bind_local \
        -m 1 -s 7000 -nostdin -aa \
        -timeout "${limit}s" -timeout_error -recv_timeout 10000 \
        -trace_err -error_file "$base.errors.log" \
        -trace_msg -message_file "$base.messages.log" \
        "$@" >"$base.out" 2>&1 </dev/null &
    E2E_LAST_SIPP_PID=$!
    E2E_SIPP_PIDS+=("$E2E_LAST_SIPP_PID")
}

# A reaped pid can be reused by an unrelated process, so it leaves the cleanup list at once.
_forget_pid() {
    local pid keep=()
    for pid in "${E2E_SIPP_PIDS[@]}"; do
        [ "$pid" = "$1" ] || keep+=("$pid")
    done
    E2E_SIPP_PIDS=("${keep[@]}")
}

# _sipp_wait NAME PID: waits for one sipp; on failure shows why as TAP diagnostics.
_sipp_wait() {
    local name=$1 pid=$2 status base=$E2E_DIR/sipp/$1
    wait "$pid"
    status=$?
    _forget_pid "$pid"
    if [ "$status" -ne 0 ]; then
        diag "sipp $name exited with status $status"
        # With -trace_err, sipp writes the events that failed the call (timeouts, unexpected
        # messages) to the error log; fatal errors only reach its screen output.
        if [ -s "$base.errors.log" ]; then
            diag_file "$base.errors.log" 20
        else
            diag_file "$base.out" 15
        fi
        diag_file "$base.messages.log" 25
    fi
    return "$status"
}

# sipp_once NAME SCENARIO [TRANSPORT] [SIPP ARGS...]: runs a short single-call scenario on the
# spare ports and waits for it, e.g. `sipp_once options options.xml u1`.
sipp_once() {
    local name=$1 scenario=$2 transport=${3:-u1}
    shift 2
    [ $# -gt 0 ] && shift
    _sipp_start "$name" "$scenario" "$transport" "$E2E_SIPP_PORT_AUX" "$E2E_MEDIA_PORT_AUX" 20 "$@"
    _sipp_wait "$name" "$E2E_LAST_SIPP_PID"
}

# cucm_call_start [KEY=VALUE...]: starts the near and the far leg of one recorded call as two
# concurrent sipp processes, as CUCM does. Keys and defaults:
#   refci=27110452 far_refci=REFCI-1 duration=5000 (ms of RTP) transport=u1 (or t1)
#   near_dn=4001 far_dn=4002 near_device=SEP00AABBCCDD01 far_device=SEP00AABBCCDD02
#   near_tone=FILE far_tone=FILE (raw mu-law; default the 440 Hz and 1000 Hz tones)
#   local_ip=127.0.0.1 (the address both legs send from; default $E2E_SIPP_IP)
cucm_call_start() {
    local refci=27110452 far_refci="" duration=5000 transport=u1 local_ip=$E2E_SIPP_IP
    local near_dn=4001 far_dn=4002 near_device=SEP00AABBCCDD01 far_device=SEP00AABBCCDD02
    local near_tone=$E2E_TONE_NEAR far_tone=$E2E_TONE_FAR arg key leg
    for arg in "$@"; do
        key=${arg%%=*}
        case $key in
        refci | far_refci | duration | transport | near_dn | far_dn | near_device | far_device | near_tone | far_tone | local_ip)
            printf -v "$key" '%s' "${arg#*=}"
            ;;
        *)
            diag "cucm_call_start: unknown argument '$arg'"
            return 1
            ;;
        esac
    done
    [ -n "$far_refci" ] || far_refci=$((refci - 1))
    E2E_CALL_N=$((E2E_CALL_N + 1))
    E2E_CALL_PIDS=()
    E2E_CALL_NAMES=()
    # The legs send RTP for duration ms; SIP around it takes well under a second on loopback.
    local limit=$((duration / 1000 + 20))
    local E2E_SIPP_IP=$local_ip # seen by _sipp_start
    for leg in near far; do
        local lport mport tone
        if [ "$leg" = near ]; then
            lport=$E2E_SIPP_PORT_NEAR mport=$E2E_MEDIA_PORT_NEAR tone=$near_tone
        else
            lport=$E2E_SIPP_PORT_FAR mport=$E2E_MEDIA_PORT_FAR tone=$far_tone
        fi
        _sipp_start "call$E2E_CALL_N-$leg" cucm_leg.xml "$transport" "$lport" "$mport" "$limit" \
            -key tone_stream "$tone,-1,0" -set stream "x-${leg}end" \
            -set refci "$refci" -set far_refci "$far_refci" \
            -set near_device "$near_device" -set near_dn "$near_dn" \
            -set far_device "$far_device" -set far_dn "$far_dn" \
            -set duration_ms "$duration"
        E2E_CALL_PIDS+=("$E2E_LAST_SIPP_PID")
        E2E_CALL_NAMES+=("call$E2E_CALL_N-$leg")
    done
}

# cucm_call_wait: waits for both legs of the last call; fails if either sipp failed.
cucm_call_wait() {
    local i status=0
    for i in "${!E2E_CALL_PIDS[@]}"; do
        _sipp_wait "${E2E_CALL_NAMES[$i]}" "${E2E_CALL_PIDS[$i]}" || status=1
    done
    E2E_CALL_PIDS=()
    [ "$status" -eq 0 ] || diag_file "$E2E_DAEMON_LOG" 20
    return "$status"
}

# cucm_call_abort: ends the legs of the last call without caring how they end (used once the
# daemon is gone and nobody would answer their BYE).
cucm_call_abort() {
    local pid
    for pid in "${E2E_CALL_PIDS[@]}"; do
        _kill_and_reap "$pid"
        _forget_pid "$pid"
    done
    E2E_CALL_PIDS=()
}

# cucm_call [KEY=VALUE...]: one whole recorded call (see cucm_call_start).
cucm_call() {
    cucm_call_start "$@" || return 1
    cucm_call_wait
}

# ---------------------------------------------------------------------------------------------
# Raw bytes to the SIP port, without SIPp: for input no SIP tool would send. Bash's own /dev/udp
# and /dev/tcp redirections, so no extra package is needed; the source address is 127.0.0.1.

# sip_raw_send udp|tcp FILE [REPLY_FILE] [WAIT_S]: sends FILE's bytes to the daemon's SIP port (UDP:
# one datagram; TCP: one connection, closed after WAIT_S seconds, default 1, or when the daemon
# closes it) and writes whatever comes back meanwhile into REPLY_FILE. Returns non-zero only if the
# bytes could not be sent.
sip_raw_send() {
    local proto=$1 file=$2 reply=${3:-/dev/null} wait_s=${4:-1} fd status
    case $proto in
    udp | tcp) ;;
    *)
        diag "sip_raw_send: protocol '$proto' is not udp or tcp"
        return 1
        ;;
    esac
    : >"$reply"
    exec {fd}<>"/dev/$proto/127.0.0.1/$E2E_SIP_PORT" || return 1
    # One write(2), so a UDP datagram carries the whole file (cat writes in 128 KiB blocks).
    { cat "$file" >&"$fd"; } 2>/dev/null
    status=$?
    # Whatever comes back for WAIT_S seconds, or until the daemon closes the TCP connection.
    timeout "$wait_s" cat <&"$fd" >"$reply" 2>/dev/null
    exec {fd}>&-
    return "$status"
}

# ---------------------------------------------------------------------------------------------
# Call-flow building blocks (used by the t_flow_*.sh scripts): any leg scenario on any of the
# script's four sipp slots, more tones, an RTP capture for SIPp's play_pcap_audio, sipp's message
# traces, one recording's `bibrec show` values and the daemon's UDP sockets.

# make_tone NAME HZ [ENCODING]: one more tone like make_tones' (4 s, -6 dBFS, 8 kHz), raw u-law or,
# with ENCODING a-law, raw A-law, in $E2E_DIR/tones/NAME.raw; sets E2E_TONE to that path.
make_tone() {
    local name=$1 hz=$2 enc=${3:-u-law} dir=$E2E_DIR/tones
    mkdir -p "$dir"
    sox -D -n -r 8000 -c 1 -e "$enc" "$dir/$name.wav" synth 4 sine "$hz" gain -6 &&
        sox -D "$dir/$name.wav" -t raw -e "$enc" "$dir/$name.raw" ||
        bail_out "sox could not make the $hz Hz $enc tone '$name'"
    E2E_TONE=$dir/$name.raw
}

# The four sipp slots of a script: SIP port E2E_SIP_PORT + 2, 4, 6, 8 and RTP port + 20, 24, 28, 32
# (sipp also binds the RTP port + 2). Slots 1 and 2 are the ports of cucm_call's near and far legs,
# slot 3 those of sipp_once: do not use a slot while one of those runs on it.
_slot_ports() {
    case $1 in
    1 | 2 | 3 | 4) ;;
    *) return 1 ;;
    esac
    E2E_SLOT_SIP_PORT=$((E2E_SIP_PORT + 2 * $1))
    E2E_SLOT_MEDIA_PORT=$((E2E_SIP_PORT + 16 + 4 * $1))
}

E2E_LEG_PIDS=()
E2E_LEG_NAMES=()

# leg_start NAME SCENARIO SLOT [KEY=VALUE...] [-- SIPP ARGS...]: starts one recording leg in the
# background on sipp slot SLOT (1..4), as cucm_call_start does for its two, with any scenario that
# uses cucm_leg.xml's Global variables (stream refci far_refci near_device near_dn far_device
# far_dn duration_ms; each is set if the scenario declares it) and may play -key tone_stream.
# Traces go to $E2E_DIR/sipp/NAME.*. Keys and defaults:
#   stream=near (or far) refci=27110452 far_refci=REFCI-1 near_dn=4001 far_dn=4002
#   near_device=SEP00AABBCCDD01 far_device=SEP00AABBCCDD02 duration=3000 (ms)
#   tone=FILE (raw G.711; default the near or the far tone, by stream) pt=0 (its payload type)
#   transport=u1 (or t1) timeout=SECONDS (default duration/1000 + 20)
# SIPP ARGS after -- are passed as they are, e.g. -- -set step_ms 1000. legs_wait waits for them.
leg_start() {
    local name=$1 scenario=$2 slot=$3
    local stream=near refci=27110452 far_refci="" near_dn=4001 far_dn=4002
    local near_device=SEP00AABBCCDD01 far_device=SEP00AABBCCDD02 duration=3000 tone="" pt=0
    local transport=u1 timeout="" arg key
    shift 3
    while [ $# -gt 0 ]; do
        arg=$1
        shift
        [ "$arg" = "--" ] && break
        key=${arg%%=*}
        case $key in
        stream | refci | far_refci | near_dn | far_dn | near_device | far_device | duration | tone | pt | transport | timeout)
            printf -v "$key" '%s' "${arg#*=}"
            ;;
        *)
            diag "leg_start: unknown argument '$arg'"
            return 1
            ;;
        esac
    done
    if ! _slot_ports "$slot"; then
        diag "leg_start: slot '$slot' is not 1..4"
        return 1
    fi
    case $stream in
    near) [ -n "$tone" ] || tone=$E2E_TONE_NEAR ;;
    far) [ -n "$tone" ] || tone=$E2E_TONE_FAR ;;
    *)
        diag "leg_start: stream '$stream' is not near or far"
        return 1
        ;;
    esac
    [ -n "$far_refci" ] || far_refci=$((refci - 1))
    [ -n "$timeout" ] || timeout=$((duration / 1000 + 20))
    # sipp refuses a -set of a variable the scenario does not declare, and a declared variable
    # that the scenario never uses: set only those its <Global variables="..."> names.
    local globals var sets=()
    globals=$(sed -n 's/.*<Global variables="\([^"]*\)".*/\1/p' "$E2E_SRC/$scenario" | head -n 1)
    for var in stream refci far_refci near_device near_dn far_device far_dn duration_ms; do
        [[ ",$globals," == *",$var,"* ]] || continue
        case $var in
        stream) sets+=(-set stream "x-${stream}end") ;;
        duration_ms) sets+=(-set duration_ms "$duration") ;;
        *) sets+=(-set "$var" "${!var}") ;;
        esac
    done
    _sipp_start "$name" "$scenario" "$transport" "$E2E_SLOT_SIP_PORT" "$E2E_SLOT_MEDIA_PORT" \
        "$timeout" -key tone_stream "$tone,-1,$pt" "${sets[@]}" "$@"
    E2E_LEG_PIDS+=("$E2E_LAST_SIPP_PID")
    E2E_LEG_NAMES+=("$name")
}

# legs_wait: waits for every leg leg_start started; fails if any of them failed (sipp's traces and
# the end of the daemon log are shown as diagnostics).
legs_wait() {
    local i status=0
    for i in "${!E2E_LEG_PIDS[@]}"; do
        _sipp_wait "${E2E_LEG_NAMES[$i]}" "${E2E_LEG_PIDS[$i]}" || status=1
    done
    E2E_LEG_PIDS=()
    E2E_LEG_NAMES=()
    [ "$status" -eq 0 ] || diag_file "$E2E_DAEMON_LOG" 20
    return "$status"
}

# _sipp_trace MODE NAME PATTERN N: the Nth message of sipp NAME's -trace_msg file whose first line
# matches the extended regular expression PATTERN; MODE text prints the message (CR removed),
# MODE time its time as seconds since midnight. Prints nothing if there is no such message.
_sipp_trace() {
    local file=$E2E_DIR/sipp/$2.messages.log
    [ -r "$file" ] || return 1
    awk -v mode="$1" -v pat="$3" -v want="$4" '
        function flush() {
            if (start != "" && start ~ pat && ++n == want) {
                if (mode == "time") {
                    split(ts, t, ":")
                    printf "%.6f\n", t[1] * 3600 + t[2] * 60 + t[3]
                } else {
                    printf "%s", body
                }
                found = 1
                exit
            }
        }
        /^-----------------------------------------------/ {
            flush(); ts = $3; state = 1; start = ""; body = ""; next
        }
        state == 1 { state = 2; next }
        state == 2 {
            sub(/\r$/, "")
            if (start == "" && $0 ~ /^[ \t]*$/) next
            if (start == "") start = $0
            body = body $0 "\n"
        }
        END { if (!found) flush(); exit !found }' "$file"
}

# sipp_msg NAME PATTERN [N]: prints the Nth (default 1) SIP message, sent or received, in sipp
# NAME's trace whose first line matches PATTERN, e.g. sipp_msg call1-near '^SIP/2.0 200' 2.
sipp_msg() {
    _sipp_trace text "$1" "$2" "${3:-1}"
}

# sipp_delay_ms NAME PATTERN1 PATTERN2: milliseconds from the first message matching PATTERN1 to
# the first message matching PATTERN2 in sipp NAME's trace, e.g. from the INVITE to its 200.
sipp_delay_ms() {
    local t1 t2
    t1=$(_sipp_trace time "$1" "$2" 1) && t2=$(_sipp_trace time "$1" "$3" 1) || return 1
    awk -v a="$t1" -v b="$t2" 'BEGIN { d = b - a; if (d < -43200) d += 86400; printf "%d\n", d * 1000 }'
}

# sdp_line MESSAGE PREFIX: the first line of MESSAGE (text) that starts with PREFIX, e.g. "m=".
sdp_line() {
    grep -m 1 -- "^$2" <<<"$1"
}

# udp_ports_bound MIN MAX: prints the ports from MIN to MAX to which any process on this host has
# bound a UDP socket, one a line; udp_port_bound PORT: whether PORT is one.
udp_ports_bound() {
    local f
    for f in /proc/net/udp /proc/net/udp6; do
        [ -r "$f" ] && cat "$f"
    done | awk -v lo="$1" -v hi="$2" '
        $2 ~ /:[0-9A-Fa-f]+$/ {
            n = split($2, a, ":"); h = toupper(a[n]); p = 0
            for (i = 1; i <= length(h); i++) p = p * 16 + index("0123456789ABCDEF", substr(h, i, 1)) - 1
            if (p >= lo && p <= hi) print p
        }' | sort -nu
}

udp_port_bound() {
    udp_ports_bound "$1" "$1" | grep -q .
}

# show_value ID KEY: the value of KEY (id, state, call, call_part, peer_call, duration, flags,
# near.packets, far.addr, ...) in `bibrec show ID`; show_events ID prints its event lines.
show_value() {
    bibrec_cli show "$1" 2>/dev/null | awk -F '\t' -v k="$2" '$1 == k { print $2; found = 1; exit } END { exit !found }'
}

show_events() {
    bibrec_cli show "$1" 2>/dev/null | grep '^event	'
}

# list_row ID: the line of the last list_recordings for recording ID (fields as `field` reads them).
list_row() {
    awk -F '\t' -v id="$1" '$1 == id { print; exit }' <<<"$E2E_RECORDINGS"
}

# wait_for_recordings N [SECONDS]: lists until N recordings are sealed (state sealed) or SECONDS
# (default 10) have passed.
wait_for_recordings() {
    local want=$1 deadline=$(($(now_ms) + $(_ms "${2:-10}")))
    while :; do
        list_recordings
        if [ "$(awk -F '\t' '$6 == "sealed"' <<<"$E2E_RECORDINGS" | grep -c .)" -ge "$want" ]; then
            return 0
        fi
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# wav_section IN OUT START [LENGTH]: seconds START to START+LENGTH (default: the end) of IN as OUT.
wav_section() {
    sox -D "$1" "$2" trim "$3" ${4:+"$4"} 2>>"$E2E_DIR/out/sox.err"
}

# Bash's printf writes the bytes of \xHH escapes, so these build binary records without any tool.
_le32() { printf -v "$1" '\\x%02x\\x%02x\\x%02x\\x%02x' $(($2 & 255)) $(($2 >> 8 & 255)) $(($2 >> 16 & 255)) $(($2 >> 24 & 255)); }
_be32() { printf -v "$1" '\\x%02x\\x%02x\\x%02x\\x%02x' $(($2 >> 24 & 255)) $(($2 >> 16 & 255)) $(($2 >> 8 & 255)) $(($2 & 255)); }
_be16() { printf -v "$1" '\\x%02x\\x%02x' $(($2 >> 8 & 255)) $(($2 & 255)); }

# make_rtp_pcap OUT TONE SECONDS [PT] [SSRC] [SEQ]: a capture file (pcap, Ethernet) of one RTP
# stream: 20 ms packets of TONE (raw G.711, looped) with payload type PT (default 0), SSRC (default
# 0x12345678) and sequence numbers from SEQ (default 1) on, for SECONDS, for
# SIPp's play_pcap_audio. SIPp sends the packets through a raw socket (root or CAP_NET_RAW), paced
# by the capture's times, from [media_ip] and the port of the [media_port+N] keyword on the audio
# line of the last SDP it sent, to the c=/m= address of the last SDP it received.
make_rtp_pcap() {
    local out=$1 tone=$2 secs=$3 pt=${4:-0} ssrc=${5:-305419896} seq0=${6:-1}
    local n hex esc nbytes i off rec ts_s ts_us seq rts ssrc_b lead fixed
    n=$(($(_ms "$secs") / 20))
    hex=$(od -An -v -tx1 "$tone" | tr -d ' \n')
    nbytes=$((${#hex} / 2))
    if [ "$nbytes" -lt 160 ] || [ "$n" -lt 1 ]; then
        diag "make_rtp_pcap: $tone is shorter than one packet, or no packet asked for"
        return 1
    fi
    esc=$(sed 's/../\\x&/g' <<<"$hex$hex")
    _be32 ssrc_b "$ssrc"
    # pcap header: magic, version 2.4, zone 0, sigfigs 0, snaplen 65535, link type 1 (Ethernet)
    printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$out" ||
        return 1
    # Ethernet (no addresses, IPv4), IPv4 (length 200, UDP, 127.0.0.1 to 127.0.0.1; SIPp only
    # reads the protocol and the header length), UDP 10000 to 10000, length 180 (SIPp fills in the
    # ports and the checksum).
    fixed='\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00'
    fixed+='\x45\x00\x00\xc8\x00\x00\x40\x00\x40\x11\x00\x00\x7f\x00\x00\x01\x7f\x00\x00\x01'
    fixed+='\x27\x10\x27\x10\x00\xb4\x00\x00'
    for ((i = 0; i < n; i++)); do
        _le32 ts_s $((i * 20000 / 1000000))
        _le32 ts_us $((i * 20000 % 1000000))
        _be16 seq $(((seq0 + i) & 65535))
        _be32 rts $((i * 160))
        # The first packet carries the marker bit (start of a talk spurt).
        printf -v lead '\\x80\\x%02x' $((pt | (i == 0 ? 128 : 0)))
        off=$((i * 160 % nbytes))
        rec="$ts_s$ts_us\xd6\x00\x00\x00\xd6\x00\x00\x00$fixed$lead$seq$rts$ssrc_b${esc:off*4:640}"
        # shellcheck disable=SC2059 # the format is the record, written as \xHH escapes
        printf "$rec" >>"$out" || return 1
    done
}

# config_add XML: adds XML (one line: elements) at the end of <bibrec> in the test's config, e.g.
# config_add '<session answer-wait-ms="3000"/>'; a later element's attributes override earlier
# ones. Call it after e2e_init (and after any write_config), before start_daemon.
config_add() {
    local tmp=$E2E_CONFIG.tmp
    awk -v x="$1" '/^<\/bibrec>/ { print "  " x } { print }' "$E2E_CONFIG" >"$tmp" &&
        mv "$tmp" "$E2E_CONFIG"
}

# daemon_log_clean: succeeds when the daemon's log (its stderr included) holds no report of
# AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer (a --enable-sanitizers build);
# otherwise shows the report's first lines as diagnostics.
daemon_log_clean() {
    local pat='ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer'
    grep -Eq "$pat" "$E2E_DAEMON_LOG" 2>/dev/null || return 0
    diag "$(grep -E -m 5 -A 8 "$pat" "$E2E_DAEMON_LOG")"
    return 1
}
