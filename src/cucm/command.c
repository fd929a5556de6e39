/*
 * The cucm-profile command: option parsing, then the profile is built once
 * and either written to files, printed (dry run) or posted, or both, so
 * that what is written and what is sent are byte for byte the same.
 *
 * Posting stops at the first failure: every later request names an object
 * of an earlier one (the trunk names the profiles, the route pattern the
 * partition and the trunk), so going on would only add more faults.
 */
#include "command.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/fsutil.h"
#include "common/util.h"
#include "cucm/axl.h"
#include "cucm/guide.h"
#include "cucm/profile.h"

enum { OPT_FORMAT = 256, OPT_PLACEHOLDERS, OPT_ADDRESS, OPT_TRANSPORT, OPT_TLS_SUBJECT, OPT_MODE,
       OPT_PHONE, OPT_LINE, OPT_SEND, OPT_YES, OPT_USER, OPT_CACERT, OPT_INSECURE, OPT_FROM };

static const struct option long_options[] = {
    { "format", required_argument, NULL, OPT_FORMAT },
    { "placeholders", no_argument, NULL, OPT_PLACEHOLDERS },
    { "address", required_argument, NULL, OPT_ADDRESS },
    { "transport", required_argument, NULL, OPT_TRANSPORT },
    { "tls-subject", required_argument, NULL, OPT_TLS_SUBJECT },
    { "mode", required_argument, NULL, OPT_MODE },
    { "phone", required_argument, NULL, OPT_PHONE },
    { "line", required_argument, NULL, OPT_LINE },
    { "send", required_argument, NULL, OPT_SEND },
    { "yes", no_argument, NULL, OPT_YES },
    { "user", required_argument, NULL, OPT_USER },
    { "cacert", required_argument, NULL, OPT_CACERT },
    { "insecure", no_argument, NULL, OPT_INSECURE },
    { "from", required_argument, NULL, OPT_FROM },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

struct args {
    int want_axl, want_guide;
    br_cucm_options_t opt;
    br_cucm_line_t *lines;
    size_t nlines;
    const char *phone;
    const char *out_dir;
    const char *url, *user, *cacert;
    int yes, insecure;
    size_t from;
};

void br_cucm_command_usage(FILE *f)
{
    fprintf(f,
            "usage: bibrec [-c CONFIG] cucm-profile [OPTIONS] [OUT/]\n"
            "Writes what a CUCM administrator adds for bibrec, made from bibrecd's configuration,\n"
            "into the folder OUT: guide.html (the steps in CUCM Administration) and the numbered\n"
            "AXL requests that create the same objects. With --send it posts the requests.\n"
            "  --format axl|guide        write only the AXL requests or only the guide (default both)\n"
            "  --placeholders            {{name}} placeholders instead of the configured values\n"
            "  --address ADDR            trunk destination instead of <sip address>\n"
            "  --transport udp|tcp|tls   instead of the best transport bibrecd listens on\n"
            "  --tls-subject NAME        X.509 subject name of bibrecd's certificate (TLS)\n"
            "  --mode automatic|selective  the lines' Recording Option (default automatic)\n"
            "  --phone NAME --line DN[@PARTITION]...\n"
            "                            a recorded phone and ALL its lines in button order\n"
            "                            (updatePhone replaces the phone's list of lines); repeat\n"
            "  --send URL                post to AXL, e.g. https://CUCM:8443/axl/; without --yes\n"
            "                            a dry run that prints each request and sends nothing\n"
            "  --yes                     really post; the password comes from " BR_CUCM_PASSWORD_ENV "\n"
            "  --user USER               AXL user instead of <cucm axl-user>\n"
            "  --cacert FILE             CA or CUCM tomcat certificate (PEM) to verify CUCM with\n"
            "  --insecure                do not verify CUCM's certificate\n"
            "  --from N                  start with request N (after fixing a fault)\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bibrec cucm-profile: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(bibrec cucm-profile --help lists the options)\n");
    return 2;
}

static int add_line(struct args *a, const char *arg)
{
    br_cucm_line_t *n;
    char err[256];

    if (!a->phone)
        return usage_error("--line %s comes before any --phone", arg);
    n = realloc(a->lines, (a->nlines + 1) * sizeof *n);
    if (!n)
        return usage_error("%s", "out of memory");
    a->lines = n;
    if (br_cucm_line_parse(&a->lines[a->nlines], a->phone, arg, err, sizeof err) < 0)
        return usage_error("%s", err);
    a->nlines++;
    return 0;
}

static int parse(struct args *a, const br_config_t *cfg, int argc, char **argv)
{
    int opt, rc, phone_has_line = 1;

    memset(a, 0, sizeof *a);
    a->want_axl = a->want_guide = 1;
    a->opt.cfg = cfg;
    a->opt.mode = BR_CUCM_AUTOMATIC;
    a->from = 1;
    optind = 0; /* GNU getopt: start afresh, argv[0] is the command name */
    opterr = 0; /* our own message, with the hint to --help */
    while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (opt) {
        case OPT_FORMAT:
            if (strcmp(optarg, "axl") == 0)
                a->want_guide = 0;
            else if (strcmp(optarg, "guide") == 0)
                a->want_axl = 0;
            else
                return usage_error("--format %s: use axl or guide", optarg);
            break;
        case OPT_PLACEHOLDERS:
            a->opt.placeholders = 1;
            break;
        case OPT_ADDRESS:
            a->opt.address = optarg;
            break;
        case OPT_TRANSPORT:
            if (strcmp(optarg, "udp") && strcmp(optarg, "tcp") && strcmp(optarg, "tls"))
                return usage_error("--transport %s: use udp, tcp or tls", optarg);
            a->opt.transport = optarg;
            break;
        case OPT_TLS_SUBJECT:
            a->opt.tls_subject = optarg;
            break;
        case OPT_MODE:
            if (strcmp(optarg, "automatic") == 0)
                a->opt.mode = BR_CUCM_AUTOMATIC;
            else if (strcmp(optarg, "selective") == 0)
                a->opt.mode = BR_CUCM_SELECTIVE;
            else
                return usage_error("--mode %s: use automatic or selective", optarg);
            break;
        case OPT_PHONE:
            if (!phone_has_line)
                return usage_error("--phone %s has no --line", a->phone);
            a->phone = optarg;
            phone_has_line = 0;
            break;
        case OPT_LINE:
            if ((rc = add_line(a, optarg)) != 0)
                return rc;
            phone_has_line = 1;
            break;
        case OPT_SEND:
            a->url = optarg;
            break;
        case OPT_YES:
            a->yes = 1;
            break;
        case OPT_USER:
            a->user = optarg;
            break;
        case OPT_CACERT:
            a->cacert = optarg;
            break;
        case OPT_INSECURE:
            a->insecure = 1;
            break;
        case OPT_FROM: {
            char *end;
            unsigned long n = strtoul(optarg, &end, 10);
            if (!optarg[0] || *end || n == 0 || n > 999)
                return usage_error("--from %s: give a request number, 1 or more", optarg);
            a->from = n;
            break;
        }
        case 'h':
            br_cucm_command_usage(stdout);
            return -1;
        default:
            return usage_error("%s: unknown option, or its value is missing", argv[optind - 1]);
        }
    }
    if (!phone_has_line)
        return usage_error("--phone %s has no --line", a->phone);
    if (optind < argc)
        a->out_dir = argv[optind++];
    if (optind < argc)
        return usage_error("one output folder only, not also '%s'", argv[optind]);
    if (!a->out_dir && !a->url)
        return usage_error("%s", "give an output folder, --send URL, or both");
    if (a->url && a->opt.placeholders)
        return usage_error("%s", "--placeholders writes templates, which cannot be sent");
    if (!a->url && (a->yes || a->user || a->cacert || a->insecure || a->from != 1))
        return usage_error("%s", "--yes, --user, --cacert, --insecure and --from go with --send");
    if (a->url && strncasecmp(a->url, "https://", 8) != 0 && strncasecmp(a->url, "http://", 7) != 0)
        return usage_error("--send %s: the AXL URL starts with https://", a->url);
    a->opt.lines = a->lines;
    a->opt.nlines = a->nlines;
    return 0;
}

