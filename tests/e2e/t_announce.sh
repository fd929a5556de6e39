#!/bin/bash
#
# t_announce.sh: the announcement endpoint and consent, end to end.
#
# SIPp plays a caller that CUCM routes to an announcement number (announce_caller.xml); rtpsend is
# the caller's media: it receives the prompt (and measures its tone) and sends RFC 4733 digits.
# Number 8000 plays the prompt and hangs up (greeting); 8001 transfers the caller to 4070 with
# REFER (pre-connect). The decisions are then checked in the store, in the audit trail, and in the
# BiB recordings of line 4070 (profile "sales": consent basis, require-consent) that follow:
# accepted -> recorded and linked, refused or no digit -> the INVITEs are refused, nothing stored.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 33
RTPSEND=$E2E_TOP_BUILDDIR/tests/e2e/rtpsend
[ -x "$RTPSEND" ] || bail_out "$RTPSEND is missing; run make check"
mkdir -p "$E2E_DIR/prompts"
# English at 8 kHz (600 Hz), German at 16 kHz (750 Hz): the second is resampled to 8 kHz for PCMU.
sox -n -r 8000 -b 16 -c 1 -e signed-integer "$E2E_DIR/prompts/en.wav" synth 2 sine 600 vol 0.5
sox -n -r 16000 -b 16 -c 1 -e signed-integer "$E2E_DIR/prompts/de.wav" synth 2 sine 750 vol 0.5
E2E_CONFIG_EXTRA='  <profile name="desk" basis="contract"><match dn="4001"/></profile>
  <profile name="sales" basis="consent" require-consent="yes" consent-default="refuse">
    <match dn="4070"/></profile>
  <announcement number="8000" mode="greeting" profile="sales" wait-ms="1000" language="en">
    <prompt language="en" file="prompts/en.wav"/>
    <prompt language="de" file="prompts/de.wav" callers="+49 0049"/>
  </announcement>
  <announcement number="8001" mode="pre-connect" transfer-to="4070" profile="sales" wait-ms="1000">
    <prompt language="en" file="prompts/en.wav"/>
  </announcement>'
write_config
plan 23
start_daemon || bail_out "bibrecd did not start"

ANN_N=0
# ann_call NUMBER CALLER SECONDS HZ [rtpsend args]: one caller at an announcement number; rtpsend's
# report goes to $E2E_DIR/out/annN.txt. Fails if SIPp saw anything but the expected dialog.
ann_call() {
    local number=$1 caller=$2 secs=$3 hz=$4 port pid
    shift 4
    ANN_N=$((ANN_N + 1))
    _sipp_start "ann$ANN_N" announce_caller.xml u1 "$E2E_SIPP_PORT_AUX" "$E2E_MEDIA_PORT_AUX" 20 \
        -s "$number" -set caller "$caller" -set media_port "$E2E_MEDIA_PORT_NEAR"
    pid=$E2E_LAST_SIPP_PID
    for _ in $(seq 50); do
        [ "$(grep -c "answering for" "$E2E_DAEMON_LOG")" -ge "$ANN_N" ] && break
        sleep 0.1
    done
    port=$(grep "answering for" "$E2E_DAEMON_LOG" | sed -n "${ANN_N}p" | grep -oE "rtp port [0-9]+" | grep -oE "[0-9]+")
    [ -n "$port" ] || { diag_file "$E2E_DAEMON_LOG" 20; return 1; }
    "$RTPSEND" 127.0.0.1 "$port" "$secs" --bind "$E2E_MEDIA_PORT_NEAR" --rx-tone "$hz" --silent "$@" \
        >"$E2E_DIR/out/ann$ANN_N.txt" 2>&1
    _sipp_wait "ann$ANN_N" "$pid"
}

# rx_field N KEY: a value from rtpsend's report of call N.
rx_field() { grep -oE "$2=[0-9.]+" "$E2E_DIR/out/ann$1.txt" | cut -d= -f2; }

# decision_id N: the consent id the daemon logged for its Nth decision.
decision_id() { grep -oE "consent [0-9a-f]{20} " "$E2E_DAEMON_LOG" | sed -n "$1p" | cut -d' ' -f2; }

