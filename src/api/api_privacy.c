/*
 * The privacy officer's and the auditor's endpoints, and the user list for
 * administrators. The data subject's requests run the same code as `bibrec
 * subject` (ctl/subject.h); verification the same as `bibrec verify`.
 */
#include "api_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ctl/commands_int.h"
#include "ctl/subject.h"

static void env_of(api_call_t *c, br_cmd_env_t *env)
{
    memset(env, 0, sizeof *env);
    env->st = c->api->st;
    env->signer = c->api->signer;
    env->actor = c->user.name;
    env->source = c->peer;
}

/* The body's "numbers" and "devices" arrays as a query; answers 400 when malformed. The audit
 * target counts them: the ledger is not encrypted, so the numbers themselves stay out of it. */
static int subject_query(api_call_t *c, const char *what, br_subject_query_t *q, char *target,
                         size_t targetsz)
{
    static const char *const keys[2] = { "numbers", "devices" };

    memset(q, 0, sizeof *q);
    target[0] = 0;
    for (int k = 0; k < 2; k++) {
        json_t *a = json_object_get(c->body, keys[k]), *v;
        size_t i;
        if (!a)
            continue;
        if (!json_is_array(a) || json_array_size(a) > BR_SUBJECT_MAX_KEYS)
            return api_refuse(c, 400, what, "-", "numbers and devices are arrays of at most 16 strings"),
                   -EINVAL;
        json_array_foreach(a, i, v) {
            const char *s = json_string_value(v);
            if (!s || !s[0] || strlen(s) > 64)
                return api_refuse(c, 400, what, "-", "numbers and devices are non-empty strings"), -EINVAL;
            if (k == 0)
                q->numbers[q->nnumbers++] = s;
            else
                q->devices[q->ndevices++] = s;
        }
    }
    if (q->nnumbers + q->ndevices == 0)
        return api_refuse(c, 400, what, "-", "give \"numbers\" and/or \"devices\""), -EINVAL;
    snprintf(target, targetsz, "subject numbers=%d devices=%d", q->nnumbers, q->ndevices);
    return 0;
}

/* The common start of a subject request: a privacy officer, a JSON body, a query. < 0 when the
 * request was answered (refused) already. */
static int subject_request(api_call_t *c, const char *what, br_subject_query_t *q, char *target,
                           size_t targetsz)
{
    if (!br_role_allows(c->user.role, BR_ACT_SUBJECT))
        return api_refuse(c, 403, what, "-", "only privacy officers handle subject requests"), -EPERM;
    if (api_body(c, what) < 0)
        return -EINVAL;
    return subject_query(c, what, q, target, targetsz);
}

int api_subject_export(api_call_t *c)
{
    br_subject_query_t q;
    br_cmd_env_t env;
    br_buf_t tar, err;
    char target[96];
    int rc;

    if (subject_request(c, "subject-export", &q, target, sizeof target) < 0)
        return 0;
    env_of(c, &env);
    br_buf_init(&tar);
    br_buf_init(&err);
    rc = br_subject_export(&env, &q, &tar, &err);
    if (rc != 0) {
        api_audit(c, "subject-export", target, BR_OUTCOME_FAILED, err.data ? (char *)err.data : "");
        api_error(c, 500, "the export failed");
    } else {
        br_buf_free(&c->resp->body);
        c->resp->body = tar;
        br_buf_init(&tar);
        c->resp->status = 200;
        br_strlcpy(c->resp->content_type, "application/x-tar", sizeof c->resp->content_type);
        br_http_resp_header(c->resp, "Content-Disposition", "attachment; filename=\"subject.tar\"");
        br_buf_put_u8(&err, 0);
        api_audit(c, "subject-export", target, BR_OUTCOME_OK, (char *)err.data);
    }
    br_buf_free(&tar);
    br_buf_free(&err);
    return 0;
}

/* "ID<TAB>outcome" lines of br_subject_erase as [{id, result}]. */
/* The erasure's lines as JSON: "ID<TAB>result" for recordings, "consent ID<TAB>result" for
 * the person's answers at the consent announcement. */
static json_t *erase_results(const br_buf_t *out)
{
    json_t *a = json_array();
    const char *p = out->data ? (const char *)out->data : "";
    while (*p) {
        size_t n = strcspn(p, "\n"), skip = strncmp(p, "consent ", 8) == 0 ? 8 : 0;
        const char *tab = memchr(p, '\t', n);
        if (tab && (size_t)(tab - p) == skip + BR_ID_LEN)
            json_array_append_new(a, json_pack("{s:s%,s:s%,s:s}", "id", p + skip, (size_t)BR_ID_LEN,
                                               "result", tab + 1, n - skip - BR_ID_LEN - 1, "kind",
                                               skip ? "consent" : "recording"));
        p += n + (p[n] == '\n');
    }
    return a;
}

