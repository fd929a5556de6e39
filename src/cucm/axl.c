/*
 * AXL over libcurl. Each request is a POST of a SOAP envelope with the
 * SOAPAction header AXL dispatches on; the answer is parsed with libxml2
 * (no network access, no entity expansion: it comes from the network).
 *
 * TLS verification is on unless the administrator turns it off, because
 * the same connection carries the AXL password. The easy handle is reused
 * for every request, so TCP/TLS connections and CUCM's session cookie are
 * too: CUCM throttles logins per user, and a dozen requests should not
 * count as a dozen logins.
 */
#include "axl.h"

#include <curl/curl.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/util.h"
#include "cucm/profile.h"

/* CUCM's answers are a few hundred bytes; a megabyte is plenty and stops a
 * wrong URL from filling memory. */
#define MAX_RESPONSE (1024 * 1024)

struct br_axl {
    CURL *curl;
    char *url, *user, *password, *cacert;
    char errbuf[CURL_ERROR_SIZE];
    br_buf_t response;
};

/* ---- reading answers ---------------------------------------------------------- */

/* Copies an element's text into out as one trimmed line. */
static void copy_text(xmlNodePtr n, char *out, size_t outsz)
{
    xmlChar *c = n ? xmlNodeGetContent(n) : NULL;
    const char *s = (const char *)c;
    size_t len, o = 0;

    out[0] = 0;
    if (!c)
        return;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
        len--;
    for (size_t i = 0; i < len && o + 1 < outsz; i++)
        out[o++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    out[o] = 0;
    xmlFree(c);
}

static int named(xmlNodePtr n, const char *name)
{
    const char *local, *colon;

    if (!n || n->type != XML_ELEMENT_NODE)
        return 0;
    /* With its prefix undeclared, libxml2 keeps "soapenv:Body" as the name. */
    local = (const char *)n->name;
    if (!n->ns && (colon = strchr(local, ':')) != NULL)
        local = colon + 1;
    return strcmp(local, name) == 0;
}

/* First element child with that local name. Namespaces are not checked:
 * the local names are unambiguous inside an AXL answer, and a server that
 * forgets a declaration should still have its fault reported. */
static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
        if (named(n, name))
            return n;
    return NULL;
}

static xmlNodePtr first_element(xmlNodePtr parent)
{
    for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            return n;
    return NULL;
}

/* Depth-first search, for axlcode and axlmessage inside <detail>. */
static xmlNodePtr find(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next) {
        xmlNodePtr f;
        if (named(n, name))
            return n;
        if (n->type == XML_ELEMENT_NODE && (f = find(n, name)) != NULL)
            return f;
    }
    return NULL;
}

static void describe_fault(br_axl_result_t *res)
{
    int same = strcmp(res->faultstring, res->axlmessage) == 0;

    if (res->axlcode[0])
        snprintf(res->error, sizeof res->error, "SOAP fault (%s): %s [axlcode %s%s%s]", res->faultcode,
                 res->faultstring, res->axlcode, same || !res->axlmessage[0] ? "" : ": ",
                 same ? "" : res->axlmessage);
    else
        snprintf(res->error, sizeof res->error, "SOAP fault (%s): %s", res->faultcode,
                 res->faultstring);
}

