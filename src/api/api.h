/*
 * The JSON API under /api/v1 (docs/api.md): login and sessions, search,
 * metadata, audio with HTTP Range, export, erasure, legal hold, private
 * marks, the data subject's requests, the audit trail and verification.
 * Its handler runs on libuv's thread pool (a br_http work route): Argon2id
 * hashing and decryption never stall the event loop. Every request is
 * checked by role on the server (src/access/roles.h), and every refused
 * request and every action taken is an audit event in the ledger naming the
 * user, the recordings and the outcome. Only this module includes jansson.
 */
#ifndef BR_API_H
#define BR_API_H

#include "config/settings.h"
#include "crypto/sign.h"
#include "http/http.h"
#include "sql-free-store/store.h"

typedef struct br_api br_api_t;

/* cfg, st and signer must outlive the API. signer may be NULL (verify then checks roots only). */
int br_api_new(br_api_t **out, br_store_t *st, const br_config_t *cfg, br_signer_t *signer);
void br_api_free(br_api_t *api);
/* The handler for /api/v1 (route it with br_http_route_work); ctx is the br_api_t. */
int br_api_handle(void *ctx, br_http_req_t *req, br_http_resp_t *resp);

#endif
