/*
 * Command implementations shared by the CLI and the daemon's control socket.
 */
#include "commands.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "commands_int.h"
#include "sql-free-store/consent.h"
#include "sql-free-store/pin.h"
#include "config/settings.h"
#include "media/codec.h"
#include "media/wav.h"

static const char *call_of(const br_rec_meta_t *m)
{
    return m->call_id[0] ? m->call_id : m->id; /* recovered before the call was known */
}

static const char *dash(const char *s)
{
    return s[0] ? s : "-";
}

static int list_one(const br_rec_meta_t *m, int err, void *ctx)
{
    br_buf_t *out = ctx;
    char start[32], flags[96];

    if (err < 0) {
        br_buf_printf(out, "%s\t-\t-\t-\t-\tunreadable (%s)\t-\t-\n", m->id, br_strerror(err));
        return 0;
    }
    br_format_time(m->start_us, start, sizeof start);
    br_meta_flags_str(m->flags, flags, sizeof flags);
    br_buf_printf(out, "%s\t%s\t%.2f\t%s\t%s\t%s\t%s\t%s\n", m->id, start,
                  (double)br_meta_duration_ms(m) / 1000.0, dash(m->near.addr), dash(m->far.addr),
                  br_rec_state_name(m->state), call_of(m), flags);
    return 0;
}

static int cmd_list(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    br_store_t *st = env->st;
    int rc;
    (void)argv;
    if (argc != 1) {
        br_buf_printf(err, "usage: list\n");
        return 2;
    }
    br_buf_printf(out, "ID\tSTART\tDURATION\tNEAR\tFAR\tSTATE\tCALL\tFLAGS\n");
    rc = br_store_each(st, list_one, out);
    if (rc < 0) {
        br_buf_printf(err, "list: %s\n", br_strerror(rc));
        return 1;
    }
    return 0;
}

/* ---- calls: recordings grouped by call ----------------------------------- */

struct call_row {
    char call_id[BR_ID_LEN + 1];
    char peer[BR_ID_LEN + 1];
    char near[BR_META_STR], far[BR_META_STR];
    int64_t start_us, last_end_us, gap_us;
    uint64_t ms;
    unsigned parts;
};

struct calls_ctx {
    struct call_row *rows;
    size_t n, cap;
    const char *only; /* collect the recordings of this call (export-call) */
    char (*ids)[BR_ID_LEN + 1];
    uint32_t *seqs;
    size_t nids, capids;
};

static int calls_one(const br_rec_meta_t *m, int err, void *ctx)
{
    struct calls_ctx *c = ctx;
    struct call_row *r = NULL;

    if (err < 0)
        return 0;
    if (c->only) {
        if (strcmp(call_of(m), c->only) != 0)
            return 0;
        if (c->nids == c->capids) {
            size_t cap = c->capids ? 2 * c->capids : 16;
            void *a = realloc(c->ids, cap * sizeof *c->ids), *b;
            if (!a)
                return -ENOMEM;
            c->ids = a;
            b = realloc(c->seqs, cap * sizeof *c->seqs);
            if (!b)
                return -ENOMEM;
            c->seqs = b;
            c->capids = cap;
        }
        memcpy(c->ids[c->nids], m->id, BR_ID_LEN + 1);
        c->seqs[c->nids++] = m->call_seq;
        return 0;
    }
    for (size_t i = c->n; i-- > 0;) /* recent calls are at the end */
        if (strcmp(c->rows[i].call_id, call_of(m)) == 0) {
            r = &c->rows[i];
            break;
        }
    if (!r) {
        if (c->n == c->cap) {
            size_t cap = c->cap ? 2 * c->cap : 64;
            struct call_row *p = realloc(c->rows, cap * sizeof *p);
            if (!p)
                return -ENOMEM;
            c->rows = p;
            c->cap = cap;
        }
        r = &c->rows[c->n++];
        memset(r, 0, sizeof *r);
        br_strlcpy(r->call_id, call_of(m), sizeof r->call_id);
        br_strlcpy(r->near, m->near.addr, sizeof r->near);
        br_strlcpy(r->far, m->far.addr, sizeof r->far);
        r->start_us = m->start_us;
    } else if (m->start_us > r->last_end_us) {
        r->gap_us += m->start_us - r->last_end_us;
    }
    if (m->peer_call_id[0])
        br_strlcpy(r->peer, m->peer_call_id, sizeof r->peer);
    r->parts++;
    r->ms += br_meta_duration_ms(m);
    r->last_end_us = m->end_us > m->start_us ? m->end_us : m->start_us;
    return 0;
}