# --- 1: accept with digit 1 during the prompt ---------------------------------------------------
ann_call 8000 +441632960001 1.6 600 --dtmf 1@1.0
ok $? "a caller at 8000 hears the prompt and the call ends with BYE" || diag_file "$E2E_DIR/out/ann1.txt"
wait_for_log "consent [0-9a-f]{20} accepted by digit 1" 5
ok $? "the digit 1 is taken as consent" || diag_file "$E2E_DAEMON_LOG"
pk=$(rx_field 1 packets)
played=$(grep -oE "accepted by digit 1 \([0-9]+ ms of prompt" "$E2E_DAEMON_LOG" | grep -oE "[0-9]+ ms" | cut -d' ' -f1)
in_range "${played:-0}" 900 1700 && in_range "${pk:-0}" 30 85
ok $? "pressing at 1 s cuts the 2 s prompt short (${played:-?} ms played, ${pk:-no} packets received)"
share=$(rx_field 1 tone_share)
ok "$(awk -v s="${share:-0}" 'BEGIN { print (s > 0.8) ? 0 : 1 }')" \
    "what the caller heard is the English prompt's 600 Hz (share ${share:-none})"
accepted=$(decision_id 1)

# --- 2: refuse with digit 2 ------------------------------------------------------------------------
ann_call 8000 +441632960002 1.6 600 --dtmf 2@0.5
wait_for_log "consent [0-9a-f]{20} refused by digit 2" 5
ok $? "the digit 2 is a refusal" || diag_file "$E2E_DAEMON_LOG"
refused=$(decision_id 2)

# --- 3: a German number, no digit: the whole prompt, then the profile's default --------------------
ann_call 8000 +4930123456 3.4 750
# rtpsend starts listening only once the daemon has logged its port, so the first packets of the
# prompt may arrive before it; what was played is what the daemon says it sent.
pk=$(rx_field 3 packets)
wait_for_log "consent [0-9a-f]{20} refused \(no digit in time\) \(2000 ms of prompt de.wav played\)" 5 &&
    in_range "${pk:-0}" 60 105
ok $? "with no digit the whole 2 s prompt is played (packets received: ${pk:-none})" ||
    diag_file "$E2E_DAEMON_LOG"
share=$(rx_field 3 tone_share)
ok "$(awk -v s="${share:-0}" 'BEGIN { print (s > 0.8) ? 0 : 1 }')" \
    "a +49 caller hears the German prompt, 16 kHz resampled to PCMU (750 Hz share ${share:-none})"
wait_for_log "consent [0-9a-f]{20} refused \(no digit in time\)" 5
ok $? "no digit within wait-ms: the profile's default (refuse) applies" || diag_file "$E2E_DAEMON_LOG"

# --- 4: pre-connect: accept, then REFER to the destination ---------------------------------------
ann_call 8001 +441632960004 1.6 600 --dtmf 1@0.5
ok $? "at 8001 the caller is transferred (REFER, 202, NOTIFY 200, BYE)"
grep -q "Refer-To: <sip:4070@127.0.0.1:$E2E_SIPP_PORT_AUX" "$E2E_DIR/sipp/ann4.messages.log"
ok $? "the REFER points at the destination on the caller's side" ||
    diag_file "$E2E_DIR/sipp/ann4.messages.log" 30
transferred=$(decision_id 4)

# --- the BiB recordings that follow --------------------------------------------------------------
cucm_call refci=28700010 near_dn=4070 far_dn=+441632960001 duration=1500
ok $? "the accepted caller's call on 4070 is recorded"
cucm_call refci=28700020 near_dn=4070 far_dn=+441632960002 duration=1000
wait_for_log "refused with 403: the other party refused recording \(consent decision $refused\)" 5
ok $? "the refusing caller's recording INVITEs are refused, naming the decision" ||
    diag_file "$E2E_DAEMON_LOG"
cucm_call refci=28700030 near_dn=4070 far_dn=+4930123456 duration=1000
cucm_call refci=28700040 near_dn=4070 far_dn=+441632969999 duration=1000
wait_for_log "profile sales records only with the other party's consent" 5
ok $? "a consent profile refuses a caller who never met the announcement" || diag_file "$E2E_DAEMON_LOG"
cucm_call refci=28700050 near_dn=4070 far_dn=+441632960004 duration=1000
list_recordings
is "$(recording_count)" 2 "only the two accepted callers' calls are stored" || show_list