int br_axl_parse_response(const char *body, size_t len, const char *method, br_axl_result_t *res)
{
    xmlDocPtr doc = NULL;
    xmlNodePtr root, soap_body, first, ret;
    char want[160];
    int rc = -EPROTO;

    res->uuid[0] = res->faultcode[0] = res->faultstring[0] = 0;
    res->axlcode[0] = res->axlmessage[0] = res->error[0] = 0;
    res->fault = 0;
    if (len > (size_t)MAX_RESPONSE || len == 0)
        goto unexpected;
    doc = xmlReadMemory(body, (int)len, "axl-response.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!named(root, "Envelope") || !(soap_body = child(root, "Body")) ||
        !(first = first_element(soap_body)))
        goto unexpected;
    if (named(first, "Fault")) {
        xmlNodePtr detail = child(first, "detail");
        res->fault = 1;
        copy_text(child(first, "faultcode"), res->faultcode, sizeof res->faultcode);
        copy_text(child(first, "faultstring"), res->faultstring, sizeof res->faultstring);
        copy_text(find(detail, "axlcode"), res->axlcode, sizeof res->axlcode);
        copy_text(find(detail, "axlmessage"), res->axlmessage, sizeof res->axlmessage);
        if (!res->faultstring[0])
            br_strlcpy(res->faultstring, res->axlmessage[0] ? res->axlmessage : "(no faultstring)",
                       sizeof res->faultstring);
        describe_fault(res);
        goto out;
    }
    snprintf(want, sizeof want, "%sResponse", method);
    if (!named(first, want)) {
        snprintf(res->error, sizeof res->error, "the answer is <%s>, not <%s>",
                 (const char *)first->name, want);
        goto out;
    }
    if (!(ret = child(first, "return"))) {
        snprintf(res->error, sizeof res->error, "<%s> has no <return>", want);
        goto out;
    }
    /* add and update requests return the object's UUID as text. */
    if (!first_element(ret))
        copy_text(ret, res->uuid, sizeof res->uuid);
    rc = 0;
    goto out;
unexpected:
    snprintf(res->error, sizeof res->error, "the answer is not an AXL SOAP envelope");
out:
    xmlFreeDoc(doc);
    return rc;
}

/* ---- posting --------------------------------------------------------------------- */

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    br_axl_t *a = arg;
    size_t len = size * n;

    if (a->response.len + len > MAX_RESPONSE || br_buf_append(&a->response, data, len) < 0)
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    return len;
}

static char *dup_or_null(const char *s, int *failed)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *failed = 1;
    return d;
}

