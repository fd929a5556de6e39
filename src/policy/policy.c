/*
 * Profile matching and the policy document. The document is built once as
 * a list of (heading, paragraphs) and written out as Markdown or as HTML
 * (through libxml2, which escapes everything), so both say the same.
 */
#include "policy.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

int br_policy_enforced(const br_config_t *cfg)
{
    return cfg->nprofiles > 0;
}

int br_policy_dn_matches(const char *p, const char *dn)
{
    const char *dash = strchr(p, '-');

    if (strcmp(p, "*") == 0)
        return 1;
    if (!dn[0])
        return 0;
    if (dash && dash != p) { /* a range of equal-length numbers */
        char lo[32], *end;
        size_t n = (size_t)(dash - p);
        unsigned long long a, b, x;
        if (n >= sizeof lo || strlen(dash + 1) != n || strlen(dn) != n)
            return 0;
        memcpy(lo, p, n);
        lo[n] = 0;
        a = strtoull(lo, &end, 10);
        if (*end)
            return 0;
        b = strtoull(dash + 1, &end, 10);
        if (*end)
            return 0;
        x = strtoull(dn, &end, 10);
        return !*end && x >= a && x <= b;
    }
    if (strlen(p) != strlen(dn))
        return 0;
    for (; *p; p++, dn++)
        if (!((*p == 'x' || *p == 'X') ? isdigit((unsigned char)*dn) : *p == *dn))
            return 0;
    return 1;
}

