/*
 * Parser for the x-* URI parameters CUCM puts in the From header of
 * built-in-bridge recording INVITEs (see docs/cucm-sip.md).
 *
 * What real CUCM releases send varies: release 7 sends only the flag, x-refci
 * and x-nearenddevice; later releases add far-end fields, cluster ids, GUIDs
 * and a session id. Any subset is accepted, in any order, with whitespace
 * after ';' tolerated and parameter names compared without case. Device names
 * of phones (SEP...) are normalised to upper case because CUCM 10 sends them
 * in lower case and the same phone must match across releases; other device
 * names (trunks, CTI ports, bridges) keep their case.
 */
#include "cucm_from.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

/* CUCM documents at most 16 parameters; leave room for vendor additions. */
#define MAX_PARAMS 64

enum kind { K_FLAG_NEAR, K_FLAG_FAR, K_REFCI, K_DEVICE, K_TEXT, K_HEX };

struct param_def {
    const char *name;
    enum kind kind;
    unsigned bit; /* 0 for mandatory fields */
    size_t offset;
    size_t size;
};

#define F(name, kind, bit, field) \
    { name, kind, bit, offsetof(br_cucm_from_t, field), sizeof(((br_cucm_from_t *)0)->field) }

static const struct param_def params[] = {
    { "x-nearend", K_FLAG_NEAR, 0, 0, 0 },
    { "x-farend", K_FLAG_FAR, 0, 0, 0 },
    F("x-refci", K_REFCI, 0, refci),
    F("x-nearenddevice", K_DEVICE, BR_FROM_NEAR_DEVICE, near_device),
    F("x-nearendaddr", K_TEXT, BR_FROM_NEAR_ADDR, near_addr),
    F("x-nearendclusterid", K_TEXT, BR_FROM_NEAR_CLUSTER, near_cluster),
    F("x-farendrefci", K_REFCI, BR_FROM_FAR_REFCI, far_refci),
    F("x-farenddevice", K_DEVICE, BR_FROM_FAR_DEVICE, far_device),
    F("x-farendaddr", K_TEXT, BR_FROM_FAR_ADDR, far_addr),
    F("x-farendclusterid", K_TEXT, BR_FROM_FAR_CLUSTER, far_cluster),
    F("x-farendguid", K_HEX, BR_FROM_FAR_GUID, far_guid),
    F("x-nearendguid", K_HEX, BR_FROM_NEAR_GUID, near_guid),
    F("x-sessionid", K_HEX, BR_FROM_SESSION_ID, session_id),
};

struct span {
    const char *p;
    size_t n;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Copies a URI parameter value, undoing %XX escapes (RFC 3261 §25.1). */
static int copy_value(struct span v, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < v.n; i++) {
        char c = v.p[i];
        if (c == '%' && i + 2 < v.n && hexval(v.p[i + 1]) >= 0 && hexval(v.p[i + 2]) >= 0) {
            c = (char)(hexval(v.p[i + 1]) << 4 | hexval(v.p[i + 2]));
            i += 2;
        }
        if (c == 0 || (unsigned char)c < 0x20)
            return -BR_FROM_ERR_SYNTAX;
        if (o + 1 >= outsz)
            return -BR_FROM_ERR_TOO_LONG;
        out[o++] = c;
    }
    out[o] = 0;
    return 0;
}

