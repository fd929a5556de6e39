/*
 * The daemon's HTTP(S) server: libmicrohttpd driven by the libuv loop in the
 * loop's thread (its epoll descriptor watched by a uv_poll_t, its timeout by
 * a uv_timer_t), so handlers run on the loop and may use the session layer
 * directly. Only this module includes <microhttpd.h>; handlers see plain
 * request/response structs.
 */
#ifndef BR_HTTP_H
#define BR_HTTP_H

#include <sys/socket.h>
#include <uv.h>

#include "common/buf.h"

typedef struct br_http br_http_t;
typedef struct br_http_req br_http_req_t;

typedef struct br_http_resp {
    int status;
    char content_type[64];
    br_buf_t body;
} br_http_resp_t;

/* Fills resp; returns 0. Runs on the loop thread. */
typedef int (*br_http_handler)(void *ctx, br_http_req_t *req, br_http_resp_t *resp);

const char *br_http_method(const br_http_req_t *req);
const char *br_http_path(const br_http_req_t *req);
/* A query-string argument (decoded), or NULL. */
const char *br_http_query(const br_http_req_t *req, const char *name);
const char *br_http_header(const br_http_req_t *req, const char *name);
const struct sockaddr *br_http_peer(const br_http_req_t *req);
/* The peer as "addr:port" for logs and audit events. */
void br_http_peer_str(const br_http_req_t *req, char *out, size_t outsz);

typedef struct br_http_opts {
    const char *address;
    unsigned port;
    const char *tls_cert; /* PEM files; both NULL: plain HTTP */
    const char *tls_key;
} br_http_opts_t;

int br_http_start(br_http_t **out, uv_loop_t *loop, const br_http_opts_t *opts);
/* Routes requests whose path equals path or starts with path + "/". */
int br_http_route(br_http_t *h, const char *path, br_http_handler fn, void *ctx);
/* Stops listening; cb runs when the handles are closed (then br_http_free). */
void br_http_stop(br_http_t *h, void (*cb)(void *ctx), void *ctx);
void br_http_free(br_http_t *h);

#endif