/* CUCM cannot reach an address that only means something on this host. */
static void warn_unreachable(const br_cucm_values_t *v)
{
    struct in_addr a4;
    struct in6_addr a6;
    int local = 0;

    if (inet_pton(AF_INET, v->address, &a4) == 1)
        local = (ntohl(a4.s_addr) >> 24) == 127 || a4.s_addr == 0;
    else if (inet_pton(AF_INET6, v->address, &a6) == 1)
        local = IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_UNSPECIFIED(&a6);
    else if (strcasecmp(v->address, "localhost") == 0)
        local = 1;
    if (local)
        fprintf(stderr,
                "bibrec cucm-profile: warning: the trunk destination %s is not an address CUCM "
                "can reach; set <sip address> in the configuration or give --address\n",
                v->address);
}

static int write_files(const struct args *a, const br_cucm_profile_t *p)
{
    char err[512];
    int rc;

    if ((rc = br_mkdir_p(a->out_dir)) < 0) {
        fprintf(stderr, "bibrec cucm-profile: %s: %s\n", a->out_dir, br_strerror(rc));
        return 1;
    }
    if ((a->want_axl && br_cucm_profile_write_axl(p, a->out_dir, err, sizeof err) < 0) ||
        (a->want_guide && br_cucm_guide_write(p, a->out_dir, err, sizeof err) < 0)) {
        fprintf(stderr, "bibrec cucm-profile: %s\n", err);
        return 1;
    }
    if (a->want_axl)
        for (size_t i = 0; i < br_cucm_profile_count(p); i++) {
            const br_cucm_request_t *r = br_cucm_profile_request(p, i);
            printf("%s/%s%s\n", a->out_dir, r->file, r->is_template ? " (template)" : "");
        }
    if (a->want_guide)
        printf("%s/%s\n", a->out_dir, BR_CUCM_GUIDE_FILE);
    return 0;
}