int br_policy_device_matches(const char *p, const char *d)
{
    /* Iterative glob with one backtrack point: O(n*m) worst case, no recursion. */
    const char *star = NULL, *resume = NULL;

    while (*d) {
        if (*p == '*') {
            star = p++;
            resume = d;
        } else if (*p == '?' || (*p && tolower((unsigned char)*p) == tolower((unsigned char)*d))) {
            p++;
            d++;
        } else if (star) {
            p = star + 1;
            d = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == 0;
}

const br_profile_t *br_policy_match(const br_config_t *cfg, const char *dn, const char *device)
{
    for (int i = 0; i < cfg->nprofiles; i++) {
        const br_profile_t *p = &cfg->profiles[i];
        for (int j = 0; j < p->nmatch; j++) {
            const struct br_profile_match *m = &p->match[j];
            if ((m->dn[0] && br_policy_dn_matches(m->dn, dn)) ||
                (m->device[0] && device && br_policy_device_matches(m->device, device)))
                return p;
        }
    }
    return NULL;
}

const char *br_basis_article(uint8_t basis)
{
    static const char *const a[] = { "none", "Art. 6(1)(a)", "Art. 6(1)(b)", "Art. 6(1)(c)",
                                     "Art. 6(1)(d)", "Art. 6(1)(e)", "Art. 6(1)(f)" };
    return basis < BR_ARRAY_SIZE(a) ? a[basis] : "none";
}

const char *br_basis_explained(uint8_t basis)
{
    switch (basis) {
    case BR_BASIS_CONSENT:
        return "the person recorded has agreed to the recording for this purpose, and may refuse or "
               "withdraw that consent at any time without losing the service";
    case BR_BASIS_CONTRACT:
        return "the recording is necessary to perform a contract with the person recorded, or to "
               "take steps they asked for before entering into one";
    case BR_BASIS_LEGAL_OBLIGATION:
        return "a law the controller is subject to requires the recording";
    case BR_BASIS_VITAL_INTERESTS:
        return "the recording is necessary to protect someone's life or physical safety";
    case BR_BASIS_PUBLIC_TASK:
        return "the recording is necessary for a task carried out in the public interest or in "
               "the exercise of official authority vested in the controller";
    case BR_BASIS_LEGITIMATE_INTERESTS:
        return "the recording is necessary for the controller's legitimate interests, which were "
               "weighed against the interests and rights of the people recorded";
    default:
        return "no lawful basis is configured";
    }
}

/* ---- the document as sections of paragraphs ------------------------------------ */

struct section {
    char heading[160];
    int n;
    char para[20][640];
};

struct doc {
    char title[160];
    char intro[2][640];
    int nsec;
    struct section sec[BR_MAX_PROFILES + 2];
};

static void add_para(struct section *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_para(struct section *s, const char *fmt, ...)
{
    va_list ap;
    if (s->n >= (int)BR_ARRAY_SIZE(s->para))
        return;
    va_start(ap, fmt);
    vsnprintf(s->para[s->n++], sizeof s->para[0], fmt, ap);
    va_end(ap);
}

static void describe_lines(const br_profile_t *p, char *out, size_t outsz)
{
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < p->nmatch && n < outsz; i++) {
        const struct br_profile_match *m = &p->match[i];
        int w = snprintf(out + n, outsz - n, "%s%s%s%s%s", i ? "; " : "",
                         m->dn[0] ? "directory numbers " : "", m->dn,
                         m->dn[0] && m->device[0] ? " and " : "", "");
        if (w > 0)
            n += (size_t)w < outsz - n ? (size_t)w : outsz - n - 1;
        if (m->device[0] && n < outsz) {
            w = snprintf(out + n, outsz - n, "devices %s", m->device);
            if (w > 0)
                n += (size_t)w < outsz - n ? (size_t)w : outsz - n - 1;
        }
    }
}

/* The announcements whose consent default is this profile's, and what
 * require-consent means for its recordings. */
static void describe_announcements(const br_config_t *cfg, const br_profile_t *p, struct section *s)
{
    for (int i = 0; i < cfg->nannouncements; i++) {
        const br_announcement_t *a = &cfg->announcements[i];
        char langs[64] = "";
        size_t n = 0;

        if (strcmp(a->profile, p->name) != 0)
            continue;
        for (int j = 0; j < a->nprompts && n < sizeof langs; j++)
            n += (size_t)snprintf(langs + n, sizeof langs - n, "%s%s", j ? ", " : "", a->prompts[j].language);
        add_para(s, "Announcement: callers to %s first hear a recorded announcement (%s)%s%s.", a->number,
                 langs, a->mode == BR_ANN_PRE_CONNECT ? " and are then put through to " : "",
                 a->mode == BR_ANN_PRE_CONNECT ? a->transfer_to : "");
        if (a->collect)
            add_para(s,
                     "They are asked to press %c to agree to the recording or %c to refuse it; "
                     "pressing nothing within %u seconds of the announcement's end counts as %s. "
                     "Whoever refuses is not recorded.",
                     a->accept_digit[0], a->refuse_digit[0], (a->wait_ms + 999) / 1000,
                     p->consent_default == BR_CONSENT_ACCEPTED ? "agreement" : "refusal");
        add_para(s,
                 "Each answer is kept as proof, encrypted: the caller's number, the time, the key "
                 "pressed (or none) and the announcement played; recordings made under it name it.");
    }
    if (p->require_consent)
        add_para(s,
                 "Calls on these lines are recorded only when the other party agreed at the "
                 "announcement within the %u minutes before; otherwise nothing of the call is "
                 "recorded.",
                 (cfg->consent_window_s + 59) / 60);
}

static void build(const br_config_t *cfg, struct doc *d)
{
    struct section *s;

    memset(d, 0, sizeof *d);
    snprintf(d->title, sizeof d->title, "Call recording policy%s%s",
             cfg->controller.name[0] ? " of " : "", cfg->controller.name);
    snprintf(d->intro[0], sizeof d->intro[0],
             "This document describes how telephone calls are recorded, as required by Art. 5(2) "
             "GDPR. It is generated from the configuration the recorder runs (%.*s), so it always "
             "describes what the recorder actually does.",
             (int)strnlen(cfg->source, 200), cfg->source);
    if (!br_policy_enforced(cfg))
        snprintf(d->intro[1], sizeof d->intro[1],
                 "WARNING: no recording profile is configured. The recorder records every line "
                 "CUCM sends it without a documented lawful basis. Configure profiles before "
                 "recording real calls.");

    s = &d->sec[d->nsec++];
    snprintf(s->heading, sizeof s->heading, "Who is responsible");
    add_para(s, "Controller: %s%s%s%s.", cfg->controller.name[0] ? cfg->controller.name : "not configured",
             cfg->controller.contact[0] ? " (contact: " : "", cfg->controller.contact,
             cfg->controller.contact[0] ? ")" : "");
    if (cfg->controller.dpo[0])
        add_para(s, "Data protection officer: %s.", cfg->controller.dpo);
    for (int i = 0; i < cfg->nprocessors; i++)
        add_para(s, "Processor: %s, %s.", cfg->processors[i].name, cfg->processors[i].role);
    if (cfg->nprocessors == 0)
        add_para(s, "No processor handles the recordings on the controller's behalf.");

    for (int i = 0; i < cfg->nprofiles && d->nsec < (int)BR_ARRAY_SIZE(d->sec); i++) {
        const br_profile_t *p = &cfg->profiles[i];
        char lines[512];

        s = &d->sec[d->nsec++];
        snprintf(s->heading, sizeof s->heading, "Recording profile \"%s\"", p->name);
        describe_lines(p, lines, sizeof lines);
        add_para(s, "Who is recorded: calls on %s, and the other party of each such call.", lines);
        add_para(s, "Why: %s.", p->purpose[0] ? p->purpose : "(no purpose written down)");
        add_para(s, "Lawful basis: %s GDPR (%s): %s.", br_basis_article(p->basis),
                 br_basis_name(p->basis), br_basis_explained(p->basis));
        if (p->mode == BR_MODE_ON_DEMAND)
            add_para(s, "When: only calls the user chooses to record, by pressing Record on the phone%s.",
                     p->keep_confirm_minutes ? "" : "; the recording is kept as made");
        else
            add_para(s, "When: every call on these lines is recorded from the moment it is connected.");
        if (p->mode == BR_MODE_ON_DEMAND && p->keep_confirm_minutes)
            add_para(s,
                     "Keeping: an on-demand recording is erased unless the user chooses Keep on the "
                     "phone within %u minutes of the call.",
                     p->keep_confirm_minutes);
        add_para(s, "How people are told: %s.",
                 p->notice == BR_NOTICE_ANNOUNCEMENT
                     ? "a spoken announcement both parties hear when the call starts"
                 : p->notice == BR_NOTICE_TONE
                     ? "a periodic recording tone that the phone system plays into the call"
                     : "no notice is played in the call; people are informed by other means");
        if (p->basis == BR_BASIS_CONSENT)
            add_para(s,
                     "Consent: calls are recorded only with the consent of the people recorded; "
                     "whoever refuses is not recorded, and consent can be withdrawn at any time, "
                     "which ends the recording and erases it.");
        describe_announcements(cfg, p, s);
        if (p->stop_digit[0])
            add_para(s,
                     "The other party may stop the recording at any time by pressing %c; what was "
                     "recorded of that call is then erased.",
                     p->stop_digit[0]);
        if (p->retention_days)
            add_para(s, "How long: %u days from the call; then the recording is erased automatically.",
                     p->retention_days);
        else
            add_para(s, "How long: until erased on request.");
        add_para(s, "Who may access the recordings: %s, and privacy officers for data subject requests.",
                 p->access[0] ? p->access : "administrators only");
    }

    s = &d->sec[d->nsec++];
    snprintf(s->heading, sizeof s->heading, "Security and your rights");
    add_para(s,
             "Recordings are encrypted (AES-256-GCM, one key per recording), chained with SHA-256 "
             "and listed in a signed ledger, so any change can be detected. Every search, play, "
             "export and erasure is logged.");
    add_para(s,
             "Anyone recorded may ask for a copy of their recordings and data (Art. 15 and 20) or "
             "for their erasure (Art. 17)%s%s.",
             cfg->controller.contact[0] ? "; write to " : "", cfg->controller.contact);
}

static void render_md(const struct doc *d, br_buf_t *out)
{
    br_buf_printf(out, "# %s\n\n", d->title);
    for (int i = 0; i < 2; i++)
        if (d->intro[i][0])
            br_buf_printf(out, "%s\n\n", d->intro[i]);
    for (int i = 0; i < d->nsec; i++) {
        br_buf_printf(out, "## %s\n\n", d->sec[i].heading);
        for (int j = 0; j < d->sec[i].n; j++)
            br_buf_printf(out, "- %s\n", d->sec[i].para[j]);
        br_buf_printf(out, "\n");
    }
}

static int render_html(const struct doc *d, br_buf_t *out)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr html = xmlNewNode(NULL, BAD_CAST "html"), head, body, ul;

    if (!doc || !html)
        return -ENOMEM;
    xmlDocSetRootElement(doc, html);
    xmlNewProp(html, BAD_CAST "lang", BAD_CAST "en");
    head = xmlNewChild(html, NULL, BAD_CAST "head", NULL);
    xmlNewProp(xmlNewChild(head, NULL, BAD_CAST "meta", NULL), BAD_CAST "charset", BAD_CAST "utf-8");
    xmlNewTextChild(head, NULL, BAD_CAST "title", BAD_CAST d->title);
    body = xmlNewChild(html, NULL, BAD_CAST "body", NULL);
    xmlNewTextChild(body, NULL, BAD_CAST "h1", BAD_CAST d->title);
    for (int i = 0; i < 2; i++)
        if (d->intro[i][0])
            xmlNewTextChild(body, NULL, BAD_CAST "p", BAD_CAST d->intro[i]);
    for (int i = 0; i < d->nsec; i++) {
        xmlNewTextChild(body, NULL, BAD_CAST "h2", BAD_CAST d->sec[i].heading);
        ul = xmlNewChild(body, NULL, BAD_CAST "ul", NULL);
        for (int j = 0; j < d->sec[i].n; j++)
            xmlNewTextChild(ul, NULL, BAD_CAST "li", BAD_CAST d->sec[i].para[j]);
    }
    br_buf_printf(out, "<!DOCTYPE html>\n");
    {
        xmlBufferPtr b = xmlBufferCreate();
        xmlNodeDump(b, doc, html, 0, 1);
        br_buf_append(out, xmlBufferContent(b), (size_t)xmlBufferLength(b));
        br_buf_printf(out, "\n");
        xmlBufferFree(b);
    }
    xmlFreeDoc(doc);
    return out->failed ? -ENOMEM : 0;
}

int br_policy_render(const br_config_t *cfg, enum br_policy_format f, br_buf_t *out)
{
    struct doc *d = malloc(sizeof *d);
    int rc = 0;

    if (!d)
        return -ENOMEM;
    build(cfg, d);
    if (f == BR_POLICY_HTML)
        rc = render_html(d, out);
    else
        render_md(d, out);
    free(d);
    return rc;
}
