#!/bin/bash
#
# t_cucm_profile.sh: `bibrec cucm-profile` renders what a CUCM administrator adds, from the
# daemon's configuration, and posts it to AXL.
#
# The requests and the guide are written with the configured values; a dry run prints what it
# would send and sends nothing; --yes posts every request, in order, to fake_axl (a local HTTP
# server that records what it receives and answers like AXL), with the SOAPAction header and
# HTTP Basic authentication, and reports each <return> UUID; a SOAP fault stops the run at that
# request with the fault's text and AXL code and exit status 1; --from continues after it; a
# refused password and an unreachable server are reported clearly.
#
# Self-contained (no daemon, no SIPp): only bibrec, fake_axl and coreutils. xmllint is used when
# present to check well-formedness (the unit test parses every document back in any case).

set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
BIBREC=${BIBREC:-$top_builddir/bibrec}
FAKE_AXL=${FAKE_AXL:-$top_builddir/tests/e2e/fake_axl}
# The fake server is on loopback; a proxy from the environment must not get in between.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY='*' no_proxy='*'

TAP_N=0
TAP_FAILED=0
PLANNED=46

diag() {
    local line
    while IFS= read -r line; do
        echo "# $line"
    done <<<"$*"
}

ok() {
    local status=$1
    shift
    TAP_N=$((TAP_N + 1))
    if [ "$status" -eq 0 ] 2>/dev/null; then
        echo "ok $TAP_N - ${*//#/\\#}"
        return 0
    fi
    echo "not ok $TAP_N - ${*//#/\\#}"
    TAP_FAILED=$((TAP_FAILED + 1))
    return 1
}

is() {
    if [ "$1" = "$2" ]; then
        ok 0 "$3"
        return 0
    fi
    ok 1 "$3"
    diag "  got:  '$1'"
    diag "  want: '$2'"
    return 1
}

skip() {
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N - $1 # SKIP $2"
}

# contains FILE TEXT DESCRIPTION: FILE holds TEXT (a fixed string).
contains() {
    if grep -qF -- "$2" "$1" 2>/dev/null; then
        ok 0 "$3"
        return 0
    fi
    ok 1 "$3"
    diag "'$2' not found in $1:"
    diag "$(head -c 2000 "$1" 2>/dev/null)"
    return 1
}

DIR=$(mktemp -d "${TMPDIR:-/tmp}/bibrec-e2e-cucm.XXXXXX") || {
    echo "Bail out! cannot create a temporary folder"
    exit 1
}
FAKE_PID=