static int cmd_calls(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    br_store_t *st = env->st;
    struct calls_ctx c = { 0 };
    int rc;

    (void)argv;
    if (argc != 1) {
        br_buf_printf(err, "usage: calls\n");
        return 2;
    }
    rc = br_store_each(st, calls_one, &c);
    if (rc < 0) {
        free(c.rows);
        br_buf_printf(err, "calls: %s\n", br_strerror(rc));
        return 1;
    }
    br_buf_printf(out, "CALL\tSTART\tPARTS\tRECORDED\tGAPS\tNEAR\tFAR\tPEER\n");
    for (size_t i = 0; i < c.n; i++) {
        char start[32];
        br_format_time(c.rows[i].start_us, start, sizeof start);
        br_buf_printf(out, "%s\t%s\t%u\t%.2f\t%.2f\t%s\t%s\t%s\n", c.rows[i].call_id, start,
                      c.rows[i].parts, c.rows[i].ms / 1000.0, c.rows[i].gap_us / 1e6,
                      dash(c.rows[i].near), dash(c.rows[i].far), dash(c.rows[i].peer));
    }
    free(c.rows);
    return 0;
}

/* The consent decision a recording was made under, read from the store:
 * "consent STATE ID digit=D timed_out=yes|no at=TIME prompt=FILE language=L". */
static void show_consent(br_buf_t *out, br_store_t *st, const br_rec_meta_t *m)
{
    br_consent_rec_t c;
    char at[32];

    if (!m->consent_id[0]) {
        br_buf_printf(out, "consent\tnone\n");
        return;
    }
    memset(&c, 0, sizeof c);
    if (br_consent_get(st, m->consent_id, &c) < 0) {
        br_buf_printf(out, "consent\t%s\t%s\t(decision unreadable or erased)\n",
                      br_consent_name(m->consent), m->consent_id);
        return;
    }
    br_format_time(c.at_us, at, sizeof at);
    br_buf_printf(out, "consent\t%s\t%s\tdigit=%c timed_out=%s at=%s announcement=%s prompt=%s "
                  "language=%s played_ms=%u\n",
                  br_consent_name(c.decision), c.id, c.digit ? c.digit : '-',
                  c.timed_out ? "yes" : "no", at, c.called, c.prompt, c.language, c.played_ms);
}

static void show_party(br_buf_t *out, const char *side, const br_rec_party_t *p)
{
    br_buf_printf(out,
                  "%s.present\t%s\n%s.refci\t%s\n%s.device\t%s\n%s.addr\t%s\n%s.cluster\t%s\n"
                  "%s.guid\t%s\n%s.payload_type\t%u\n%s.codec\t%s\n%s.packets\t%" PRIu64 "\n%s.lost\t%" PRIu64
                  "\n%s.dropped\t%" PRIu64 "\n",
                  side, p->present ? "yes" : "no", side, dash(p->refci), side, dash(p->device), side,
                  dash(p->addr), side, dash(p->cluster), side, dash(p->guid), side, p->payload_type,
                  side, br_codec_name(p->payload_type), side, p->packets, side, p->lost, side,
                  p->dropped);
}

