/*
 * The AXL requests that connect CUCM to bibrec, built from the daemon's
 * configuration with libxml2's tree API (never by pasting strings, so a
 * name with "&" or "<" in it still makes well-formed XML).
 *
 * Element names and their order follow the AXL 14.0 schema (AXLSoap.xsd,
 * which the requests were validated against): AXL reads requests by that
 * schema, and an element out of order can be refused even when its name is
 * right. Elements the schema requires but that bibrec does not care about
 * carry the schema's own defaults, and required references that stay empty
 * (the route pattern's dial plan, for instance) are sent as xsi:nil, which
 * is what Cisco's own AXL samples send for them.
 *
 * Each request starts with a comment saying what it is for and how to post
 * it by hand; SOAP 1.1 allows comments, and they make the files readable
 * for the administrator who checks them before sending.
 */
#include "profile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"
#define BX(s) ((const xmlChar *)(s))

/* What bibrecd offers in its SDP (src/session/session.c, offered_pts, and
 * the telephone-event line of src/sip/sdp.c). Keep the two in step: when
 * G.722 is offered, it goes here too. */
static const struct {
    const char *sdp;
    const char *cucm;
} offered_codecs[] = {
    { "PCMU", "G.711 mu-law" },
    { "PCMA", "G.711 A-law" },
    { "telephone-event", "RFC 2833 DTMF" },
};
/* The least "Max Audio Bit Rate" of a CUCM region relationship that lets
 * G.711 through (CUCM names the setting by the codecs it admits). */
#define REGION_BITRATE "64 kbps (G.722, G.711)"

#define SOFTKEY_TEMPLATE "bibrec Standard User"
#define SERVICE_NAME "bibrec Recording"

struct br_cucm_profile {
    br_cucm_values_t v;
    br_cucm_request_t *reqs;
    size_t n, cap;
};

