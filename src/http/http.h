/*
 * The daemon's HTTP(S) server: libmicrohttpd driven by the libuv loop in the
 * loop's thread (its epoll descriptor watched by a uv_poll_t, its timeout by
 * a uv_timer_t). Only this module includes <microhttpd.h>; handlers see
 * plain request/response structs.
 *
 * Two kinds of routes. A loop route's handler runs on the loop and may use
 * the session layer directly (the phone service); it takes GET and HEAD
 * only. A work route's handler runs on libuv's thread pool, for work that
 * would stall the loop (Argon2 hashing, decrypting audio, building archives):
 * the connection is suspended meanwhile, and the request the handler sees is
 * a copy (headers, arguments, body), so it touches nothing MHD owns. Work
 * routes take GET, HEAD, POST and DELETE with a body of at most
 * BR_HTTP_MAX_BODY bytes (413 beyond, without reading the rest).
 */
#ifndef BR_HTTP_H
#define BR_HTTP_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "common/buf.h"

#define BR_HTTP_MAX_BODY 65536
#define BR_HTTP_MAX_HEADERS 8

typedef struct br_http br_http_t;
typedef struct br_http_req br_http_req_t;

typedef struct br_http_resp {
    int status;
    char content_type[64];
    br_buf_t body;
    int nheaders; /* extra response headers */
    struct {
        char name[32];
        char value[256];
    } headers[BR_HTTP_MAX_HEADERS];
} br_http_resp_t;

/* Adds a response header; -ENOSPC when there are too many or it is too long. */
int br_http_resp_header(br_http_resp_t *r, const char *name, const char *value);

/* Fills resp; returns 0. Runs on the loop thread (loop routes) or a pool thread (work routes). */
typedef int (*br_http_handler)(void *ctx, br_http_req_t *req, br_http_resp_t *resp);

const char *br_http_method(const br_http_req_t *req);
const char *br_http_path(const br_http_req_t *req);
/* A query-string argument (decoded), or NULL. */
const char *br_http_query(const br_http_req_t *req, const char *name);
/* A request header (name compared without case), or NULL. */
const char *br_http_header(const br_http_req_t *req, const char *name);
/* A cookie's value from the Cookie header, copied into out; -ENOENT when absent. */
int br_http_cookie(const br_http_req_t *req, const char *name, char *out, size_t outsz);
/* The request body (work routes), NUL-terminated; NULL with *len 0 when there is none. */
const char *br_http_body(const br_http_req_t *req, size_t *len);
int br_http_is_tls(const br_http_req_t *req);
const struct sockaddr *br_http_peer(const br_http_req_t *req);
/* The peer as "addr:port" for logs and audit events. */
void br_http_peer_str(const br_http_req_t *req, char *out, size_t outsz);
/* The peer's address alone. */
void br_http_peer_host(const br_http_req_t *req, char *out, size_t outsz);

/* Parses a Range header (RFC 9110 §14.1.2) against a representation of total bytes: one
 * "bytes=a-b", "bytes=a-" or "bytes=-n". Returns 0 with [*first, *last] (inclusive) for a
 * satisfiable range, -ERANGE when unsatisfiable (416), -EINVAL when it is not a single byte range
 * we understand (the server then ignores it and sends everything, as §14.2 allows). */
int br_http_range_parse(const char *hdr, uint64_t total, uint64_t *first, uint64_t *last);

/* A request made in memory rather than read from the network, for tests and fuzzers that drive
 * a handler directly: query is "a=1&b=2" (taken as it is, not percent-decoded), headers are
 * "Name: value" lines separated by '\n' (a Cookie header is split into cookies), the peer is
 * 127.0.0.1:1. Free with br_http_req_local_free. */
br_http_req_t *br_http_req_local(const char *method, const char *path, const char *query,
                                 const char *headers, const void *body, size_t len);
void br_http_req_local_free(br_http_req_t *req);

typedef struct br_http_opts {
    const char *address;
    unsigned port;
    const char *tls_cert; /* PEM files; both NULL: plain HTTP */
    const char *tls_key;
} br_http_opts_t;

int br_http_start(br_http_t **out, uv_loop_t *loop, const br_http_opts_t *opts);
/* Routes requests whose path equals path or starts with path + "/". */
int br_http_route(br_http_t *h, const char *path, br_http_handler fn, void *ctx);
int br_http_route_work(br_http_t *h, const char *path, br_http_handler fn, void *ctx);
/* Stops listening; cb runs when the handles are closed (then br_http_free). */
void br_http_stop(br_http_t *h, void (*cb)(void *ctx), void *ctx);
void br_http_free(br_http_t *h);

#endif
