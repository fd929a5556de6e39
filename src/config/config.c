/*
 * Configuration parsing with libxml2. The accepted elements and attributes
 * are one table, so an unknown name is an error (a typo must not silently
 * fall back to a default) and every setting's type and range is checked in
 * one place. Entities are not expanded and nothing is fetched from the
 * network, so a configuration file cannot pull in other files.
 */
#include "settings.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/netlist.h"
#include "common/util.h"

enum type {
    T_STR, T_OPTSTR, T_PORT0, T_BASIS, T_MODE, T_NOTICE, T_PATH, T_SOCK, T_UINT, T_PORT, T_BOOL,
    T_LOGLEVEL, T_DIGIT, T_ENUM
};

struct setting {
    const char *element;
    const char *attribute;
    enum type type;
    size_t offset;
    size_t size;
    unsigned min, max; /* for T_UINT */
    const char *const *names; /* for T_ENUM: the accepted words, NULL-terminated */
};

#define S(el, at, ty, field, lo, hi) \
    { el, at, ty, offsetof(br_config_t, field), sizeof(((br_config_t *)0)->field), lo, hi, NULL }

static const struct setting settings[] = {
    S("log", "level", T_LOGLEVEL, log_level, 0, 0),
    S("store", "path", T_PATH, store_path, 0, 0),
    S("store", "master-key", T_PATH, master_key, 0, 0),
    S("store", "segment-ms", T_UINT, segment_ms, 200, 10000),
    S("store", "write-queue-mb", T_UINT, write_queue_mb, 1, 4096),
    S("store", "compress", T_BOOL, store_compress, 0, 0),
    S("store", "signing-key", T_PATH, signing_key, 0, 0),
    S("store", "checkpoint-s", T_UINT, checkpoint_s, 1, 86400),
    S("store", "sweep-s", T_UINT, sweep_s, 1, 86400),
    S("sip", "address", T_STR, sip_address, 0, 0),
    S("sip", "port", T_PORT, sip_port, 0, 0),
    S("sip", "udp", T_BOOL, sip_udp, 0, 0),
    S("sip", "tcp", T_BOOL, sip_tcp, 0, 0),
    S("sip", "tls-port", T_PORT0, sip_tls_port, 0, 0),
    S("sip", "tls-cert", T_PATH, tls_cert, 0, 0),
    S("sip", "tls-key", T_PATH, tls_key, 0, 0),
    S("sip", "tls-ca", T_PATH, tls_ca, 0, 0),
    S("sip", "tls-verify-client", T_BOOL, tls_verify_client, 0, 0),
    S("sip", "trusted", T_STR, trusted, 0, 0),
    S("rtp", "address", T_STR, rtp_address, 0, 0),
    S("rtp", "port-min", T_PORT, rtp_port_min, 0, 0),
    S("rtp", "port-max", T_PORT, rtp_port_max, 0, 0),
    S("rtp", "jitter-ms", T_UINT, jitter_ms, 20, 1000),
    S("rtp", "read-ms", T_UINT, rtp_read_ms, 1, 100),
    S("control", "socket", T_SOCK, control_socket, 0, 0),
    S("http", "address", T_STR, http_address, 0, 0),
    S("http", "port", T_PORT0, http_port, 0, 0),
    S("http", "tls-cert", T_PATH, http_tls_cert, 0, 0),
    S("http", "tls-key", T_PATH, http_tls_key, 0, 0),
    S("http", "phone-networks", T_STR, phone_networks, 0, 0),
    S("session", "pair-wait-ms", T_UINT, pair_wait_ms, 0, 60000),
    S("session", "answer-wait-ms", T_UINT, answer_wait_ms, 0, 5000),
    S("session", "max-calls", T_UINT, max_calls, 1, 100000),
    S("session", "drain-ms", T_UINT, drain_ms, 0, 3600000),
    S("session", "stitch-window-s", T_UINT, stitch_window_s, 0, 86400),
    S("session", "consent-window-s", T_UINT, consent_window_s, 1, 86400),
    S("http", "phone-pin", T_BOOL, phone_pin, 0, 0),
    S("http", "phone-pin-minutes", T_UINT, phone_pin_minutes, 1, 1440),
    S("phone-push", "user", T_STR, push_user, 0, 0),
    S("phone-push", "password-env", T_STR, push_password_env, 0, 0),
    S("phone-push", "port", T_PORT, push_port, 0, 0),
    S("cucm", "recording-number", T_STR, cucm.recording_number, 0, 0),
    S("cucm", "trunk-name", T_STR, cucm.trunk_name, 0, 0),
    S("cucm", "recording-profile", T_STR, cucm.recording_profile, 0, 0),
    S("cucm", "recording-css", T_STR, cucm.recording_css, 0, 0),
    S("cucm", "partition", T_STR, cucm.partition, 0, 0),
    S("cucm", "device-pool", T_STR, cucm.device_pool, 0, 0),
    S("cucm", "sip-profile", T_STR, cucm.sip_profile, 0, 0),
    S("cucm", "security-profile", T_STR, cucm.security_profile, 0, 0),
    S("cucm", "phone-service-url", T_OPTSTR, cucm.phone_service_url, 0, 0),
    S("cucm", "announcement-number", T_OPTSTR, cucm.announcement_number, 0, 0),
    S("cucm", "axl-user", T_STR, cucm.axl_user, 0, 0),
};

