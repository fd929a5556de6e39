/*
 * The data subject's rights and the privacy officer's tools: search by
 * number or device (through the blind indexes), legal hold, and for a
 * person identified by their numbers: export of everything (Art. 15 and
 * 20: one tar archive with the audio as WAV, the metadata and the audit
 * events as RFC 4180 CSV, the answers given at the consent announcement,
 * and a README) and erasure (Art. 17) except what
 * a legal hold or a legal obligation still inside its retention keeps
 * (Art. 17(3)(b)).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands_int.h"
#include "subject.h"
#include "common/util.h"
#include "config/settings.h"
#include "media/codec.h"
#include "media/wav.h"
#include "sql-free-store/consent.h"

#define MAX_IDS 4096

struct idset {
    char (*ids)[BR_ID_LEN + 1];
    size_t n, cap;
};

static int add_id(const char *id, void *ctx)
{
    struct idset *s = ctx;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return 0;
    if (s->n == MAX_IDS)
        return -E2BIG;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        void *p = realloc(s->ids, cap * sizeof *s->ids);
        if (!p)
            return -ENOMEM;
        s->ids = p;
        s->cap = cap;
    }
    memcpy(s->ids[s->n++], id, BR_ID_LEN + 1);
    return 0;
}

/* Every recording involving any number or device of q. */
static int collect(const br_cmd_env_t *env, const br_subject_query_t *q, struct idset *s,
                   br_buf_t *err)
{
    int rc = 0;
    for (int i = 0; i < q->nnumbers && rc == 0; i++)
        rc = br_store_search(env->st, 'n', q->numbers[i], add_id, s);
    for (int i = 0; i < q->ndevices && rc == 0; i++)
        rc = br_store_search(env->st, 'd', q->devices[i], add_id, s);
    if (q->nnumbers + q->ndevices == 0) {
        br_buf_printf(err, "give at least one --number or --device\n");
        return -EINVAL;
    }
    if (rc < 0)
        br_buf_printf(err, "search: %s\n",
                      rc == -ENOKEY ? "the master key is not available here" : br_strerror(rc));
    return rc;
}

/* The --number and --device options of argv as a query. */
static int query_of(int argc, char **argv, br_subject_query_t *q, br_buf_t *err)
{
    memset(q, 0, sizeof *q);
    for (int i = 1; i + 1 < argc; i++) {
        int number = strcmp(argv[i], "--number") == 0;
        if (!number && strcmp(argv[i], "--device") != 0)
            continue;
        if ((number ? q->nnumbers : q->ndevices) == BR_SUBJECT_MAX_KEYS) {
            br_buf_printf(err, "at most %d numbers and %d devices\n", BR_SUBJECT_MAX_KEYS,
                          BR_SUBJECT_MAX_KEYS);
            return -E2BIG;
        }
        if (number)
            q->numbers[q->nnumbers++] = argv[++i];
        else
            q->devices[q->ndevices++] = argv[++i];
    }
    return 0;
}

static void fmt_time(int64_t us, char *out, size_t n)
{
    if (us)
        br_format_time(us, out, n);
    else
        br_strlcpy(out, "", n);
}

void br_rec_csv_row(br_buf_t *out, const br_rec_meta_t *m)
{
    char start[32], end[32], retain[32], dur[24], flags[96];
    fmt_time(m->start_us, start, sizeof start);
    fmt_time(m->end_us, end, sizeof end);
    fmt_time(m->retain_until_us, retain, sizeof retain);
    snprintf(dur, sizeof dur, "%.2f", br_meta_duration_ms(m) / 1000.0);
    br_meta_flags_str(m->flags, flags, sizeof flags);
    br_buf_csv_field(out, m->id, 0);
    br_buf_csv_field(out, m->call_id[0] ? m->call_id : m->id, 0);
    br_buf_csv_field(out, start, 0);
    br_buf_csv_field(out, end, 0);
    br_buf_csv_field(out, dur, 0);
    br_buf_csv_field(out, m->near.addr, 0);
    br_buf_csv_field(out, m->near.device, 0);
    br_buf_csv_field(out, m->far.addr, 0);
    br_buf_csv_field(out, m->far.device, 0);
    br_buf_csv_field(out, m->profile, 0);
    br_buf_csv_field(out, br_basis_name(m->basis), 0);
    br_buf_csv_field(out, br_mode_name(m->mode), 0);
    br_buf_csv_field(out, retain, 0);
    br_buf_csv_field(out, flags, 0);
    br_buf_csv_field(out, br_rec_state_name(m->state), 1);
}

