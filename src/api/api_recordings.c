/*
 * Recordings through the API: search (the store's blind indexes for
 * numbers and devices, decrypted metadata for the other filters), one
 * recording's metadata and timeline, its audio as WAV with byte ranges, an
 * export archive, erasure, legal hold and private marks. Each checks the
 * user's role and scope for every recording it touches.
 */
#include "api_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/util.h"
#include "ctl/subject.h"
#include "media/codec.h"

#define DEFAULT_PER_PAGE 50
#define MAX_PER_PAGE 500
#define MAX_EXPORT 100

struct filter {
    const char *number, *device, *dn, *tag, *profile;
    int64_t from, to;
    double min_duration_s;
    int basis;   /* -1: any */
    int consent; /* -1: any, 1: recorded on consent, 0: on another basis */
    unsigned long page, per_page;
};

struct idlist {
    char (*ids)[BR_ID_LEN + 1];
    size_t n, cap;
};

static int idlist_add(struct idlist *l, const char *id)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        void *p = realloc(l->ids, cap * sizeof *l->ids);
        if (!p)
            return -ENOMEM;
        l->ids = p;
        l->cap = cap;
    }
    memcpy(l->ids[l->n++], id, BR_ID_LEN + 1);
    return 0;
}

static int same_number(const char *a, const char *b)
{
    char x[BR_META_STR], y[BR_META_STR];
    br_number_digits(a, x, sizeof x);
    br_number_digits(b, y, sizeof y);
    return x[0] && strcmp(x, y) == 0;
}

static int has_tag(const br_rec_meta_t *m, const char *tag)
{
    for (uint32_t i = 0; i < m->nevents; i++)
        if (m->events[i].kind == BR_EVENT_TAG && strcasecmp(m->events[i].addr, tag) == 0)
            return 1;
    return 0;
}

static int basis_of(const char *name)
{
    for (int b = BR_BASIS_CONSENT; b <= BR_BASIS_LEGITIMATE_INTERESTS; b++)
        if (strcmp(br_basis_name((uint8_t)b), name) == 0)
            return b;
    return -2;
}

static int filter_match(const struct filter *f, const br_rec_meta_t *m)
{
    if (f->number && !same_number(f->number, m->near.addr) && !same_number(f->number, m->far.addr))
        return 0;
    if (f->dn && !same_number(f->dn, m->near.addr))
        return 0;
    if (f->device && strcasecmp(f->device, m->near.device) != 0 &&
        strcasecmp(f->device, m->far.device) != 0)
        return 0;
    if (m->start_us < f->from || m->start_us >= f->to)
        return 0;
    if (f->min_duration_s > 0 && br_meta_duration_ms(m) < f->min_duration_s * 1000)
        return 0;
    if (f->tag && !has_tag(m, f->tag))
        return 0;
    if (f->profile && strcmp(f->profile, m->profile) != 0)
        return 0;
    if (f->basis >= 0 && m->basis != f->basis)
        return 0;
    if (f->consent >= 0 && (m->basis == BR_BASIS_CONSENT) != f->consent)
        return 0;
    return 1;
}