#define CT(el, at, ty, field) \
    { el, at, ty, offsetof(br_config_t, controller.field), sizeof(((br_config_t *)0)->controller.field), 0, 0, NULL }
static const struct setting controller_settings[] = {
    CT("controller", "name", T_STR, name),
    CT("controller", "contact", T_STR, contact),
    CT("controller", "dpo", T_STR, dpo),
};

#define PR(at, ty, field) \
    { "processor", at, ty, offsetof(struct br_processor, field), sizeof(((struct br_processor *)0)->field), 0, 0, NULL }
static const struct setting processor_settings[] = {
    PR("name", T_STR, name),
    PR("role", T_STR, role),
};

#define PF(at, ty, field, lo, hi) \
    { "profile", at, ty, offsetof(br_profile_t, field), sizeof(((br_profile_t *)0)->field), lo, hi, NULL }
static const struct setting profile_settings[] = {
    PF("name", T_STR, name, 0, 0),
    PF("basis", T_BASIS, basis, 0, 0),
    PF("mode", T_MODE, mode, 0, 0),
    PF("notice", T_NOTICE, notice, 0, 0),
    PF("retention-days", T_UINT, retention_days, 0, 36500),
    PF("keep-confirm-minutes", T_UINT, keep_confirm_minutes, 0, 10080),
    PF("access", T_STR, access, 0, 0),
    PF("stop-digit", T_STR, stop_digit, 0, 0),
    PF("purpose", T_STR, purpose, 0, 0),
    PF("require-consent", T_BOOL, require_consent, 0, 0),
    { "profile", "consent-default", T_ENUM, offsetof(br_profile_t, consent_default),
      sizeof(uint8_t), 0, 0, (const char *const[]){ "", "accept", "refuse", NULL } },
};

static const char *const ann_mode_names[] = { "greeting", "pre-connect", NULL };

#define AN(at, ty, field, lo, hi) \
    { "announcement", at, ty, offsetof(br_announcement_t, field), \
      sizeof(((br_announcement_t *)0)->field), lo, hi, NULL }
static const struct setting announcement_settings[] = {
    AN("number", T_STR, number, 0, 0),
    { "announcement", "mode", T_ENUM, offsetof(br_announcement_t, mode), sizeof(uint8_t), 0, 0,
      ann_mode_names },
    AN("transfer-to", T_STR, transfer_to, 0, 0),
    AN("profile", T_STR, profile, 0, 0),
    AN("collect", T_BOOL, collect, 0, 0),
    AN("accept-digit", T_DIGIT, accept_digit, 0, 0),
    AN("refuse-digit", T_DIGIT, refuse_digit, 0, 0),
    AN("wait-ms", T_UINT, wait_ms, 0, 60000),
    AN("language", T_STR, language, 0, 0),
};

#define PM(at, ty, field) \
    { "prompt", at, ty, offsetof(struct br_prompt, field), sizeof(((struct br_prompt *)0)->field), \
      0, 0, NULL }
static const struct setting prompt_settings[] = {
    PM("language", T_STR, language),
    PM("file", T_PATH, file),
    PM("callers", T_STR, callers),
};

#define PU(at, field) \
    { "phone-user", at, T_STR, offsetof(br_phone_user_t, field), \
      sizeof(((br_phone_user_t *)0)->field), 0, 0, NULL }
static const struct setting phone_user_settings[] = {
    PU("name", name),
    PU("devices", devices),
    PU("pin", pin),
};

#define MT(at, field) \
    { "match", at, T_STR, offsetof(struct br_profile_match, field), \
      sizeof(((struct br_profile_match *)0)->field), 0, 0, NULL }
static const struct setting match_settings[] = {
    MT("dn", dn),
    MT("device", device),
};

