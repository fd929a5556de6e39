#!/bin/bash
#
# t_trunk_tls.sh: the SIP-over-TLS listener (<sip tls-port tls-cert tls-key>), with and without
# client certificates (tls-verify-client, tls-ca).
#
# Keys and certificates are made here with certtool (gnutls-bin) and live only in the temporary
# folder. Debian's sipp has no TLS, so an OPTIONS ping is written by hand and sent through
# gnutls-cli; the answer must be "SIP/2.0 200".
#   1. tls-port with a self-signed server certificate: a client without a certificate gets 200;
#      plain SIP on the UDP/TCP port still works beside it.
#   2. tls-verify-client="yes" with tls-ca: a client without a certificate, and one whose
#      certificate is self-signed rather than from that CA, get no 200; a client with a
#      certificate signed by the CA gets 200.

set -u
# shellcheck source=tests/e2e/lib.sh
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_init 21
command -v certtool >/dev/null 2>&1 || skip_all "certtool not found (Debian package gnutls-bin)"
command -v gnutls-cli >/dev/null 2>&1 || skip_all "gnutls-cli not found (Debian package gnutls-bin)"
TLS_PORT=$((E2E_SIP_PORT + 10))
_check_ports_free "$TLS_PORT"
plan 17
diag "daemon on 127.0.0.1:$E2E_SIP_PORT (UDP, TCP) and $TLS_PORT (TLS), files in $E2E_DIR"

# ---- keys and certificates (ECDSA P-256: quick to make)
pki=$E2E_DIR/pki
mkdir -p "$pki"
mkcert() { # NAME TEMPLATE-LINES [CA]: NAME.key and NAME.pem, self-signed or signed by CA
    local name=$1 tmpl=$2 ca=${3:-}
    printf '%b' "$tmpl\nexpiration_days = 2\n" >"$pki/$name.tmpl"
    certtool --generate-privkey --key-type=ecdsa --outfile "$pki/$name.key" >/dev/null 2>&1 || return 1
    if [ -z "$ca" ]; then
        certtool --generate-self-signed --load-privkey "$pki/$name.key" \
            --template "$pki/$name.tmpl" --outfile "$pki/$name.pem" >/dev/null 2>&1
    else
        certtool --generate-certificate --load-privkey "$pki/$name.key" \
            --load-ca-certificate "$pki/$ca.pem" --load-ca-privkey "$pki/$ca.key" \
            --template "$pki/$name.tmpl" --outfile "$pki/$name.pem" >/dev/null 2>&1
    fi
}
mkcert server 'cn = "127.0.0.1"\nip_address = "127.0.0.1"\ntls_www_server\nsigning_key' &&
    mkcert ca 'cn = "bibrec e2e CUCM CA"\nca\ncert_signing_key' &&
    mkcert client 'cn = "cucm-node-1"\ntls_www_client\nsigning_key' ca &&
    mkcert rogue 'cn = "cucm-node-1"\ntls_www_client\nsigning_key'
ok $? "certtool makes a self-signed server certificate, a CA, a client certificate from it and a self-signed one"

# tls_options NAME [GNUTLS-CLI ARGS...]: sends one OPTIONS over TLS; succeeds when the answer's
# status line is "SIP/2.0 200". Output in $E2E_DIR/out/tls-NAME.{out,err}.
tls_n=0
tls_options() {
    local name=$1 out=$E2E_DIR/out/tls-$1
    shift
    tls_n=$((tls_n + 1))
    printf '%s\r\n' \
        "OPTIONS sip:127.0.0.1:$TLS_PORT;transport=tls SIP/2.0" \
        "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-tls-$tls_n-$$" \
        "From: <sip:127.0.0.1>;tag=tls-$tls_n" \
        "To: <sip:127.0.0.1:$TLS_PORT>" \
        "Call-ID: tls-$tls_n-$$@127.0.0.1" \
        "CSeq: 101 OPTIONS" \
        "User-Agent: Cisco-CUCM14.0" \
        "Max-Forwards: 0" \
        "Content-Length: 0" \
        "" >"$out.req"
    # gnutls-cli stops at the end of its input; the sleep keeps the connection open for the answer.
    { cat "$out.req"; sleep 1.5; } |
        timeout -k 2 10 gnutls-cli --insecure -p "$TLS_PORT" "$@" 127.0.0.1 >"$out.out" 2>"$out.err"
    grep -q '^SIP/2.0 200 ' "$out.out"
}

# ---- 1. TLS without client certificates
# The checks of check_cross() in src/config/config.c, through --check-config.
check_config() { # NAME SIP-ATTRIBUTES: runs bibrecd --check-config on a file with them
    printf '<?xml version="1.0"?>\n<bibrec>\n  <sip address="127.0.0.1" port="%s" %s/>\n</bibrec>\n' \
        "$E2E_SIP_PORT" "$2" >"$E2E_DIR/$1.xml"
    "$BIBRECD" --check-config "$E2E_DIR/$1.xml" >"$E2E_DIR/out/$1.txt" 2>&1
}
! check_config nocert "tls-port=\"$TLS_PORT\"" && grep -q 'tls-port needs tls-cert and tls-key' "$E2E_DIR/out/nocert.txt"
ok $? "--check-config refuses tls-port without tls-cert and tls-key" ||
    diag_file "$E2E_DIR/out/nocert.txt" 3