int br_cmd_search(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    struct idset s = { 0 };
    br_subject_query_t q;
    int status = 0;

    if (query_of(argc, argv, &q, err) < 0 || collect(env, &q, &s, err) < 0) {
        free(s.ids);
        return argc < 3 ? 2 : 1;
    }
    br_buf_printf(out, BR_REC_CSV_HEADER);
    for (size_t i = 0; i < s.n; i++) {
        br_rec_meta_t m;
        if (br_store_read_meta(env->st, s.ids[i], &m) == 0)
            br_rec_csv_row(out, &m);
    }
    free(s.ids);
    return status;
}

int br_cmd_hold(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    int on = strcmp(argv[0], "hold") == 0, rc;

    if ((on && (argc != 4 || strcmp(argv[2], "--reason") != 0)) || (!on && argc != 2)) {
        br_buf_printf(err, "usage: hold ID --reason TEXT | unhold ID\n");
        return 2;
    }
    rc = br_store_hold(env->st, argv[1], on, env->actor, on ? argv[3] : "");
    if (rc < 0) {
        br_buf_printf(err, "%s: %s: %s\n", argv[0], argv[1],
                      rc == -ENOENT ? "no sealed recording with that id" : br_strerror(rc));
        return 1;
    }
    br_buf_printf(out, "%s %s\n", on ? "legal hold on" : "legal hold lifted from", argv[1]);
    return 0;
}

/* ---- tar (POSIX ustar), enough for regular files ------------------------------------ */

void br_tar_file(br_buf_t *out, const char *name, const void *data, size_t len, int64_t mtime)
{
    uint8_t h[512];
    unsigned sum = 0;

    memset(h, 0, sizeof h);
    snprintf((char *)h, 100, "%s", name);
    memcpy(h + 100, "0000644", 8);
    memcpy(h + 108, "0000000", 8);
    memcpy(h + 116, "0000000", 8);
    snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)len);
    snprintf((char *)h + 136, 12, "%011llo", (unsigned long long)(mtime / 1000000));
    memset(h + 148, ' ', 8);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    br_buf_append(out, h, sizeof h);
    br_buf_append(out, data, len);
    if (len % 512) {
        static const uint8_t zero[512];
        br_buf_append(out, zero, 512 - len % 512);
    }
}

struct audio_ctx {
    br_buf_t *pcm;
    br_export_codec_t *codec;
    uint64_t frames;
};

static int audio_segment(const uint8_t *a, size_t len, void *ctx)
{
    struct audio_ctx *c = ctx;
    long n = br_export_codec_run(c->codec, a, len / 2, c->pcm);
    if (n < 0)
        return (int)n;
    c->frames += (uint64_t)n;
    return 0;
}

int br_rec_wav(br_store_t *st, const br_rec_meta_t *m, br_buf_t *wav)
{
    struct audio_ctx c = { wav, NULL, 0 };
    uint8_t header[BR_WAV_HEADER_LEN] = { 0 };
    int rc = br_export_codec_new(&c.codec, br_codec_store_pt(m->near.payload_type),
                                 br_codec_store_pt(m->far.payload_type));
    if (rc < 0)
        return rc;
    br_buf_append(wav, header, sizeof header);
    rc = br_store_read_audio(st, m->id, audio_segment, &c);
    if (rc == 0)
        br_wav_header(wav->data, br_export_codec_rate(c.codec), c.frames);
    br_export_codec_free(c.codec);
    return rc;
}

struct audit_match {
    const struct idset *ids;
    br_buf_t *out;
};

static int audit_row(const br_ledger_entry_t *e, void *ctx)
{
    struct audit_match *a = ctx;
    int hit = 0;
    for (size_t i = 0; i < a->ids->n && !hit; i++)
        hit = strstr(e->target, a->ids->ids[i]) != NULL;
    if (hit)
        br_cmd_audit_csv_row(a->out, e);
    return 0;
}

/* ---- consent decisions taken by the subject's numbers ------------------------------ */

/* Every decision taken by any number of q (decisions know no device). */
static int collect_consents(const br_cmd_env_t *env, const br_subject_query_t *q, struct idset *s)
{
    int rc = 0;
    for (int i = 0; i < q->nnumbers && rc == 0; i++)
        rc = br_consent_by_number(env->st, q->numbers[i], add_id, s);
    return rc;
}

#define CONSENT_HEADER "id,time,caller,announcement,decision,digit,timed_out,prompt,language,played_ms\r\n"

static void consent_row(br_buf_t *out, const br_consent_rec_t *c)
{
    char at[32], digit[2] = { c->digit, 0 }, ms[16];
    br_format_time(c->at_us, at, sizeof at);
    snprintf(ms, sizeof ms, "%u", c->played_ms);
    br_buf_csv_field(out, c->id, 0);
    br_buf_csv_field(out, at, 0);
    br_buf_csv_field(out, c->caller, 0);
    br_buf_csv_field(out, c->called, 0);
    br_buf_csv_field(out, br_consent_name(c->decision), 0);
    br_buf_csv_field(out, digit, 0);
    br_buf_csv_field(out, c->timed_out ? "yes" : "no", 0);
    br_buf_csv_field(out, c->prompt, 0);
    br_buf_csv_field(out, c->language, 0);
    br_buf_csv_field(out, ms, 1);
}