int br_axl_open(br_axl_t **out, const br_axl_options_t *opt)
{
    br_axl_t *a = NULL;
    int failed = 0;

    if (!opt->url || (strncasecmp(opt->url, "https://", 8) != 0 &&
                      strncasecmp(opt->url, "http://", 7) != 0))
        return -EINVAL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -ENOMEM;
    a = calloc(1, sizeof *a);
    if (!a) {
        curl_global_cleanup();
        return -ENOMEM;
    }
    br_buf_init(&a->response);
    a->url = dup_or_null(opt->url, &failed);
    a->user = dup_or_null(opt->user, &failed);
    a->password = dup_or_null(opt->password, &failed);
    a->cacert = dup_or_null(opt->cacert, &failed);
    a->curl = curl_easy_init();
    if (failed || !a->curl)
        goto fail;

    curl_easy_setopt(a->curl, CURLOPT_URL, a->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(a->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(a->curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    /* A redirect would carry the password somewhere else. */
    curl_easy_setopt(a->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(a->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    if (a->user)
        curl_easy_setopt(a->curl, CURLOPT_USERNAME, a->user);
    if (a->password)
        curl_easy_setopt(a->curl, CURLOPT_PASSWORD, a->password);
    curl_easy_setopt(a->curl, CURLOPT_COOKIEFILE, ""); /* keep CUCM's session cookie */
    curl_easy_setopt(a->curl, CURLOPT_SSL_VERIFYPEER, opt->insecure ? 0L : 1L);
    curl_easy_setopt(a->curl, CURLOPT_SSL_VERIFYHOST, opt->insecure ? 0L : 2L);
    if (a->cacert)
        curl_easy_setopt(a->curl, CURLOPT_CAINFO, a->cacert);
    curl_easy_setopt(a->curl, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(a->curl, CURLOPT_TIMEOUT, opt->timeout_s > 0 ? opt->timeout_s : 60L);
    curl_easy_setopt(a->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(a->curl, CURLOPT_USERAGENT, "bibrec/" PACKAGE_VERSION);
    curl_easy_setopt(a->curl, CURLOPT_ERRORBUFFER, a->errbuf);
    curl_easy_setopt(a->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(a->curl, CURLOPT_WRITEDATA, a);
    *out = a;
    return 0;
fail:
    br_axl_close(a);
    return -ENOMEM;
}

void br_axl_close(br_axl_t *a)
{
    if (!a)
        return;
    if (a->curl)
        curl_easy_cleanup(a->curl);
    if (a->password) {
        explicit_bzero(a->password, strlen(a->password));
        free(a->password);
    }
    free(a->url);
    free(a->user);
    free(a->cacert);
    br_buf_free(&a->response);
    free(a);
    curl_global_cleanup();
}

static int transport_error(br_axl_t *a, CURLcode cc, br_axl_result_t *res)
{
    const char *why = a->errbuf[0] ? a->errbuf : curl_easy_strerror(cc);
    const char *hint = "";
    int rc = -EIO;

    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        rc = -ECONNREFUSED;
        break;
    case CURLE_OPERATION_TIMEDOUT:
        rc = -ETIMEDOUT;
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        rc = -EHOSTUNREACH;
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        hint = " (give CUCM's tomcat certificate or its CA with --cacert, or --insecure)";
        break;
    case CURLE_WRITE_ERROR:
        why = "the answer is larger than an AXL answer can be";
        break;
    default:
        break;
    }
    snprintf(res->error, sizeof res->error, "%.300s: %.300s%s", a->url, why, hint);
    return rc;
}

int br_axl_post(br_axl_t *a, const char *method, const char *body, size_t len,
                br_axl_result_t *res)
{
    struct curl_slist *headers = NULL;
    char action[200];
    /* "Expect:" turns off curl's 100-continue round trip, which buys
     * nothing for a few kilobytes. */
    const char *lines[] = { "Content-Type: text/xml; charset=utf-8", action, "Expect:" };
    CURLcode cc;
    int rc;

    memset(res, 0, sizeof *res);
    snprintf(action, sizeof action, "SOAPAction: \"CUCM:DB ver=" BR_CUCM_AXL_VERSION " %s\"",
             method);
    for (size_t i = 0; i < BR_ARRAY_SIZE(lines); i++) {
        struct curl_slist *h = curl_slist_append(headers, lines[i]);
        if (!h) {
            curl_slist_free_all(headers);
            snprintf(res->error, sizeof res->error, "out of memory");
            return -ENOMEM;
        }
        headers = h;
    }
    br_buf_reset(&a->response);
    a->errbuf[0] = 0;
    curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(a->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(a->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    cc = curl_easy_perform(a->curl);
    curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    if (cc != CURLE_OK)
        return transport_error(a, cc, res);
    curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &res->http_status);

    if (res->http_status == 401 || res->http_status == 403) {
        snprintf(res->error, sizeof res->error,
                 "CUCM refused user '%s' (HTTP %ld): check the user name and BIBREC_AXL_PASSWORD; "
                 "the user needs the Standard AXL API Access role",
                 a->user ? a->user : "", res->http_status);
        return -EACCES;
    }
    {
        long status = res->http_status;
        rc = br_axl_parse_response((const char *)a->response.data, a->response.len, method, res);
        res->http_status = status;
    }
    if (rc == 0 && (res->http_status < 200 || res->http_status > 299)) {
        snprintf(res->error, sizeof res->error, "HTTP %ld with a success answer", res->http_status);
        return -EPROTO;
    }
    if (rc < 0 && !res->fault) {
        /* Not AXL at all (a wrong URL, a proxy's page): show the status
         * and the start of what came back. */
        char start[121], why[sizeof res->error];
        size_t n = a->response.len < sizeof start - 1 ? a->response.len : sizeof start - 1;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = a->response.data[i];
            start[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
        }
        start[n] = 0;
        br_strlcpy(why, res->error, sizeof why);
        snprintf(res->error, sizeof res->error, "unexpected answer from %.300s (HTTP %ld): %.300s%s%s",
                 a->url, res->http_status, why, n ? ": " : "", start);
        return res->http_status >= 200 && res->http_status <= 299 ? -EPROTO : -EIO;
    }
    return rc;
}
