/*
 * What the API's files share: one request's context and the helpers every
 * endpoint uses to answer, refuse and audit.
 */
#ifndef BR_API_INT_H
#define BR_API_INT_H

#include <jansson.h>

#include "access/ratelimit.h"
#include "access/roles.h"
#include "access/tokens.h"
#include "access/users.h"
#include "api.h"

struct br_api {
    br_store_t *st;
    const br_config_t *cfg;
    br_signer_t *signer;
    br_tokens_t *tokens;
    br_ratelimit_t *rl;
    char dummy_hash[BR_PW_HASH_MAX]; /* verified against for unknown users: same time taken */
};

typedef struct api_call {
    br_api_t *api;
    br_http_req_t *req;
    br_http_resp_t *resp;
    int authed;
    br_user_t user;
    char token[BR_TOKEN_HEX];
    char peer[80]; /* addr:port, the audit events' source */
    json_t *body;  /* the request's JSON object, once api_body() parsed it */
} api_call_t;

/* Answers with j (taken over) as JSON. */
void api_json(api_call_t *c, int status, json_t *j);
/* A JSON string of s, with bytes that are not UTF-8 replaced, never NULL. */
json_t *api_jstr(const char *s);
/* Answers {"error": msg}. */
void api_error(api_call_t *c, int status, const char *msg);
/* An audit event: actor the user (or "anonymous"), action "api-<what>". */
void api_audit(api_call_t *c, const char *what, const char *target, int outcome, const char *detail);
/* Audits a refusal, logs it, and answers status with msg. Returns 0. */
int api_refuse(api_call_t *c, int status, const char *what, const char *target, const char *msg);
/* Parses the body as a JSON object into c->body; on failure answers 400 and returns < 0. */
int api_body(api_call_t *c, const char *what);
/* A string member of the body, or NULL. */
const char *api_str(api_call_t *c, const char *key);
/* Whether id is a well-formed recording id; answers 400 (audited) when not. */
int api_check_id(api_call_t *c, const char *what, const char *id);

/* A user as JSON (no hash). */
json_t *api_user_json(const br_user_t *u);

/* Endpoints (api_recordings.c, api_privacy.c). */
int api_recordings(api_call_t *c);
int api_recording(api_call_t *c, const char *id);
int api_audio(api_call_t *c, const char *id);
int api_export(api_call_t *c);
int api_delete(api_call_t *c, const char *id);
int api_hold(api_call_t *c, const char *id);
int api_unhold(api_call_t *c, const char *id);
int api_private(api_call_t *c, const char *id);
int api_subject_export(api_call_t *c);
int api_subject_erase(api_call_t *c);
int api_audit_trail(api_call_t *c);
int api_verify(api_call_t *c);
int api_users(api_call_t *c);
int api_checkpoint(api_call_t *c); /* api_console.c */
int api_policy(api_call_t *c);

#endif