static int parse_count(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    unsigned long v;
    if (!s)
        return 0;
    if (!isdigit((unsigned char)s[0]))
        return -EINVAL;
    v = strtoul(s, &end, 10);
    if (*end || v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Reads the query string into f; answers 400 and returns < 0 on anything malformed. */
static int parse_filter(api_call_t *c, struct filter *f)
{
    br_http_req_t *r = c->req;
    const char *from = br_http_query(r, "from"), *to = br_http_query(r, "to");
    const char *mind = br_http_query(r, "min_duration"), *basis = br_http_query(r, "basis");
    const char *consent = br_http_query(r, "consent");
    unsigned long md = 0;

    memset(f, 0, sizeof *f);
    f->number = br_http_query(r, "number");
    f->device = br_http_query(r, "device");
    f->dn = br_http_query(r, "dn");
    f->tag = br_http_query(r, "tag");
    f->profile = br_http_query(r, "profile");
    f->from = INT64_MIN;
    f->to = INT64_MAX;
    f->basis = f->consent = -1;
    f->page = 1;
    f->per_page = DEFAULT_PER_PAGE;
    if (br_http_query(r, "direction"))
        return api_refuse(c, 400, "search", "-",
                          "direction is not known: CUCM's recording legs do not say who placed the call"),
               -EINVAL;
    if ((from && br_parse_time(from, &f->from) < 0) || (to && br_parse_time(to, &f->to) < 0))
        return api_refuse(c, 400, "search", "-", "from and to are YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"),
               -EINVAL;
    if (parse_count(mind, 0, 86400 * 7, &md) < 0 ||
        parse_count(br_http_query(r, "page"), 1, 1000000, &f->page) < 0 ||
        parse_count(br_http_query(r, "per_page"), 1, MAX_PER_PAGE, &f->per_page) < 0)
        return api_refuse(c, 400, "search", "-",
                          "min_duration (seconds), page (from 1) and per_page (1 to 500) are numbers"),
               -EINVAL;
    f->min_duration_s = (double)md;
    if (basis && (f->basis = basis_of(basis)) < 0)
        return api_refuse(c, 400, "search", "-",
                          "basis is consent, contract, legal-obligation, vital-interests, public-task or legitimate-interests"),
               -EINVAL;
    if (consent && strcmp(consent, "yes") != 0 && strcmp(consent, "no") != 0)
        return api_refuse(c, 400, "search", "-", "consent is yes or no"), -EINVAL;
    if (consent)
        f->consent = strcmp(consent, "yes") == 0;
    for (const char *s = f->number ? f->number : f->dn; s && *s; s++)
        if (!isdigit((unsigned char)*s) && !strchr("+ -()", *s))
            return api_refuse(c, 400, "search", "-", "a number has digits, spaces, + - ( ) only"), -EINVAL;
    return 0;
}

/* ---- one recording as JSON ----------------------------------------------------------------- */

static json_t *time_json(int64_t us)
{
    char t[32];
    if (!us)
        return json_null();
    br_format_time(us, t, sizeof t);
    return json_string(t);
}

static json_t *party_json(const br_rec_party_t *p)
{
    return json_pack("{s:o,s:o}", "number", api_jstr(p->addr), "device", api_jstr(p->device));
}

static json_t *rec_json(br_store_t *st, const br_rec_meta_t *m, int detail)
{
    char flags[96];
    json_t *tags = json_array(), *j;

    br_meta_flags_str(m->flags, flags, sizeof flags);
    for (uint32_t i = 0; i < m->nevents; i++)
        if (m->events[i].kind == BR_EVENT_TAG)
            json_array_append_new(tags, api_jstr(m->events[i].addr));
    j = json_pack("{s:s,s:s,s:s,s:o,s:o,s:f,s:o,s:o,s:o,s:s,s:s,s:o,s:s,s:b,s:b,s:o}", "id", m->id,
                  "call", m->call_id[0] ? m->call_id : m->id, "state", br_rec_state_name(m->state),
                  "start", time_json(m->start_us), "end", time_json(m->end_us), "duration_s",
                  br_meta_duration_ms(m) / 1000.0, "near", party_json(&m->near), "far",
                  party_json(&m->far), "profile", api_jstr(m->profile), "basis", br_basis_name(m->basis),
                  "mode", br_mode_name(m->mode), "retain_until", time_json(m->retain_until_us),
                  "flags", flags, "private",
                  (m->flags & BR_FLAG_PRIVATE) || br_store_is_private(st, m->id), "legal_hold",
                  br_store_held(st, m->id, NULL, 0), "tags", tags);
    if (detail && j) {
        json_t *tl = json_array();
        for (uint32_t i = 0; i < m->nevents; i++) {
            const br_rec_event_t *e = &m->events[i];
            static const char *const kinds[] = { "?", "far-end-changed", "media-changed", "dtmf", "tag", "consent" };
            json_t *ev = json_pack("{s:f,s:s,s:s}", "at_s", e->at_ms / 1000.0, "kind",
                                   e->kind < 6 ? kinds[e->kind] : "?", "channel", e->channel ? "far" : "near");
            if (e->kind == BR_EVENT_DTMF)
                json_object_set_new(ev, "digit", json_stringn(e->digit ? &e->digit : "?", 1));
            else
                json_object_set_new(ev, "value", api_jstr(e->addr));
            json_array_append_new(tl, ev);
        }
        json_object_set_new(j, "timeline", tl);
        json_object_set_new(j, "consent", json_string(br_consent_name(m->consent)));
        json_object_set_new(j, "consent_id", json_string(m->consent_id));
        json_object_set_new(j, "segments", json_integer(m->segments));
        json_object_set_new(j, "sample_rate", json_integer(m->sample_rate));
        json_object_set_new(j, "near_codec", json_string(br_codec_name(m->near.payload_type)));
        json_object_set_new(j, "far_codec", json_string(br_codec_name(m->far.payload_type)));
    }
    return j;
}

/* ---- search ------------------------------------------------------------------------------- */

struct search_ctx {
    api_call_t *c;
    const struct filter *f;
    struct idlist *hits;
    int err;
};

static int consider(struct search_ctx *s, const br_rec_meta_t *m)
{
    br_api_t *a = s->c->api;
    if (m->state == BR_REC_ERASED || !filter_match(s->f, m))
        return 0;
    if (!br_access_recording(&s->c->user, BR_ACT_SEARCH, m, br_store_is_private(a->st, m->id), a->cfg))
        return 0;
    return idlist_add(s->hits, m->id);
}

static int consider_meta(const br_rec_meta_t *m, int err, void *ctx)
{
    return err < 0 ? 0 : consider(ctx, m);
}

static int consider_id(const char *id, void *ctx)
{
    struct search_ctx *s = ctx;
    br_rec_meta_t m;
    for (size_t i = 0; i < s->hits->n; i++) /* a number on both ends: found twice */
        if (strcmp(s->hits->ids[i], id) == 0)
            return 0;
    return br_store_read_meta(s->c->api->st, id, &m) < 0 ? 0 : consider(s, &m);
}

/* Candidates come from a blind index when the query (or a user's own lines) allows. */
static int run_search(api_call_t *c, const struct filter *f, struct idlist *hits)
{
    struct search_ctx s = { c, f, hits, 0 };
    br_store_t *st = c->api->st;
    int rc = 0;

    if (f->number || f->dn)
        return br_store_search(st, 'n', f->number ? f->number : f->dn, consider_id, &s);
    if (f->device)
        return br_store_search(st, 'd', f->device, consider_id, &s);
    if (c->user.role == BR_ROLE_USER) {
        for (int i = 0; i < c->user.ndns && rc == 0; i++) {
            rc = br_store_search(st, 'n', c->user.dns[i], consider_id, &s);
            if (rc == 0)
                rc = br_store_search(st, 'd', c->user.dns[i], consider_id, &s);
        }
        return rc;
    }
    return br_store_each(st, consider_meta, &s);
}

static int by_id_desc(const void *a, const void *b)
{
    return -strcmp(a, b);
}

int api_recordings(api_call_t *c)
{
    struct filter f;
    struct idlist hits = { 0 };
    json_t *list;
    char target[256] = "", detail[128];
    size_t first, tl = 0;
    int rc;

    if (!br_role_allows(c->user.role, BR_ACT_SEARCH))
        return api_refuse(c, 403, "search", "-", "your role may not search recordings");
    if (parse_filter(c, &f) < 0)
        return 0;
    rc = run_search(c, &f, &hits);
    if (rc < 0) {
        free(hits.ids);
        api_audit(c, "search", "-", BR_OUTCOME_FAILED, br_strerror(rc));
        return api_error(c, 500, br_strerror(rc)), 0;
    }
    if (hits.n > 1) /* none found: ids is NULL, which qsort may not be given */
        qsort(hits.ids, hits.n, sizeof *hits.ids, by_id_desc); /* newest first */
    list = json_array();
    first = (f.page - 1) * f.per_page;
    for (size_t i = first; i < hits.n && i < first + f.per_page; i++) {
        br_rec_meta_t m;
        if (br_store_read_meta(c->api->st, hits.ids[i], &m) == 0)
            json_array_append_new(list, rec_json(c->api->st, &m, 0));
        if (tl + BR_ID_LEN + 2 < sizeof target)
            tl += (size_t)snprintf(target + tl, sizeof target - tl, "%s%s", tl ? " " : "", hits.ids[i]);
    }
    snprintf(detail, sizeof detail, "%zu matched, page %lu", hits.n, f.page);
    api_audit(c, "search", target, BR_OUTCOME_OK, detail);
    api_json(c, 200, json_pack("{s:I,s:I,s:I,s:o}", "total", (json_int_t)hits.n, "page",
                               (json_int_t)f.page, "per_page", (json_int_t)f.per_page,
                               "recordings", list));
    free(hits.ids);
    return 0;
}

/* ---- one recording ------------------------------------------------------------------------ */

/* Reads id's metadata and checks action on it; answers 404/403 (audited) and returns < 0 when
 * not allowed. */
static int load_allowed(api_call_t *c, const char *what, int action, const char *id, br_rec_meta_t *m)
{
    br_api_t *a = c->api;
    int rc;

    if (!br_role_allows(c->user.role, action))
        return api_refuse(c, 403, what, id, "your role may not do this"), -EPERM;
    rc = br_store_read_meta(a->st, id, m);
    if (rc < 0)
        return api_refuse(c, 404, what, id, rc == -ENOENT ? "no such recording" : br_strerror(rc)), rc;
    if (!br_access_recording(&c->user, action, m, br_store_is_private(a->st, id), a->cfg))
        return api_refuse(c, 403, what, id, "this recording is outside what you may access"), -EPERM;
    return 0;
}

int api_recording(api_call_t *c, const char *id)
{
    br_rec_meta_t m;
    if (load_allowed(c, "metadata", BR_ACT_METADATA, id, &m) < 0)
        return 0;
    api_audit(c, "metadata", id, BR_OUTCOME_OK, "");
    api_json(c, 200, rec_json(c->api->st, &m, 1));
    return 0;
}

/* 200 with the whole file, 206 with one range, 416 when the range lies beyond it. */
static void send_range(api_call_t *c, br_buf_t *wav, const char *id)
{
    const char *range = br_http_header(c->req, "Range");
    uint64_t first = 0, last = wav->len ? wav->len - 1 : 0;
    char v[96], detail[96];
    int rc = range ? br_http_range_parse(range, wav->len, &first, &last) : -EINVAL;

    br_http_resp_header(c->resp, "Accept-Ranges", "bytes");
    if (rc == -ERANGE) {
        snprintf(v, sizeof v, "bytes */%zu", wav->len);
        br_http_resp_header(c->resp, "Content-Range", v);
        api_refuse(c, 416, "play", id, "range not satisfiable");
        return;
    }
    br_buf_reset(&c->resp->body);
    if (rc == 0) {
        br_buf_append(&c->resp->body, wav->data + first, (size_t)(last - first + 1));
        snprintf(v, sizeof v, "bytes %" PRIu64 "-%" PRIu64 "/%zu", first, last, wav->len);
        br_http_resp_header(c->resp, "Content-Range", v);
        c->resp->status = 206;
    } else {
        br_buf_append(&c->resp->body, wav->data, wav->len);
        c->resp->status = 200;
    }
    br_strlcpy(c->resp->content_type, "audio/wav", sizeof c->resp->content_type);
    snprintf(v, sizeof v, "inline; filename=\"%s.wav\"", id);
    br_http_resp_header(c->resp, "Content-Disposition", v);
    snprintf(detail, sizeof detail, "bytes %" PRIu64 "-%" PRIu64 " of %zu", first, last, wav->len);
    api_audit(c, "play", id, BR_OUTCOME_OK, detail);
}

int api_audio(api_call_t *c, const char *id)
{
    br_rec_meta_t m;
    br_buf_t wav;
    int rc;

    if (load_allowed(c, "play", BR_ACT_PLAY, id, &m) < 0)
        return 0;
    if (m.state == BR_REC_ERASED)
        return api_refuse(c, 410, "play", id, "the recording was erased");
    br_buf_init(&wav);
    rc = br_rec_wav(c->api->st, &m, &wav);
    if (rc < 0 || wav.failed) {
        br_err("api: audio of %s unreadable: %s", id, br_strerror(rc < 0 ? rc : -ENOMEM));
        api_audit(c, "play", id, BR_OUTCOME_FAILED, br_strerror(rc < 0 ? rc : -ENOMEM));
        api_error(c, 500, "the audio could not be read");
    } else {
        send_range(c, &wav, id);
    }
    br_buf_free(&wav);
    return 0;
}

/* ---- export ------------------------------------------------------------------------------ */

/* The body's "ids" as a list of well-formed, distinct ids; answers 400 when it is not. */
static int export_ids(api_call_t *c, struct idlist *ids)
{
    json_t *a = json_object_get(c->body, "ids"), *v;
    size_t i;

    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > MAX_EXPORT)
        return api_refuse(c, 400, "export", "-", "give \"ids\": an array of 1 to 100 recording ids"), -EINVAL;
    json_array_foreach(a, i, v) {
        const char *id = json_string_value(v);
        if (!id || !api_check_id(c, "export", id))
            return -EINVAL;
        for (size_t k = 0; k < ids->n; k++)
            if (strcmp(ids->ids[k], id) == 0)
                return api_refuse(c, 400, "export", id, "an id is listed twice"), -EINVAL;
        if (idlist_add(ids, id) < 0)
            return api_error(c, 500, "out of memory"), -ENOMEM;
    }
    return 0;
}

static int export_archive(api_call_t *c, const struct idlist *ids, br_buf_t *tar)
{
    br_buf_t csv, wav;
    int rc = 0;

    br_buf_init(&csv);
    br_buf_printf(&csv, BR_REC_CSV_HEADER);
    for (size_t i = 0; i < ids->n && rc == 0; i++) {
        br_rec_meta_t m;
        char name[64];
        rc = br_store_read_meta(c->api->st, ids->ids[i], &m);
        if (rc < 0)
            break;
        br_rec_csv_row(&csv, &m);
        br_buf_init(&wav);
        rc = br_rec_wav(c->api->st, &m, &wav);
        snprintf(name, sizeof name, "audio/%s.wav", m.id);
        if (rc == 0)
            br_tar_file(tar, name, wav.data, wav.len, m.start_us);
        br_buf_free(&wav);
    }
    br_tar_file(tar, "recordings.csv", csv.data, csv.len, br_now_us());
    br_tar_end(tar);
    br_buf_free(&csv);
    return rc < 0 ? rc : tar->failed ? -ENOMEM : 0;
}

int api_export(api_call_t *c)
{
    struct idlist ids = { 0 };
    char target[256] = "";
    size_t tl = 0;
    br_buf_t tar;
    int rc;

    if (!br_role_allows(c->user.role, BR_ACT_EXPORT))
        return api_refuse(c, 403, "export", "-", "your role may not export recordings");
    if (api_body(c, "export") < 0 || export_ids(c, &ids) < 0)
        goto out;
    for (size_t i = 0; i < ids.n; i++) {
        br_rec_meta_t m;
        if (load_allowed(c, "export", BR_ACT_EXPORT, ids.ids[i], &m) < 0)
            goto out;
        if (m.state == BR_REC_ERASED) {
            api_refuse(c, 410, "export", ids.ids[i], "the recording was erased");
            goto out;
        }
        if (tl + BR_ID_LEN + 2 < sizeof target)
            tl += (size_t)snprintf(target + tl, sizeof target - tl, "%s%s", tl ? " " : "", ids.ids[i]);
    }
    br_buf_init(&tar);
    rc = export_archive(c, &ids, &tar);
    if (rc < 0) {
        api_audit(c, "export", target, BR_OUTCOME_FAILED, br_strerror(rc));
        api_error(c, 500, br_strerror(rc));
    } else {
        br_buf_t *body = &c->resp->body;
        br_buf_free(body);
        *body = tar;
        br_buf_init(&tar);
        c->resp->status = 200;
        br_strlcpy(c->resp->content_type, "application/x-tar", sizeof c->resp->content_type);
        br_http_resp_header(c->resp, "Content-Disposition", "attachment; filename=\"recordings.tar\"");
        api_audit(c, "export", target, BR_OUTCOME_OK, "archive with WAVs and recordings.csv");
    }
    br_buf_free(&tar);
out:
    free(ids.ids);
    return 0;
}

/* ---- changes ----------------------------------------------------------------------------- */

/* The reason from the JSON body or the query string; answers 400 when there is none. */
static const char *reason_of(api_call_t *c, const char *what, const char *id)
{
    const char *r = br_http_query(c->req, "reason");
    size_t len;
    if (!r && br_http_body(c->req, &len)) {
        if (api_body(c, what) < 0)
            return NULL;
        r = api_str(c, "reason");
    }
    if (!r || !r[0] || strlen(r) > 200) {
        api_refuse(c, 400, what, id, "a reason (1 to 200 characters) is required");
        return NULL;
    }
    return r;
}

int api_delete(api_call_t *c, const char *id)
{
    br_rec_meta_t m;
    const char *reason;
    int rc;

    if (load_allowed(c, "delete", BR_ACT_DELETE, id, &m) < 0 || !(reason = reason_of(c, "delete", id)))
        return 0;
    rc = br_store_erase(c->api->st, id, c->user.name, c->peer, reason);
    if (rc == -EPERM)
        return api_refuse(c, 409, "delete", id, "under legal hold: lift the hold first");
    if (rc == -EALREADY)
        return api_refuse(c, 410, "delete", id, "already erased");
    if (rc < 0)
        return api_refuse(c, rc == -ENOENT ? 409 : 500, "delete", id,
                          rc == -ENOENT ? "not sealed yet" : br_strerror(rc));
    api_audit(c, "delete", id, BR_OUTCOME_OK, reason);
    api_json(c, 200, json_pack("{s:s,s:o}", "erased", id, "reason", api_jstr(reason)));
    return 0;
}

static int hold(api_call_t *c, const char *id, int on)
{
    const char *what = on ? "hold" : "unhold";
    br_rec_meta_t m;
    const char *reason = "";
    int rc;

    if (load_allowed(c, what, BR_ACT_HOLD, id, &m) < 0 || (on && !(reason = reason_of(c, what, id))))
        return 0;
    rc = br_store_hold(c->api->st, id, on, c->user.name, reason);
    if (rc < 0)
        return api_refuse(c, rc == -ENOENT ? 409 : 500, what, id,
                          rc == -ENOENT ? "not sealed yet" : br_strerror(rc));
    api_audit(c, what, id, BR_OUTCOME_OK, reason);
    api_json(c, 200, json_pack("{s:s,s:b}", "id", id, "legal_hold", on));
    return 0;
}

int api_hold(api_call_t *c, const char *id)
{
    return hold(c, id, 1);
}

int api_unhold(api_call_t *c, const char *id)
{
    return hold(c, id, 0);
}

int api_private(api_call_t *c, const char *id)
{
    br_rec_meta_t m;
    int rc;

    if (load_allowed(c, "private", BR_ACT_PRIVATE, id, &m) < 0)
        return 0;
    rc = br_store_set_private(c->api->st, id, c->user.name);
    if (rc < 0)
        return api_refuse(c, rc == -ENOENT ? 409 : 500, "private", id,
                          rc == -ENOENT ? "not sealed yet" : br_strerror(rc));
    api_audit(c, "private", id, BR_OUTCOME_OK, "");
    api_json(c, 200, json_pack("{s:s,s:b}", "id", id, "private", 1));
    return 0;
}
