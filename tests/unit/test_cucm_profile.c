/*
 * CUCM profile: the AXL requests and the guide rendered from a configuration
 * with non-default values, written to a temporary folder, parsed back with
 * libxml2, and every configured value looked up where AXL (or CUCM
 * Administration, for the guide) expects it. Also: IPv6 and TLS, refusals,
 * and that cucm-profiles/templates/ is what the code renders today.
 */
#include <dirent.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "config/settings.h"
#include "cucm/guide.h"
#include "cucm/profile.h"
#include "tap.h"

/* Non-default values everywhere, UDP only, and names that need escaping. */
static const char config_xml[] =
    "<bibrec>\n"
    "  <sip address=\"192.0.2.50\" port=\"5070\" udp=\"yes\" tcp=\"no\" trusted=\"10.1.1.0/24\"/>\n"
    "  <rtp port-min=\"20000\" port-max=\"20999\"/>\n"
    "  <cucm recording-number=\"7777\" trunk-name=\"rec-trunk-2\"\n"
    "        recording-profile=\"Rec Profile &amp; Co\" recording-css=\"rec-css-2\"\n"
    "        partition=\"rec-pt&lt;2&gt;\" device-pool=\"DP-Recorders\" sip-profile=\"rec sip 2\"\n"
    "        security-profile=\"rec sec 2\" announcement-number=\"7778\" axl-user=\"provision\"/>\n"
    "</bibrec>\n";

static int load(br_config_t *cfg, const char *xml)
{
    char err[256] = "";
    br_config_defaults(cfg);
    if (br_config_load_mem(cfg, "test.xml", xml, strlen(xml), err, sizeof err) < 0) {
        printf("# config refused: %s\n", err);
        return -1;
    }
    return 0;
}

static xmlDocPtr parse_file(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return xmlReadFile(path, NULL, XML_PARSE_NONET);
}

/* The string value of an XPath expression (of the first node of a node
 * set), or "" when it selects nothing. */
static const char *xp(xmlDocPtr doc, const char *expr)
{
    static char out[1024];
    xmlXPathContextPtr ctx = doc ? xmlXPathNewContext(doc) : NULL;
    xmlXPathObjectPtr r;
    xmlChar *s;

    out[0] = 0;
    if (!ctx)
        return out;
    xmlXPathRegisterNs(ctx, BAD_CAST "s", BAD_CAST BR_CUCM_SOAP_NS);
    xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST BR_CUCM_AXL_NS);
    xmlXPathRegisterNs(ctx, BAD_CAST "h", BAD_CAST "http://www.w3.org/1999/xhtml");
    xmlXPathRegisterNs(ctx, BAD_CAST "xsi", BAD_CAST "http://www.w3.org/2001/XMLSchema-instance");
    r = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    s = r ? xmlXPathCastToString(r) : NULL;
    snprintf(out, sizeof out, "%s", s ? (const char *)s : "");
    xmlFree(s);
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(ctx);
    return out;
}

static int count(xmlDocPtr doc, const char *expr)
{
    char e[512];
    snprintf(e, sizeof e, "count(%s)", expr);
    return atoi(xp(doc, e));
}

/* A path below the operation element of an AXL request. */
#define OP(op, path) "/s:Envelope/s:Body/a:" op "/" path

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[1024];

    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static xmlDocPtr req(const br_cucm_profile_t *p, const char *dir, size_t i)
{
    const br_cucm_request_t *r = br_cucm_profile_request(p, i);
    return r ? parse_file(dir, r->file) : NULL;
}

