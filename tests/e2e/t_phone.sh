#!/bin/bash
#
# t_phone.sh: the Cisco IP Phone XML service while calls are recorded.
#
# curl plays the phone (the headers real phones send); xmllint checks the returned objects by
# the element names of the Cisco IP Phone Services SDK. Line 4001 is always recorded: the menu
# offers Tag, Mark private and Status but no Stop; tag and private end up in the recording. Line
# 4050 is on-demand: the menu offers Keep and Stop and delete, and Stop ends the recording and
# erases it. Malformed requests get CiscoIPPhoneError; requests from outside the phone networks
# are refused. Every action is in the audit trail.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 30
command -v xmllint >/dev/null || skip_all "xmllint not found (Debian package libxml2-utils)"
E2E_CONFIG_EXTRA='  <profile name="service-desk" basis="contract" retention-days="30"><match dn="4001"/></profile>
  <profile name="sales" basis="consent" mode="on-demand" keep-confirm-minutes="15"><match dn="4050"/></profile>'
write_config
sed -i "s|<http address=\"127.0.0.1\" port=\"$E2E_HTTP_PORT\"/>|<http address=\"127.0.0.1\" port=\"$E2E_HTTP_PORT\" phone-networks=\"127.0.0.1\"/>|" "$E2E_CONFIG"
plan 17
start_daemon || bail_out "bibrecd did not start"

base="http://127.0.0.1:$E2E_HTTP_PORT"
dev=SEP00AABBCCDD01
phone() { # phone URL OUTFILE: GET as a Cisco 8861 would; prints the HTTP status
    curl -s -o "$2" -w '%{http_code}' -H 'x-CiscoIPPhoneModelName: CP-8861' \
        -H 'x-CiscoIPPhoneDisplay: 800,480,24,C' -H 'x-CiscoIPPhoneSDKVersion: 14.1.1' \
        -H 'Accept: x-CiscoIPPhone/*;version=3.0' "$1"
}
xp() { xmllint --xpath "$1" "$2" 2>/dev/null; }

phone "$base/phone?device=$dev" "$E2E_DIR/out/none.xml" >/dev/null
is "$(xp 'string(/CiscoIPPhoneText/Text)' "$E2E_DIR/out/none.xml")" "No call is being recorded on this phone." \
    "no call on the phone: a CiscoIPPhoneText says so"

cucm_call_start refci=28500010 near_dn=4001 duration=6000 || bail_out "sipp did not start"
wait_for_state recording 3 || bail_out "the call is not recording"
id1=$(field 1)
status=$(phone "$base/phone?device=$dev" "$E2E_DIR/out/menu1.xml")
is "$status" 200 "the menu is served"
names=$(xp '/CiscoIPPhoneMenu/MenuItem/Name/text()' "$E2E_DIR/out/menu1.xml" | tr '\n' '|')
is "$names" "Tag...|Mark private|Status|" "an always-on recording offers Tag, Mark private and Status" ||
    diag_file "$E2E_DIR/out/menu1.xml"
tagurl=$(xp 'string(/CiscoIPPhoneMenu/MenuItem[Name="Tag..."]/URL)' "$E2E_DIR/out/menu1.xml")
[[ "$tagurl" == "$base/phone/tag?device=$dev&rec=$id1" ]]
ok $? "menu URLs are absolute and name the device and the recording ($tagurl)"

phone "$tagurl" "$E2E_DIR/out/input.xml" >/dev/null
is "$(xp 'string(/CiscoIPPhoneInput/InputItem/QueryStringParam)' "$E2E_DIR/out/input.xml")" tag \
    "Tag asks for the tag with a CiscoIPPhoneInput"