/* The requests --send would post: from --from on, without the updatePhone
 * template (there is no phone to send it for). Any other template means a
 * value is missing, and nothing may be sent. */
static int check_sendable(const struct args *a, const br_cucm_profile_t *p, size_t n)
{
    if (a->from > n) {
        fprintf(stderr, "bibrec cucm-profile: --from %zu: there are only %zu requests\n", a->from, n);
        return 2;
    }
    for (size_t i = a->from - 1; i < n; i++) {
        const br_cucm_request_t *r = br_cucm_profile_request(p, i);
        if (r->is_template && strcmp(r->method, "updatePhone") != 0) {
            fprintf(stderr,
                    "bibrec cucm-profile: %s still has placeholders (%s)%s; nothing was sent\n",
                    r->file, r->object,
                    strstr(r->body, "{{tls_subject_name}}")
                        ? ": give --tls-subject with the subject name of bibrecd's certificate"
                        : "");
            return 1;
        }
    }
    return 0;
}

static int dry_run(const struct args *a, const br_cucm_profile_t *p, size_t n, const char *user)
{
    const char *pw = getenv(BR_CUCM_PASSWORD_ENV);
    size_t shown = 0;

    for (size_t i = a->from - 1; i < n; i++) {
        const br_cucm_request_t *r = br_cucm_profile_request(p, i);
        if (r->is_template) {
            printf("==> %02zu %s: %s: not sent, a template (give --phone and --line)\n\n", i + 1,
                   r->method, r->object);
            continue;
        }
        printf("==> %02zu %s: %s\n"
               "POST %s\n"
               "Content-Type: text/xml; charset=utf-8\n"
               "SOAPAction: \"CUCM:DB ver=" BR_CUCM_AXL_VERSION " %s\"\n"
               "Authorization: Basic, user %s, password from " BR_CUCM_PASSWORD_ENV " (%s)\n\n",
               i + 1, r->method, r->object, a->url, r->method, user,
               pw && pw[0] ? "set" : "not set");
        fwrite(r->body, 1, r->len, stdout);
        printf("\n");
        shown++;
    }
    printf("dry run: %zu request%s not sent; add --yes to post %s to %s\n", shown,
           shown == 1 ? "" : "s", shown == 1 ? "it" : "them", a->url);
    return 0;
}

