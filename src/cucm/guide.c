/*
 * The administrator's guide as XHTML, built with libxml2's tree API so that
 * every configured value is escaped on the way out. The text follows
 * cucm-profiles/README.md section by section; where the README shows the
 * default names, this page shows the configured ones.
 *
 * The page is "polyglot" XHTML (an HTML5 doctype, the XHTML namespace, no
 * XML declaration, no empty elements that HTML would read differently), so
 * that browsers open it as HTML and XML parsers read it as XML.
 */
#include "guide.h"

#include <errno.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define XHTML_NS "http://www.w3.org/1999/xhtml"
#define BX(s) ((const xmlChar *)(s))

static const char style[] =
    "body { font-family: sans-serif; max-width: 60em; margin: 2em auto; line-height: 1.4 }\n"
    "table { border-collapse: collapse; margin: 0.5em 0 1em }\n"
    "th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left; vertical-align: top }\n"
    "th { background: #eee }\n"
    "td.value { font-family: monospace; white-space: pre-wrap }\n"
    "p.where { font-style: italic }\n";

/* Children inherit the XHTML namespace of their parent (xmlNewChild). */
static xmlNodePtr el(xmlNodePtr parent, const char *name, const char *content)
{
    return parent ? xmlNewTextChild(parent, NULL, BX(name), content ? BX(content) : NULL) : NULL;
}