static void check_axl(const br_cucm_profile_t *p, const char *dir)
{
    static const char *const files[] = {
        "01-addSipTrunkSecurityProfile.xml", "02-addSipProfile.xml",
        "03-addSipTrunk.xml",                "04-addRoutePartition.xml",
        "05-addCss.xml",                     "06-addRoutePattern.xml",
        "07-addRoutePattern-announcement.xml", "08-addRecordingProfile.xml",
        "09-addIpPhoneServices.xml",         "10-addSoftKeyTemplate.xml",
        "11-updateSoftKeySet.xml",           "12-updatePhone-SEP00AABBCCDD01.xml",
        "13-updatePhone-SEPAABBCCDDEEFF.xml",
    };
    int well_formed = 0, shaped = 0, unqualified = 0, same = 0;
    xmlDocPtr d;

    if (!is_int(br_cucm_profile_count(p), BR_ARRAY_SIZE(files), "13 requests"))
        return;
    for (size_t i = 0; i < BR_ARRAY_SIZE(files); i++) {
        const br_cucm_request_t *r = br_cucm_profile_request(p, i);
        char expect[128], path[1024], *file = NULL;
        FILE *f;
        long n = 0;

        if (strcmp(r->file, files[i]) != 0)
            printf("# request %zu is %s, want %s\n", i + 1, r->file, files[i]);
        if (!(d = parse_file(dir, r->file)))
            continue;
        well_formed++;
        /* SOAP 1.1 envelope, the operation in AXL's namespace, its content
         * unqualified (AXL's schema: elementFormDefault="unqualified"). */
        snprintf(expect, sizeof expect, BR_CUCM_AXL_NS " %s", r->method);
        shaped += strcmp(xp(d, "concat(namespace-uri(/s:Envelope/s:Body/*[1]), ' ', "
                               "local-name(/s:Envelope/s:Body/*[1]))"),
                         expect) == 0 &&
                  count(d, "/s:Envelope/s:Header") == 1 && !r->is_template;
        unqualified += count(d, "/s:Envelope/s:Body/*/descendant::*[namespace-uri() != '']") == 0 &&
                       count(d, "/s:Envelope/s:Body/*/*") > 0;
        xmlFreeDoc(d);
        /* What is written is what would be sent. */
        snprintf(path, sizeof path, "%s/%s", dir, r->file);
        if ((f = fopen(path, "rb")) && (file = malloc(r->len + 1)))
            n = (long)fread(file, 1, r->len + 1, f);
        same += n == (long)r->len && memcmp(file, r->body, r->len) == 0;
        free(file);
        if (f)
            fclose(f);
    }
    is_int(well_formed, BR_ARRAY_SIZE(files), "every request file is well-formed XML");
    is_int(shaped, BR_ARRAY_SIZE(files), "each is a SOAP envelope around its AXL operation");
    is_int(unqualified, BR_ARRAY_SIZE(files), "the operations' content is unqualified");
    is_int(same, BR_ARRAY_SIZE(files), "each file holds exactly the request body");
    is_str(br_cucm_profile_request(p, 2)->file, "03-addSipTrunk.xml", "file names are numbered");

    d = req(p, dir, 0);
    is_str(xp(d, OP("addSipTrunkSecurityProfile", "sipTrunkSecurityProfile/name")), "rec sec 2",
           "security profile name");
    is_str(xp(d, OP("addSipTrunkSecurityProfile", "sipTrunkSecurityProfile/outgoingTransport")),
           "UDP", "outgoing transport: UDP, the only listener");
    is_str(xp(d, OP("addSipTrunkSecurityProfile", "sipTrunkSecurityProfile/securityMode")),
           "Non Secure", "non-secure without TLS");
    xmlFreeDoc(d);

    d = req(p, dir, 1);
    is_str(xp(d, OP("addSipProfile", "sipProfile/name")), "rec sip 2", "SIP profile name");
    is_str(xp(d, OP("addSipProfile", "sipProfile/enableOutboundOptionsPing")), "true",
           "OPTIONS ping on");
    xmlFreeDoc(d);

    d = req(p, dir, 2);
    is_str(xp(d, OP("addSipTrunk", "sipTrunk/name")), "rec-trunk-2", "trunk name");
    is_str(xp(d, OP("addSipTrunk", "sipTrunk/destinations/destination/addressIpv4")), "192.0.2.50",
           "trunk destination address");
    is_str(xp(d, OP("addSipTrunk", "sipTrunk/destinations/destination/port")), "5070",
           "trunk destination port");
    is_str(xp(d, OP("addSipTrunk", "sipTrunk/destinations/destination/sortOrder")), "1",
           "destination sort order");
    is_str(xp(d, OP("addSipTrunk", "sipTrunk/devicePoolName")), "DP-Recorders", "device pool");
    is_str(xp(d, OP("addSipTrunk", "sipTrunk/securityProfileName")), "rec sec 2",
           "trunk names the security profile");
    is_str(xp(d, OP("addSipTrunk", "sipTrunk/sipProfileName")), "rec sip 2",
           "trunk names the SIP profile");
    is_str(xp(d, OP("addSipTrunk", "sipTrunk/runOnEveryNode")), "true", "runs on all nodes");
    is_str(xp(d, OP("addSipTrunk", "sipTrunk/dtmfSignalingMethod")), "RFC 2833",
           "DTMF as telephone-event");
    ok(strstr(xp(d, OP("addSipTrunk", "sipTrunk/description")), "PCMU, PCMA, telephone-event") != NULL,
       "trunk description names the codecs bibrecd offers: %s",
       xp(d, OP("addSipTrunk", "sipTrunk/description")));
    xmlFreeDoc(d);

    d = req(p, dir, 3);
    is_str(xp(d, OP("addRoutePartition", "routePartition/name")), "rec-pt<2>",
           "partition name, escaped and read back");
    xmlFreeDoc(d);

    d = req(p, dir, 4);
    is_str(xp(d, OP("addCss", "css/name")), "rec-css-2", "recording CSS name");
    is_str(xp(d, OP("addCss", "css/members/member/routePartitionName")), "rec-pt<2>",
           "the CSS holds the partition");
    xmlFreeDoc(d);

    d = req(p, dir, 5);
    is_str(xp(d, OP("addRoutePattern", "routePattern/pattern")), "7777",
           "route pattern = recording number");
    is_str(xp(d, OP("addRoutePattern", "routePattern/routePartitionName")), "rec-pt<2>",
           "route pattern in the partition");
    is_str(xp(d, OP("addRoutePattern", "routePattern/destination/gatewayName")), "rec-trunk-2",
           "route pattern points at the trunk");
    is_str(xp(d, OP("addRoutePattern", "routePattern/dialPlanName/@xsi:nil")), "true",
           "empty references are xsi:nil");
    xmlFreeDoc(d);

    d = req(p, dir, 6);
    is_str(xp(d, OP("addRoutePattern", "routePattern/pattern")), "7778",
           "announcement route pattern");
    xmlFreeDoc(d);

    d = req(p, dir, 7);
    is_str(xp(d, OP("addRecordingProfile", "recordingProfile/name")), "Rec Profile & Co",
           "recording profile name with '&'");
    is_str(xp(d, OP("addRecordingProfile", "recordingProfile/recordingCssName")), "rec-css-2",
           "recording profile's CSS");
    is_str(xp(d, OP("addRecordingProfile", "recordingProfile/recorderDestination")), "7777",
           "Recording Destination Address");
    xmlFreeDoc(d);

    d = req(p, dir, 8);
    is_str(xp(d, OP("addIpPhoneServices", "ipPhoneServices/serviceUrl")),
           "http://192.0.2.50:8080/phone?device=#DEVICENAME#",
           "service URL derived from the SIP address, with #DEVICENAME#");
    is_str(xp(d, OP("addIpPhoneServices", "ipPhoneServices/serviceCategory")), "XML Service",
           "XML service");
    xmlFreeDoc(d);

    d = req(p, dir, 9);
    is_str(xp(d, OP("addSoftKeyTemplate", "softKeyTemplate/baseSoftkeyTemplateName")),
           "Standard User", "softkey template copies Standard User");
    xmlFreeDoc(d);
    d = req(p, dir, 10);
    is_str(xp(d, OP("updateSoftKeySet", "addCallStates/callState[callStateName='Connected']"
                                        "/softKeys/softKey/softKeyName")),
           "Record", "Record in the Connected state");
    xmlFreeDoc(d);

    d = req(p, dir, 11);
    is_str(xp(d, OP("updatePhone", "name")), "SEP00AABBCCDD01", "updatePhone names the phone");
    is_int(count(d, OP("updatePhone", "lines/line")), 2, "both lines of that phone, in one request");
    is_str(xp(d, OP("updatePhone", "lines/line[index='1']/dirn/pattern")), "4001", "line 1 DN");
    is_str(xp(d, OP("updatePhone", "lines/line[index='1']/dirn/routePartitionName/@xsi:nil")),
           "true", "line 1 in <None>");
    is_str(xp(d, OP("updatePhone", "lines/line[index='2']/dirn/pattern")), "4002", "line 2 DN");
    is_str(xp(d, OP("updatePhone", "lines/line[index='2']/dirn/routePartitionName")),
           "Internal_PT", "line 2 partition");
    is_str(xp(d, OP("updatePhone", "lines/line[2]/recordingProfileName")), "Rec Profile & Co",
           "line names the recording profile");
    is_str(xp(d, OP("updatePhone", "lines/line[2]/recordingFlag")),
           "Selective Call Recording Enabled", "selective mode");
    is_str(xp(d, OP("updatePhone", "lines/line[2]/recordingMediaSource")), "Phone Preferred",
           "recording media source");
    is_str(xp(d, OP("updatePhone", "softkeyTemplateName")), "bibrec Standard User",
           "selective mode assigns the softkey template");
    is_str(xp(d, OP("updatePhone", "builtInBridgeStatus")), "On", "Built In Bridge on");
    is_str(xp(d, OP("updatePhone", "callInfoPrivacyStatus")), "Off", "Privacy off");
    xmlFreeDoc(d);

    d = req(p, dir, 12);
    is_str(xp(d, OP("updatePhone", "lines/line/dirn/pattern")), "5001", "second phone's line");
    xmlFreeDoc(d);
}