static int send_all(const struct args *a, const br_cucm_profile_t *p, size_t n, const char *user)
{
    const char *pw = getenv(BR_CUCM_PASSWORD_ENV);
    br_axl_options_t o = { .url = a->url, .user = user, .password = pw, .cacert = a->cacert,
                           .insecure = a->insecure };
    br_axl_t *axl = NULL;
    size_t applied = 0;
    int rc, status = 0;

    if (!pw || !pw[0]) {
        fprintf(stderr, "bibrec cucm-profile: set " BR_CUCM_PASSWORD_ENV
                        " to the password of AXL user %s; nothing was sent\n",
                user);
        return 2;
    }
    if (strncasecmp(a->url, "http://", 7) == 0)
        fprintf(stderr, "bibrec cucm-profile: warning: %s is plain HTTP: the AXL password travels "
                        "unencrypted\n",
                a->url);
    if ((rc = br_axl_open(&axl, &o)) < 0) {
        fprintf(stderr, "bibrec cucm-profile: %s: %s\n", a->url, br_strerror(rc));
        return 1;
    }
    for (size_t i = a->from - 1; i < n; i++) {
        const br_cucm_request_t *r = br_cucm_profile_request(p, i);
        br_axl_result_t res;

        if (r->is_template) {
            printf("%02zu %s: %s: skipped, a template (give --phone and --line)\n", i + 1, r->method,
                   r->object);
            continue;
        }
        if (br_axl_post(axl, r->method, r->body, r->len, &res) < 0) {
            fprintf(stderr, "%02zu %s: %s: %s\n", i + 1, r->method, r->object, res.error);
            if (applied)
                fprintf(stderr, "stopped at request %zu of %zu; requests %zu to %zu were applied\n",
                        i + 1, n, a->from, i);
            else
                fprintf(stderr, "stopped at request %zu of %zu; no request was applied\n", i + 1, n);
            if (i + 1 > a->from)
                fprintf(stderr, "fix the cause, then continue with --from %zu\n", i + 1);
            status = 1;
            break;
        }
        printf("%02zu %s: %s: ok %s\n", i + 1, r->method, r->object, res.uuid);
        fflush(stdout);
        applied++;
    }
    br_axl_close(axl);
    return status;
}

int br_cucm_command(const br_config_t *cfg, int argc, char **argv)
{
    struct args a;
    br_cucm_profile_t *p = NULL;
    char err[512];
    const char *user;
    size_t n;
    int rc;

    rc = parse(&a, cfg, argc, argv);
    if (rc != 0) {
        free(a.lines);
        return rc < 0 ? 0 : rc;
    }
    if (br_cucm_profile_new(&p, &a.opt, err, sizeof err) < 0) {
        fprintf(stderr, "bibrec cucm-profile: %s (configuration %s)\n", err, cfg->source);
        free(a.lines);
        return 1;
    }
    if (!a.opt.placeholders) {
        warn_unreachable(br_cucm_profile_values(p));
        if (strstr(br_cucm_profile_request(p, 0)->body, "{{tls_subject_name}}"))
            fprintf(stderr, "bibrec cucm-profile: warning: the TLS security profile needs the "
                            "subject name of bibrecd's certificate: give --tls-subject\n");
    }
    n = br_cucm_profile_count(p);
    user = a.user ? a.user : cfg->cucm.axl_user;
    rc = 0;
    if (a.out_dir)
        rc = write_files(&a, p);
    if (rc == 0 && a.url && (rc = check_sendable(&a, p, n)) == 0)
        rc = a.yes ? send_all(&a, p, n, user) : dry_run(&a, p, n, user);
    br_cucm_profile_free(p);
    free(a.lines);
    return rc;
}
