/*
 * libmicrohttpd on libuv. MHD runs in "external select" mode with epoll:
 * MHD_run() does whatever is ready; we call it when MHD's epoll descriptor
 * is readable and when its timeout expires. Request bodies are not
 * accepted (the phone service and the console's reads are GETs); anything
 * else gets 405. Connections are limited in number and time so a slow or
 * hostile client cannot hold the server.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define MAX_ROUTES 16

struct br_http_req {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
};

struct route {
    char path[64];
    br_http_handler fn;
    void *ctx;
};

struct br_http {
    uv_loop_t *loop;
    struct MHD_Daemon *mhd;
    uv_poll_t poll;
    uv_timer_t timer;
    int open_handles;
    int nroutes;
    struct route routes[MAX_ROUTES];
    char *cert, *key; /* PEM contents; MHD keeps pointers to them */
    void (*stop_cb)(void *ctx);
    void *stop_ctx;
};

const char *br_http_method(const br_http_req_t *req)
{
    return req->method;
}

const char *br_http_path(const br_http_req_t *req)
{
    return req->path;
}

const char *br_http_query(const br_http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *br_http_header(const br_http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const struct sockaddr *br_http_peer(const br_http_req_t *req)
{
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return i ? i->client_addr : NULL;
}

void br_http_peer_str(const br_http_req_t *req, char *out, size_t outsz)
{
    const struct sockaddr *sa = br_http_peer(req);
    char host[64] = "?";
    unsigned port = 0;

    if (sa && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
        port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    } else if (sa && sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof host);
        port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    }
    snprintf(out, outsz, "%s:%u", host, port);
}

static enum MHD_Result respond(struct MHD_Connection *conn, br_http_resp_t *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        r->body.len, r->body.data ? r->body.data : (void *)"", MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (!resp)
        return MHD_NO;
    if (r->content_type[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    br_http_t *h = cls;
    br_http_req_t req = { conn, method, url };
    br_http_resp_t r;
    enum MHD_Result ret;
    const struct route *route = NULL;

    (void)version, (void)upload;
    if (!*con_cls) { /* first call: headers only */
        *con_cls = h;
        return MHD_YES;
    }
    memset(&r, 0, sizeof r);
    br_buf_init(&r.body);
    if (*upload_size) {
        *upload_size = 0; /* bodies are not accepted: the handler refuses below */
    }
    for (int i = 0; i < h->nroutes; i++) {
        size_t n = strlen(h->routes[i].path);
        if (strncmp(url, h->routes[i].path, n) == 0 && (url[n] == 0 || url[n] == '/'))
            route = &h->routes[i];
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        r.status = 405;
        br_strlcpy(r.content_type, "text/plain", sizeof r.content_type);
        br_buf_printf(&r.body, "method not allowed\n");
    } else if (!route) {
        r.status = 404;
        br_strlcpy(r.content_type, "text/plain", sizeof r.content_type);
        br_buf_printf(&r.body, "not found\n");
    } else {
        r.status = 200;
        route->fn(route->ctx, &req, &r);
    }
    if (r.body.failed) {
        br_buf_reset(&r.body);
        r.status = 500;
    }
    ret = respond(conn, &r);
    br_buf_free(&r.body);
    return ret;
}

static void drive(br_http_t *h);

static void poll_cb(uv_poll_t *p, int status, int events)
{
    (void)status, (void)events;
    drive(p->data);
}

static void timer_cb(uv_timer_t *t)
{
    drive(t->data);
}

static void drive(br_http_t *h)
{
    MHD_UNSIGNED_LONG_LONG ms;

    if (!h->mhd)
        return;
    MHD_run(h->mhd);
    if (uv_is_closing((uv_handle_t *)&h->timer))
        return;
    if (MHD_get_timeout(h->mhd, &ms) == MHD_YES)
        uv_timer_start(&h->timer, timer_cb, ms + 1, 0);
    else
        uv_timer_stop(&h->timer);
}

static char *read_pem(const char *path)
{
    char *buf;
    long n;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = n > 0 && n < 1 << 20 ? calloc(1, (size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

int br_http_start(br_http_t **out, uv_loop_t *loop, const br_http_opts_t *o)
{
    struct sockaddr_storage sa;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    br_http_t *h;
    int v6 = strchr(o->address, ':') != NULL;

    *out = NULL;
    memset(&sa, 0, sizeof sa);
    if ((v6 ? uv_ip6_addr(o->address, (int)o->port, (struct sockaddr_in6 *)&sa)
            : uv_ip4_addr(o->address, (int)o->port, (struct sockaddr_in *)&sa)) != 0)
        return -EINVAL;
    h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->loop = loop;
    if (v6)
        flags |= MHD_USE_IPv6;
    if (o->tls_cert && o->tls_key) {
        h->cert = read_pem(o->tls_cert);
        h->key = read_pem(o->tls_key);
        if (!h->cert || !h->key) {
            br_err("HTTPS certificate or key unreadable (%s, %s)", o->tls_cert, o->tls_key);
            br_http_free(h);
            return -EINVAL;
        }
        flags |= MHD_USE_TLS;
    }
    /* MHD refuses HTTPS options on a plain daemon: two calls. */
    if (flags & MHD_USE_TLS)
        h->mhd = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, access_cb, h,
                                  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                                  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)32,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)15,
                                  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
                                  MHD_OPTION_HTTPS_MEM_CERT, h->cert, MHD_OPTION_HTTPS_MEM_KEY,
                                  h->key, MHD_OPTION_END);
    else
        h->mhd = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, access_cb, h,
                                  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                                  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)32,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)15,
                                  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
                                  MHD_OPTION_END);
    if (!h->mhd) {
        br_http_free(h);
        return -EADDRINUSE;
    }
    info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info) {
        br_http_free(h);
        return -ENOTSUP;
    }
    uv_poll_init(loop, &h->poll, info->epoll_fd);
    uv_timer_init(loop, &h->timer);
    h->poll.data = h->timer.data = h;
    h->open_handles = 2;
    uv_poll_start(&h->poll, UV_READABLE, poll_cb);
    *out = h;
    return 0;
}

int br_http_route(br_http_t *h, const char *path, br_http_handler fn, void *ctx)
{
    if (h->nroutes == MAX_ROUTES)
        return -ENOSPC;
    br_strlcpy(h->routes[h->nroutes].path, path, sizeof h->routes[0].path);
    h->routes[h->nroutes].fn = fn;
    h->routes[h->nroutes].ctx = ctx;
    h->nroutes++;
    return 0;
}

static void closed_cb(uv_handle_t *hd)
{
    br_http_t *h = hd->data;
    if (--h->open_handles == 0 && h->stop_cb)
        h->stop_cb(h->stop_ctx);
}

void br_http_stop(br_http_t *h, void (*cb)(void *ctx), void *ctx)
{
    h->stop_cb = cb;
    h->stop_ctx = ctx;
    uv_close((uv_handle_t *)&h->poll, closed_cb);
    uv_close((uv_handle_t *)&h->timer, closed_cb);
}

void br_http_free(br_http_t *h)
{
    if (!h)
        return;
    if (h->mhd)
        MHD_stop_daemon(h->mhd);
    free(h->cert);
    free(h->key);
    free(h);
}