/* The value cell of the row whose header is field, in table id. */
static const char *cell(xmlDocPtr d, const char *id, const char *field)
{
    char e[512];
    snprintf(e, sizeof e, "//h:table[@id='%s']/h:tr[h:th='%s']/h:td[1]", id, field);
    return xp(d, e);
}

static void check_guide(const char *dir)
{
    xmlDocPtr d = parse_file(dir, BR_CUCM_GUIDE_FILE);

    if (!ok(d != NULL, "guide.html is well-formed XML"))
        return;
    is_str(xp(d, "local-name(/*)"), "html", "it is an html document");
    is_str(xp(d, "namespace-uri(/*)"), "http://www.w3.org/1999/xhtml", "in the XHTML namespace");
    is_str(cell(d, "sip-trunk", "Destination Address"), "192.0.2.50", "guide: destination address");
    is_str(cell(d, "sip-trunk", "Destination Port"), "5070", "guide: destination port");
    is_str(cell(d, "sip-trunk", "Device Name"), "rec-trunk-2", "guide: trunk name");
    is_str(cell(d, "sip-trunk", "Device Pool"), "DP-Recorders", "guide: device pool");
    is_str(cell(d, "sip-trunk", "Run On All Active Unified CM Nodes"), "on", "guide: all nodes");
    is_str(cell(d, "security-profile", "Outgoing Transport Type"), "UDP", "guide: transport");
    is_str(cell(d, "sip-profile", "Name"), "rec sip 2", "guide: SIP profile");
    is_str(cell(d, "partition", "Partition Name"), "rec-pt<2>", "guide: partition");
    is_str(cell(d, "css", "Calling Search Space Name"), "rec-css-2", "guide: CSS");
    is_str(cell(d, "route-pattern", "Route Pattern"), "7777", "guide: route pattern");
    is_str(cell(d, "route-pattern", "Gateway/Route List"), "rec-trunk-2", "guide: pattern to trunk");
    is_str(cell(d, "recording-profile", "Name"), "Rec Profile & Co", "guide: recording profile");
    is_str(cell(d, "recording-profile", "Recording Destination Address"), "7777",
           "guide: Recording Destination Address");
    is_str(cell(d, "line", "Recording Option"), "Selective Call Recording Enabled",
           "guide: recording option");
    is_str(cell(d, "line", "Recording Media Source"), "Phone Preferred", "guide: media source");
    is_str(cell(d, "phone", "Built In Bridge"), "On", "guide: built-in bridge");
    is_str(cell(d, "values", "Codecs bibrecd offers"), "PCMU, PCMA, telephone-event",
           "guide: codecs");
    is_str(cell(d, "values", "Peers bibrecd takes SIP from"), "10.1.1.0/24",
           "guide: the trusted peers to extend with CUCM's nodes");
    ok(strstr(xp(d, "//h:section[@id='regions']"), "64 kbps (G.722, G.711)") != NULL,
       "guide: the region bit rate that admits G.711");
    is_str(cell(d, "phone-service", "Service URL"),
           "http://192.0.2.50:8080/phone?device=#DEVICENAME#", "guide: service URL");
    is_str(cell(d, "announcement-route-pattern", "Route Pattern"), "7778",
           "guide: announcement pattern");
    is_int(count(d, "//h:table[@id='axl-requests']/h:tr[h:td]"), 13,
           "guide lists every AXL request");
    xmlFreeDoc(d);
}