/* consents.csv for the export; the decisions' ids join the audit search. */
static void export_consents(const br_cmd_env_t *env, const br_subject_query_t *q, struct idset *ids,
                            br_buf_t *csv)
{
    struct idset c = { 0 };
    br_buf_printf(csv, CONSENT_HEADER);
    collect_consents(env, q, &c);
    for (size_t i = 0; i < c.n; i++) {
        br_consent_rec_t rec;
        memset(&rec, 0, sizeof rec);
        if (br_consent_get(env->st, c.ids[i], &rec) == 0)
            consent_row(csv, &rec);
        add_id(c.ids[i], ids);
    }
    free(c.ids);
}

/* Erases the subject's decisions (with reason NULL: says what would be),
 * except those that prove the consent of a recording that stays (kept
 * lists the consent ids of recordings kept). */
static int erase_consents(const br_cmd_env_t *env, const br_subject_query_t *q,
                          const struct idset *kept, const char *reason, br_buf_t *out)
{
    struct idset c = { 0 };
    int failed = 0;

    collect_consents(env, q, &c);
    for (size_t i = 0; i < c.n; i++) {
        int keep = 0, rc;
        for (size_t k = 0; k < kept->n && !keep; k++)
            keep = strcmp(kept->ids[k], c.ids[i]) == 0;
        if (keep) {
            br_buf_printf(out, "consent %s\tkept: proves the consent of a recording that is kept\n",
                          c.ids[i]);
        } else if (!reason) {
            br_buf_printf(out, "consent %s\twill be erased\n", c.ids[i]);
        } else if ((rc = br_consent_erase(env->st, c.ids[i], env->actor, env->source, reason)) == 0) {
            br_buf_printf(out, "consent %s\terased\n", c.ids[i]);
        } else if (rc != -EALREADY) {
            br_buf_printf(out, "consent %s\tFAILED: %s\n", c.ids[i], br_strerror(rc));
            failed++;
        }
    }
    free(c.ids);
    return failed;
}

int br_subject_export(const br_cmd_env_t *env, const br_subject_query_t *q, br_buf_t *out,
                      br_buf_t *err)
{
    struct idset s = { 0 };
    br_buf_t meta, audit, readme, wav, consents;
    int64_t now = br_now_us();
    char when[32];
    int rc;

    if (collect(env, q, &s, err) < 0) {
        free(s.ids);
        return 1;
    }
    br_buf_init(&meta);
    br_buf_init(&audit);
    br_buf_init(&readme);
    br_buf_init(&consents);
    br_format_time(now, when, sizeof when);
    br_buf_printf(&meta, BR_REC_CSV_HEADER);
    br_buf_printf(&readme,
                  "Copy of your recorded calls and their data (GDPR Art. 15 and 20)\n"
                  "Made %s for the numbers or devices:", when);
    for (int i = 0; i < q->nnumbers; i++)
        br_buf_printf(&readme, " %s", q->numbers[i]);
    for (int i = 0; i < q->ndevices; i++)
        br_buf_printf(&readme, " %s", q->devices[i]);
    br_buf_printf(&readme,
                  "\n\nContents\n"
                  "  recordings.csv  one row per recording (UTF-8, RFC 4180). Columns: id, call (the\n"
                  "                  recordings of one call split by hold share it), start, end (UTC),\n"
                  "                  duration_s, near_number and near_device (the recorded line),\n"
                  "                  far_number and far_device (the other party), profile, basis (the\n"
                  "                  GDPR Art. 6(1) lawful basis), mode, retain_until (UTC; empty: kept\n"
                  "                  until erased), flags, state\n"
                  "  consents.csv    your answers at our recording announcement: id, time (UTC),\n"
                  "                  caller, announcement (the number called), decision (accepted,\n"
                  "                  refused, informed), digit, timed_out (no key pressed: the default\n"
                  "                  applied), prompt, language, played_ms\n"
                  "  audit.csv       every logged access to these recordings and answers (who, what,\n"
                  "                  when, outcome)\n"
                  "  audio/ID.wav    the audio: left channel the recorded line, right the other party\n\n"
                  "Recordings, their lawful basis and how long they are kept\n");
    for (size_t i = 0; i < s.n; i++) {
        br_rec_meta_t m;
        char retain[32];
        if (br_store_read_meta(env->st, s.ids[i], &m) < 0)
            continue;
        br_rec_csv_row(&meta, &m);
        fmt_time(m.retain_until_us, retain, sizeof retain);
        br_buf_printf(&readme, "  %s  %s  profile %s, basis %s (%s), %s%s\n", m.id,
                      m.state == BR_REC_ERASED ? "erased" : "kept", m.profile[0] ? m.profile : "-",
                      br_basis_name(m.basis), br_basis_name(m.basis)[0] ? "GDPR Art. 6(1)" : "",
                      m.retain_until_us ? "retained until " : "retained until erased on request",
                      retain);
        if (m.state != BR_REC_ERASED) {
            char name[64];
            br_buf_init(&wav);
            rc = br_rec_wav(env->st, &m, &wav);
            snprintf(name, sizeof name, "audio/%s.wav", m.id);
            if (rc == 0)
                br_tar_file(out, name, wav.data, wav.len, m.start_us);
            else
                br_buf_printf(&readme, "    (audio unreadable: %s)\n", br_strerror(rc));
            br_buf_free(&wav);
        }
    }
    if (s.n == 0)
        br_buf_printf(&readme, "  none: no recording involves these numbers\n");
    export_consents(env, q, &s, &consents);
    br_buf_printf(&audit, "seq,time,type,actor,action,target,source,outcome,detail\r\n");
    {
        struct audit_match a = { &s, &audit };
        br_ledger_each(env->st, 0, audit_row, &a);
    }
    br_tar_file(out, "README.txt", readme.data, readme.len, now);
    br_tar_file(out, "recordings.csv", meta.data, meta.len, now);
    br_tar_file(out, "consents.csv", consents.data, consents.len, now);
    br_tar_file(out, "audit.csv", audit.data, audit.len, now);
    br_tar_end(out);
    br_buf_printf(err, "subject export: %zu recording(s)\n", s.n);
    br_buf_free(&meta);
    br_buf_free(&audit);
    br_buf_free(&readme);
    br_buf_free(&consents);
    free(s.ids);
    return out->failed ? 1 : 0;
}