/* ---- values --------------------------------------------------------------- */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static int only_chars(const char *s, const char *allowed)
{
    for (; *s; s++)
        if (!strchr(allowed, *s) && !((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
                                      (*s >= 'A' && *s <= 'Z')))
            return 0;
    return 1;
}

static int only_digits(const char *s, const char *extra)
{
    for (; *s; s++)
        if (!(*s >= '0' && *s <= '9') && !strchr(extra, *s))
            return 0;
    return 1;
}

/* Copies a configured name after checking it against the AXL schema's
 * length limit for that object (in characters, as CUCM counts them). */
static int take_name(char *dst, size_t dstsz, const char *value, size_t max, const char *what,
                     char *err, size_t errsz)
{
    if (!value[0] || utf8_chars(value) > max) {
        snprintf(err, errsz, "cucm %s '%s' must have 1 to %zu characters", what, value, max);
        return -EINVAL;
    }
    if (br_strlcpy(dst, value, dstsz) < 0) {
        snprintf(err, errsz, "cucm %s is too long", what);
        return -EINVAL;
    }
    return 0;
}

static void set_placeholders(br_cucm_values_t *v)
{
#define P(field, name) br_strlcpy(v->field, "{{" name "}}", sizeof v->field)
    P(address, "sip_address");
    P(port, "sip_port");
    P(transport, "transport");
    P(incoming_transport, "incoming_transport");
    P(security_mode, "security_mode");
    P(recording_number, "recording_number");
    P(trunk_name, "trunk_name");
    P(recording_profile, "recording_profile");
    P(recording_css, "recording_css");
    P(partition, "partition");
    P(device_pool, "device_pool");
    P(sip_profile, "sip_profile");
    P(security_profile, "security_profile");
    P(service_url, "phone_service_url");
    P(announcement_number, "announcement_number");
    P(listeners, "listeners");
    P(trusted, "trusted");
#undef P
    v->address_is_ipv6 = 0;
}

/* Picks the transport CUCM uses towards bibrecd: TLS when bibrecd has a TLS
 * listener (signalling then cannot be read or forged on the way), else TCP,
 * because a recording INVITE with its long From header (up to 583 bytes,
 * cucm-bib §3) comes close to the size at which RFC 3261 §18.1.1 asks for
 * a congestion-controlled transport; UDP only when nothing else listens. */
static int pick_transport(br_cucm_values_t *v, const br_cucm_options_t *opt, char *err,
                          size_t errsz)
{
    const br_config_t *cfg = opt->cfg;
    const char *t = opt->transport;
    char udp_tcp[24] = "";

    if (!t)
        t = cfg->sip_tls_port ? "tls" : cfg->sip_tcp ? "tcp" : "udp";
    if (strcmp(t, "tls") == 0) {
        if (!cfg->sip_tls_port) {
            snprintf(err, errsz, "bibrecd has no TLS listener (sip tls-port is not set)");
            return -EINVAL;
        }
        if (!opt->tls_subject || !opt->tls_subject[0]) {
            /* Only the administrator knows which name CUCM will see in the
             * certificate; the request stays a template until it is given. */
            br_strlcpy(v->tls_subject, "{{tls_subject_name}}", sizeof v->tls_subject);
        } else if (br_strlcpy(v->tls_subject, opt->tls_subject, sizeof v->tls_subject) < 0 ||
                   !only_chars(opt->tls_subject, ".-_*=, ")) {
            snprintf(err, errsz, "--tls-subject must be a certificate subject name such as "
                                 "recorder.example.com");
            return -EINVAL;
        }
        br_strlcpy(v->transport, "TLS", sizeof v->transport);
        /* CUCM only allows TLS in both directions once the profile is secure. */
        br_strlcpy(v->incoming_transport, "TLS", sizeof v->incoming_transport);
        br_strlcpy(v->security_mode, "Encrypted", sizeof v->security_mode);
        snprintf(v->port, sizeof v->port, "%u", (unsigned)cfg->sip_tls_port);
    } else if (strcmp(t, "tcp") == 0 || strcmp(t, "udp") == 0) {
        int tcp = t[0] == 't';
        if (tcp ? !cfg->sip_tcp : !cfg->sip_udp) {
            snprintf(err, errsz, "bibrecd does not listen on %s (sip %s=\"no\")", tcp ? "TCP" : "UDP",
                     tcp ? "tcp" : "udp");
            return -EINVAL;
        }
        br_strlcpy(v->transport, tcp ? "TCP" : "UDP", sizeof v->transport);
        br_strlcpy(v->incoming_transport, "TCP+UDP", sizeof v->incoming_transport);
        br_strlcpy(v->security_mode, "Non Secure", sizeof v->security_mode);
        snprintf(v->port, sizeof v->port, "%u", (unsigned)cfg->sip_port);
    } else {
        snprintf(err, errsz, "transport '%s' is not udp, tcp or tls", t);
        return -EINVAL;
    }
    if (cfg->sip_udp && cfg->sip_tcp)
        br_strlcpy(udp_tcp, "UDP and TCP", sizeof udp_tcp);
    else
        br_strlcpy(udp_tcp, cfg->sip_udp ? "UDP" : cfg->sip_tcp ? "TCP" : "", sizeof udp_tcp);
    if (udp_tcp[0] && cfg->sip_tls_port)
        snprintf(v->listeners, sizeof v->listeners, "%s on port %u, TLS on port %u", udp_tcp,
                 (unsigned)cfg->sip_port, (unsigned)cfg->sip_tls_port);
    else if (udp_tcp[0])
        snprintf(v->listeners, sizeof v->listeners, "%s on port %u", udp_tcp, (unsigned)cfg->sip_port);
    else
        snprintf(v->listeners, sizeof v->listeners, "TLS on port %u", (unsigned)cfg->sip_tls_port);
    return 0;
}

int br_cucm_values_init(br_cucm_values_t *v, const br_cucm_options_t *opt, char *err, size_t errsz)
{
    const br_config_t *cfg = opt->cfg;
    const struct br_cucm_names *c = &cfg->cucm;
    const char *addr = opt->address && opt->address[0] ? opt->address : cfg->sip_address;
    struct in6_addr a6;
    size_t off = 0, off2 = 0;
    int rc;

    memset(v, 0, sizeof *v);
    v->mode = opt->mode;
    v->placeholders = opt->placeholders;
    br_strlcpy(v->softkey_template, SOFTKEY_TEMPLATE, sizeof v->softkey_template);
    br_strlcpy(v->service_name, SERVICE_NAME, sizeof v->service_name);
    br_strlcpy(v->region_bitrate, REGION_BITRATE, sizeof v->region_bitrate);
    for (size_t i = 0; i < BR_ARRAY_SIZE(offered_codecs); i++) {
        off += (size_t)snprintf(v->codecs + off, sizeof v->codecs - off, "%s%s", i ? ", " : "",
                                offered_codecs[i].sdp);
        off2 += (size_t)snprintf(v->codec_names + off2, sizeof v->codec_names - off2, "%s%s",
                                 i ? ", " : "", offered_codecs[i].cucm);
    }
    if (opt->placeholders) {
        set_placeholders(v);
        return 0;
    }

    if ((rc = pick_transport(v, opt, err, errsz)) < 0)
        return rc;
    if (br_strlcpy(v->address, addr, sizeof v->address) < 0 || !addr[0]) {
        snprintf(err, errsz, "the SIP address '%s' is empty or too long", addr);
        return -EINVAL;
    }
    v->address_is_ipv6 = inet_pton(AF_INET6, addr, &a6) == 1;
    if (!v->address_is_ipv6 && !only_chars(addr, ".-")) {
        snprintf(err, errsz, "the SIP address '%s' is not an IP address or host name", addr);
        return -EINVAL;
    }
    br_strlcpy(v->trusted, cfg->trusted, sizeof v->trusted);

    /* Length limits from AXL 14.0's schema (device names 128, most other
     * names 50) and CUCM's administration pages. */
    if ((rc = take_name(v->trunk_name, sizeof v->trunk_name, c->trunk_name, 50, "trunk-name", err,
                        errsz)) < 0 ||
        (rc = take_name(v->recording_profile, sizeof v->recording_profile, c->recording_profile, 50,
                        "recording-profile", err, errsz)) < 0 ||
        (rc = take_name(v->recording_css, sizeof v->recording_css, c->recording_css, 50,
                        "recording-css", err, errsz)) < 0 ||
        (rc = take_name(v->partition, sizeof v->partition, c->partition, 50, "partition", err,
                        errsz)) < 0 ||
        (rc = take_name(v->device_pool, sizeof v->device_pool, c->device_pool, 50, "device-pool",
                        err, errsz)) < 0 ||
        (rc = take_name(v->sip_profile, sizeof v->sip_profile, c->sip_profile, 50, "sip-profile",
                        err, errsz)) < 0 ||
        (rc = take_name(v->security_profile, sizeof v->security_profile, c->security_profile, 75,
                        "security-profile", err, errsz)) < 0)
        return rc;
    /* A trunk is a device: CUCM takes only URL-friendly characters. */
    if (!only_chars(v->trunk_name, "._-")) {
        snprintf(err, errsz, "cucm trunk-name '%s' may only have letters, digits, '.', '_' and '-'",
                 v->trunk_name);
        return -EINVAL;
    }
    /* The Recording Destination Address is dialled as it is: it must be a
     * number that a route pattern matches literally. */
    if (!c->recording_number[0] || !only_digits(c->recording_number, "*#+")) {
        snprintf(err, errsz, "cucm recording-number '%s' must be a number (digits, *, # or +)",
                 c->recording_number);
        return -EINVAL;
    }
    br_strlcpy(v->recording_number, c->recording_number, sizeof v->recording_number);
    if (!only_digits(c->announcement_number, "*#+")) {
        snprintf(err, errsz, "cucm announcement-number '%s' must be a number (digits, *, # or +)",
                 c->announcement_number);
        return -EINVAL;
    }
    if (c->announcement_number[0] && strcmp(c->announcement_number, c->recording_number) == 0) {
        snprintf(err, errsz, "cucm announcement-number and recording-number must differ");
        return -EINVAL;
    }
    br_strlcpy(v->announcement_number, c->announcement_number, sizeof v->announcement_number);

    if (c->phone_service_url[0]) {
        if (strncmp(c->phone_service_url, "http://", 7) != 0 &&
            strncmp(c->phone_service_url, "https://", 8) != 0) {
            snprintf(err, errsz, "cucm phone-service-url must start with http:// or https://");
            return -EINVAL;
        }
        /* bibrec's menu tells phones apart by the name the phone puts in
         * place of #DEVICENAME# (cucm-bib §7); without it every phone
         * would look the same. */
        if (!strstr(c->phone_service_url, "#DEVICENAME#")) {
            snprintf(err, errsz, "cucm phone-service-url must contain #DEVICENAME#");
            return -EINVAL;
        }
        br_strlcpy(v->service_url, c->phone_service_url, sizeof v->service_url);
    } else {
        snprintf(v->service_url, sizeof v->service_url, "http://%s%s%s:8080/phone?device=#DEVICENAME#",
                 v->address_is_ipv6 ? "[" : "", v->address, v->address_is_ipv6 ? "]" : "");
    }
    return 0;
}

int br_cucm_line_parse(br_cucm_line_t *line, const char *phone, const char *arg, char *err,
                       size_t errsz)
{
    const char *at = strchr(arg, '@');
    size_t dnlen = at ? (size_t)(at - arg) : strlen(arg);

    memset(line, 0, sizeof *line);
    /* The device name also names a file, so it is held to the characters
     * CUCM allows in device names anyway. */
    if (!phone[0] || br_strlcpy(line->phone, phone, sizeof line->phone) < 0 ||
        !only_chars(phone, "._-")) {
        snprintf(err, errsz, "phone '%s' is not a device name (letters, digits, '.', '_', '-')",
                 phone);
        return -EINVAL;
    }
    if (dnlen == 0 || dnlen >= sizeof line->dn) {
        snprintf(err, errsz, "line '%s': the directory number must have 1 to %zu characters", arg,
                 sizeof line->dn - 1);
        return -EINVAL;
    }
    memcpy(line->dn, arg, dnlen);
    if (!only_digits(line->dn, "*#+\\")) {
        snprintf(err, errsz, "line '%s': '%s' is not a directory number", arg, line->dn);
        return -EINVAL;
    }
    if (at && (!at[1] || br_strlcpy(line->partition, at + 1, sizeof line->partition) < 0)) {
        snprintf(err, errsz, "line '%s': the partition after '@' must have 1 to %zu characters",
                 arg, sizeof line->partition - 1);
        return -EINVAL;
    }
    return 0;
}

/* ---- building requests ------------------------------------------------------ */

/* Children are created in no namespace on purpose: xmlNewChild() would
 * put them in the parent's (AXL's), but the schema wants them unqualified.
 * The value becomes a text node, which the serialiser escapes. */
static xmlNodePtr text(xmlNodePtr parent, const char *name, const char *value)
{
    xmlNodePtr n;
    if (!parent || !(n = xmlNewDocRawNode(parent->doc, NULL, BX(name), BX(value))))
        return NULL;
    return xmlAddChild(parent, n);
}

static xmlNodePtr node(xmlNodePtr parent, const char *name)
{
    return text(parent, name, NULL);
}

/* A required reference left empty: AXL wants xsi:nil rather than "". */
static xmlNodePtr nil(xmlNodePtr parent, const char *name)
{
    xmlNodePtr n = node(parent, name);
    xmlNsPtr xsi = n ? xmlSearchNsByHref(n->doc, n, BX(XSI_NS)) : NULL;
    if (xsi)
        xmlNewNsProp(n, xsi, BX("nil"), BX("true"));
    return n;
}

/* Comments cannot hold "--"; the texts here are ours, but a value quoted
 * in one must not break the document. */
static void add_comment(xmlDocPtr doc, xmlNodePtr before, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    xmlNodePtr c;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (char *p = buf; (p = strstr(p, "--")) != NULL;)
        p[1] = '=';
    c = xmlNewDocComment(doc, BX(buf));
    if (c)
        xmlAddPrevSibling(before, c);
}

/* The SOAP 1.1 envelope of an AXL request; *req is the operation element
 * (axl:addSipTrunk etc.) whose children are unqualified, as the schema's
 * elementFormDefault="unqualified" says. */
static xmlDocPtr envelope(const char *method, const char *purpose, xmlNodePtr *req)
{
    xmlDocPtr doc = xmlNewDoc(BX("1.0"));
    xmlNodePtr root, body;
    xmlNsPtr soap, axl;

    if (!doc)
        return NULL;
    root = xmlNewDocNode(doc, NULL, BX("Envelope"), NULL);
    if (!root)
        goto fail;
    xmlDocSetRootElement(doc, root);
    soap = xmlNewNs(root, BX(BR_CUCM_SOAP_NS), BX("soapenv"));
    axl = xmlNewNs(root, BX(BR_CUCM_AXL_NS), BX("ns"));
    if (!soap || !axl || !xmlNewNs(root, BX(XSI_NS), BX("xsi")))
        goto fail;
    xmlSetNs(root, soap);
    if (!xmlNewChild(root, soap, BX("Header"), NULL) ||
        !(body = xmlNewChild(root, soap, BX("Body"), NULL)) ||
        !(*req = xmlNewChild(body, axl, BX(method), NULL)))
        goto fail;
    add_comment(doc, root,
                " bibrec cucm-profile: %s.\n"
                "     POST it to https://CUCM:8443/axl/ with Content-Type: text/xml and\n"
                "     SOAPAction: \"CUCM:DB ver=" BR_CUCM_AXL_VERSION " %s\"; bibrec cucm-profile's\n"
                "     send option does exactly that. ",
                purpose, method);
    return doc;
fail:
    xmlFreeDoc(doc);
    return NULL;
}

/* Serialises doc (always freed) and appends it as the next request. */
static int push(br_cucm_profile_t *p, xmlDocPtr doc, const char *method, const char *suffix,
                int is_template, const char *object)
{
    br_cucm_request_t *r;
    xmlChar *mem = NULL;
    int len = 0;

    if (!doc)
        return -ENOMEM;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        br_cucm_request_t *n = realloc(p->reqs, cap * sizeof *n);
        if (!n)
            goto fail;
        p->reqs = n;
        p->cap = cap;
    }
    xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
    if (!mem)
        goto fail;
    r = &p->reqs[p->n];
    memset(r, 0, sizeof *r);
    r->method = method;
    r->body = (const char *)mem;
    r->len = (size_t)len;
    r->is_template = is_template || strstr(r->body, "{{") != NULL;
    r->object = strdup(object);
    /* The number is filled in once all requests are known (see number()). */
    r->file = strdup(suffix ? suffix : "");
    p->n++;
    xmlFreeDoc(doc);
    return r->object && r->file ? 0 : -ENOMEM;
fail:
    xmlFreeDoc(doc);
    return -ENOMEM;
}

