/*
 * The API's front: routing, authentication (session token from the
 * bibrec_session cookie or an Authorization: Bearer header), the CSRF check
 * for cookie-authenticated changes (double submit: X-CSRF-Token must equal
 * the token given at login), login with throttling, logout, the user's own
 * account; and the helpers the endpoint files share.
 */
#include "api_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define SESSION_IDLE_US (30LL * 60 * 1000000)
#define SESSION_MAX_US (8LL * 3600 * 1000000)
#define MAX_SESSIONS 1024
#define FREE_FAILURES 5
#define BACKOFF_BASE_US 1000000LL
#define BACKOFF_MAX_US (15LL * 60 * 1000000)

/* ---- helpers ----------------------------------------------------------------------------- */

void api_json(api_call_t *c, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    br_buf_reset(&c->resp->body);
    c->resp->status = text ? status : 500;
    br_strlcpy(c->resp->content_type, "application/json", sizeof c->resp->content_type);
    if (text)
        br_buf_printf(&c->resp->body, "%s\n", text);
    else
        br_buf_printf(&c->resp->body, "{\"error\":\"out of memory\"}\n");
    free(text);
    json_decref(j);
}

json_t *api_jstr(const char *s)
{
    json_t *j = json_string(s);
    char *copy;

    if (j)
        return j;
    /* Not UTF-8 (a device name from a SIP header, say): bytes beyond ASCII become '?'. */
    copy = strdup(s);
    if (!copy)
        return json_null();
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j ? j : json_null();
}

void api_error(api_call_t *c, int status, const char *msg)
{
    api_json(c, status, json_pack("{s:o}", "error", api_jstr(msg)));
}

void api_audit(api_call_t *c, const char *what, const char *target, int outcome, const char *detail)
{
    char action[32];
    snprintf(action, sizeof action, "api-%s", what);
    if (br_store_audit(c->api->st, c->authed ? c->user.name : "anonymous", action,
                       target && *target ? target : "-", c->peer, (uint8_t)outcome,
                       detail ? detail : "") < 0)
        br_err("api: the audit event for %s could not be written", action);
}

int api_refuse(api_call_t *c, int status, const char *what, const char *target, const char *msg)
{
    char detail[256];
    snprintf(detail, sizeof detail, "%d %s", status, msg);
    br_warn("api: %s %s by %s from %s refused: %s", what, target && *target ? target : "-",
            c->authed ? c->user.name : "anonymous", c->peer, msg);
    api_audit(c, what, target, BR_OUTCOME_REFUSED, detail);
    api_error(c, status, msg);
    return 0;
}

int api_body(api_call_t *c, const char *what)
{
    json_error_t e;
    size_t len;
    const char *text = br_http_body(c->req, &len);
    char msg[200];

    if (!text) {
        api_refuse(c, 400, what, "-", "a JSON object is required as the request body");
        return -EINVAL;
    }
    c->body = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    if (!c->body || !json_is_object(c->body)) {
        snprintf(msg, sizeof msg, "malformed JSON body (line %d, column %d: %s)", e.line, e.column,
                 c->body ? "not an object" : e.text);
        json_decref(c->body);
        c->body = NULL;
        api_refuse(c, 400, what, "-", msg);
        return -EINVAL;
    }
    return 0;
}