int br_subject_erase(const br_cmd_env_t *env, const br_subject_query_t *q, const char *reason,
                     br_buf_t *out, br_buf_t *err)
{
    struct idset s = { 0 }, kept_consents = { 0 };
    int64_t now = br_now_us();
    int failed = 0;

    if (collect(env, q, &s, err) < 0) {
        free(s.ids);
        return 1;
    }
    for (size_t i = 0; i < s.n; i++) {
        br_rec_meta_t m;
        char why[200], until[32];
        int rc;
        if (br_store_read_meta(env->st, s.ids[i], &m) < 0)
            continue;
        if (m.state == BR_REC_ERASED) {
            br_buf_printf(out, "%s\talready erased\n", m.id);
        } else if (br_store_held(env->st, m.id, why, sizeof why)) {
            br_buf_printf(out, "%s\tkept: legal hold (%s)\n", m.id, why);
            if (m.consent_id[0])
                add_id(m.consent_id, &kept_consents);
        } else if (m.basis == BR_BASIS_LEGAL_OBLIGATION && m.retain_until_us > now) {
            br_format_time(m.retain_until_us, until, sizeof until);
            br_buf_printf(out, "%s\tkept: legal obligation (Art. 17(3)(b)) until %s\n", m.id, until);
            if (m.consent_id[0])
                add_id(m.consent_id, &kept_consents);
        } else if (!reason) {
            br_buf_printf(out, "%s\twill be erased\n", m.id);
        } else if ((rc = br_store_erase(env->st, m.id, env->actor, env->source, reason)) == 0) {
            br_buf_printf(out, "%s\terased\n", m.id);
        } else {
            br_buf_printf(out, "%s\tFAILED: %s\n", m.id, br_strerror(rc));
            failed++;
        }
    }
    if (s.n == 0)
        br_buf_printf(out, "no recording involves these numbers\n");
    failed += erase_consents(env, q, &kept_consents, reason, out);
    free(s.ids);
    free(kept_consents.ids);
    return failed ? 1 : 0;
}

void br_tar_end(br_buf_t *out)
{
    static const uint8_t end[1024];
    br_buf_append(out, end, sizeof end);
}

int br_cmd_subject(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    br_subject_query_t q;
    const char *reason = NULL;

    if (argc >= 2 && query_of(argc, argv, &q, err) < 0)
        return 2;
    if (argc >= 2 && strcmp(argv[1], "export") == 0)
        return br_subject_export(env, &q, out, err);
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--reason") == 0)
            reason = argv[i + 1];
    if (argc >= 2 && strcmp(argv[1], "erase") == 0 && reason && reason[0])
        return br_subject_erase(env, &q, reason, out, err);
    br_buf_printf(err, "usage: subject export --number N [--number M ...] OUT.tar\n"
                       "       subject erase --number N [--number M ...] --reason TEXT\n");
    return 2;
}
