#!/bin/bash
#
# t_trunk_large.sh: recording INVITEs with long From headers, over UDP and over TCP.
#
# CUCM documents up to 16 From URI parameters and a From header of at most 583 bytes (cucm-bib
# notes, section 3); vendors and later releases add more. Four calls, each with both legs' From
# header line made exactly the given size with valid values: cluster ids of 90 characters, a
# 32-hex x-farendguid, x-nearendguid and x-sessionid, and (for 1200 bytes) unknown x- vendor
# parameters. Each call must be recorded normally, and `bibrec show` must give back every field
# intact.
#   583 bytes over UDP, 583 bytes over TCP, 1200 bytes over UDP, 1200 bytes over TCP

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 24
plan 23
diag "daemon on 127.0.0.1:$E2E_SIP_PORT, files in $E2E_DIR"

# rep TEXT N: TEXT repeated and cut to N characters.
rep() {
    local s=$1
    while [ "${#s}" -lt "$2" ]; do s=$s$s; done
    echo "${s:0:$2}"
}

# make_from FLAG TARGET: sets FROM to a From header value (for both legs the same but for FLAG,
# x-nearend or x-farend, and the tag) such that "From: $FROM" is exactly TARGET bytes. Uses the
# call's variables refci, near_dn, far_dn, near_cluster, far_cluster, far_guid, near_guid, sid.
make_from() {
    local flag=$1 target=$2 i=0 name chunk
    local uri="\"Recorded $near_dn\" <sip:$near_dn@127.0.0.1;$flag;x-refci=$refci"
    uri="$uri;x-nearendclusterid=$near_cluster;x-nearenddevice=SEP00AABBCC${near_dn}"
    uri="$uri;x-nearendaddr=$near_dn;x-farendrefci=$((refci - 1));x-farendclusterid=$far_cluster"
    uri="$uri;x-farenddevice=SEP00AABBCC${far_dn};x-farendaddr=$far_dn"
    uri="$uri;x-farendguid=$far_guid;x-nearendguid=$near_guid;x-sessionid=$sid"
    local tail=">;tag=${flag#x-}~$refci"
    local need=$((target - 6 - ${#uri} - ${#tail}))
    [ "$need" -ge 0 ] || return 1
    # Unknown vendor parameters of at most 80 characters, then the tag takes the rest.
    while [ "$need" -ge 24 ]; do
        i=$((i + 1))
        name=";x-vendor-info$i="
        chunk=$((need >= 80 + 24 ? 80 : need))
        uri="$uri$name$(rep "v${i}0123456789abcdefghijklmnopqrstuvwxyz" $((chunk - ${#name})))"
        need=$((need - chunk))
    done
    FROM="$uri>;tag=${flag#x-}~$refci$(rep 0123456789 "$need")"
    [ $((6 + ${#FROM})) -eq "$target" ]
}

# from_length LEG: length of the From line of the INVITE that sipp sent for LEG of the last call.
from_length() {
    awk '{ sub(/\r$/, "") } /^From: / { print length($0); exit }' \
        "$E2E_DIR/sipp/call$E2E_CALL_N-$1.messages.log" 2>/dev/null
}

# big_call TRANSPORT TARGET: one recorded call (near 440 Hz, far 1000 Hz, 2 s) whose legs' From
# lines are TARGET bytes long, played with trunk_leg.xml; returns non-zero if a leg failed.
big_call() {
    local transport=$1 target=$2 leg tone near_from far_from status=0
    make_from x-nearend "$target" || return 1
    near_from=$FROM
    make_from x-farend "$target" || return 1
    far_from=$FROM
    E2E_CALL_N=$((E2E_CALL_N + 1))
    E2E_CALL_PIDS=()
    E2E_CALL_NAMES=()
    for leg in near far; do
        local lport=$E2E_SIPP_PORT_NEAR mport=$E2E_MEDIA_PORT_NEAR tone=$E2E_TONE_NEAR from=$near_from
        if [ "$leg" = far ]; then
            lport=$E2E_SIPP_PORT_FAR mport=$E2E_MEDIA_PORT_FAR tone=$E2E_TONE_FAR from=$far_from
        fi
        _sipp_start "call$E2E_CALL_N-$leg" trunk_leg.xml "$transport" "$lport" "$mport" 25 \
            -key tone_stream "$tone,-1,0" -set from "$from" -set duration_ms 2000
        E2E_CALL_PIDS+=("$E2E_LAST_SIPP_PID")
        E2E_CALL_NAMES+=("call$E2E_CALL_N-$leg")
    done
    cucm_call_wait
}

start_daemon || bail_out "bibrecd did not start"
pass "bibrecd starts"

n=0
for target in 583 1200; do
    for transport in u1 t1; do
        n=$((n + 1))
        proto=UDP
        [ "$transport" = t1 ] && proto=TCP
        refci=$((27110510 + 10 * n))
        near_dn=42${n}1 far_dn=42${n}2
        near_cluster=$(rep "NearCluster-$n-$target-$proto-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" 90)
        far_cluster=$(rep "FarCluster.$n.$target.$proto.zyxwvutsrqponmlkjihgfedcba9876543210ZYXWVUTSRQPONMLKJIHGFEDCBA" 90)
        far_guid=$(printf '%032x' "$((refci * 7919))")
        near_guid=$(printf '%08X%024x' "$refci" "$n")
        sid=$(printf 'a%031x' "$((refci + n))")
        what="$target-byte From over $proto"

        big_call "$transport" "$target"
        ok $? "a call with a $what is answered and completes"
        lengths="$(from_length near)/$(from_length far)"
        is "$lengths" "$target/$target" "both legs' INVITEs really carried a $target-byte From line"

        # Recordings are listed newest first; this call's is the one with its NEAR number.
        deadline=$(($(now_ms) + 10000))
        while :; do
            list_recordings
            line=$(awk -F'\t' -v dn="$near_dn" '$4 == dn' <<<"$E2E_RECORDINGS")
            [ "$(field 6 "$line")" = sealed ] || [ "$(now_ms)" -ge "$deadline" ] && break
            sleep 0.2
        done
        [ "$(field 6 "$line")" = sealed ] && [ "$(field 5 "$line")" = "$far_dn" ] &&
            in_range "$(field 3 "$line")" 1.7 2.3 && [ "$(field 8 "$line")" = - ]
        ok $? "its recording is sealed, 2 s, FAR $far_dn, no flags (not single-leg)" || show_list

        id=$(field 1 "$line")
        bibrec_cli show "$id" >"$E2E_DIR/out/show-$n.txt" 2>&1
        # Device names of phones (SEP...) come back in upper case, as the daemon normalises them.
        expected=$(printf '%s\t%s\n' \
            near.refci "$refci" near.device "SEP00AABBCC$near_dn" near.addr "$near_dn" \
            near.cluster "$near_cluster" near.guid "$near_guid" \
            far.refci "$((refci - 1))" far.device "SEP00AABBCC$far_dn" far.addr "$far_dn" \
            far.cluster "$far_cluster" far.guid "$far_guid" session_id "$sid" | sort)
        got=$(grep -E '^(near|far)\.(refci|device|addr|cluster|guid)	|^session_id	' \
            "$E2E_DIR/out/show-$n.txt" | sort)
        [ "$got" = "$expected" ]
        ok $? "bibrec show gives back every field intact (90-character cluster ids, GUIDs, session id)" || {
            diag "want:"
            diag "$expected"
            diag "got:"
            diag_file "$E2E_DIR/out/show-$n.txt" 30
        }

        if [ "$n" -eq 1 ] || [ "$n" -eq 4 ]; then
            wav=$E2E_DIR/out/$id.wav
            bibrec_cli export "$id" "$wav" >"$E2E_DIR/out/export-$n.txt" 2>&1 &&
                "$WAVCHECK" --expect-rate 8000 --expect-left "$E2E_NEAR_HZ" --expect-right "$E2E_FAR_HZ" \
                    --expect-duration 2 --tolerance-duration 0.3 "$wav" >"$E2E_DIR/out/wavcheck-$n.txt" 2>&1
            ok $? "it exports with 440 Hz left and 1000 Hz right, 2 s" || {
                diag_file "$E2E_DIR/out/export-$n.txt"
                diag_file "$E2E_DIR/out/wavcheck-$n.txt"
            }
        fi
    done
done

list_recordings
is "$(recording_count)" 4 "bibrec list shows exactly the four recordings" || show_list
verify_all 4
ok $? "bibrec verify passes for all four" || diag_file "$E2E_DIR/out/verify.txt"
! grep -Eq 'refused|sofia-sip:' "$E2E_DAEMON_LOG"
ok $? "the daemon refused nothing and sofia-sip complained about nothing" || diag_file "$E2E_DAEMON_LOG" 20

stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"
