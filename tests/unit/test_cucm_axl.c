/*
 * AXL answers: a success gives the <return> UUID, a SOAP fault gives its
 * faultstring and AXL's code and message, anything else is refused with a
 * reason. Posting to a port where nothing listens fails cleanly. (Posting
 * to a server that answers is tested end to end in t_cucm_profile.sh.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cucm/axl.h"
#include "tap.h"

#define ENV_OPEN \
    "<?xml version='1.0' encoding='UTF-8'?>" \
    "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>"
#define ENV_CLOSE "</soapenv:Body></soapenv:Envelope>"

static int parse(const char *body, const char *method, br_axl_result_t *res)
{
    return br_axl_parse_response(body, strlen(body), method, res);
}

/* A loopback port that nothing listens on (bound, then closed). */
static int dead_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

int main(void)
{
    br_axl_result_t res;
    br_axl_t *axl = NULL;
    br_axl_options_t o = { .user = "axladmin", .password = "secret" };
    char url[64];
    int port;

    is_int(parse(ENV_OPEN "<ns:addSipTrunkResponse xmlns:ns=\"http://www.cisco.com/AXL/API/14.0\">"
                          "<return>{3C4D1A2B-0000-4000-8000-00000000AB01}</return>"
                          "</ns:addSipTrunkResponse>" ENV_CLOSE,
                 "addSipTrunk", &res),
           0, "a success is accepted");
    is_str(res.uuid, "{3C4D1A2B-0000-4000-8000-00000000AB01}", "its <return> UUID is read");
    ok(!res.fault && !res.error[0], "no fault, no error");

    is_int(parse(ENV_OPEN "<soapenv:Fault><faultcode>soapenv:Client</faultcode>"
                          "<faultstring>Item not valid: The specified Route Partition was not found</faultstring>"
                          "<detail><axlError><axlcode>5007</axlcode>"
                          "<axlmessage>Item not valid: The specified Route Partition was not found</axlmessage>"
                          "<request>addRoutePattern</request></axlError></detail>"
                          "</soapenv:Fault>" ENV_CLOSE,
                 "addRoutePattern", &res),
           -EPROTO, "a SOAP fault is a failure");
    ok(res.fault, "flagged as a fault");
    is_str(res.faultcode, "soapenv:Client", "faultcode");
    is_str(res.faultstring, "Item not valid: The specified Route Partition was not found",
           "faultstring");
    is_str(res.axlcode, "5007", "axlcode from the detail");
    ok(strstr(res.error, "Route Partition was not found") && strstr(res.error, "5007") &&
           !strstr(res.error, "found: Item"),
       "one clear line, the message not repeated: %s", res.error);

    is_int(parse(ENV_OPEN "<soapenv:Fault><faultcode>soapenv:Server</faultcode>"
                          "<faultstring>\n  Could not insert new row - duplicate value\n</faultstring>"
                          "<detail><axlError><axlcode>-239</axlcode><axlmessage>Duplicate key</axlmessage>"
                          "</axlError></detail></soapenv:Fault>" ENV_CLOSE,
                 "addRoutePartition", &res),
           -EPROTO, "another fault");
    ok(strstr(res.error, "Could not insert new row - duplicate value [axlcode -239: Duplicate key]") != NULL,
       "faultstring trimmed, AXL message added: %s", res.error);

    /* The namespace declarations left out, as a sloppy server might. */
    is_int(parse("<soapenv:Envelope><soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode>"
                 "<faultstring>Bad</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>",
                 "addCss", &res),
           -EPROTO, "a fault without namespace declarations");
    ok(res.fault && strcmp(res.faultstring, "Bad") == 0, "is still reported: %s", res.error);

    is_int(parse(ENV_OPEN "<ns:addCssResponse xmlns:ns=\"http://www.cisco.com/AXL/API/14.0\">"
                          "<return>{1}</return></ns:addCssResponse>" ENV_CLOSE,
                 "addSipTrunk", &res),
           -EPROTO, "the answer to another request is refused");
    ok(strstr(res.error, "addCssResponse") != NULL, "and named: %s", res.error);
    is_int(parse(ENV_OPEN "<ns:addCssResponse xmlns:ns=\"x\"/>" ENV_CLOSE, "addCss", &res), -EPROTO,
           "a response without <return>");
    is_int(parse("<html><body>Login</body></html>", "addCss", &res), -EPROTO, "an HTML page");
    ok(strstr(res.error, "not an AXL SOAP envelope") != NULL, "says so: %s", res.error);
    is_int(parse("<soapenv:Envelope", "addCss", &res), -EPROTO, "broken XML");
    is_int(br_axl_parse_response("", 0, "addCss", &res), -EPROTO, "an empty answer");
    is_int(parse("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>" ENV_OPEN
                 "<ns:addCssResponse xmlns:ns=\"x\"><return>&e;</return></ns:addCssResponse>" ENV_CLOSE,
                 "addCss", &res) == 0 ? (int)(strstr(res.uuid, "root") != NULL) : 0,
           0, "external entities are not expanded");

    o.url = "ftp://cucm/axl/";
    is_int(br_axl_open(&axl, &o), -EINVAL, "only http and https URLs");
    port = dead_port();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/axl/", port);
    o.url = url;
    if (ok(port > 0 && br_axl_open(&axl, &o) == 0, "open %s", url)) {
        is_int(br_axl_post(axl, "addCss", "<x/>", 4, &res), -ECONNREFUSED,
               "nothing listening: connection refused");
        ok(res.error[0] && strstr(res.error, url), "the error names the URL: %s", res.error);
        is_int(res.http_status, 0, "no HTTP status");
        br_axl_close(axl);
    }
    br_axl_close(NULL);
    return tap_done();
}