cleanup() {
    local status=$?
    trap - EXIT
    stop_fake
    if [ "$TAP_N" -ne "$PLANNED" ]; then
        diag "planned $PLANNED tests but ran $TAP_N"
        status=1
    elif [ "$TAP_FAILED" -gt 0 ]; then
        status=1
    else
        status=0
    fi
    if [ "${KEEP:-0}" = 1 ]; then
        diag "kept $DIR"
    else
        rm -rf "$DIR"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_fake NAME [fake_axl options]: a fresh fake AXL server recording into $DIR/NAME; sets
# AXL_URL and RECV (its folder).
start_fake() {
    local name=$1 i
    shift
    RECV=$DIR/$name
    mkdir -p "$RECV"
    "$FAKE_AXL" "$RECV" --idle 30 "$@" 2>"$RECV/stderr" &
    FAKE_PID=$!
    for i in $(seq 1 50); do
        [ -s "$RECV/port" ] && break
        sleep 0.1
    done
    if [ ! -s "$RECV/port" ]; then
        diag "fake_axl did not start: $(cat "$RECV/stderr")"
        AXL_URL=http://127.0.0.1:9/axl/
        return 1
    fi
    AXL_URL="http://127.0.0.1:$(cat "$RECV/port")/axl/"
}

stop_fake() {
    if [ -n "$FAKE_PID" ]; then
        kill -TERM "$FAKE_PID" 2>/dev/null
        wait "$FAKE_PID" 2>/dev/null
        FAKE_PID=
    fi
}

received() {
    find "$RECV" -name '*.body' | wc -l | tr -d ' '
}

# header N NAME: header NAME of request N as fake_axl recorded it.
header() {
    sed -n "s/^$2: //Ip" "$RECV/$(printf %02d "$1").request" | tr -d '\r' | head -n 1
}

cli() {
    timeout -k 5 60 "$BIBREC" -c "$DIR/bibrec.xml" cucm-profile "$@"
}

[ -x "$BIBREC" ] || {
    echo "Bail out! $BIBREC not built"
    exit 1
}
[ -x "$FAKE_AXL" ] || {
    echo "Bail out! $FAKE_AXL not built"
    exit 1
}
echo "1..$PLANNED"

# Non-default values everywhere; UDP only, so the transport must follow the listener.
cat >"$DIR/bibrec.xml" <<'EOF'
<?xml version="1.0"?>
<bibrec>
  <store path="store" master-key="master.key"/>
  <sip address="192.0.2.50" port="5070" udp="yes" tcp="no" trusted="10.1.1.0/24"/>
  <rtp address="192.0.2.50" port-min="20000" port-max="20999"/>
  <control socket="ctl.sock"/>
  <cucm recording-number="7777" trunk-name="e2e-trunk" recording-profile="e2e-recording"
        recording-css="e2e-css" partition="e2e-pt" device-pool="DP-E2E" sip-profile="e2e sip"
        security-profile="e2e security" announcement-number="7778" axl-user="e2e-axl"/>
</bibrec>
EOF
PHONES=(--phone SEP00AABBCCDD01 --line 4001 --line 4002@Internal_PT --phone SEP00AABBCCDD02 --line 4003)
OUT=$DIR/out

# ---- rendering ---------------------------------------------------------------------------
cli "${PHONES[@]}" "$OUT" >"$DIR/render.out" 2>"$DIR/render.err"
ok $? "cucm-profile writes the folder" || diag "$(cat "$DIR/render.err")"
is "$(find "$OUT" -name '*.xml' | wc -l | tr -d ' ')" 13 "13 AXL requests (with announcement and two phones)"
ok "$([ -s "$OUT/guide.html" ]; echo $?)" "and guide.html"
is "$(cd "$OUT" && ls -- *.xml | head -n 3 | tr '\n' ' ')" \
    "01-addSipTrunkSecurityProfile.xml 02-addSipProfile.xml 03-addSipTrunk.xml " \
    "numbered in dependency order"
if command -v xmllint >/dev/null; then
    xmllint --noout "$OUT"/*.xml "$OUT/guide.html" 2>"$DIR/xmllint.err"
    ok $? "every document is well-formed (xmllint)" || diag "$(cat "$DIR/xmllint.err")"
else
    skip "every document is well-formed (xmllint)" "xmllint not installed"
fi
contains "$OUT/03-addSipTrunk.xml" "<addressIpv4>192.0.2.50</addressIpv4>" "trunk destination address"
contains "$OUT/03-addSipTrunk.xml" "<port>5070</port>" "trunk destination port"
contains "$OUT/01-addSipTrunkSecurityProfile.xml" "<outgoingTransport>UDP</outgoingTransport>" \
    "transport follows the only listener"
contains "$OUT/06-addRoutePattern.xml" "<pattern>7777</pattern>" "route pattern = recording number"
contains "$OUT/08-addRecordingProfile.xml" "<recorderDestination>7777</recorderDestination>" \
    "recording profile's destination"
contains "$OUT/09-addIpPhoneServices.xml" \
    "<serviceUrl>http://192.0.2.50:8080/phone?device=#DEVICENAME#</serviceUrl>" "phone service URL"
contains "$OUT/12-updatePhone-SEP00AABBCCDD01.xml" "<routePartitionName>Internal_PT</routePartitionName>" \
    "lines of the first phone"
contains "$OUT/guide.html" "<td class=\"value\">192.0.2.50</td>" "the guide carries the address"
! grep -q "not an address CUCM can reach" "$DIR/render.err"
ok $? "no unreachable-address warning for a routable address"

# ---- dry run -----------------------------------------------------------------------------
start_fake dry
BIBREC_AXL_PASSWORD=s3cret-dry cli "${PHONES[@]}" --send "$AXL_URL" >"$DIR/dry.out" 2>"$DIR/dry.err"
ok $? "a dry run succeeds" || diag "$(cat "$DIR/dry.err")"
contains "$DIR/dry.out" "POST $AXL_URL" "it prints the method and URL"
contains "$DIR/dry.out" 'SOAPAction: "CUCM:DB ver=14.0 addSipTrunk"' "and each SOAPAction"
contains "$DIR/dry.out" "<ns:addRoutePattern>" "and each body"
contains "$DIR/dry.out" "dry run: 13 requests not sent" "and says that nothing was sent"
! grep -q s3cret-dry "$DIR/dry.out" "$DIR/dry.err"
ok $? "the password is never printed"
is "$(received)" 0 "the server received nothing"
stop_fake

# ---- posting -----------------------------------------------------------------------------
start_fake send --auth e2e-axl:s3cret
cli "${PHONES[@]}" --send "$AXL_URL" --yes >"$DIR/nopw.out" 2>"$DIR/nopw.err"
is $? 2 "--yes without BIBREC_AXL_PASSWORD is refused"
contains "$DIR/nopw.err" "BIBREC_AXL_PASSWORD" "and says which variable to set"
is "$(received)" 0 "nothing was sent"

BIBREC_AXL_PASSWORD=s3cret cli "${PHONES[@]}" --send "$AXL_URL" --yes >"$DIR/send.out" 2>"$DIR/send.err"
ok $? "--yes posts every request" || diag "$(cat "$DIR/send.out" "$DIR/send.err")"
is "$(received)" 13 "the server received 13 requests"
same=0
for f in "$OUT"/*.xml; do
    n=$(basename "$f" | cut -c1-2)
    cmp -s "$f" "$RECV/$n.body" && same=$((same + 1))
done
is "$same" 13 "each body is exactly the written file, in order"
is "$(header 3 SOAPAction)" '"CUCM:DB ver=14.0 addSipTrunk"' "SOAPAction of the trunk request"
is "$(header 13 SOAPAction)" '"CUCM:DB ver=14.0 updatePhone"' "SOAPAction of the last request"
is "$(header 1 Authorization)" "Basic $(printf %s e2e-axl:s3cret | base64)" \
    "HTTP Basic with the configured AXL user and the password from the environment"
contains "$RECV/01.request" "Content-Type: text/xml; charset=utf-8" "SOAP content type"
contains "$RECV/02.request" "JSESSIONIDSSO=FAKEAXLSESSION" "CUCM's session cookie is sent back"
is "$(grep -c ': ok {1B2C3D4E-' "$DIR/send.out")" 13 "each result is reported with its UUID"
contains "$DIR/send.out" '06 addRoutePattern: route pattern "7777" in "e2e-pt": ok {' \
    "results name the object"
stop_fake

# ---- a SOAP fault ------------------------------------------------------------------------
start_fake fault --fault addRoutePattern
BIBREC_AXL_PASSWORD=s3cret cli "${PHONES[@]}" --send "$AXL_URL" --yes >"$DIR/fault.out" 2>"$DIR/fault.err"
is $? 1 "a SOAP fault ends the run with status 1"
is "$(received)" 6 "processing stops at the first fault"
contains "$DIR/fault.err" '06 addRoutePattern: route pattern "7777" in "e2e-pt"' "the fault names the object"
contains "$DIR/fault.err" "Item not valid: The specified Route Partition was not found [axlcode 5007]" \
    "with the faultstring and the AXL code"
contains "$DIR/fault.err" "requests 1 to 5 were applied" "and what was applied"
stop_fake

start_fake resume
BIBREC_AXL_PASSWORD=s3cret cli "${PHONES[@]}" --send "$AXL_URL" --yes --from 6 >"$DIR/resume.out" 2>"$DIR/resume.err"
ok $? "--from 6 continues where it stopped" || diag "$(cat "$DIR/resume.err")"
is "$(received) $(header 1 SOAPAction)" '8 "CUCM:DB ver=14.0 addRoutePattern"' \
    "with request 6 and the 7 after it"
stop_fake

# ---- refusals ----------------------------------------------------------------------------
start_fake auth --auth e2e-axl:other
BIBREC_AXL_PASSWORD=s3cret cli --send "$AXL_URL" --yes --user someone >"$DIR/401.out" 2>"$DIR/401.err"
is $? 1 "a refused login ends the run with status 1"
contains "$DIR/401.err" "CUCM refused user 'someone' (HTTP 401)" "it says so, naming the --user"
stop_fake
BIBREC_AXL_PASSWORD=s3cret cli --send "$AXL_URL" --yes >"$DIR/down.out" 2>"$DIR/down.err"
is $? 1 "an AXL server that does not answer ends the run with status 1"
contains "$DIR/down.err" "01 addSipTrunkSecurityProfile" "the error names the request that failed"
cli --line 4001 "$OUT" >/dev/null 2>"$DIR/usage.err"
is $? 2 "--line before --phone is a usage error"