static int add_security_profile(br_cucm_profile_t *p)
{
    const br_cucm_values_t *v = &p->v;
    xmlNodePtr req, x;
    xmlDocPtr doc = envelope("addSipTrunkSecurityProfile",
                             "the SIP trunk security profile: the transport CUCM uses towards bibrecd",
                             &req);
    char obj[256];

    if (!doc)
        return -ENOMEM;
    x = node(req, "sipTrunkSecurityProfile");
    text(x, "name", v->security_profile);
    text(x, "description", "bibrec call recorder");
    text(x, "securityMode", v->security_mode);
    text(x, "incomingTransport", v->incoming_transport);
    text(x, "outgoingTransport", v->transport);
    text(x, "digestAuthentication", "false");
    if (v->tls_subject[0])
        text(x, "x509SubjectName", v->tls_subject);
    text(x, "sipV150OutboundSdpOfferFiltering", "Use Default Filter");
    snprintf(obj, sizeof obj, "SIP trunk security profile \"%s\"", v->security_profile);
    return push(p, doc, "addSipTrunkSecurityProfile", NULL, 0, obj);
}

static int add_sip_profile(br_cucm_profile_t *p)
{
    const br_cucm_values_t *v = &p->v;
    xmlNodePtr req, x;
    xmlDocPtr doc = envelope("addSipProfile",
                             "the SIP profile: OPTIONS ping on, so that CUCM sees at once when "
                             "bibrecd cannot take calls (it answers 503)",
                             &req);
    char obj[256];

    if (!doc)
        return -ENOMEM;
    x = node(req, "sipProfile");
    text(x, "name", v->sip_profile);
    text(x, "description", "bibrec call recorder: OPTIONS ping");
    text(x, "defaultTelephonyEventPayloadType", "101");
    text(x, "enableOutboundOptionsPing", "true");
    text(x, "optionsPingIntervalWhenStatusOK", "60");
    text(x, "optionsPingIntervalWhenStatusNotOK", "120");
    /* The rest are required by the schema; these are its defaults. */
    text(x, "sipBandwidthModifier", "TIAS and AS");
    text(x, "userAgentServerHeaderInfo", "Send Unified CM Version Information as User-Agent Header");
    text(x, "dialStringInterpretation",
         "Phone number consists of characters 0-9, *, #, and + (others treated as URI addresses)");
    text(x, "callingLineIdentification", "Default");
    text(x, "sipSessionRefreshMethod", "Invite");
    /* Delayed offer, as CUCM sends recording calls by default; bibrecd
     * handles early offer as well (cucm-bib §2). */
    text(x, "earlyOfferSuppVoiceCall", "Disabled (Default value)");
    text(x, "cucmVersionInSipHeader", "Major And Minor");
    text(x, "confidentialAccessLevelHeaders", "Disabled");
    snprintf(obj, sizeof obj, "SIP profile \"%s\"", v->sip_profile);
    return push(p, doc, "addSipProfile", NULL, 0, obj);
}