void br_config_defaults(br_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    br_strlcpy(cfg->source, "(built-in defaults)", sizeof cfg->source);
    cfg->log_level = BR_LOG_INFO;
    br_strlcpy(cfg->store_path, "bibrec-data/store", sizeof cfg->store_path);
    br_strlcpy(cfg->master_key, "bibrec-data/master.key", sizeof cfg->master_key);
    br_strlcpy(cfg->signing_key, "bibrec-data/signing.key", sizeof cfg->signing_key);
    cfg->checkpoint_s = 300;
    cfg->sweep_s = 60;
    cfg->segment_ms = 500;
    cfg->write_queue_mb = 256;
    cfg->store_compress = 1;
    br_strlcpy(cfg->sip_address, "127.0.0.1", sizeof cfg->sip_address);
    cfg->sip_port = 5060;
    cfg->sip_udp = 1;
    cfg->sip_tcp = 1;
    br_strlcpy(cfg->rtp_address, "127.0.0.1", sizeof cfg->rtp_address);
    cfg->rtp_port_min = 16384;
    cfg->rtp_port_max = 32767;
    cfg->jitter_ms = 60;
    cfg->rtp_read_ms = 40;
    br_strlcpy(cfg->control_socket, "bibrec-data/bibrecd.sock", sizeof cfg->control_socket);
    cfg->pair_wait_ms = 5000;
    cfg->answer_wait_ms = 300;
    cfg->max_calls = 4000;
    cfg->drain_ms = 0;
    cfg->stitch_window_s = 3600;
    cfg->consent_window_s = 300;
    cfg->phone_pin_minutes = 15;
    br_strlcpy(cfg->push_password_env, "BIBREC_PUSH_PASSWORD", sizeof cfg->push_password_env);
    cfg->push_port = 80;
    br_strlcpy(cfg->trusted, "127.0.0.0/8 ::1", sizeof cfg->trusted);
    br_strlcpy(cfg->http_address, "127.0.0.1", sizeof cfg->http_address);
    cfg->http_port = 8080;
    br_strlcpy(cfg->phone_networks, "127.0.0.0/8 ::1", sizeof cfg->phone_networks);
    br_strlcpy(cfg->cucm.recording_number, "7000", sizeof cfg->cucm.recording_number);
    br_strlcpy(cfg->cucm.trunk_name, "bibrec-trunk", sizeof cfg->cucm.trunk_name);
    br_strlcpy(cfg->cucm.recording_profile, "bibrec-recording", sizeof cfg->cucm.recording_profile);
    br_strlcpy(cfg->cucm.recording_css, "bibrec-recording-css", sizeof cfg->cucm.recording_css);
    br_strlcpy(cfg->cucm.partition, "bibrec-recording-pt", sizeof cfg->cucm.partition);
    br_strlcpy(cfg->cucm.device_pool, "Default", sizeof cfg->cucm.device_pool);
    br_strlcpy(cfg->cucm.sip_profile, "bibrec SIP Profile", sizeof cfg->cucm.sip_profile);
    br_strlcpy(cfg->cucm.security_profile, "bibrec SIP Trunk Security Profile",
               sizeof cfg->cucm.security_profile);
    br_strlcpy(cfg->cucm.axl_user, "axladmin", sizeof cfg->cucm.axl_user);
}

/* Joins a relative path to the configuration file's folder. */
static int resolve_path(const char *base_dir, const char *value, char *out, size_t outsz)
{
    if (value[0] == '/' || !base_dir[0])
        return br_strlcpy(out, value, outsz);
    return (size_t)snprintf(out, outsz, "%s/%s", base_dir, value) < outsz ? 0 : -ENOSPC;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long x;
    if (!v[0] || v[0] == '-' || v[0] == '+')
        return -EINVAL;
    errno = 0;
    x = strtoul(v, &end, 10);
    if (errno || *end || x > max)
        return -EINVAL;
    *out = x;
    return 0;
}

static const char *const basis_names[] = { "", "consent", "contract", "legal-obligation",
                                            "vital-interests", "public-task",
                                            "legitimate-interests" };
static const char *const mode_names[] = { "", "always", "on-demand" };
static const char *const notice_names[] = { "none", "tone", "announcement" };
static const char *const consent_names[] = { "none", "accepted", "refused", "informed" };