id=$(grep -P "\t\+441632960001\t" <<<"$E2E_RECORDINGS" | cut -f1)
bibrec_cli show "$id" >"$E2E_DIR/out/show.txt" 2>&1
grep -qP "^consent\taccepted\t$accepted\tdigit=1 timed_out=no .* announcement=8000 prompt=en.wav language=en " \
    "$E2E_DIR/out/show.txt"
ok $? "the recording is linked to the decision: digit, prompt, language" || diag_file "$E2E_DIR/out/show.txt"
grep -qP "^event\t0\.000\tconsent\tfar\tdecision=$accepted$" "$E2E_DIR/out/show.txt"
ok $? "and the decision is on its timeline" || diag_file "$E2E_DIR/out/show.txt"
id=$(grep -P "\t\+441632960004\t" <<<"$E2E_RECORDINGS" | cut -f1)
bibrec_cli show "$id" >"$E2E_DIR/out/show4.txt" 2>&1
grep -qP "^consent\taccepted\t$transferred\t" "$E2E_DIR/out/show4.txt"
ok $? "the transferred caller's recording links to the decision taken before the transfer" ||
    diag_file "$E2E_DIR/out/show4.txt"

bibrec_cli audit export >"$E2E_DIR/out/audit.csv" 2>&1
[ "$(grep -c ",consent,[0-9a-f]\{20\},127.0.0.1:$E2E_SIPP_PORT_AUX,ok," "$E2E_DIR/out/audit.csv")" -eq 4 ] &&
    grep -q ",consent,$refused,.*,ok,\"refused by digit 2 at announcement 8000, prompt en.wav (en)" "$E2E_DIR/out/audit.csv"
ok $? "every decision is an audit event, with its digit, prompt and language" ||
    diag_file "$E2E_DIR/out/audit.csv"
grep -q ",refuse-recording,$refused,sip,refused," "$E2E_DIR/out/audit.csv"
ok $? "so is each refusal of a recording because of a decision" || diag_file "$E2E_DIR/out/audit.csv"
# --- the caller's rights over their answers ------------------------------------------------------
id=$(grep -P "\t\+441632960001\t" <<<"$E2E_RECORDINGS" | cut -f1)
bibrec_cli subject export --number +441632960001 "$E2E_DIR/out/subject.tar" >/dev/null 2>&1
mkdir -p "$E2E_DIR/out/subject" && tar -xf "$E2E_DIR/out/subject.tar" -C "$E2E_DIR/out/subject"
grep -q "^$accepted,.*,+441632960001,8000,accepted,1,no,en.wav,en,[0-9]*"$'\r'"\$" \
    "$E2E_DIR/out/subject/consents.csv" && grep -q ",consent,$accepted," "$E2E_DIR/out/subject/audit.csv"
ok $? "a subject export holds the caller's answer (consents.csv) and its audit event" ||
    diag_file "$E2E_DIR/out/subject/consents.csv"
bibrec_cli subject erase --number +441632960002 --reason "caller asked" >"$E2E_DIR/out/erase2.txt" 2>&1
grep -qP "^consent $refused\terased$" "$E2E_DIR/out/erase2.txt" &&
    bibrec_cli subject export --number +441632960002 "$E2E_DIR/out/subject2.tar" >/dev/null 2>&1 &&
    [ "$(tar -xOf "$E2E_DIR/out/subject2.tar" consents.csv | wc -l)" -eq 1 ]
ok $? "erasing a caller erases their answers too" || diag_file "$E2E_DIR/out/erase2.txt"
bibrec_cli hold "$id" --reason "dispute" >/dev/null 2>&1
bibrec_cli subject erase --number +441632960001 --reason "caller asked" >"$E2E_DIR/out/erase1.txt" 2>&1
grep -qP "^$id\tkept: legal hold" "$E2E_DIR/out/erase1.txt" &&
    grep -qP "^consent $accepted\tkept: proves the consent of a recording that is kept$" "$E2E_DIR/out/erase1.txt"
ok $? "but an answer that proves the consent of a held recording stays with it" ||
    diag_file "$E2E_DIR/out/erase1.txt"
bibrec_cli verify >"$E2E_DIR/out/verify.txt" 2>&1
ok $? "everything verifies, erasures included" || diag_file "$E2E_DIR/out/verify.txt"
stop_daemon