static int add_trunk(br_cucm_profile_t *p)
{
    const br_cucm_values_t *v = &p->v;
    xmlNodePtr req, x, d;
    xmlDocPtr doc = envelope("addSipTrunk",
                             "the SIP trunk to bibrecd, on every CUCM node, where the two "
                             "recording calls of each recorded line go",
                             &req);
    char obj[256], desc[128];

    if (!doc)
        return -ENOMEM;
    x = node(req, "sipTrunk");
    text(x, "name", v->trunk_name);
    snprintf(desc, sizeof desc, "bibrec call recorder (%s)", v->codecs);
    text(x, "description", desc);
    text(x, "product", "SIP Trunk");
    text(x, "class", "Trunk");
    text(x, "protocol", "SIP");
    text(x, "protocolSide", "Network");
    text(x, "devicePoolName", v->device_pool);
    text(x, "locationName", "Hub_None");
    text(x, "securityProfileName", v->security_profile);
    text(x, "sipProfileName", v->sip_profile);
    /* An MTP would take the media instead of bibrecd. */
    text(x, "mtpRequired", "false");
    text(x, "presenceGroupName", "Standard Presence group");
    /* bibrecd receives plain RTP. */
    text(x, "srtpAllowed", "false");
    /* bibrecd offers telephone-event (RFC 2833/4733) for DTMF. */
    text(x, "dtmfSignalingMethod", "RFC 2833");
    text(x, "sipTrunkType", "None(Default)");
    /* Every node that hosts a recorded phone sends its recording calls and
     * OPTIONS itself (cucm-bib §4). */
    text(x, "runOnEveryNode", "true");
    d = node(node(x, "destinations"), "destination");
    text(d, v->address_is_ipv6 ? "addressIpv6" : "addressIpv4", v->address);
    text(d, "port", v->port);
    text(d, "sortOrder", "1");
    text(x, "callingAndCalledPartyInfoFormat", "Deliver DN only in connected party");
    snprintf(obj, sizeof obj, "SIP trunk \"%s\" to %s%s%s:%s over %s", v->trunk_name,
             v->address_is_ipv6 ? "[" : "", v->address, v->address_is_ipv6 ? "]" : "", v->port,
             v->transport);
    return push(p, doc, "addSipTrunk", NULL, 0, obj);
}