static int parse_enum(const char *v, const char *const *names, size_t n, int first)
{
    for (size_t i = (size_t)first; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return (int)i;
    return -1;
}

const char *br_basis_name(uint8_t basis)
{
    return basis < BR_ARRAY_SIZE(basis_names) && basis ? basis_names[basis] : "none";
}

const char *br_mode_name(uint8_t mode)
{
    return mode < BR_ARRAY_SIZE(mode_names) && mode ? mode_names[mode] : "always";
}

const char *br_notice_name(uint8_t notice)
{
    return notice < BR_ARRAY_SIZE(notice_names) ? notice_names[notice] : "none";
}

const char *br_consent_name(uint8_t consent)
{
    return consent < BR_ARRAY_SIZE(consent_names) ? consent_names[consent] : "none";
}

const char *br_ann_mode_name(uint8_t mode)
{
    return mode <= BR_ANN_PRE_CONNECT ? ann_mode_names[mode] : "greeting";
}

/* "must be one of: a, b, c" from a NULL-terminated word list. */
static int parse_word(const char *v, const char *const *names, uint8_t *out, char *why, size_t whysz)
{
    size_t n = 0;
    for (int i = 0; names[i]; i++)
        if (names[i][0] && strcmp(v, names[i]) == 0) {
            *out = (uint8_t)i;
            return 0;
        }
    n = (size_t)snprintf(why, whysz, "must be one of:");
    for (int i = 0; names[i] && n < whysz; i++)
        if (names[i][0])
            n += (size_t)snprintf(why + n, whysz - n, "%s %s", i && names[i - 1][0] ? "," : "",
                                  names[i]);
    return -EINVAL;
}

/* Sets one setting of the struct at base (the configuration, or one item of
 * a repeated element such as a profile). */
static int apply(void *base, const struct setting *s, const char *v, const char *base_dir,
                 char *why, size_t whysz)
{
    void *field = (char *)base + s->offset;
    int e;
    unsigned long x;

    switch (s->type) {
    case T_STR:
        if (!v[0] || br_strlcpy(field, v, s->size) < 0) {
            snprintf(why, whysz, "must be a non-empty value shorter than %zu characters", s->size);
            return -EINVAL;
        }
        return 0;
    case T_OPTSTR:
        if (br_strlcpy(field, v, s->size) < 0) {
            snprintf(why, whysz, "must be shorter than %zu characters", s->size);
            return -EINVAL;
        }
        return 0;
    case T_PATH:
    case T_SOCK:
        if (!v[0] || resolve_path(base_dir, v, field, s->size) < 0) {
            snprintf(why, whysz, "path is empty or longer than %zu characters", s->size - 1);
            return -EINVAL;
        }
        return 0;
    case T_UINT:
        if (parse_uint(v, s->max, &x) < 0 || x < s->min) {
            snprintf(why, whysz, "must be a whole number from %u to %u", s->min, s->max);
            return -EINVAL;
        }
        *(unsigned *)field = (unsigned)x;
        return 0;
    case T_PORT:
        if (parse_uint(v, 65535, &x) < 0 || x == 0) {
            snprintf(why, whysz, "must be a port number from 1 to 65535");
            return -EINVAL;
        }
        *(uint16_t *)field = (uint16_t)x;
        return 0;
    case T_PORT0:
        if (parse_uint(v, 65535, &x) < 0) {
            snprintf(why, whysz, "must be a port number from 0 (off) to 65535");
            return -EINVAL;
        }
        *(uint16_t *)field = (uint16_t)x;
        return 0;
    case T_BOOL:
        if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
            *(int *)field = 1;
        else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
            *(int *)field = 0;
        else {
            snprintf(why, whysz, "must be yes or no");
            return -EINVAL;
        }
        return 0;
    case T_BASIS:
        if ((e = parse_enum(v, basis_names, BR_ARRAY_SIZE(basis_names), 1)) < 0) {
            snprintf(why, whysz,
                     "must be one of the Art. 6(1) bases: consent, contract, legal-obligation, "
                     "vital-interests, public-task, legitimate-interests");
            return -EINVAL;
        }
        *(uint8_t *)field = (uint8_t)e;
        return 0;
    case T_MODE:
        if ((e = parse_enum(v, mode_names, BR_ARRAY_SIZE(mode_names), 1)) < 0) {
            snprintf(why, whysz, "must be always or on-demand");
            return -EINVAL;
        }
        *(uint8_t *)field = (uint8_t)e;
        return 0;
    case T_NOTICE:
        if ((e = parse_enum(v, notice_names, BR_ARRAY_SIZE(notice_names), 0)) < 0) {
            snprintf(why, whysz, "must be none, tone or announcement");
            return -EINVAL;
        }
        *(uint8_t *)field = (uint8_t)e;
        return 0;
    case T_DIGIT:
        if (strlen(v) != 1 || !strchr("0123456789*#", v[0])) {
            snprintf(why, whysz, "must be one key: 0-9, * or #");
            return -EINVAL;
        }
        br_strlcpy(field, v, s->size);
        return 0;
    case T_ENUM:
        return parse_word(v, s->names, field, why, whysz);
    case T_LOGLEVEL:
        if (br_log_level_parse(v, field) < 0) {
            snprintf(why, whysz, "must be error, warn, info or debug");
            return -EINVAL;
        }
        return 0;
    }
    return -EINVAL;
}

static int known_element(const char *name)
{
    for (size_t i = 0; i < BR_ARRAY_SIZE(settings); i++)
        if (strcmp(settings[i].element, name) == 0)
            return 1;
    return 0;
}

/* Applies every attribute of el from table to base; an attribute not in the
 * table is an error naming file and line. */
static int apply_attributes(xmlDocPtr doc, xmlNodePtr el, const struct setting *table, size_t n,
                            void *base, const char *name, const char *base_dir, char *err,
                            size_t errsz)
{
    char why[200];

    for (xmlAttrPtr a = el->properties; a; a = a->next) {
        const struct setting *s = NULL;
        xmlChar *v;
        int rc;

        for (size_t i = 0; i < n; i++)
            if (strcmp(table[i].element, (const char *)el->name) == 0 &&
                strcmp(table[i].attribute, (const char *)a->name) == 0)
                s = &table[i];
        if (!s) {
            snprintf(err, errsz, "%s:%ld: <%s> has no attribute '%s'", name,
                     (long)xmlGetLineNo(el), el->name, a->name);
            return -EINVAL;
        }
        v = xmlNodeListGetString(doc, a->children, 1);
        rc = apply(base, s, v ? (const char *)v : "", base_dir, why, sizeof why);
        xmlFree(v);
        if (rc < 0) {
            snprintf(err, errsz, "%s:%ld: <%s %s>: %s", name, (long)xmlGetLineNo(el), el->name,
                     a->name, why);
            return rc;
        }
    }
    return 0;
}

/* Whether a repeated element may have one more item (n of max taken); if
 * not, err says so with the element's line. */
static int room_for(int n, int max, const char *what, const char *name, xmlNodePtr el, char *err,
                    size_t errsz)
{
    if (n < max)
        return 1;
    snprintf(err, errsz, "%s:%ld: more than %d %s", name, (long)xmlGetLineNo(el), max, what);
    return 0;
}

static int parse_profile(br_config_t *cfg, xmlDocPtr doc, xmlNodePtr el, const char *name,
                         char *err, size_t errsz)
{
    br_profile_t *p;
    long line = (long)xmlGetLineNo(el);
    int rc;

    if (!room_for(cfg->nprofiles, BR_MAX_PROFILES, "profiles", name, el, err, errsz))
        return -EINVAL;
    p = &cfg->profiles[cfg->nprofiles];
    memset(p, 0, sizeof *p);
    p->mode = BR_MODE_ALWAYS;
    rc = apply_attributes(doc, el, profile_settings, BR_ARRAY_SIZE(profile_settings), p, name, "",
                          err, errsz);
    if (rc < 0)
        return rc;
    if (!p->name[0] || p->basis == BR_BASIS_NONE) {
        snprintf(err, errsz,
                 "%s:%ld: <profile> needs a name and a basis (the GDPR Art. 6(1) lawful basis: "
                 "consent, contract, legal-obligation, vital-interests, public-task, "
                 "legitimate-interests)",
                 name, line);
        return -EINVAL;
    }
    if (p->stop_digit[0] && !strchr("0123456789*#", p->stop_digit[0])) {
        snprintf(err, errsz, "%s:%ld: stop-digit must be one of 0-9, * or #", name, line);
        return -EINVAL;
    }
    for (int i = 0; i < cfg->nprofiles; i++)
        if (strcmp(cfg->profiles[i].name, p->name) == 0) {
            snprintf(err, errsz, "%s:%ld: a second profile named '%s'", name, line, p->name);
            return -EINVAL;
        }
    for (xmlNodePtr m = el->children; m; m = m->next) {
        if (m->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)m->name, "match") != 0) {
            snprintf(err, errsz, "%s:%ld: unknown element <%s> in <profile>", name,
                     (long)xmlGetLineNo(m), m->name);
            return -EINVAL;
        }
        if (p->nmatch == BR_MAX_MATCHES) {
            snprintf(err, errsz, "%s:%ld: more than %d <match> in a profile", name,
                     (long)xmlGetLineNo(m), BR_MAX_MATCHES);
            return -EINVAL;
        }
        rc = apply_attributes(doc, m, match_settings, BR_ARRAY_SIZE(match_settings),
                              &p->match[p->nmatch], name, "", err, errsz);
        if (rc < 0)
            return rc;
        if (!p->match[p->nmatch].dn[0] && !p->match[p->nmatch].device[0]) {
            snprintf(err, errsz, "%s:%ld: <match> needs dn or device", name, (long)xmlGetLineNo(m));
            return -EINVAL;
        }
        p->nmatch++;
    }
    if (p->nmatch == 0) {
        snprintf(err, errsz, "%s:%ld: profile '%s' has no <match>: which lines does it cover?", name,
                 line, p->name);
        return -EINVAL;
    }
    cfg->nprofiles++;
    return 0;
}