/* The checked-in templates are what --placeholders renders now. */
static void check_templates(const br_config_t *defaults)
{
    br_cucm_options_t o = { .cfg = defaults, .placeholders = 1 };
    br_cucm_profile_t *p = NULL;
    char err[256] = "", dir[1024], path[1200];
    int same = 0, files = 0;
    DIR *dh;
    struct dirent *e;

    if (!ok(br_cucm_profile_new(&p, &o, err, sizeof err) == 0, "placeholder profile: %s", err))
        return;
    tap_srcpath("cucm-profiles/templates", dir, sizeof dir);
    for (size_t i = 0; i < br_cucm_profile_count(p); i++) {
        const br_cucm_request_t *r = br_cucm_profile_request(p, i);
        FILE *f;
        char *buf = malloc(r->len + 2);
        size_t n = 0;
        snprintf(path, sizeof path, "%s/%s", dir, r->file);
        if (buf && (f = fopen(path, "rb"))) {
            n = fread(buf, 1, r->len + 1, f);
            fclose(f);
        }
        if (buf && n == r->len && memcmp(buf, r->body, n) == 0)
            same++;
        else
            printf("# %s differs from what the code renders; regenerate with\n"
                   "#   bibrec cucm-profile --placeholders --format axl cucm-profiles/templates\n",
                   path);
        free(buf);
    }
    is_int(same, br_cucm_profile_count(p), "cucm-profiles/templates/ matches the rendered requests");
    if ((dh = opendir(dir)) != NULL) {
        while ((e = readdir(dh)) != NULL)
            files += strstr(e->d_name, ".xml") != NULL;
        closedir(dh);
    }
    is_int(files, br_cucm_profile_count(p), "and has no other request files");
    ok(br_cucm_profile_request(p, br_cucm_profile_count(p) - 1)->is_template,
       "the templates are marked as templates");
    br_cucm_profile_free(p);
}

