#!/bin/bash
#
# t_diskfull.sh: the disk fills up during a call, then space returns.
#
# The store lives on a small tmpfs of its own. With the daemon running, a file fills the tmpfs
# and a call starts: its audio cannot be written, so the daemon seals it with what reached the
# store (flag truncated:storage-error), answers OPTIONS with 503, and logs and audits why. When
# the file is removed, the daemon notices within seconds, takes calls again without a restart,
# and everything verifies. Needs root (mount); skipped otherwise.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 8
[ "$(id -u)" -eq 0 ] || skip_all "needs root to mount a small tmpfs"
mkdir -p "$E2E_STORE"
mount -t tmpfs -o size=16m,mode=0700 tmpfs "$E2E_STORE" 2>/dev/null || skip_all "cannot mount a tmpfs here"
trap 'umount "$E2E_STORE" 2>/dev/null; _e2e_cleanup' EXIT
plan 10

start_daemon || bail_out "bibrecd did not start"
cucm_call refci=28300010 duration=1500 || bail_out "the call before the disk filled failed"

dd if=/dev/zero of="$E2E_STORE/filler" bs=64k >/dev/null 2>&1
df -k "$E2E_STORE" | tail -1 | grep -q " 100% "
ok $? "the store's file system is full"

cucm_call refci=28300020 duration=6000
wait_for_log "store cannot be written \\(disk full or unwritable\\)" 10
ok $? "the daemon logs that the store cannot be written" || diag_file "$E2E_DAEMON_LOG"

sipp_once options503 options_503.xml u1
ok $? "OPTIONS gets 503 while the store cannot be written"

list_recordings
truncated=$(grep -c 'truncated:storage-error' <<<"$E2E_RECORDINGS")
is "$truncated" 1 "the call in progress is sealed as truncated:storage-error" || show_list
is "$(grep -c sealed <<<"$E2E_RECORDINGS")" 2 "both recordings are sealed" || show_list

rm -f "$E2E_STORE/filler"
wait_for_log "takes writes again" 10
ok $? "when space returns the daemon takes writes again, without a restart" || diag_file "$E2E_DAEMON_LOG"
sipp_once options options.xml u1
ok $? "OPTIONS gets 200 again"

cucm_call refci=28300030 duration=1500
ok $? "a new call is recorded"
bibrec_cli verify >"$E2E_DIR/out/verify.txt" 2>&1
ok $? "all recordings and the ledger verify" || diag_file "$E2E_DIR/out/verify.txt"
bibrec_cli audit export >"$E2E_DIR/out/audit.csv" 2>&1
grep -q ",audit,bibrecd,storage-error,.*,failed," "$E2E_DIR/out/audit.csv" &&
    grep -q ",audit,bibrecd,storage-recovered,.*,ok," "$E2E_DIR/out/audit.csv"
ok $? "the failure and the recovery are audit events" || diag_file "$E2E_DIR/out/audit.csv"
stop_daemon