static int check_announcement(const br_announcement_t *a, const char *name, long line, char *err,
                              size_t errsz)
{
    if (!a->number[0] || a->nprompts == 0) {
        snprintf(err, errsz, "%s:%ld: <announcement> needs a number and at least one <prompt>", name,
                 line);
        return -EINVAL;
    }
    if (a->mode == BR_ANN_PRE_CONNECT && !a->transfer_to[0]) {
        snprintf(err, errsz, "%s:%ld: a pre-connect announcement needs transfer-to", name, line);
        return -EINVAL;
    }
    if (a->collect && (!a->accept_digit[0] || !a->refuse_digit[0] ||
                       a->accept_digit[0] == a->refuse_digit[0])) {
        snprintf(err, errsz, "%s:%ld: collecting consent needs two different digits", name, line);
        return -EINVAL;
    }
    return 0;
}

static int parse_announcement(br_config_t *cfg, xmlDocPtr doc, xmlNodePtr el, const char *name,
                              const char *base_dir, char *err, size_t errsz)
{
    long line = (long)xmlGetLineNo(el);
    br_announcement_t *a;
    int rc;

    if (!room_for(cfg->nannouncements, BR_MAX_ANNOUNCEMENTS, "announcements", name, el, err, errsz))
        return -EINVAL;
    a = &cfg->announcements[cfg->nannouncements];
    memset(a, 0, sizeof *a);
    br_strlcpy(a->accept_digit, "1", sizeof a->accept_digit);
    br_strlcpy(a->refuse_digit, "2", sizeof a->refuse_digit);
    br_strlcpy(a->language, "en", sizeof a->language);
    a->wait_ms = 5000;
    a->collect = 1;
    rc = apply_attributes(doc, el, announcement_settings, BR_ARRAY_SIZE(announcement_settings), a,
                          name, base_dir, err, errsz);
    if (rc < 0)
        return rc;
    for (xmlNodePtr m = el->children; m; m = m->next) {
        if (m->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)m->name, "prompt") != 0 || a->nprompts == BR_MAX_PROMPTS) {
            snprintf(err, errsz, "%s:%ld: <announcement> holds up to %d <prompt> and nothing else",
                     name, (long)xmlGetLineNo(m), BR_MAX_PROMPTS);
            return -EINVAL;
        }
        rc = apply_attributes(doc, m, prompt_settings, BR_ARRAY_SIZE(prompt_settings),
                              &a->prompts[a->nprompts], name, base_dir, err, errsz);
        if (rc < 0)
            return rc;
        if (!a->prompts[a->nprompts].file[0]) {
            snprintf(err, errsz, "%s:%ld: <prompt> needs a file", name, (long)xmlGetLineNo(m));
            return -EINVAL;
        }
        if (!a->prompts[a->nprompts].language[0])
            br_strlcpy(a->prompts[a->nprompts].language, a->language, sizeof a->language);
        a->nprompts++;
    }
    rc = check_announcement(a, name, line, err, errsz);
    if (rc == 0)
        cfg->nannouncements++;
    return rc;
}