static int add_partition(br_cucm_profile_t *p)
{
    const br_cucm_values_t *v = &p->v;
    xmlNodePtr req, x;
    xmlDocPtr doc = envelope("addRoutePartition",
                             "the partition of the recording route pattern", &req);
    char obj[256];

    if (!doc)
        return -ENOMEM;
    x = node(req, "routePartition");
    text(x, "name", v->partition);
    text(x, "description", "bibrec call recorder: recording destination");
    snprintf(obj, sizeof obj, "route partition \"%s\"", v->partition);
    return push(p, doc, "addRoutePartition", NULL, 0, obj);
}

static int add_css(br_cucm_profile_t *p)
{
    const br_cucm_values_t *v = &p->v;
    xmlNodePtr req, x, m;
    xmlDocPtr doc = envelope("addCss",
                             "the recording calling search space: it reaches the partition of "
                             "the recording route pattern",
                             &req);
    char obj[256];

    if (!doc)
        return -ENOMEM;
    x = node(req, "css");
    /* The schema puts name last in XCss. */
    text(x, "description", "bibrec recording CSS");
    m = node(node(x, "members"), "member");
    text(m, "routePartitionName", v->partition);
    text(m, "index", "1");
    text(x, "name", v->recording_css);
    snprintf(obj, sizeof obj, "calling search space \"%s\"", v->recording_css);
    return push(p, doc, "addCss", NULL, 0, obj);
}