phone "$tagurl&tag=complaint" "$E2E_DIR/out/tagged.xml" >/dev/null
is "$(xp 'string(/CiscoIPPhoneText/Text)' "$E2E_DIR/out/tagged.xml")" "Tag added." "the tag is added"
phone "$base/phone/private?device=$dev&rec=$id1" "$E2E_DIR/out/private.xml" >/dev/null
xp 'string(/CiscoIPPhoneText/Text)' "$E2E_DIR/out/private.xml" | grep -q "^Marked private"
ok $? "Mark private"
phone "$base/phone/status?device=$dev&rec=$id1" "$E2E_DIR/out/status.xml" >/dev/null
xp 'string(/CiscoIPPhoneText/Text)' "$E2E_DIR/out/status.xml" | grep -q "Profile: service-desk"
ok $? "Status names the profile" || diag_file "$E2E_DIR/out/status.xml"
phone "$base/phone/stop?device=$dev&rec=$id1" "$E2E_DIR/out/stop1.xml" >/dev/null
xp 'string(/CiscoIPPhoneText/Text)' "$E2E_DIR/out/stop1.xml" | grep -q "may not be stopped"
ok $? "an always-on recording cannot be stopped from the phone"
cucm_call_wait
wait_for_state sealed 5
bibrec_cli show "$id1" >"$E2E_DIR/out/show1.txt" 2>&1
grep -q "^flags	private$" "$E2E_DIR/out/show1.txt" && grep -qP "^event\t[0-9.]+\ttag\tnear\tcomplaint$" "$E2E_DIR/out/show1.txt"
ok $? "the sealed recording is private and carries the tag" || diag_file "$E2E_DIR/out/show1.txt"

cucm_call_start refci=28500020 near_dn=4050 duration=8000 || bail_out "sipp did not start"
sleep 1.5
list_recordings
id2=$(grep -P "\t4050\t" <<<"$E2E_RECORDINGS" | cut -f1)
phone "$base/phone?device=$dev" "$E2E_DIR/out/menu2.xml" >/dev/null
names=$(xp '/CiscoIPPhoneMenu/MenuItem/Name/text()' "$E2E_DIR/out/menu2.xml" | tr '\n' '|')
is "$names" "Keep recording|Tag...|Mark private|Stop and delete|Status|" \
    "an on-demand recording offers Keep and Stop and delete" || diag_file "$E2E_DIR/out/menu2.xml"
phone "$base/phone/stop?device=$dev&rec=$id2" "$E2E_DIR/out/stop2.xml" >/dev/null
is "$(xp 'string(/CiscoIPPhoneText/Text)' "$E2E_DIR/out/stop2.xml")" "Recording stopped and deleted." \
    "Stop and delete"
cucm_call_abort
list_recordings
is "$(grep -P "^$id2\t" <<<"$E2E_RECORDINGS" | cut -f6)" erased "the stopped recording is erased" || show_list

status=$(phone "$base/phone?device=SEP%3Cscript%3E" "$E2E_DIR/out/bad.xml")
[ "$status" = 400 ] && [ "$(xp 'string(/CiscoIPPhoneError/@Number)' "$E2E_DIR/out/bad.xml")" = 1 ]
ok $? "a malformed device name gets CiscoIPPhoneError 1 (HTTP $status)"
status=$(curl -s -o "$E2E_DIR/out/far.xml" -w '%{http_code}' --interface 127.0.0.2 "$base/phone?device=$dev")
[ "$status" = 403 ] && [ "$(xp 'string(/CiscoIPPhoneError/@Number)' "$E2E_DIR/out/far.xml")" = 4 ]
ok $? "a request from outside the phone networks is refused (HTTP $status)"
grep -q "phone service: request from 127.0.0.2:[0-9]* outside <http phone-networks> refused" "$E2E_DAEMON_LOG"
ok $? "and logged with its source"

bibrec_cli audit export >"$E2E_DIR/out/audit.csv" 2>&1
for a in phone-tag phone-private phone-stop; do
    grep -q ",audit,phone $dev,$a," "$E2E_DIR/out/audit.csv" || { diag "no $a event"; false; } || break
done
ok $? "tag, private and stop are audit events naming the phone" || diag_file "$E2E_DIR/out/audit.csv"
stop_daemon