static int parse_phone_user(br_config_t *cfg, xmlDocPtr doc, xmlNodePtr el, const char *name,
                            char *err, size_t errsz)
{
    br_phone_user_t *u;
    int rc;

    if (!room_for(cfg->nphone_users, BR_MAX_PHONE_USERS, "phone users", name, el, err, errsz))
        return -EINVAL;
    u = &cfg->phone_users[cfg->nphone_users];
    rc = apply_attributes(doc, el, phone_user_settings, BR_ARRAY_SIZE(phone_user_settings), u, name,
                          "", err, errsz);
    if (rc < 0)
        return rc;
    if (!u->name[0] || !u->devices[0] || strncmp(u->pin, "hmac-sha256$", 12) != 0) {
        snprintf(err, errsz,
                 "%s:%ld: <phone-user> needs name, devices and a pin made by `bibrec phone-pin`",
                 name, (long)xmlGetLineNo(el));
        return -EINVAL;
    }
    cfg->nphone_users++;
    return 0;
}

/* Elements that may appear more than once or hold children. */
static int walk_special(br_config_t *cfg, xmlDocPtr doc, xmlNodePtr el, const char *name,
                        const char *base_dir, char *err, size_t errsz)
{
    const char *n = (const char *)el->name;

    if (strcmp(n, "profile") == 0)
        return parse_profile(cfg, doc, el, name, err, errsz);
    if (strcmp(n, "announcement") == 0)
        return parse_announcement(cfg, doc, el, name, base_dir, err, errsz);
    if (strcmp(n, "phone-user") == 0)
        return parse_phone_user(cfg, doc, el, name, err, errsz);
    if (strcmp(n, "controller") == 0)
        return apply_attributes(doc, el, controller_settings, BR_ARRAY_SIZE(controller_settings),
                                cfg, name, "", err, errsz);
    if (strcmp(n, "processor") == 0) {
        if (!room_for(cfg->nprocessors, BR_MAX_PROCESSORS, "processors", name, el, err, errsz))
            return -EINVAL;
        return apply_attributes(doc, el, processor_settings, BR_ARRAY_SIZE(processor_settings),
                                &cfg->processors[cfg->nprocessors++], name, "", err, errsz);
    }
    return 1; /* not special */
}

