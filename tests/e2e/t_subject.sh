#!/bin/bash
#
# t_subject.sh: a person's rights, from the privacy officer's CLI.
#
# Two calls with the far party +44 20 7946 0001 (written two ways) and one with someone else.
# search finds the person's two by number through the blind index; subject export writes one tar
# with their audio, recordings.csv, audit.csv and a README; with one recording on legal hold,
# subject erase erases the other and says why the held one is kept.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 32
plan 9
start_daemon || bail_out "bibrecd did not start"
cucm_call refci=28700010 far_dn=+442079460001 duration=1000 || bail_out "call 1 failed"
cucm_call refci=28700020 far_dn=+442079460001 duration=1000 || bail_out "call 2 failed"
cucm_call refci=28700030 far_dn=+33123456789 duration=1000 || bail_out "call 3 failed"
list_recordings
id1=$(sed -n 1p <<<"$E2E_RECORDINGS" | cut -f1)
id2=$(sed -n 2p <<<"$E2E_RECORDINGS" | cut -f1)

bibrec_cli search --number "+44 20 7946 0001" >"$E2E_DIR/out/search.csv" 2>&1
is "$(tail -n +2 "$E2E_DIR/out/search.csv" | cut -d, -f1 | sort | tr '\n' ' ')" "$(printf '%s\n' "$id1" "$id2" | sort | tr '\n' ' ')" \
    "search by number (spaces ignored) finds exactly the person's two recordings" || diag_file "$E2E_DIR/out/search.csv"
! grep -rqa "442079460001" "$E2E_STORE" 
ok $? "the number is nowhere in the store files in clear"

bibrec_cli subject export --number +442079460001 "$E2E_DIR/out/subject.tar" >"$E2E_DIR/out/export.txt" 2>&1
ok $? "subject export writes an archive" || diag_file "$E2E_DIR/out/export.txt"
tar -tf "$E2E_DIR/out/subject.tar" | sort >"$E2E_DIR/out/tar.txt"
is "$(tr '\n' ' ' <"$E2E_DIR/out/tar.txt")" "$(printf '%s\n' README.txt audit.csv consents.csv recordings.csv "audio/$id1.wav" "audio/$id2.wav" | sort | tr '\n' ' ')" \
    "it holds the README, the three CSVs and the two recordings' audio" || diag_file "$E2E_DIR/out/tar.txt"
mkdir -p "$E2E_DIR/x" && tar -xf "$E2E_DIR/out/subject.tar" -C "$E2E_DIR/x"
[ "$(head -1 "$E2E_DIR/x/recordings.csv" | tr -d '\r')" = "id,call,start,end,duration_s,near_number,near_device,far_number,far_device,profile,basis,mode,retain_until,flags,state" ] &&
    [ "$(grep -c '+442079460001' "$E2E_DIR/x/recordings.csv")" -eq 2 ]
ok $? "recordings.csv has its header and one row per recording, with the number" ||
    diag_file "$E2E_DIR/x/recordings.csv"
"$WAVCHECK" --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" "$E2E_DIR/x/audio/$id1.wav" >/dev/null 2>&1
ok $? "the exported audio plays with the right tones"

bibrec_cli hold "$id1" --reason "court order 12/2026" >/dev/null 2>&1
bibrec_cli subject erase --number +442079460001 --reason "Art. 17 request" >"$E2E_DIR/out/erase.txt" 2>&1
grep -q "^$id1	kept: legal hold (court order 12/2026)$" "$E2E_DIR/out/erase.txt" &&
    grep -q "^$id2	erased$" "$E2E_DIR/out/erase.txt"
ok $? "subject erase keeps the held recording, says why, and erases the other" || diag_file "$E2E_DIR/out/erase.txt"
list_recordings
is "$(grep -c '	erased	' <<<"$E2E_RECORDINGS")" 1 "one recording is erased, the third person's untouched" || show_list
bibrec_cli verify >"$E2E_DIR/out/verify.txt" 2>&1
ok $? "everything verifies" || diag_file "$E2E_DIR/out/verify.txt"
stop_daemon