static void check_variants(void)
{
    br_config_t cfg;
    br_cucm_profile_t *p = NULL;
    br_cucm_options_t o = { .cfg = &cfg };
    br_cucm_line_t line;
    char err[256] = "";
    const br_cucm_request_t *r;

    /* Defaults: TCP (both listen), no announcement, an updatePhone template. */
    br_config_defaults(&cfg);
    if (ok(br_cucm_profile_new(&p, &o, err, sizeof err) == 0, "the built-in defaults render: %s", err)) {
        is_int(br_cucm_profile_count(p), 11, "11 requests without announcement number or phones");
        is_str(br_cucm_profile_values(p)->transport, "TCP", "TCP preferred to UDP");
        r = br_cucm_profile_request(p, 10);
        is_str(r->file, "11-updatePhone-TEMPLATE.xml", "the per-line template");
        ok(r->is_template && strstr(r->body, "{{phone_name}}") && strstr(r->body, "{{line_dn}}"),
           "with clearly marked placeholders");
        ok(strstr(r->body, "Automatic Call Recording Enabled") && !strstr(r->body, "softkeyTemplateName"),
           "automatic mode does not touch the softkey template");
        br_cucm_profile_free(p);
        p = NULL;
    }

    /* IPv6: addressIpv6 and a bracketed service URL. */
    if (load(&cfg, "<bibrec><sip address=\"2001:db8::50\" trusted=\"2001:db8::/64\"/></bibrec>") == 0 &&
        ok(br_cucm_profile_new(&p, &o, err, sizeof err) == 0, "IPv6 renders: %s", err)) {
        r = br_cucm_profile_request(p, 2);
        ok(strstr(r->body, "<addressIpv6>2001:db8::50</addressIpv6>") != NULL, "IPv6 destination");
        r = br_cucm_profile_request(p, 7);
        ok(strstr(r->body, "http://[2001:db8::50]:8080/phone?device=#DEVICENAME#") != NULL,
           "bracketed IPv6 in the service URL");
        br_cucm_profile_free(p);
        p = NULL;
    }

    /* TLS: port and transport of the TLS listener, the subject name. */
    if (load(&cfg, "<bibrec><sip address=\"192.0.2.60\" tls-port=\"5061\" tls-cert=\"c.pem\" "
                   "tls-key=\"k.pem\"/></bibrec>") == 0) {
        ok(br_cucm_profile_new(&p, &o, err, sizeof err) == 0, "TLS without subject renders: %s", err);
        if (p) {
            r = br_cucm_profile_request(p, 0);
            ok(r->is_template && strstr(r->body, "{{tls_subject_name}}"),
               "without --tls-subject the security profile is a template");
            br_cucm_profile_free(p);
            p = NULL;
        }
        o.tls_subject = "recorder.example.com";
        if (ok(br_cucm_profile_new(&p, &o, err, sizeof err) == 0, "TLS renders: %s", err)) {
            r = br_cucm_profile_request(p, 0);
            ok(!r->is_template && strstr(r->body, "<outgoingTransport>TLS</outgoingTransport>") &&
                   strstr(r->body, "<securityMode>Encrypted</securityMode>") &&
                   strstr(r->body, "<x509SubjectName>recorder.example.com</x509SubjectName>"),
               "TLS security profile");
            ok(strstr(br_cucm_profile_request(p, 2)->body, "<port>5061</port>") != NULL,
               "the trunk goes to the TLS port");
            br_cucm_profile_free(p);
            p = NULL;
        }
        o.transport = "tcp";
        if (ok(br_cucm_profile_new(&p, &o, err, sizeof err) == 0, "--transport tcp: %s", err)) {
            ok(strstr(br_cucm_profile_request(p, 2)->body, "<port>5060</port>") != NULL,
               "TCP goes to the SIP port");
            br_cucm_profile_free(p);
            p = NULL;
        }
        o.transport = NULL;
        o.tls_subject = NULL;
    }

    /* Refusals. */
    load(&cfg, "<bibrec><sip tcp=\"no\"/></bibrec>");
    o.transport = "tcp";
    ok(br_cucm_profile_new(&p, &o, err, sizeof err) == -EINVAL && strstr(err, "TCP"),
       "TCP refused when bibrecd does not listen on it: %s", err);
    o.transport = "tls";
    ok(br_cucm_profile_new(&p, &o, err, sizeof err) == -EINVAL && strstr(err, "TLS"),
       "TLS refused without a TLS listener: %s", err);
    o.transport = NULL;
    load(&cfg, "<bibrec><cucm recording-number=\"70a0\"/></bibrec>");
    ok(br_cucm_profile_new(&p, &o, err, sizeof err) == -EINVAL && strstr(err, "recording-number"),
       "a recording number that is not a number: %s", err);
    load(&cfg, "<bibrec><cucm phone-service-url=\"http://x/phone\"/></bibrec>");
    ok(br_cucm_profile_new(&p, &o, err, sizeof err) == -EINVAL && strstr(err, "#DEVICENAME#"),
       "a service URL without #DEVICENAME#: %s", err);
    load(&cfg, "<bibrec><cucm trunk-name=\"my trunk\"/></bibrec>");
    ok(br_cucm_profile_new(&p, &o, err, sizeof err) == -EINVAL && strstr(err, "trunk-name"),
       "a trunk name with a space: %s", err);
    load(&cfg, "<bibrec><cucm recording-profile=\"012345678901234567890123456789012345678901234567890\"/></bibrec>");
    ok(br_cucm_profile_new(&p, &o, err, sizeof err) == -EINVAL && strstr(err, "50"),
       "a name longer than AXL allows: %s", err);
    ok(p == NULL, "nothing is returned on failure");

    ok(br_cucm_line_parse(&line, "SEP00AABBCCDD01", "4001@Internal PT", err, sizeof err) == 0 &&
           strcmp(line.partition, "Internal PT") == 0 && strcmp(line.dn, "4001") == 0,
       "DN@PARTITION");
    ok(br_cucm_line_parse(&line, "SEP00AABBCCDD01", "40a1", err, sizeof err) == -EINVAL,
       "a DN with a letter: %s", err);
    ok(br_cucm_line_parse(&line, "SEP00AABBCCDD01", "4001@", err, sizeof err) == -EINVAL,
       "an empty partition: %s", err);
    ok(br_cucm_line_parse(&line, "../SEP1", "4001", err, sizeof err) == -EINVAL,
       "a device name that is a path: %s", err);
}