int br_config_check_trusted(const char *text, char *why, size_t whysz)
{
    br_netlist_t l;
    return br_netlist_parse(&l, text, why, whysz);
}

static const br_profile_t *find_profile(const br_config_t *cfg, const char *name)
{
    for (int i = 0; i < cfg->nprofiles; i++)
        if (strcmp(cfg->profiles[i].name, name) == 0)
            return &cfg->profiles[i];
    return NULL;
}

static int check_cross(br_config_t *cfg, char *why, size_t whysz)
{
    if (cfg->rtp_port_min > cfg->rtp_port_max || cfg->rtp_port_max - cfg->rtp_port_min < 2) {
        snprintf(why, whysz, "rtp port-min must be below port-max with room for at least two ports");
        return -EINVAL;
    }
    if (!cfg->sip_udp && !cfg->sip_tcp) {
        snprintf(why, whysz, "sip: at least one of udp and tcp must be yes");
        return -EINVAL;
    }
    if (cfg->sip_tls_port && (!cfg->tls_cert[0] || !cfg->tls_key[0])) {
        snprintf(why, whysz, "sip tls-port needs tls-cert and tls-key");
        return -EINVAL;
    }
    if (cfg->tls_verify_client && !cfg->tls_ca[0]) {
        snprintf(why, whysz, "sip tls-verify-client needs tls-ca");
        return -EINVAL;
    }
    if (br_config_check_trusted(cfg->trusted, why, whysz) < 0)
        return -EINVAL;
    if (br_config_check_trusted(cfg->phone_networks, why, whysz) < 0)
        return -EINVAL;
    if (!cfg->http_tls_cert[0] != !cfg->http_tls_key[0]) {
        snprintf(why, whysz, "http: tls-cert and tls-key go together");
        return -EINVAL;
    }
    if (cfg->http_port && (cfg->http_port == cfg->sip_port || cfg->http_port == cfg->sip_tls_port)) {
        snprintf(why, whysz, "http port %u is also a SIP port", cfg->http_port);
        return -EINVAL;
    }
    for (int i = 0; i < cfg->nannouncements; i++) {
        const br_announcement_t *a = &cfg->announcements[i];
        if (strcmp(a->number, cfg->cucm.recording_number) == 0) {
            snprintf(why, whysz, "announcement number %s is also the recording number", a->number);
            return -EINVAL;
        }
        if (a->profile[0] && !find_profile(cfg, a->profile)) {
            snprintf(why, whysz, "announcement %s names profile '%s', which is not configured",
                     a->number, a->profile);
            return -EINVAL;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(cfg->announcements[j].number, a->number) == 0) {
                snprintf(why, whysz, "two announcements for number %s", a->number);
                return -EINVAL;
            }
    }
    if (cfg->phone_pin && cfg->nphone_users == 0) {
        snprintf(why, whysz, "http phone-pin=\"yes\" needs at least one <phone-user>");
        return -EINVAL;
    }
    if (cfg->sip_port >= cfg->rtp_port_min && cfg->sip_port <= cfg->rtp_port_max) {
        snprintf(why, whysz, "sip port %u lies inside the rtp port range", cfg->sip_port);
        return -EINVAL;
    }
    return 0;
}