static int cmd_show(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    br_store_t *st = env->st;
    char start[32], end[32], flags[96];
    br_rec_meta_t m;
    int rc;

    if (argc != 2) {
        br_buf_printf(err, "usage: show ID\n");
        return 2;
    }
    rc = br_store_read_meta(st, argv[1], &m);
    if (rc < 0) {
        br_buf_printf(err, "show: recording %s: %s\n", argv[1],
                      rc == -ENOENT ? "no such recording" : br_strerror(rc));
        return 1;
    }
    br_format_time(m.start_us, start, sizeof start);
    br_format_time(m.end_us, end, sizeof end);
    br_meta_flags_str(m.flags, flags, sizeof flags);
    br_buf_printf(out,
                  "id\t%s\nstate\t%s\ncall\t%s\ncall_part\t%" PRIu32 "\npeer_call\t%s\n"
                  "start\t%s\nend\t%s\nduration\t%.2f\nsample_rate\t%" PRIu32
                  "\nsegments\t%" PRIu32 "\nflags\t%s\nsession_id\t%s\n"
                  "profile\t%s\nbasis\t%s\nmode\t%s\n",
                  m.id, br_rec_state_name(m.state), call_of(&m), m.call_seq + 1, dash(m.peer_call_id),
                  start, end, br_meta_duration_ms(&m) / 1000.0, m.sample_rate, m.segments, flags,
                  dash(m.session_id), dash(m.profile), br_basis_name(m.basis), br_mode_name(m.mode));
    {
        uint8_t why;
        int64_t due;
        if (br_store_expiry(st, m.id, &why, &due) == 0) {
            char t[32];
            br_format_time(due, t, sizeof t);
            br_buf_printf(out, "erase_after\t%s\t%s\n", t,
                          why == BR_EXPIRY_NOT_KEPT ? "unless kept" : "retention");
        }
    }
    show_consent(out, st, &m);
    show_party(out, "near", &m.near);
    show_party(out, "far", &m.far);
    for (uint32_t i = 0; i < m.nevents; i++) {
        const br_rec_event_t *e = &m.events[i];
        if (e->kind == BR_EVENT_TAG)
            br_buf_printf(out, "event\t%.3f\ttag\t%s\t%s\n", e->at_ms / 1000.0, e->channel ? "far" : "near",
                          e->addr);
        else if (e->kind == BR_EVENT_CONSENT)
            br_buf_printf(out, "event\t%.3f\tconsent\t%s\tdecision=%s\n", e->at_ms / 1000.0,
                          e->channel ? "far" : "near", e->addr);
        else if (e->kind == BR_EVENT_DTMF)
            br_buf_printf(out, "event\t%.3f\tdtmf\t%s\tdigit=%c duration_ms=%u\n", e->at_ms / 1000.0,
                          e->channel ? "far" : "near", e->digit, e->duration_ms);
        else
            br_buf_printf(out, "event\t%.3f\t%s\t%s\trefci=%s device=%s addr=%s\n", e->at_ms / 1000.0,
                          e->kind == BR_EVENT_FAR_CHANGED ? "far-end-changed" : "media-changed",
                          e->channel ? "far" : "near", dash(e->refci), dash(e->device), dash(e->addr));
    }
    return 0;
}

struct export_ctx {
    br_buf_t *out;
    br_export_codec_t *codec;
    uint64_t frames; /* output frames, at the export rate */
    unsigned rate;
};

static int export_segment(const uint8_t *audio, size_t len, void *ctx)
{
    struct export_ctx *e = ctx;
    long n = br_export_codec_run(e->codec, audio, len / 2, e->out);
    if (n < 0)
        return (int)n;
    e->frames += (uint64_t)n;
    return 0;
}

/* Appends one recording's audio as PCM to e->out. */
static int export_append(br_store_t *st, const char *id, struct export_ctx *e, br_buf_t *err)
{
    br_rec_meta_t m;
    int rc = br_store_read_meta(st, id, &m);

    if (rc < 0) {
        br_buf_printf(err, "export: recording %s: %s\n", id,
                      rc == -ENOENT ? "no such recording" : br_strerror(rc));
        return rc;
    }
    rc = br_export_codec_new(&e->codec, br_codec_store_pt(m.near.payload_type),
                             br_codec_store_pt(m.far.payload_type));
    if (rc < 0)
        return rc;
    /* A call's parts share one rate: the first part's (all 8 or 16 kHz). */
    if (!e->rate)
        e->rate = br_export_codec_rate(e->codec);
    else if (br_export_codec_rate(e->codec) != e->rate)
        br_buf_printf(err, "export: warning: recording %s is at %u Hz, the file at %u Hz\n", m.id,
                      br_export_codec_rate(e->codec), e->rate);
    rc = br_store_read_audio(st, m.id, export_segment, e);
    br_export_codec_free(e->codec);
    e->codec = NULL;
    if (rc < 0 || e->out->failed) {
        br_buf_printf(err, "export: recording %s: %s\n", m.id,
                      e->out->failed ? "out of memory" : br_strerror(rc));
        return rc < 0 ? rc : -ENOMEM;
    }
    return 0;
}