! check_config noca "tls-port=\"$TLS_PORT\" tls-cert=\"pki/server.pem\" tls-key=\"pki/server.key\"
    tls-verify-client=\"yes\"" && grep -q 'tls-verify-client needs tls-ca' "$E2E_DIR/out/noca.txt"
ok $? "--check-config refuses tls-verify-client without tls-ca" || diag_file "$E2E_DIR/out/noca.txt" 3

E2E_SIP_ATTRS="tls-port=\"$TLS_PORT\" tls-cert=\"pki/server.pem\" tls-key=\"pki/server.key\""
write_config
start_daemon
ok $? "bibrecd starts with tls-port=$TLS_PORT, tls-cert and tls-key (self-signed, no tls-ca)" || {
    # Go on with the server's own certificate as tls-ca (what the daemon means to use by default),
    # so the listener itself is still tested.
    diag "retrying with tls-ca=\"pki/server.pem\" to test the TLS listener itself"
    E2E_SIP_ATTRS="$E2E_SIP_ATTRS tls-ca=\"pki/server.pem\""
    write_config
    start_daemon || bail_out "bibrecd did not start with a TLS listener"
}
wait_for_log "SIP listening on .*sips:127\.0\.0\.1:$TLS_PORT" 1
ok $? "the log lists the sips: listener" || diag_file "$E2E_DAEMON_LOG" 5

tls_options plain
ok $? "an OPTIONS ping over TLS (no client certificate) gets SIP/2.0 200" || {
    diag_file "$E2E_DIR/out/tls-plain.err" 10
    diag_file "$E2E_DIR/out/tls-plain.out" 10
    diag_file "$E2E_DAEMON_LOG" 10
}
# gnutls-cli reports the handshake on its standard output, before the data it received.
grep -q 'Handshake was completed' "$E2E_DIR/out/tls-plain.out" &&
    grep -q "subject \`CN=127.0.0.1'" "$E2E_DIR/out/tls-plain.out"
ok $? "the answer came over a completed TLS handshake with the configured certificate (CN=127.0.0.1)" ||
    diag_file "$E2E_DIR/out/tls-plain.out" 30

sipp_once options options.xml u1
ok $? "plain SIP on UDP still gets 200 beside the TLS listener"

stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"

# ---- 2. TLS with client certificates from one CA
E2E_SIP_ATTRS="tls-port=\"$TLS_PORT\" tls-cert=\"pki/server.pem\" tls-key=\"pki/server.key\""
E2E_SIP_ATTRS="$E2E_SIP_ATTRS tls-ca=\"pki/ca.pem\" tls-verify-client=\"yes\""
write_config
start_daemon || bail_out "bibrecd did not start with tls-verify-client"
pass "bibrecd starts with tls-verify-client=\"yes\" and tls-ca"

tls_options nocert
status=$?
[ "$status" -ne 0 ] && ! grep -q '^SIP/2.0' "$E2E_DIR/out/tls-nocert.out"
ok $? "a client without a certificate gets no SIP answer at all" || {
    diag_file "$E2E_DIR/out/tls-nocert.err" 10
    diag_file "$E2E_DIR/out/tls-nocert.out" 10
}

tls_options rogue --x509keyfile "$pki/rogue.key" --x509certfile "$pki/rogue.pem"
status=$?
[ "$status" -ne 0 ] && ! grep -q '^SIP/2.0' "$E2E_DIR/out/tls-rogue.out"
ok $? "a client with a self-signed certificate (not from tls-ca) gets no SIP answer" || {
    diag_file "$E2E_DIR/out/tls-rogue.err" 10
    diag_file "$E2E_DIR/out/tls-rogue.out" 10
}

tls_options client --x509keyfile "$pki/client.key" --x509certfile "$pki/client.pem"
ok $? "a client with a certificate signed by tls-ca gets SIP/2.0 200" || {
    diag_file "$E2E_DIR/out/tls-client.err" 10
    diag_file "$E2E_DIR/out/tls-client.out" 10
    diag_file "$E2E_DAEMON_LOG" 10
}

daemon_running
ok $? "bibrecd is still running after the refused handshakes"
# gnutls-cli's words for the server's alert, for the record (they vary between versions).
alert_of() { cat "$E2E_DIR/out/tls-$1.out" "$E2E_DIR/out/tls-$1.err" 2>/dev/null | grep -m 1 'Received alert'; }
diag "gnutls-cli without a certificate: $(alert_of nocert)"
diag "gnutls-cli with the self-signed one: $(alert_of rogue)"
[ "$(grep -c 'sofia-sip: tls_connect.*TLS setup failed' "$E2E_DAEMON_LOG")" -ge 2 ]
ok $? "the daemon logs both refused handshakes (sofia-sip: tls_connect(...): TLS setup failed)" ||
    diag_file "$E2E_DAEMON_LOG" 15

stop_daemon
ok $? "bibrecd exits 0 on SIGTERM"

! grep -rqE -- '-----BEGIN [A-Z ]*PRIVATE KEY-----' "$E2E_SRC" 2>/dev/null
ok $? "no private key was written into the source tree (they stay in the temporary folder)"