static int add_route_pattern(br_cucm_profile_t *p, const char *pattern, const char *suffix,
                             const char *purpose, const char *description)
{
    const br_cucm_values_t *v = &p->v;
    xmlNodePtr req, x;
    xmlDocPtr doc = envelope("addRoutePattern", purpose, &req);
    char obj[256];

    if (!doc)
        return -ENOMEM;
    x = node(req, "routePattern");
    text(x, "pattern", pattern);
    text(x, "description", description);
    text(x, "routePartitionName", v->partition);
    text(x, "blockEnable", "false");
    text(x, "useCallingPartyPhoneMask", "Default");
    nil(x, "dialPlanName");
    nil(x, "digitDiscardInstructionName");
    text(x, "networkLocation", "OnNet");
    nil(x, "prefixDigitsOut");
    nil(x, "routeFilterName");
    /* Nobody dials these numbers on a handset. */
    text(x, "provideOutsideDialtone", "false");
    text(node(x, "destination"), "gatewayName", v->trunk_name);
    snprintf(obj, sizeof obj, "route pattern \"%s\" in \"%s\"", pattern, v->partition);
    return push(p, doc, "addRoutePattern", suffix, 0, obj);
}

static int add_recording_profile(br_cucm_profile_t *p)
{
    const br_cucm_values_t *v = &p->v;
    xmlNodePtr req, x;
    xmlDocPtr doc = envelope("addRecordingProfile",
                             "the recording profile that recorded lines name: CUCM calls its "
                             "Recording Destination Address through its calling search space",
                             &req);
    char obj[256];

    if (!doc)
        return -ENOMEM;
    x = node(req, "recordingProfile");
    text(x, "name", v->recording_profile);
    text(x, "recordingCssName", v->recording_css);
    text(x, "recorderDestination", v->recording_number);
    snprintf(obj, sizeof obj, "recording profile \"%s\"", v->recording_profile);
    return push(p, doc, "addRecordingProfile", NULL, 0, obj);
}