static int cmd_export(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    br_store_t *st = env->st;
    struct export_ctx e = { out, NULL, 0, 0 };
    uint8_t header[BR_WAV_HEADER_LEN] = { 0 };

    if (argc != 2) {
        br_buf_printf(err, "usage: export ID FILE.wav\n");
        return 2;
    }
    br_buf_append(out, header, sizeof header); /* filled in below */
    if (export_append(st, argv[1], &e, err) < 0) {
        br_buf_reset(out);
        return 1;
    }
    br_wav_header(out->data, e.rate, e.frames);
    return 0;
}

/* All parts of a call, in order, back to back: the hold gaps are in the
 * metadata (`bibrec calls`), not hours of silence in the file. */
static int cmd_export_call(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    br_store_t *st = env->st;
    struct calls_ctx c = { 0 };
    struct export_ctx e = { out, NULL, 0, 0 };
    uint8_t header[BR_WAV_HEADER_LEN] = { 0 };
    int rc, status = 0;

    if (argc != 2) {
        br_buf_printf(err, "usage: export-call CALL FILE.wav\n");
        return 2;
    }
    c.only = argv[1];
    rc = br_store_each(st, calls_one, &c);
    if (rc < 0 || c.nids == 0) {
        br_buf_printf(err, "export-call: call %s: %s\n", argv[1],
                      rc < 0 ? br_strerror(rc) : "no such call");
        status = 1;
        goto out;
    }
    /* Insertion sort by part number: calls have a handful of parts. */
    for (size_t i = 1; i < c.nids; i++)
        for (size_t j = i; j > 0 && c.seqs[j - 1] > c.seqs[j]; j--) {
            char tmp[BR_ID_LEN + 1];
            uint32_t t = c.seqs[j];
            c.seqs[j] = c.seqs[j - 1];
            c.seqs[j - 1] = t;
            memcpy(tmp, c.ids[j], sizeof tmp);
            memcpy(c.ids[j], c.ids[j - 1], sizeof tmp);
            memcpy(c.ids[j - 1], tmp, sizeof tmp);
        }
    br_buf_append(out, header, sizeof header);
    for (size_t i = 0; i < c.nids && status == 0; i++)
        if (export_append(st, c.ids[i], &e, err) < 0)
            status = 1;
    if (status == 0)
        br_wav_header(out->data, e.rate, e.frames);
    else
        br_buf_reset(out);
out:
    free(c.ids);
    free(c.seqs);
    return status;
}

static int cmd_erase(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    int rc;

    if (argc != 4 || strcmp(argv[2], "--reason") != 0 || !argv[3][0]) {
        br_buf_printf(err, "usage: erase ID --reason TEXT (the reason goes into the ledger)\n");
        return 2;
    }
    rc = br_store_erase(env->st, argv[1], env->actor, env->source, argv[3]);
    if (rc < 0) {
        br_buf_printf(err, "erase: %s: %s\n", argv[1],
                      rc == -EALREADY ? "already erased"
                      : rc == -EPERM  ? "under legal hold (bibrec unhold first)"
                      : rc == -ENOENT ? "no sealed recording with that id"
                                      : br_strerror(rc));
        return 1;
    }
    br_buf_printf(out, "erased %s: its key is destroyed; the ciphertext and the ledger keep proving "
                       "what was erased, when and why\n", argv[1]);
    return 0;
}

static int cmd_keep(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    int64_t until;
    char when[32];
    int rc;

    if (argc != 2) {
        br_buf_printf(err, "usage: keep ID\n");
        return 2;
    }
    rc = br_store_keep(env->st, argv[1], &until);
    if (rc < 0) {
        br_buf_printf(err, "keep: %s: %s\n", argv[1],
                      rc == -EALREADY || rc == -ENOENT ? "not waiting to be kept" : br_strerror(rc));
        return 1;
    }
    br_format_time(until, when, sizeof when);
    br_buf_printf(out, "kept %s%s%s\n", argv[1], until ? "; retained until " : "", until ? when : "");
    return 0;
}