static struct span trim(struct span s)
{
    while (s.n && isspace((unsigned char)s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && isspace((unsigned char)s.p[s.n - 1]))
        s.n--;
    return s;
}

static int check_value(const struct param_def *d, char *v)
{
    size_t n = strlen(v);

    switch (d->kind) {
    case K_REFCI:
        if (n == 0 || n >= BR_REFCI_MAX - 1)
            return -BR_FROM_ERR_INVALID_REFCI;
        for (size_t i = 0; i < n; i++)
            if (!isdigit((unsigned char)v[i]))
                return -BR_FROM_ERR_INVALID_REFCI;
        return 0;
    case K_DEVICE:
        if (strncasecmp(v, "SEP", 3) == 0)
            for (size_t i = 0; i < n; i++)
                v[i] = (char)toupper((unsigned char)v[i]);
        return 0;
    case K_HEX:
        for (size_t i = 0; i < n; i++)
            if (hexval(v[i]) < 0)
                return -BR_FROM_ERR_SYNTAX;
        return 0;
    default:
        return 0;
    }
}

/* Finds the URI: the text between '<' and '>' (skipping a quoted display
 * name), or without brackets everything before the first header parameter
 * that is not an x- parameter. */
static int find_uri(const char *s, size_t len, struct span *uri)
{
    size_t i = 0;

    while (i < len && isspace((unsigned char)s[i]))
        i++;
    if (i < len && s[i] == '"') {
        for (i++; i < len && s[i] != '"'; i++)
            if (s[i] == '\\')
                i++;
        if (i >= len)
            return -BR_FROM_ERR_SYNTAX;
        i++;
    }
    for (; i < len && s[i] != '<'; i++)
        if (s[i] == '"' || s[i] == '>')
            return -BR_FROM_ERR_SYNTAX;
    if (i < len) {
        const char *end = memchr(s + i + 1, '>', len - i - 1);
        if (!end)
            return -BR_FROM_ERR_SYNTAX;
        uri->p = s + i + 1;
        uri->n = (size_t)(end - uri->p);
    } else {
        /* addr-spec without brackets: parameters would be header parameters
         * by RFC 3261, but take the x- ones as CUCM means them. */
        uri->p = s;
        uri->n = len;
    }
    *uri = trim(*uri);
    if (uri->n < 4 || (strncasecmp(uri->p, "sip:", 4) != 0 &&
                       (uri->n < 5 || strncasecmp(uri->p, "sips:", 5) != 0)))
        return -BR_FROM_ERR_SYNTAX;
    return 0;
}

static const struct param_def *lookup(struct span name)
{
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (strlen(params[i].name) == name.n && strncasecmp(params[i].name, name.p, name.n) == 0)
            return &params[i];
    return NULL;
}

int br_cucm_from_parse(const char *hdr, size_t len, br_cucm_from_t *out)
{
    struct span uri;
    const char *p, *end;
    unsigned count = 0, seen = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if (!hdr)
        return -BR_FROM_ERR_SYNTAX;
    rc = find_uri(hdr, len, &uri);
    if (rc < 0)
        return rc;
    end = uri.p + uri.n;
    /* URI headers ('?...') are not parameters. */
    p = memchr(uri.p, '?', uri.n);
    if (p)
        end = p;
    p = memchr(uri.p, ';', (size_t)(end - uri.p));
    while (p && p < end) {
        struct span item, name, value = { NULL, 0 };
        const char *next = memchr(p + 1, ';', (size_t)(end - p - 1));
        const struct param_def *d;
        const char *eq;
        char tmp[BR_FIELD_MAX];

        item.p = p + 1;
        item.n = (size_t)((next ? next : end) - item.p);
        p = next;
        if (++count > MAX_PARAMS)
            return -BR_FROM_ERR_TOO_MANY;
        eq = memchr(item.p, '=', item.n);
        name.p = item.p;
        name.n = eq ? (size_t)(eq - item.p) : item.n;
        name = trim(name);
        if (eq) {
            value.p = eq + 1;
            value.n = (size_t)(item.p + item.n - value.p);
            value = trim(value);
        }
        d = lookup(name);
        if (!d)
            continue; /* transport=, user=, vendor parameters */
        if (d->kind == K_FLAG_NEAR || d->kind == K_FLAG_FAR) {
            enum br_from_stream s = d->kind == K_FLAG_NEAR ? BR_STREAM_NEAR : BR_STREAM_FAR;
            if (out->stream != BR_STREAM_NONE && out->stream != s)
                return -BR_FROM_ERR_CONFLICT;
            out->stream = s;
            continue;
        }
        rc = copy_value(value, tmp, d->size < sizeof tmp ? d->size : sizeof tmp);
        if (rc < 0)
            return d->kind == K_REFCI && rc == -BR_FROM_ERR_TOO_LONG ? -BR_FROM_ERR_INVALID_REFCI : rc;
        rc = check_value(d, tmp);
        if (rc < 0)
            return rc;
        {
            char *field = (char *)out + d->offset;
            unsigned key = 1u << (d - params);
            if (seen & key) {
                if (strcmp(field, tmp) != 0)
                    return -BR_FROM_ERR_CONFLICT;
                continue;
            }
            seen |= key;
            memcpy(field, tmp, strlen(tmp) + 1);
            out->present |= d->bit;
        }
    }
    if (out->stream == BR_STREAM_NONE)
        return -BR_FROM_ERR_NOT_RECORDING;
    if (out->refci[0] == 0)
        return (seen & (1u << 2)) ? -BR_FROM_ERR_INVALID_REFCI : -BR_FROM_ERR_MISSING_REFCI;
    return 0;
}

const char *br_cucm_from_strerror(int err)
{
    switch (-err) {
    case BR_FROM_OK:
        return "ok";
    case BR_FROM_ERR_NOT_RECORDING:
        return "not-a-recording-leg";
    case BR_FROM_ERR_MISSING_REFCI:
        return "missing-refci";
    case BR_FROM_ERR_INVALID_REFCI:
        return "invalid-refci";
    case BR_FROM_ERR_SYNTAX:
        return "malformed-from";
    case BR_FROM_ERR_TOO_LONG:
        return "parameter-too-long";
    case BR_FROM_ERR_TOO_MANY:
        return "too-many-parameters";
    case BR_FROM_ERR_CONFLICT:
        return "conflicting-parameters";
    default:
        return "unknown-error";
    }
}