static int add_phone_service(br_cucm_profile_t *p)
{
    const br_cucm_values_t *v = &p->v;
    xmlNodePtr req, x;
    xmlDocPtr doc = envelope("addIpPhoneServices",
                             "the IP phone service for bibrec's phone menu; the phone puts its own "
                             "name in place of #DEVICENAME#. Enterprise subscription shows it on "
                             "every phone; set it to false to subscribe phones one by one",
                             &req);
    char obj[256];

    if (!doc)
        return -ENOMEM;
    x = node(req, "ipPhoneServices");
    text(x, "serviceName", v->service_name);
    text(x, "asciiServiceName", v->service_name);
    text(x, "serviceDescription", "Recordings of this phone's calls (bibrec)");
    text(x, "serviceUrl", v->service_url);
    text(x, "serviceCategory", "XML Service");
    text(x, "serviceType", "Standard IP Phone Service");
    text(x, "serviceVendor", "bibrec");
    text(x, "enabled", "true");
    text(x, "enterpriseSubscription", "true");
    snprintf(obj, sizeof obj, "IP phone service \"%s\"", v->service_name);
    return push(p, doc, "addIpPhoneServices", NULL, 0, obj);
}

static int add_softkeys(br_cucm_profile_t *p)
{
    const br_cucm_values_t *v = &p->v;
    xmlNodePtr req, x, s;
    xmlDocPtr doc;
    char obj[256];
    int rc;

    doc = envelope("addSoftKeyTemplate",
                   "a softkey template for selective recording: a copy of Standard User", &req);
    if (!doc)
        return -ENOMEM;
    x = node(req, "softKeyTemplate");
    text(x, "name", v->softkey_template);
    text(x, "description", "Standard User with Record (bibrec)");
    text(x, "baseSoftkeyTemplateName", "Standard User");
    text(x, "isDefault", "false");
    snprintf(obj, sizeof obj, "softkey template \"%s\"", v->softkey_template);
    if ((rc = push(p, doc, "addSoftKeyTemplate", NULL, 0, obj)) < 0)
        return rc;

    doc = envelope("updateSoftKeySet",
                   "the Record softkey in the Connected call state of the softkey template "
                   "(selective recording: the user starts and stops recording)",
                   &req);
    if (!doc)
        return -ENOMEM;
    text(req, "name", v->softkey_template);
    s = node(node(req, "addCallStates"), "callState");
    text(s, "callStateName", "Connected");
    text(node(node(s, "softKeys"), "softKey"), "softKeyName", "Record");
    snprintf(obj, sizeof obj, "Record softkey of \"%s\"", v->softkey_template);
    return push(p, doc, "updateSoftKeySet", NULL, 0, obj);
}

/* One updatePhone with the lines [first, first + count) of one phone. */
static int add_phone(br_cucm_profile_t *p, const br_cucm_line_t *lines, size_t count)
{
    const br_cucm_values_t *v = &p->v;
    static const br_cucm_line_t placeholder = { "{{phone_name}}", "{{line_dn}}",
                                                "{{line_partition}}" };
    const br_cucm_line_t *l0 = lines ? lines : &placeholder;
    xmlNodePtr req, ls;
    xmlDocPtr doc;
    char obj[256], suffix[BR_CUCM_PHONE_MAX + 2];

    doc = envelope("updatePhone",
                   "a recorded phone: Built In Bridge on, Privacy off, and for each line "
                   "the Recording Option, Recording Profile and Recording Media Source.\n"
                   "     CAUTION: <lines> replaces the phone's whole list of lines. Name every "
                   "line of the phone,\n     in button order, or the lines left out are removed "
                   "from the phone",
                   &req);
    if (!doc)
        return -ENOMEM;
    text(req, "name", l0->phone);
    ls = node(req, "lines");
    for (size_t i = 0; i < (lines ? count : 1); i++) {
        const br_cucm_line_t *l = lines ? &lines[i] : &placeholder;
        xmlNodePtr line = node(ls, "line"), dirn;
        char index[24];

        snprintf(index, sizeof index, "%zu", i + 1);
        text(line, "index", index);
        dirn = node(line, "dirn");
        text(dirn, "pattern", l->dn);
        if (l->partition[0])
            text(dirn, "routePartitionName", l->partition);
        else
            nil(dirn, "routePartitionName");
        text(line, "recordingProfileName", v->recording_profile);
        text(line, "recordingFlag", v->mode == BR_CUCM_SELECTIVE ? "Selective Call Recording Enabled"
                                                                  : "Automatic Call Recording Enabled");
        /* The phone's built-in bridge forks the streams (cucm-bib §1). */
        text(line, "recordingMediaSource", "Phone Preferred");
    }
    if (v->mode == BR_CUCM_SELECTIVE)
        text(req, "softkeyTemplateName", v->softkey_template);
    text(req, "builtInBridgeStatus", "On");
    text(req, "callInfoPrivacyStatus", "Off");
    snprintf(suffix, sizeof suffix, "-%s", lines ? l0->phone : "TEMPLATE");
    snprintf(obj, sizeof obj, "phone \"%s\" (%zu line%s)", l0->phone, lines ? count : 1,
             (lines ? count : 1) == 1 ? "" : "s");
    return push(p, doc, "updatePhone", suffix, lines == NULL, obj);
}