static int walk(br_config_t *cfg, xmlDocPtr doc, const char *name, const char *base_dir, char *err,
                size_t errsz)
{
    xmlNodePtr root = xmlDocGetRootElement(doc), el;
    char why[160];

    if (!root || strcmp((const char *)root->name, "bibrec") != 0) {
        snprintf(err, errsz, "%s:%ld: the root element must be <bibrec>", name,
                 root ? (long)xmlGetLineNo(root) : 1L);
        return -EINVAL;
    }
    for (el = root->children; el; el = el->next) {
        int rc;
        if (el->type != XML_ELEMENT_NODE)
            continue;
        rc = walk_special(cfg, doc, el, name, base_dir, err, errsz);
        if (rc <= 0) {
            if (rc < 0)
                return rc;
            continue;
        }
        if (!known_element((const char *)el->name)) {
            snprintf(err, errsz, "%s:%ld: unknown element <%s>", name, (long)xmlGetLineNo(el),
                     el->name);
            return -EINVAL;
        }
        rc = apply_attributes(doc, el, settings, BR_ARRAY_SIZE(settings), cfg, name, base_dir, err,
                              errsz);
        if (rc < 0)
            return rc;
    }
    /* The route pattern the CUCM guide sets up defaults to the first announcement. */
    if (!cfg->cucm.announcement_number[0] && cfg->nannouncements)
        br_strlcpy(cfg->cucm.announcement_number, cfg->announcements[0].number,
                   sizeof cfg->cucm.announcement_number);
    if (check_cross(cfg, why, sizeof why) < 0) {
        snprintf(err, errsz, "%s: %s", name, why);
        return -EINVAL;
    }
    return 0;
}

static int load(br_config_t *cfg, const char *name, const char *base_dir, const char *xml,
                size_t len, const char *file, char *err, size_t errsz)
{
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    xmlDocPtr doc;
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    int rc;

    if (!ctxt) {
        snprintf(err, errsz, "%s: out of memory", name);
        return -ENOMEM;
    }
    doc = file ? xmlCtxtReadFile(ctxt, file, NULL, opts)
               : xmlCtxtReadMemory(ctxt, xml, (int)len, name, NULL, opts);
    if (!doc) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        char msg[200] = "cannot read file";
        if (e && e->message) {
            br_strlcpy(msg, e->message, sizeof msg);
            msg[strcspn(msg, "\n")] = 0;
        }
        snprintf(err, errsz, "%s:%d: %s", name, e ? e->line : 0, msg);
        xmlFreeParserCtxt(ctxt);
        return -EINVAL;
    }
    br_strlcpy(cfg->source, name, sizeof cfg->source);
    /* Defaults are relative too: with a file, they live beside it. */
    for (size_t i = 0; i < BR_ARRAY_SIZE(settings); i++) {
        char *field = (char *)cfg + settings[i].offset;
        char tmp[PATH_MAX];
        if ((settings[i].type == T_PATH || settings[i].type == T_SOCK) && field[0] &&
            field[0] != '/' && base_dir[0] && br_strlcpy(tmp, field, sizeof tmp) == 0 &&
            resolve_path(base_dir, tmp, field, settings[i].size) < 0) {
            snprintf(err, errsz, "%s: default path %s is too long in this folder", name, tmp);
            xmlFreeDoc(doc);
            xmlFreeParserCtxt(ctxt);
            return -ENAMETOOLONG;
        }
    }
    rc = walk(cfg, doc, name, base_dir, err, errsz);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

int br_config_load(br_config_t *cfg, const char *file, char *err, size_t errsz)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(file, '/');

    if (slash) {
        size_t n = (size_t)(slash - file);
        if (n >= sizeof dir)
            return -ENAMETOOLONG;
        memcpy(dir, file, n);
        dir[n] = 0;
        if (n == 0)
            br_strlcpy(dir, "/", sizeof dir);
    } else {
        dir[0] = 0;
    }
    if (strlen(file) > 0 && access(file, R_OK) != 0) {
        snprintf(err, errsz, "%s: %s", file, strerror(errno));
        return -errno;
    }
    return load(cfg, file, dir, NULL, 0, file, err, errsz);
}

int br_config_load_mem(br_config_t *cfg, const char *name, const char *xml, size_t len, char *err,
                       size_t errsz)
{
    if (len > INT32_MAX)
        return -E2BIG;
    return load(cfg, name, "", xml, len, NULL, err, errsz);
}