int main(void)
{
    br_config_t cfg, defaults;
    br_cucm_line_t lines[3];
    br_cucm_options_t o = { .cfg = &cfg, .mode = BR_CUCM_SELECTIVE, .lines = lines, .nlines = 3 };
    br_cucm_profile_t *p = NULL;
    char err[256] = "", dir[] = "/tmp/test_cucm_profile.XXXXXX";

    if (load(&cfg, config_xml) < 0 || !mkdtemp(dir)) {
        printf("Bail out! setup failed\n");
        return 1;
    }
    /* Lines out of phone order: the two of the first phone still share a
     * request, in the order given. */
    br_cucm_line_parse(&lines[0], "SEP00AABBCCDD01", "4001", err, sizeof err);
    br_cucm_line_parse(&lines[1], "SEPAABBCCDDEEFF", "5001", err, sizeof err);
    br_cucm_line_parse(&lines[2], "SEP00AABBCCDD01", "4002@Internal_PT", err, sizeof err);
    if (ok(br_cucm_profile_new(&p, &o, err, sizeof err) == 0, "profile renders: %s", err)) {
        is_int(br_cucm_profile_write_axl(p, dir, err, sizeof err), 0, "AXL requests written: %s", err);
        is_int(br_cucm_guide_write(p, dir, err, sizeof err), 0, "guide written: %s", err);
        check_axl(p, dir);
        check_guide(dir);
        br_cucm_profile_free(p);
    }
    remove_dir(dir);

    check_variants();
    br_config_defaults(&defaults);
    check_templates(&defaults);
    xmlCleanupParser();
    return tap_done();
}