const char *api_str(api_call_t *c, const char *key)
{
    json_t *v = c->body ? json_object_get(c->body, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int api_check_id(api_call_t *c, const char *what, const char *id)
{
    size_t n = strlen(id);
    if (n == BR_ID_LEN && strspn(id, "0123456789abcdef") == n)
        return 1;
    api_refuse(c, 400, what, "-", "malformed recording id");
    return 0;
}

/* ---- authentication ----------------------------------------------------------------------- */

/* Compares without an early exit, so the time taken says nothing about the CSRF token. */
static int same_secret(const char *a, const char *b)
{
    size_t n = strlen(b);
    unsigned char d = 0;
    if (!a || strlen(a) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static int changes_state(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* Fills c->user from the request's token; answers 401/403 and returns < 0 when it cannot. */
static int authenticate(api_call_t *c, const char *what)
{
    const char *auth = br_http_header(c->req, "Authorization");
    br_token_info_t info;
    int bearer = auth && strncmp(auth, "Bearer ", 7) == 0, rc;

    if (bearer)
        rc = br_strlcpy(c->token, auth + 7, sizeof c->token);
    else
        rc = br_http_cookie(c->req, "bibrec_session", c->token, sizeof c->token);
    /* RFC 6750 §3: a 401 names the scheme; a browser shows no password dialog for Bearer. */
    br_http_resp_header(c->resp, "WWW-Authenticate", "Bearer realm=\"bibrec\"");
    if (rc < 0)
        return api_refuse(c, 401, what, "-", "log in first (POST /api/v1/login)"), -EACCES;
    rc = br_tokens_check(c->api->tokens, c->token, br_mono_us(), &info);
    if (rc < 0)
        return api_refuse(c, 401, what, "-", rc == -ETIMEDOUT ? "session expired" : "unknown session"),
               -EACCES;
    rc = br_user_get(c->api->st, info.user, &c->user);
    c->authed = rc == 0;
    if (rc < 0 || (c->user.flags & BR_USER_DISABLED) || info.created_us < c->user.password_us) {
        br_tokens_revoke(c->api->tokens, c->token);
        br_strlcpy(c->user.name, info.user, sizeof c->user.name);
        c->authed = 1;
        return api_refuse(c, 401, what, "-", "the account was disabled or its password changed"),
               -EACCES;
    }
    c->resp->nheaders = 0; /* authenticated: no challenge */
    if (!bearer && changes_state(br_http_method(c->req)) &&
        !same_secret(br_http_header(c->req, "X-CSRF-Token"), info.csrf))
        return api_refuse(c, 403, what, "-", "missing or wrong X-CSRF-Token header"), -EACCES;
    return 0;
}

/* ---- login, logout, the account ----------------------------------------------------------- */

static void cookie(api_call_t *c, const char *value, long max_age)
{
    char v[256];
    snprintf(v, sizeof v, "bibrec_session=%s; Path=/api/; Max-Age=%ld; HttpOnly; SameSite=Strict%s",
             value, max_age, br_http_is_tls(c->req) ? "; Secure" : "");
    br_http_resp_header(c->resp, "Set-Cookie", v);
}

/* 0 when neither the user nor the address must wait; else answers 429. */
static int throttled(api_call_t *c, const char *ukey, const char *akey, const char *name)
{
    int64_t now = br_mono_us(), w1 = br_ratelimit_wait(c->api->rl, ukey, now),
            w2 = br_ratelimit_wait(c->api->rl, akey, now), w = w1 > w2 ? w1 : w2;
    char secs[24];

    if (w <= 0)
        return 0;
    snprintf(secs, sizeof secs, "%lld", (long long)((w + 999999) / 1000000));
    br_http_resp_header(c->resp, "Retry-After", secs);
    api_refuse(c, 429, "login", name, "too many failed logins: wait before trying again");
    return 1;
}

static int login(api_call_t *c)
{
    const char *name, *pw;
    char host[64], ukey[96], akey[96], token[BR_TOKEN_HEX], csrf[BR_TOKEN_HEX];
    br_user_t u;
    int found, ok;

    if (api_body(c, "login") < 0)
        return 0;
    name = api_str(c, "user");
    pw = api_str(c, "password");
    if (!name || !pw || !br_user_valid_name(name))
        return api_refuse(c, 400, "login", "-", "give \"user\" and \"password\" as strings");
    br_http_peer_host(c->req, host, sizeof host);
    snprintf(ukey, sizeof ukey, "user:%s", name);
    snprintf(akey, sizeof akey, "addr:%s", host);
    if (throttled(c, ukey, akey, name))
        return 0;
    found = br_user_get(c->api->st, name, &u) == 0;
    ok = br_password_verify(found ? u.hash : c->api->dummy_hash, pw) == 0 && found &&
         !(u.flags & BR_USER_DISABLED);
    if (!ok) {
        br_ratelimit_fail(c->api->rl, ukey, br_mono_us());
        br_ratelimit_fail(c->api->rl, akey, br_mono_us());
        return api_refuse(c, 401, "login", name, "wrong user name or password");
    }
    br_ratelimit_reset(c->api->rl, ukey);
    br_ratelimit_reset(c->api->rl, akey);
    if (br_tokens_create(c->api->tokens, name, br_mono_us(), br_now_us(), token, csrf) < 0)
        return api_error(c, 500, "no session could be made"), 0;
    c->user = u;
    c->authed = 1;
    cookie(c, token, (long)(SESSION_MAX_US / 1000000));
    api_audit(c, "login", name, BR_OUTCOME_OK, br_role_name(u.role));
    api_json(c, 200,
             json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:b}", "token", token, "csrf_token", csrf, "user",
                       name, "role", br_role_name(u.role), "expires_in_s",
                       (json_int_t)(SESSION_MAX_US / 1000000), "idle_timeout_s",
                       (json_int_t)(SESSION_IDLE_US / 1000000), "password_change_required",
                       (u.flags & BR_USER_MUST_CHANGE) != 0));
    explicit_bzero(token, sizeof token);
    return 0;
}

static int logout(api_call_t *c)
{
    br_tokens_revoke(c->api->tokens, c->token);
    cookie(c, "", 0);
    api_audit(c, "logout", c->user.name, BR_OUTCOME_OK, "");
    api_json(c, 200, json_pack("{s:b}", "logged_out", 1));
    return 0;
}

static json_t *string_array(const char (*items)[BR_USER_ITEM], int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, api_jstr(items[i]));
    return a;
}

json_t *api_user_json(const br_user_t *u)
{
    return json_pack("{s:o,s:s,s:o,s:o,s:b,s:b}", "user", api_jstr(u->name), "role", br_role_name(u->role),
                     "groups", string_array(u->groups, u->ngroups), "dns",
                     string_array(u->dns, u->ndns), "disabled", (u->flags & BR_USER_DISABLED) != 0,
                     "password_change_required", (u->flags & BR_USER_MUST_CHANGE) != 0);
}

static int me(api_call_t *c)
{
    api_json(c, 200, api_user_json(&c->user));
    return 0;
}

/* Every session of the user ends (the password time moved): log in again. */
static int change_password(api_call_t *c)
{
    const char *old, *pw;
    int rc;

    if (api_body(c, "password") < 0)
        return 0;
    old = api_str(c, "old_password");
    pw = api_str(c, "new_password");
    if (!old || !pw)
        return api_refuse(c, 400, "password", c->user.name, "give \"old_password\" and \"new_password\"");
    if (br_password_verify(c->user.hash, old) < 0)
        return api_refuse(c, 403, "password", c->user.name, "the old password is wrong");
    if (!br_password_acceptable(pw) || strcmp(old, pw) == 0)
        return api_refuse(c, 400, "password", c->user.name,
                          "a new password has 12 to 256 characters and differs from the old one");
    rc = br_user_set_password(&c->user, pw, 0);
    if (rc == 0)
        rc = br_user_put(c->api->st, &c->user);
    if (rc < 0)
        return api_error(c, 500, br_strerror(rc)), 0;
    br_tokens_revoke(c->api->tokens, c->token);
    cookie(c, "", 0);
    api_audit(c, "password", c->user.name, BR_OUTCOME_OK, "changed; sessions ended");
    api_json(c, 200, json_pack("{s:b}", "changed", 1));
    return 0;
}

/* ---- routing ----------------------------------------------------------------------------- */

enum { NO_AUTH = 0, AUTH = 1, AUTH_BEFORE_CHANGE = 2 /* allowed while a password change is due */ };

static const struct endpoint {
    const char *method;
    const char *pattern; /* ":id" matches one path segment */
    const char *what;    /* its name in audit events */
    int auth;
    int (*fn)(api_call_t *c);
    int (*fn_id)(api_call_t *c, const char *id);
} endpoints[] = {
    { "POST", "/login", "login", NO_AUTH, login, NULL },
    { "POST", "/logout", "logout", AUTH_BEFORE_CHANGE, logout, NULL },
    { "GET", "/me", "me", AUTH_BEFORE_CHANGE, me, NULL },
    { "POST", "/password", "password", AUTH_BEFORE_CHANGE, change_password, NULL },
    { "GET", "/users", "users", AUTH, api_users, NULL },
    { "GET", "/recordings", "search", AUTH, api_recordings, NULL },
    { "GET", "/recordings/:id", "metadata", AUTH, NULL, api_recording },
    { "DELETE", "/recordings/:id", "delete", AUTH, NULL, api_delete },
    { "GET", "/recordings/:id/audio", "play", AUTH, NULL, api_audio },
    { "POST", "/recordings/:id/hold", "hold", AUTH, NULL, api_hold },
    { "POST", "/recordings/:id/unhold", "unhold", AUTH, NULL, api_unhold },
    { "POST", "/recordings/:id/private", "private", AUTH, NULL, api_private },
    { "POST", "/export", "export", AUTH, api_export, NULL },
    { "POST", "/subject/export", "subject-export", AUTH, api_subject_export, NULL },
    { "POST", "/subject/erase", "subject-erase", AUTH, api_subject_erase, NULL },
    { "GET", "/audit", "audit", AUTH, api_audit_trail, NULL },
    { "POST", "/verify", "verify", AUTH, api_verify, NULL },
    { "GET", "/checkpoint", "checkpoint", AUTH, api_checkpoint, NULL },
    { "GET", "/policy", "policy", AUTH, api_policy, NULL },
};

/* Whether path matches pattern; the :id segment is copied into id. */
static int match(const char *pattern, const char *path, char *id, size_t idsz)
{
    while (*pattern && *path) {
        if (strncmp(pattern, ":id", 3) == 0) {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= idsz)
                return n >= idsz ? -1 : 0;
            memcpy(id, path, n);
            id[n] = 0;
            pattern += 3;
            path += n;
            continue;
        }
        if (*pattern++ != *path++)
            return 0;
    }
    return *pattern == 0 && *path == 0;
}

static int same_method(const char *want, const char *got)
{
    return strcmp(want, got) == 0 || (strcmp(want, "GET") == 0 && strcmp(got, "HEAD") == 0);
}

static void dispatch(api_call_t *c, const char *sub)
{
    const char *method = br_http_method(c->req);
    char id[64];
    int path_known = 0;

    for (size_t i = 0; i < BR_ARRAY_SIZE(endpoints); i++) {
        const struct endpoint *e = &endpoints[i];
        int m = match(e->pattern, sub, id, sizeof id);
        if (m < 0) {
            api_refuse(c, 400, e->what, "-", "malformed recording id");
            return;
        }
        if (!m)
            continue;
        path_known = 1;
        if (!same_method(e->method, method))
            continue;
        if (e->auth && authenticate(c, e->what) < 0)
            return;
        if (e->auth == AUTH && (c->user.flags & BR_USER_MUST_CHANGE)) {
            api_refuse(c, 403, e->what, "-", "change your password first (POST /api/v1/password)");
            return;
        }
        if (e->fn_id && !api_check_id(c, e->what, id))
            return;
        if (e->fn)
            e->fn(c);
        else
            e->fn_id(c, id);
        return;
    }
    br_info("api: %s %s from %s: %s", method, sub, c->peer,
            path_known ? "method not allowed" : "no such endpoint");
    if (path_known) {
        br_http_resp_header(c->resp, "Allow", "GET, HEAD, POST, DELETE");
        api_error(c, 405, "method not allowed here");
    } else {
        api_error(c, 404, "no such endpoint");
    }
}

int br_api_handle(void *ctx, br_http_req_t *req, br_http_resp_t *resp)
{
    api_call_t c;
    const char *path = br_http_path(req);

    memset(&c, 0, sizeof c);
    c.api = ctx;
    c.req = req;
    c.resp = resp;
    br_http_peer_str(req, c.peer, sizeof c.peer);
    if (strncmp(path, "/api/v1", 7) != 0 || (path[7] != '/' && path[7] != 0))
        api_error(&c, 404, "no such endpoint");
    else
        dispatch(&c, path + 7);
    json_decref(c.body);
    explicit_bzero(&c.user, sizeof c.user);
    explicit_bzero(c.token, sizeof c.token);
    return 0;
}

int br_api_new(br_api_t **out, br_store_t *st, const br_config_t *cfg, br_signer_t *signer)
{
    br_api_t *a = calloc(1, sizeof *a);
    char pw[BR_PW_GENERATED + 1];
    int rc;

    *out = NULL;
    if (!a)
        return -ENOMEM;
    a->st = st;
    a->cfg = cfg;
    a->signer = signer;
    rc = br_tokens_new(&a->tokens, SESSION_IDLE_US, SESSION_MAX_US, MAX_SESSIONS);
    if (rc == 0)
        rc = br_ratelimit_new(&a->rl, FREE_FAILURES, BACKOFF_BASE_US, BACKOFF_MAX_US, 4096);
    if (rc == 0)
        rc = br_password_generate(pw, sizeof pw);
    if (rc == 0)
        rc = br_password_hash(pw, a->dummy_hash, sizeof a->dummy_hash);
    if (rc < 0) {
        br_api_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void br_api_free(br_api_t *a)
{
    if (!a)
        return;
    br_tokens_free(a->tokens);
    br_ratelimit_free(a->rl);
    free(a);
}