static int cmd_stats(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    br_store_t *st = env->st;
    (void)st, (void)argc, (void)argv, (void)out;
    br_buf_printf(err, "stats: no daemon is running (counters live in bibrecd)\n");
    return 1;
}

/* phone-pin PIN: the <phone-user pin> value for a PIN (the CLI reads the
 * PIN from its standard input, never from its command line). */
static int cmd_phone_pin(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    char h[128];
    int rc;

    if (argc != 2) {
        br_buf_printf(err, "usage: echo PIN | bibrec phone-pin\n");
        return 2;
    }
    rc = br_pin_hash(env->st, argv[1], h, sizeof h);
    if (rc < 0) {
        br_buf_printf(err, "phone-pin: %s\n",
                      rc == -EINVAL ? "a PIN has 4 to 16 digits" : br_strerror(rc));
        return 1;
    }
    br_buf_printf(out, "%s\n", h);
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(const br_cmd_env_t *, int, char **, br_buf_t *, br_buf_t *);
    int file_output;
    int audited; /* reads personal data or changes the store */
} commands[] = {
    { "list", cmd_list, 0, 1 },
    { "calls", cmd_calls, 0, 1 },
    { "show", cmd_show, 0, 1 },
    { "export", cmd_export, 1, 1 },
    { "export-call", cmd_export_call, 1, 1 },
    { "verify", br_cmd_verify, 0, 1 },
    { "prove", br_cmd_prove, 0, 1 },
    { "checkpoint", br_cmd_checkpoint, 0, 1 },
    { "keys", br_cmd_keys, 0, 1 },
    { "audit", br_cmd_audit, 0, 1 },
    { "backup", br_cmd_backup, 0, 1 },
    { "erase", cmd_erase, 0, 1 },
    { "search", br_cmd_search, 0, 1 },
    { "hold", br_cmd_hold, 0, 1 },
    { "unhold", br_cmd_hold, 0, 1 },
    { "subject", br_cmd_subject, 1, 1 },
    { "keep", cmd_keep, 0, 1 },
    { "user", br_cmd_user, 0, 1 },
    { "stats", cmd_stats, 0, 0 },
    { "phone-pin", cmd_phone_pin, 0, 0 }, /* its argument is a secret: not in the ledger */
};

int br_cmd_output_is_file(const char *cmd)
{
    for (size_t i = 0; i < BR_ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i].name, cmd) == 0)
            return commands[i].file_output;
    return 0;
}

/* The audit event's target: the arguments that name recordings or calls. */
static void audit_target(int argc, char **argv, char *out, size_t outsz)
{
    size_t n = 0;
    out[0] = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--password") == 0) {
            i++; /* never into the ledger */
            continue;
        }
        if (argv[i][0] == '-' || strchr(argv[i], '/') || strlen(argv[i]) > 64)
            continue;
        int w = snprintf(out + n, outsz - n, "%s%s", n ? " " : "", argv[i]);
        if (w < 0 || (size_t)w >= outsz - n)
            break;
        n += (size_t)w;
    }
}

int br_cmd_run(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    if (argc < 1) {
        br_buf_printf(err, "no command\n");
        return 2;
    }
    for (size_t i = 0; i < BR_ARRAY_SIZE(commands); i++) {
        char target[256], detail[64];
        int status;

        if (strcmp(commands[i].name, argv[0]) != 0)
            continue;
        status = commands[i].fn(env, argc, argv, out, err);
        if (commands[i].audited && status != 2) {
            audit_target(argc, argv, target, sizeof target);
            snprintf(detail, sizeof detail, "exit=%d", status);
            if (br_store_audit(env->st, env->actor, argv[0], target, env->source,
                               status == 0 ? BR_OUTCOME_OK : BR_OUTCOME_FAILED, detail) < 0)
                br_buf_printf(err, "warning: the audit event could not be written\n");
        }
        return status;
    }
    br_buf_printf(err, "unknown command '%s'\n", argv[0]);
    return 2;
}