int api_subject_erase(api_call_t *c)
{
    br_subject_query_t q;
    br_cmd_env_t env;
    br_buf_t out, err;
    const char *reason = NULL, *what;
    char target[96];
    int preview, rc;

    if (subject_request(c, "subject-erase", &q, target, sizeof target) < 0)
        return 0;
    /* A preview (the console shows it before the officer confirms) erases nothing. */
    preview = json_is_true(json_object_get(c->body, "preview"));
    what = preview ? "subject-preview" : "subject-erase";
    if (!preview) {
        reason = api_str(c, "reason");
        if (!reason || !reason[0] || strlen(reason) > 200)
            return api_refuse(c, 400, what, target, "a reason (1 to 200 characters) is required");
    }
    env_of(c, &env);
    br_buf_init(&out);
    br_buf_init(&err);
    rc = br_subject_erase(&env, &q, reason, &out, &err);
    br_buf_put_u8(&out, 0);
    api_audit(c, what, target, rc == 0 ? BR_OUTCOME_OK : BR_OUTCOME_FAILED, preview ? "preview" : reason);
    api_json(c, rc == 0 ? 200 : 500,
             json_pack("{s:o,s:b,s:b}", "results", erase_results(&out), "complete", rc == 0, "preview",
                       preview));
    br_buf_free(&out);
    br_buf_free(&err);
    return 0;
}

struct audit_ctx {
    int64_t from, to;
    int json;
    json_t *rows;
    br_buf_t *csv;
    size_t n;
};

static int audit_one(const br_ledger_entry_t *e, void *ctx)
{
    struct audit_ctx *a = ctx;
    char when[32];

    if (e->time_us < a->from || e->time_us >= a->to)
        return 0;
    a->n++;
    if (!a->json) {
        br_cmd_audit_csv_row(a->csv, e);
        return 0;
    }
    br_format_time(e->time_us, when, sizeof when);
    json_array_append_new(a->rows, json_pack("{s:I,s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:o}", "seq",
                                             (json_int_t)e->seq, "time", when, "type",
                                             br_ledger_type_name(e->type), "actor", api_jstr(e->actor),
                                             "action", api_jstr(e->action), "target", api_jstr(e->target),
                                             "source", api_jstr(e->source), "outcome",
                                             br_outcome_name(e->outcome), "detail", api_jstr(e->detail)));
    return 0;
}

int api_audit_trail(api_call_t *c)
{
    const char *from = br_http_query(c->req, "from"), *to = br_http_query(c->req, "to");
    const char *format = br_http_query(c->req, "format");
    struct audit_ctx a = { INT64_MIN, INT64_MAX, 0, NULL, &c->resp->body, 0 };
    char detail[64];
    int rc;

    if (!br_role_allows(c->user.role, BR_ACT_AUDIT))
        return api_refuse(c, 403, "audit", "-", "only auditors read the audit trail");
    if ((from && br_parse_time(from, &a.from) < 0) || (to && br_parse_time(to, &a.to) < 0))
        return api_refuse(c, 400, "audit", "-", "from and to are YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
    if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
        return api_refuse(c, 400, "audit", "-", "format is csv or json");
    a.json = format && strcmp(format, "json") == 0;
    a.rows = a.json ? json_array() : NULL;
    br_buf_reset(&c->resp->body);
    if (!a.json)
        br_buf_printf(&c->resp->body, "seq,time,type,actor,action,target,source,outcome,detail\r\n");
    rc = br_ledger_each(c->api->st, 0, audit_one, &a);
    snprintf(detail, sizeof detail, "%zu entries%s", a.n, rc < 0 ? " (ledger unreadable)" : "");
    api_audit(c, "audit", "-", rc < 0 ? BR_OUTCOME_FAILED : BR_OUTCOME_OK, detail);
    if (rc < 0) {
        json_decref(a.rows);
        return api_error(c, 500, br_strerror(rc)), 0;
    }
    if (a.json) {
        api_json(c, 200, json_pack("{s:o}", "entries", a.rows));
    } else {
        c->resp->status = 200;
        br_strlcpy(c->resp->content_type, "text/csv; charset=utf-8", sizeof c->resp->content_type);
    }
    return 0;
}

int api_verify(api_call_t *c)
{
    br_cmd_env_t env;
    br_buf_t out, err;
    char *argv[] = { "verify", NULL };
    int status;

    if (!br_role_allows(c->user.role, BR_ACT_VERIFY))
        return api_refuse(c, 403, "verify", "-", "only auditors verify the store");
    env_of(c, &env);
    br_buf_init(&out);
    br_buf_init(&err);
    status = br_cmd_verify(&env, 1, argv, &out, &err);
    br_buf_put_u8(&out, 0);
    br_buf_put_u8(&err, 0);
    api_audit(c, "verify", "-", status == 0 ? BR_OUTCOME_OK : BR_OUTCOME_FAILED,
              status == 0 ? "all chains and the ledger verify" : "verification failed");
    api_json(c, 200, json_pack("{s:b,s:o,s:o}", "ok", status == 0, "report", api_jstr((char *)out.data),
                               "messages", api_jstr((char *)err.data)));
    br_buf_free(&out);
    br_buf_free(&err);
    return 0;
}

static int user_row(const br_user_t *u, void *ctx)
{
    json_array_append_new(ctx, api_user_json(u));
    return 0;
}

int api_users(api_call_t *c)
{
    json_t *list;
    int rc;

    if (!br_role_allows(c->user.role, BR_ACT_USERS))
        return api_refuse(c, 403, "users", "-", "only administrators manage users");
    list = json_array();
    rc = br_user_each(c->api->st, user_row, list);
    if (rc < 0) {
        json_decref(list);
        return api_error(c, 500, br_strerror(rc)), 0;
    }
    api_audit(c, "users", "-", BR_OUTCOME_OK, "listed");
    api_json(c, 200, json_pack("{s:o}", "users", list));
    return 0;
}
