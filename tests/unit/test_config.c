/*
 * Configuration: defaults, a full file, and refusals with line numbers.
 */
#include <errno.h>

#include <unistd.h>

#include "config/settings.h"
#include "tap.h"

static int load(const char *xml, br_config_t *c, char *err, size_t errsz)
{
    br_config_defaults(c);
    return br_config_load_mem(c, "test.xml", xml, strlen(xml), err, errsz);
}

int main(void)
{
    br_config_t c;
    char err[512];

    br_config_defaults(&c);
    is_str(c.sip_address, "127.0.0.1", "default SIP address is loopback");
    is_int(c.sip_port, 5060, "default SIP port 5060");
    ok(c.sip_udp && c.sip_tcp, "UDP and TCP by default");
    is_str(c.store_path, "bibrec-data/store", "default store in a local folder");
    is_int(c.segment_ms, 500, "half-second segments by default");
    is_int(c.rtp_read_ms, 40, "RTP sockets read every 40 ms by default");
    is_int(c.write_queue_mb, 256, "256 MiB of audio may wait for the store writer by default");

    is_int(load("<?xml version=\"1.0\"?>\n<bibrec>\n"
                "  <log level=\"debug\"/>\n"
                "  <store path=\"/var/lib/bibrec\" master-key=\"k\" segment-ms=\"2000\"/>\n"
                "  <sip address=\"192.0.2.50\" port=\"5070\" udp=\"no\" tcp=\"yes\"/>\n"
                "  <rtp address=\"192.0.2.50\" port-min=\"20000\" port-max=\"20100\" jitter-ms=\"100\"/>\n"
                "  <control socket=\"/run/bibrec/ctl.sock\"/>\n"
                "  <session pair-wait-ms=\"3000\"/>\n"
                "</bibrec>\n",
                &c, err, sizeof err),
           0, "full configuration loads");
    is_int(c.log_level, BR_LOG_DEBUG, "log level");
    is_str(c.store_path, "/var/lib/bibrec", "absolute path kept");
    is_str(c.master_key, "k", "relative path (no folder for in-memory config)");
    is_int(c.segment_ms, 2000, "segment-ms");
    is_int(c.sip_port, 5070, "sip port");
    ok(!c.sip_udp && c.sip_tcp, "udp off, tcp on");
    is_int(c.rtp_port_min, 20000, "rtp port-min");
    is_int(c.pair_wait_ms, 3000, "pair wait");

    ok(load("<bibrec>\n\n  <sip prot=\"5060\"/>\n</bibrec>", &c, err, sizeof err) < 0,
       "misspelt attribute refused");
    ok(strstr(err, "test.xml:3:") && strstr(err, "prot"), "error names file, line 3 and the attribute: %s", err);
    ok(load("<bibrec>\n  <sipp/>\n</bibrec>", &c, err, sizeof err) < 0, "unknown element refused");
    ok(strstr(err, "test.xml:2:") != NULL, "unknown element on line 2: %s", err);
    ok(load("<bibrec>\n<sip port=\"70000\"/></bibrec>", &c, err, sizeof err) < 0, "port out of range");
    ok(strstr(err, "port number") != NULL, "says why: %s", err);
    ok(load("<bibrec><sip port=\"-1\"/></bibrec>", &c, err, sizeof err) < 0, "negative port");
    ok(load("<bibrec><store segment-ms=\"5\"/></bibrec>", &c, err, sizeof err) < 0, "segment-ms below range");
    ok(load("<bibrec><sip udp=\"maybe\"/></bibrec>", &c, err, sizeof err) < 0, "bad boolean");
    ok(load("<bibrec><log level=\"loud\"/></bibrec>", &c, err, sizeof err) < 0, "bad log level");
    ok(load("<bibrec><sip udp=\"no\" tcp=\"no\"/></bibrec>", &c, err, sizeof err) < 0, "no transport");
    ok(load("<bibrec><rtp port-min=\"5000\" port-max=\"6000\"/></bibrec>", &c, err, sizeof err) < 0,
       "SIP port inside RTP range refused");
    ok(load("<recorder/>", &c, err, sizeof err) < 0, "wrong root element");
    ok(load("<bibrec><sip port=\"5060\"></bibrec>", &c, err, sizeof err) < 0, "malformed XML");
    ok(strstr(err, "test.xml:1:") != NULL, "parse error has a line: %s", err);
    ok(load("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><bibrec><sip address=\"&e;\"/></bibrec>",
            &c, err, sizeof err) < 0 || strstr(c.sip_address, "root") == NULL,
       "external entities are not expanded");
    {
        char path[1024];
        br_config_defaults(&c);
        is_int(br_config_load(&c, tap_srcpath("contrib/bibrec.xml.example", path, sizeof path), err,
                              sizeof err),
               0, "the example production configuration is valid: %s", err);
    }
    ok(br_config_load(&c, "/nonexistent/bibrec.xml", err, sizeof err) < 0, "missing file refused");
    {
        char path[] = "/tmp/bibrec-config-XXXXXX";
        int fd = mkstemp(path);
        if (fd >= 0 && write(fd, "<bibrec/>", 9) == 9) {
            br_config_defaults(&c);
            is_int(br_config_load(&c, path, err, sizeof err), 0, "a file with defaults only loads");
            ok(strncmp(c.store_path, "/tmp/bibrec-data/", 17) == 0, "default paths live beside the file: %s",
               c.store_path);
            ok(c.http_tls_cert[0] == 0 && c.tls_cert[0] == 0 && c.tls_ca[0] == 0,
               "empty default paths stay empty (no TLS unless configured)");
        }
        if (fd >= 0)
            close(fd);
        unlink(path);
    }
    return tap_done();
}