static xmlNodePtr elf(xmlNodePtr parent, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static xmlNodePtr elf(xmlNodePtr parent, const char *name, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return el(parent, name, buf);
}

static void attr(xmlNodePtr n, const char *name, const char *value)
{
    if (n)
        xmlNewProp(n, BX(name), BX(value));
}

static xmlNodePtr section(xmlNodePtr body, const char *id, const char *title, const char *where)
{
    xmlNodePtr s = el(body, "section", NULL);
    attr(s, "id", id);
    el(s, "h2", title);
    if (where)
        attr(el(s, "p", where), "class", "where");
    return s;
}

static xmlNodePtr table_with(xmlNodePtr parent, const char *id, const char *third)
{
    xmlNodePtr t = el(parent, "table", NULL), tr = el(t, "tr", NULL);
    attr(t, "id", id);
    el(tr, "th", "Field");
    el(tr, "th", "Value");
    el(tr, "th", third);
    return t;
}

static xmlNodePtr table(xmlNodePtr parent, const char *id)
{
    return table_with(parent, id, "Why");
}

static void row(xmlNodePtr t, const char *field, const char *value, const char *why)
{
    xmlNodePtr tr = el(t, "tr", NULL);
    el(tr, "th", field);
    attr(el(tr, "td", value), "class", "value");
    el(tr, "td", why ? why : "");
}

static void list_item(xmlNodePtr list, const char *text)
{
    el(list, "li", text);
}

static void intro(xmlNodePtr body, const br_cucm_values_t *v)
{
    xmlNodePtr s, t;

    elf(body, "p",
        "bibrec records the calls that CUCM asks a phone's built-in bridge to fork: for every "
        "recorded call CUCM places two SIP calls over a SIP trunk to the recorder, one with the "
        "recorded user's voice and one with the other party's. This page lists everything to "
        "add in CUCM Administration so that they reach bibrecd, with the values of bibrecd's "
        "configuration. The AXL requests next to this file create the same objects by script.");

    s = section(body, "configuration", "What bibrecd's configuration decides", NULL);
    t = table_with(s, "values", "From");
    row(t, "bibrecd listens on", v->listeners, "<sip udp, tcp, port, tls-port>");
    row(t, "Trunk destination", v->address, "<sip address> or --address");
    row(t, "Destination port", v->port, "<sip port>, or <sip tls-port> for TLS");
    row(t, "Transport", v->transport, "TLS if bibrecd has a TLS listener, else TCP, else UDP");
    row(t, "Recording Destination Address", v->recording_number, "<cucm recording-number>");
    row(t, "Codecs bibrecd offers", v->codecs, v->codec_names);
    row(t, "Peers bibrecd takes SIP from", v->trusted, "<sip trusted>");
    elf(s, "p",
        "bibrecd takes INVITE, UPDATE and OPTIONS only from the peers in <sip trusted> (now: "
        "%s). Because the trunk runs on every CUCM node, add the address of every node that runs "
        "the CallManager service (or their subnet) and restart bibrecd.",
        v->trusted);
}

static void security_profile(xmlNodePtr body, const br_cucm_values_t *v)
{
    int tls = strcmp(v->transport, "TLS") == 0;
    xmlNodePtr s = section(body, "step-security-profile", "1. SIP trunk security profile",
                           "System > Security > SIP Trunk Security Profile > Add New");
    xmlNodePtr t = table(s, "security-profile");

    row(t, "Name", v->security_profile, "<cucm security-profile>");
    row(t, "Device Security Mode", v->security_mode, tls ? "TLS signalling, encrypted" : NULL);
    row(t, "Incoming Transport Type", v->incoming_transport, "CUCM's own side");
    row(t, "Outgoing Transport Type", v->transport, "how CUCM reaches bibrecd: one it listens on");
    row(t, "Enable Digest Authentication", "off", NULL);
    if (v->tls_subject[0])
        row(t, "X.509 Subject Name", v->tls_subject, "the subject name of bibrecd's certificate");
    elf(s, "p",
        "Prefer TCP to UDP: a recording INVITE carries a From header of up to 583 bytes and "
        "comes close to the size at which SIP asks for a congestion-controlled transport.%s",
        tls ? " For TLS, upload bibrecd's certificate (or its CA) to CUCM as CallManager-trust "
              "(Cisco Unified OS Administration > Security > Certificate Management); if bibrecd "
              "checks client certificates, put CUCM's CallManager certificate in its tls-ca."
            : "");
}

static void sip_profile(xmlNodePtr body, const br_cucm_values_t *v)
{
    xmlNodePtr s = section(body, "step-sip-profile", "2. SIP profile",
                           "Device > Device Settings > SIP Profile: copy Standard SIP Profile");
    xmlNodePtr t = table(s, "sip-profile");

    row(t, "Name", v->sip_profile, "<cucm sip-profile>");
    row(t, "Default Telephony Event Payload Type", "101", "telephone-event, for DTMF");
    row(t, "Early Offer support for voice and video calls", "Disabled (Default value)",
        "bibrecd also takes early offer");
    row(t, "Enable OPTIONS Ping to monitor destination status for Trunks with Service Type "
           "\"None (Default)\"",
        "on", "bibrecd answers 200 while it records and 503 when it cannot");
    row(t, "Ping Interval for In-service and Partially In-service Trunks (seconds)", "60", NULL);
    row(t, "Ping Interval for Out-of-service Trunks (seconds)", "120", NULL);
}

static void sip_trunk(xmlNodePtr body, const br_cucm_values_t *v)
{
    xmlNodePtr s = section(body, "step-sip-trunk", "3. SIP trunk",
                           "Device > Trunk > Add New: Trunk Type SIP Trunk, Device Protocol SIP, "
                           "Trunk Service Type None(Default)");
    xmlNodePtr t = table(s, "sip-trunk");
    char desc[160];

    snprintf(desc, sizeof desc, "bibrec call recorder (%s)", v->codecs);
    row(t, "Device Name", v->trunk_name, "<cucm trunk-name>");
    row(t, "Description", desc, NULL);
    row(t, "Device Pool", v->device_pool, "<cucm device-pool>; its region decides the codec");
    row(t, "Location", "Hub_None", NULL);
    row(t, "Media Termination Point Required", "off", "an MTP would take the media instead");
    row(t, "Run On All Active Unified CM Nodes", "on",
        "recording calls leave from the node of the recorded phone");
    row(t, "SRTP Allowed", "off", "bibrecd receives RTP");
    row(t, v->address_is_ipv6 ? "Destination Address IPv6" : "Destination Address", v->address,
        "<sip address>");
    row(t, "Destination Port", v->port, "<sip port>, or <sip tls-port> for TLS");
    row(t, "SIP Trunk Security Profile", v->security_profile, "step 1");
    row(t, "SIP Profile", v->sip_profile, "step 2");
    row(t, "DTMF Signaling Method", "RFC 2833", "bibrecd offers telephone-event");
    row(t, "Recording Information", "None", NULL);
    el(s, "p", "Save, then Reset the trunk.");

    s = section(body, "regions", "Codecs and regions", "System > Region Information > Region");
    elf(s, "p",
        "bibrecd offers %s (%s). The Max Audio Bit Rate between the recorded phones' regions and "
        "the region of device pool %s must therefore be at least %s. The clusterwide default "
        "between regions is often 8 kbps (G.729); then CUCM finds no common codec and hangs up "
        "at once (BYE with Reason: Q.850;cause=47), and nothing is recorded. Give the trunk a "
        "device pool whose region allows it towards the phones' regions, or insert a transcoder.",
        v->codecs, v->codec_names, v->device_pool, v->region_bitrate);
}

static void partition_css(xmlNodePtr body, const br_cucm_values_t *v)
{
    xmlNodePtr s = section(body, "step-partition", "4. Partition and recording calling search space",
                           "Call Routing > Class of Control > Partition, then Calling Search Space");
    xmlNodePtr t = table(s, "partition");

    row(t, "Partition Name", v->partition, "<cucm partition>");
    t = table(s, "css");
    row(t, "Calling Search Space Name", v->recording_css, "<cucm recording-css>");
    row(t, "Selected Partitions", v->partition, "its only member");
    el(s, "p", "Only the recording profile uses this calling search space, so no phone can dial "
               "the recorder by accident.");
}

static void route_pattern(xmlNodePtr body, const br_cucm_values_t *v)
{
    xmlNodePtr s = section(body, "step-route-pattern",
                           "5. Route pattern for the Recording Destination Address",
                           "Call Routing > Route/Hunt > Route Pattern > Add New");
    xmlNodePtr t = table(s, "route-pattern");

    row(t, "Route Pattern", v->recording_number, "<cucm recording-number>");
    row(t, "Route Partition", v->partition, "step 4");
    row(t, "Gateway/Route List", v->trunk_name, "step 3 (or a route list of several recorders)");
    row(t, "Route Option", "Route this pattern", NULL);
    row(t, "Provide Outside Dial Tone", "off", NULL);
}

static void recording_profile(xmlNodePtr body, const br_cucm_values_t *v)
{
    xmlNodePtr s = section(body, "step-recording-profile", "6. Recording profile",
                           "Device > Device Settings > Recording Profile > Add New");
    xmlNodePtr t = table(s, "recording-profile");

    row(t, "Name", v->recording_profile, "<cucm recording-profile>");
    row(t, "Recording Calling Search Space", v->recording_css, "step 4");
    row(t, "Recording Destination Address", v->recording_number, "the route pattern of step 5");
}

static void phones(xmlNodePtr body, const br_cucm_values_t *v)
{
    xmlNodePtr s = section(body, "step-phones", "7. Recorded phones and lines", "Device > Phone");
    xmlNodePtr t = table(s, "phone");
    int sel = v->mode == BR_CUCM_SELECTIVE;

    row(t, "Built In Bridge", "On", "the phone forks the two streams");
    row(t, "Privacy", "Off", NULL);
    row(t, "Softkey Template", v->softkey_template, "selective recording only (step 8)");
    el(s, "p", "On each recorded line of the phone (its Line [n] link, section \"Line n on "
               "Device\"):");
    t = table(s, "line");
    row(t, "Recording Option",
        sel ? "Selective Call Recording Enabled" : "Automatic Call Recording Enabled",
        sel ? "the user starts recording with Record" : "or Selective Call Recording Enabled");
    row(t, "Recording Profile", v->recording_profile, "step 6");
    row(t, "Recording Media Source", "Phone Preferred", "the phone's built-in bridge forks the media");
}

static void softkeys(xmlNodePtr body, const br_cucm_values_t *v)
{
    xmlNodePtr s = section(body, "step-softkeys", "8. Softkey template with Record (selective recording)",
                           "Device > Device Settings > Softkey Template");
    xmlNodePtr t = table(s, "softkey-template");

    row(t, "Name", v->softkey_template, NULL);
    row(t, "Copied from", "Standard User", NULL);
    row(t, "Call state Connected", "Record", "Configure Softkey Layout: add Record");
    el(s, "p", "Only for selective recording: the user starts and stops recording with the "
               "Record softkey. Assign the template to the phones (step 7). A phone button "
               "template with a Record line key works as well.");
}

static void tones(xmlNodePtr body)
{
    xmlNodePtr s = section(body, "step-tones", "9. Recording tones",
                           "System > Service Parameters > Cisco CallManager, clusterwide parameters");
    xmlNodePtr t = table(s, "tones");

    row(t, "Play Recording Notification Tone To Observed Target", "as policy requires",
        "the recorded user hears a periodic beep");
    row(t, "Play Recording Notification Tone To Observed Connected Parties", "as policy requires",
        "the other party hears it");
    el(s, "p", "The tones come from the phone and CUCM; bibrec cannot play into the call through "
               "the forked streams.");
}

static void phone_service(xmlNodePtr body, const br_cucm_values_t *v)
{
    xmlNodePtr s = section(body, "step-phone-service", "10. IP phone service for the phone menu",
                           "Device > Device Settings > Phone Services > Add New");
    xmlNodePtr t = table(s, "phone-service");

    row(t, "Service Name", v->service_name, NULL);
    row(t, "ASCII Service Name", v->service_name, NULL);
    row(t, "Service URL", v->service_url,
        "<cucm phone-service-url>; the phone puts its own name in place of #DEVICENAME#");
    row(t, "Service Category", "XML Service", NULL);
    row(t, "Service Type", "Standard IP Phone Service", NULL);
    row(t, "Enable", "on", NULL);
    row(t, "Enterprise Subscription", "on", "every phone shows it; off to subscribe phones one by one");
}

static void announcements(xmlNodePtr body, const br_cucm_values_t *v)
{
    xmlNodePtr s = section(body, "step-announcements", "11. Announcements", NULL);
    xmlNodePtr t;

    if (!v->announcement_number[0]) {
        el(s, "p", "No announcement number is configured (<cucm announcement-number>), so there "
                   "is nothing to do.");
        return;
    }
    t = table(s, "announcement-route-pattern");
    row(t, "Route Pattern", v->announcement_number, "<cucm announcement-number>");
    row(t, "Route Partition", v->partition, "step 4");
    row(t, "Gateway/Route List", v->trunk_name, "step 3");
    el(s, "p", "The callers that must reach the announcement need this partition in their "
               "calling search space. For Agent Greeting, configure the announcement number as "
               "the greeting DN; for a consent prompt on inbound calls, route the inbound number "
               "to the announcement number first.");
}

static void check(xmlNodePtr body)
{
    xmlNodePtr s = section(body, "step-check", "12. Check", NULL), ol = el(s, "ol", NULL);

    list_item(ol, "Device > Trunk: the trunk's status turns Full Service within a minute "
                  "(OPTIONS ping).");
    list_item(ol, "Call a recorded line (automatic) or press Record (selective).");
    list_item(ol, "On the recorder, bibrec list shows the recording.");
    el(s, "p", "If nothing arrives, bibrecd's log names refused INVITEs and the reason (an "
               "address outside <sip trusted>, for instance). A BYE with cause 47 right after "
               "the ACK means no common codec (regions, step 3).");
}

static void axl(xmlNodePtr body, const br_cucm_profile_t *p)
{
    xmlNodePtr s = section(body, "axl", "By script: AXL", NULL), t, tr;

    el(s, "p", "The files next to this page are the AXL requests that create the objects above, "
               "numbered in the order they must be posted. bibrec cucm-profile --send "
               "https://CUCM:8443/axl/ prints them (a dry run); with --yes it posts them, with "
               "the password from the environment variable BIBREC_AXL_PASSWORD, and stops at "
               "the first fault. updatePhone's lines replace the phone's whole list of lines: "
               "name every line of the phone, in button order.");
    t = el(s, "table", NULL);
    attr(t, "id", "axl-requests");
    tr = el(t, "tr", NULL);
    el(tr, "th", "File");
    el(tr, "th", "AXL request");
    el(tr, "th", "Creates or changes");
    for (size_t i = 0; i < br_cucm_profile_count(p); i++) {
        const br_cucm_request_t *r = br_cucm_profile_request(p, i);
        tr = el(t, "tr", NULL);
        attr(el(tr, "td", r->file), "class", "value");
        attr(el(tr, "td", r->method), "class", "value");
        elf(tr, "td", "%s%s", r->object, r->is_template ? " (template: fill in the placeholders)" : "");
    }
}

static xmlDocPtr build(const br_cucm_profile_t *p)
{
    const br_cucm_values_t *v = br_cucm_profile_values(p);
    xmlDocPtr doc = xmlNewDoc(BX("1.0"));
    xmlNodePtr html, head, body, meta;
    xmlNsPtr ns;

    if (!doc)
        return NULL;
    if (!xmlCreateIntSubset(doc, BX("html"), NULL, NULL))
        goto fail;
    html = xmlNewDocNode(doc, NULL, BX("html"), NULL);
    if (!html)
        goto fail;
    xmlDocSetRootElement(doc, html);
    if (!(ns = xmlNewNs(html, BX(XHTML_NS), NULL)))
        goto fail;
    xmlSetNs(html, ns);
    attr(html, "lang", "en");
    head = el(html, "head", NULL);
    meta = el(head, "meta", NULL);
    attr(meta, "charset", "utf-8");
    elf(head, "title", "Connecting CUCM to bibrec at %s%s%s", v->address_is_ipv6 ? "[" : "",
        v->address, v->address_is_ipv6 ? "]" : "");
    el(head, "style", style);
    body = el(html, "body", NULL);
    if (!body)
        goto fail;
    elf(body, "h1", "Connecting CUCM to bibrec at %s%s%s:%s (%s)", v->address_is_ipv6 ? "[" : "",
        v->address, v->address_is_ipv6 ? "]" : "", v->port, v->transport);
    intro(body, v);
    security_profile(body, v);
    sip_profile(body, v);
    sip_trunk(body, v);
    partition_css(body, v);
    route_pattern(body, v);
    recording_profile(body, v);
    phones(body, v);
    softkeys(body, v);
    tones(body);
    phone_service(body, v);
    announcements(body, v);
    check(body);
    axl(body, p);
    return doc;
fail:
    xmlFreeDoc(doc);
    return NULL;
}

int br_cucm_guide_render(const br_cucm_profile_t *p, char **out, size_t *len)
{
    xmlDocPtr doc = build(p);
    xmlBufferPtr buf = NULL;
    xmlSaveCtxtPtr ctx = NULL;
    int rc = -ENOMEM;

    *out = NULL;
    if (!doc || !(buf = xmlBufferCreate()))
        goto out;
    /* No XML declaration: browsers read the page as HTML, where it would
     * only be noise; XML parsers default to UTF-8 without it. */
    ctx = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
    if (!ctx || xmlSaveDoc(ctx, doc) < 0)
        goto out;
    xmlSaveClose(ctx);
    ctx = NULL;
    *len = (size_t)xmlBufferLength(buf);
    *out = malloc(*len + 1);
    if (!*out)
        goto out;
    memcpy(*out, xmlBufferContent(buf), *len);
    (*out)[*len] = 0;
    rc = 0;
out:
    if (ctx)
        xmlSaveClose(ctx);
    xmlBufferFree(buf);
    xmlFreeDoc(doc);
    return rc;
}

int br_cucm_guide_write(const br_cucm_profile_t *p, const char *dir, char *err, size_t errsz)
{
    char path[4096], *html = NULL;
    size_t len = 0;
    FILE *f;
    int rc;

    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, BR_CUCM_GUIDE_FILE) >= sizeof path) {
        snprintf(err, errsz, "%s: path too long", dir);
        return -ENAMETOOLONG;
    }
    if ((rc = br_cucm_guide_render(p, &html, &len)) < 0) {
        snprintf(err, errsz, "%s: out of memory", path);
        return rc;
    }
    f = fopen(path, "w");
    if (!f) {
        rc = -errno;
        goto fail;
    }
    rc = fwrite(html, 1, len, f) == len ? 0 : -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
fail:
    if (rc < 0)
        snprintf(err, errsz, "%s: %s", path, br_strerror(rc));
    free(html);
    return rc;
}