/* File names: a two-digit (or wider) position, so that a plain `ls` lists
 * them in the order they must be posted, then the AXL method. */
static int number(br_cucm_profile_t *p)
{
    int width = p->n > 99 ? 3 : 2;
    for (size_t i = 0; i < p->n; i++) {
        br_cucm_request_t *r = &p->reqs[i];
        char *name;
        if (asprintf(&name, "%0*zu-%s%s.xml", width, i + 1, r->method, r->file) < 0)
            return -ENOMEM;
        free((char *)r->file);
        r->file = name;
    }
    return 0;
}

int br_cucm_profile_new(br_cucm_profile_t **out, const br_cucm_options_t *opt, char *err,
                        size_t errsz)
{
    br_cucm_profile_t *p = calloc(1, sizeof *p);
    const br_cucm_values_t *v;
    int rc = -ENOMEM;

    if (!p)
        goto fail;
    if ((rc = br_cucm_values_init(&p->v, opt, err, errsz)) < 0)
        goto fail;
    v = &p->v;
    if ((rc = add_security_profile(p)) < 0 || (rc = add_sip_profile(p)) < 0 ||
        (rc = add_trunk(p)) < 0 || (rc = add_partition(p)) < 0 || (rc = add_css(p)) < 0 ||
        (rc = add_route_pattern(p, v->recording_number, NULL,
                                "the route pattern of the Recording Destination Address, "
                                "in the partition of the recording calling search space",
                                "bibrec: recording destination")) < 0)
        goto fail;
    if (v->announcement_number[0] &&
        (rc = add_route_pattern(p, v->announcement_number, "-announcement",
                                "the route pattern of the announcement number (Agent Greeting "
                                "or a consent prompt); callers reach it through a calling "
                                "search space that has this partition",
                                "bibrec: announcement")) < 0)
        goto fail;
    if ((rc = add_recording_profile(p)) < 0 || (rc = add_phone_service(p)) < 0 ||
        (rc = add_softkeys(p)) < 0)
        goto fail;
    if (opt->nlines == 0 || opt->placeholders) {
        if ((rc = add_phone(p, NULL, 0)) < 0)
            goto fail;
    } else {
        /* Lines of the same phone are grouped into one request, in the
         * order the phones first appear. */
        char *done = calloc(opt->nlines, 1);
        if (!done) {
            rc = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < opt->nlines && rc >= 0; i++) {
            br_cucm_line_t *group;
            size_t count = 0;
            if (done[i])
                continue;
            group = calloc(opt->nlines - i, sizeof *group);
            if (!group) {
                rc = -ENOMEM;
                break;
            }
            for (size_t j = i; j < opt->nlines; j++)
                if (!done[j] && strcmp(opt->lines[j].phone, opt->lines[i].phone) == 0) {
                    group[count++] = opt->lines[j];
                    done[j] = 1;
                }
            rc = add_phone(p, group, count);
            free(group);
        }
        free(done);
        if (rc < 0)
            goto fail;
    }
    if ((rc = number(p)) < 0)
        goto fail;
    *out = p;
    return 0;
fail:
    if (rc == -ENOMEM)
        snprintf(err, errsz, "out of memory");
    br_cucm_profile_free(p);
    return rc;
}

void br_cucm_profile_free(br_cucm_profile_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        xmlFree((xmlChar *)p->reqs[i].body);
        free((char *)p->reqs[i].object);
        free((char *)p->reqs[i].file);
    }
    free(p->reqs);
    free(p);
}

size_t br_cucm_profile_count(const br_cucm_profile_t *p)
{
    return p->n;
}

const br_cucm_request_t *br_cucm_profile_request(const br_cucm_profile_t *p, size_t i)
{
    return i < p->n ? &p->reqs[i] : NULL;
}

const br_cucm_values_t *br_cucm_profile_values(const br_cucm_profile_t *p)
{
    return &p->v;
}

static int write_all(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "w");
    int rc = 0;

    if (!f)
        return -errno;
    if (fwrite(data, 1, len, f) != len)
        rc = -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

int br_cucm_profile_write_axl(const br_cucm_profile_t *p, const char *dir, char *err, size_t errsz)
{
    for (size_t i = 0; i < p->n; i++) {
        char path[4096];
        int rc;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, p->reqs[i].file) >= sizeof path) {
            snprintf(err, errsz, "%s: path too long", dir);
            return -ENAMETOOLONG;
        }
        if ((rc = write_all(path, p->reqs[i].body, p->reqs[i].len)) < 0) {
            snprintf(err, errsz, "%s: %s", path, br_strerror(rc));
            return rc;
        }
    }
    return 0;
}
