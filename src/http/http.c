/*
 * libmicrohttpd on libuv. MHD runs in "external select" mode with epoll:
 * MHD_run() does whatever is ready; we call it when MHD's epoll descriptor
 * is readable and when its timeout expires. A request's state lives in a
 * br_http_req_t made at its first callback and freed when MHD reports it
 * complete. Work routes suspend the connection (MHD_suspend_connection),
 * run their handler on the thread pool, and resume it from the loop; MHD
 * then calls us once more and we queue the response. Connections are
 * limited in number, time and body size so a slow or hostile client cannot
 * hold the server.
 */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define MAX_ROUTES 16
#define MAX_FIELDS 64

enum field_kind { F_HEADER, F_ARG, F_COOKIE };
enum req_state { ST_NEW, ST_BODY, ST_WORKING, ST_DONE, ST_RESPONDED };

struct route {
    char path[64];
    br_http_handler fn;
    void *ctx;
    int work; /* runs on the thread pool */
};

struct br_http_req {
    br_http_t *h;
    struct MHD_Connection *conn;
    const struct route *route;
    char method[8];
    char *path;
    int state;
    int nfields;
    struct {
        int kind;
        char *name, *value;
    } fields[MAX_FIELDS];
    br_buf_t body;
    size_t dropped; /* body bytes beyond the limit, discarded */
    struct sockaddr_storage peer;
    br_http_resp_t resp;
    uv_work_t work;
};

struct br_http {
    uv_loop_t *loop;
    struct MHD_Daemon *mhd;
    uv_poll_t poll;
    uv_timer_t timer;
    int open_handles;
    int tls;
    int nroutes;
    struct route routes[MAX_ROUTES];
    char *cert, *key; /* PEM contents; MHD keeps pointers to them */
    void (*stop_cb)(void *ctx);
    void *stop_ctx;
};

static void drive(br_http_t *h);

int br_http_resp_header(br_http_resp_t *r, const char *name, const char *value)
{
    if (r->nheaders == BR_HTTP_MAX_HEADERS || strlen(name) >= sizeof r->headers[0].name ||
        strlen(value) >= sizeof r->headers[0].value)
        return -ENOSPC;
    br_strlcpy(r->headers[r->nheaders].name, name, sizeof r->headers[0].name);
    br_strlcpy(r->headers[r->nheaders].value, value, sizeof r->headers[0].value);
    r->nheaders++;
    return 0;
}

const char *br_http_method(const br_http_req_t *req)
{
    return req->method;
}

const char *br_http_path(const br_http_req_t *req)
{
    return req->path;
}

static const char *field(const br_http_req_t *req, int kind, const char *name)
{
    for (int i = 0; i < req->nfields; i++)
        if (req->fields[i].kind == kind &&
            (kind == F_HEADER ? strcasecmp(req->fields[i].name, name) == 0
                              : strcmp(req->fields[i].name, name) == 0))
            return req->fields[i].value;
    return NULL;
}

const char *br_http_query(const br_http_req_t *req, const char *name)
{
    return field(req, F_ARG, name);
}

const char *br_http_header(const br_http_req_t *req, const char *name)
{
    return field(req, F_HEADER, name);
}

int br_http_cookie(const br_http_req_t *req, const char *name, char *out, size_t outsz)
{
    const char *v = field(req, F_COOKIE, name);
    if (!v)
        return -ENOENT;
    return br_strlcpy(out, v, outsz) < 0 ? -ENOENT : 0;
}

const char *br_http_body(const br_http_req_t *req, size_t *len)
{
    *len = req->body.len;
    return req->body.len ? (const char *)req->body.data : NULL;
}

int br_http_is_tls(const br_http_req_t *req)
{
    return req->h && req->h->tls;
}

const struct sockaddr *br_http_peer(const br_http_req_t *req)
{
    return req->peer.ss_family ? (const struct sockaddr *)&req->peer : NULL;
}

void br_http_peer_host(const br_http_req_t *req, char *out, size_t outsz)
{
    const struct sockaddr *sa = br_http_peer(req);
    br_strlcpy(out, "?", outsz);
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outsz);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outsz);
}

void br_http_peer_str(const br_http_req_t *req, char *out, size_t outsz)
{
    const struct sockaddr *sa = br_http_peer(req);
    char host[64];
    unsigned port = 0;

    br_http_peer_host(req, host, sizeof host);
    if (sa && sa->sa_family == AF_INET)
        port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    else if (sa && sa->sa_family == AF_INET6)
        port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    snprintf(out, outsz, "%s:%u", host, port);
}

/* Digits only: strtoull alone would take spaces and signs. */
static int parse_pos(const char *p, const char **end, uint64_t *v)
{
    uint64_t n = 0;
    const char *s = p;
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    for (; isdigit((unsigned char)*s); s++) {
        if (n > (UINT64_MAX - 9) / 10)
            n = UINT64_MAX; /* saturate: too big is unsatisfiable, not malformed */
        else
            n = n * 10 + (uint64_t)(*s - '0');
    }
    *end = s;
    *v = n;
    return 0;
}

int br_http_range_parse(const char *hdr, uint64_t total, uint64_t *first, uint64_t *last)
{
    const char *p, *end;
    uint64_t a, b;

    if (!hdr || strncasecmp(hdr, "bytes=", 6) != 0 || strchr(hdr, ','))
        return -EINVAL;
    p = hdr + 6;
    if (*p == '-') { /* the last n bytes */
        if (parse_pos(p + 1, &end, &b) < 0 || *end)
            return -EINVAL;
        if (b == 0 || total == 0)
            return -ERANGE;
        *first = b >= total ? 0 : total - b;
        *last = total - 1;
        return 0;
    }
    if (parse_pos(p, &end, &a) < 0 || *end != '-')
        return -EINVAL;
    p = end + 1;
    if (*p == 0) {
        b = UINT64_MAX;
    } else if (parse_pos(p, &end, &b) < 0 || *end || b < a) {
        return -EINVAL;
    }
    if (a >= total)
        return -ERANGE;
    *first = a;
    *last = b >= total ? total - 1 : b;
    return 0;
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
    for (int i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result respond_text(br_http_req_t *req, int status, const char *text)
{
    br_http_resp_t *r = &req->resp;
    br_buf_reset(&r->body);
    r->status = status;
    r->nheaders = 0;
    br_strlcpy(r->content_type, "text/plain; charset=utf-8", sizeof r->content_type);
    br_buf_printf(&r->body, "%s\n", text);
    req->state = ST_RESPONDED;
    return respond(req->conn, r);
}

static enum MHD_Result add_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    br_http_req_t *req = cls;
    int i = req->nfields;
    if (i == MAX_FIELDS || !key)
        return MHD_YES; /* the rest are ignored: no handler reads that many */
    req->fields[i].kind = kind == MHD_HEADER_KIND ? F_HEADER : kind == MHD_COOKIE_KIND ? F_COOKIE : F_ARG;
    req->fields[i].name = strdup(key);
    req->fields[i].value = strdup(value ? value : "");
    if (req->fields[i].name && req->fields[i].value)
        req->nfields++;
    else {
        free(req->fields[i].name);
        free(req->fields[i].value);
    }
    return MHD_YES;
}

static void req_free(br_http_req_t *req)
{
    if (!req)
        return;
    for (int i = 0; i < req->nfields; i++) {
        free(req->fields[i].name);
        free(req->fields[i].value);
    }
    free(req->path);
    br_buf_free(&req->body);
    br_buf_free(&req->resp.body);
    free(req);
}

static void add_local(br_http_req_t *req, int kind, const char *name, size_t nlen,
                      const char *value, size_t vlen)
{
    int i = req->nfields;
    if (i == MAX_FIELDS)
        return;
    req->fields[i].kind = kind;
    req->fields[i].name = strndup(name, nlen);
    req->fields[i].value = strndup(value, vlen);
    if (req->fields[i].name && req->fields[i].value) {
        req->nfields++;
        return;
    }
    free(req->fields[i].name);
    free(req->fields[i].value);
}

/* "a=1; b=2" into cookies. */
static void add_cookies(br_http_req_t *req, const char *v, size_t len)
{
    const char *end = v + len;
    while (v < end) {
        size_t n = strcspn(v, ";"), m;
        const char *s = v, *eq;
        if (n > (size_t)(end - v))
            n = (size_t)(end - v);
        for (m = n; m && *s == ' '; m--)
            s++;
        eq = memchr(s, '=', m);
        if (eq && eq > s)
            add_local(req, F_COOKIE, s, (size_t)(eq - s), eq + 1, (size_t)(s + m - eq - 1));
        v += n + 1;
    }
}

br_http_req_t *br_http_req_local(const char *method, const char *path, const char *query,
                                 const char *headers, const void *body, size_t len)
{
    br_http_req_t *req = calloc(1, sizeof *req);
    struct sockaddr_in *sin = (struct sockaddr_in *)&req->peer;

    if (!req)
        return NULL;
    br_strlcpy(req->method, method, sizeof req->method);
    req->path = strdup(path);
    br_buf_init(&req->body);
    br_buf_init(&req->resp.body);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(1);
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (const char *q = query; q && *q;) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        if (eq)
            add_local(req, F_ARG, q, (size_t)(eq - q), eq + 1, (size_t)(q + n - eq - 1));
        else if (n)
            add_local(req, F_ARG, q, n, "", 0);
        q += n + (q[n] == '&');
    }
    for (const char *h = headers; h && *h;) {
        size_t n = strcspn(h, "\n");
        const char *colon = memchr(h, ':', n);
        if (colon) {
            const char *v = colon + 1;
            while (*v == ' ' && v < h + n)
                v++;
            if ((size_t)(colon - h) == 6 && strncasecmp(h, "Cookie", 6) == 0)
                add_cookies(req, v, (size_t)(h + n - v));
            else
                add_local(req, F_HEADER, h, (size_t)(colon - h), v, (size_t)(h + n - v));
        }
        h += n + (h[n] == '\n');
    }
    if (len)
        br_buf_append(&req->body, body, len);
    if (br_buf_reserve(&req->body, 1) == 0)
        req->body.data[req->body.len] = 0;
    if (!req->path || req->body.failed) {
        req_free(req);
        return NULL;
    }
    return req;
}

void br_http_req_local_free(br_http_req_t *req)
{
    req_free(req);
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    req_free(*con_cls);
    *con_cls = NULL;
}

static const struct route *find_route(br_http_t *h, const char *url)
{
    const struct route *route = NULL;
    for (int i = 0; i < h->nroutes; i++) {
        size_t n = strlen(h->routes[i].path);
        if (strncmp(url, h->routes[i].path, n) == 0 && (url[n] == 0 || url[n] == '/'))
            route = &h->routes[i];
    }
    return route;
}

static int method_allowed(const struct route *r, const char *m)
{
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return 1;
    return r->work && (strcmp(m, "POST") == 0 || strcmp(m, "DELETE") == 0);
}

static br_http_req_t *req_new(br_http_t *h, struct MHD_Connection *conn, const char *url,
                              const char *method)
{
    const union MHD_ConnectionInfo *ci;
    br_http_req_t *req = calloc(1, sizeof *req);

    if (!req)
        return NULL;
    req->h = h;
    req->conn = conn;
    req->path = strdup(url);
    br_strlcpy(req->method, method, sizeof req->method);
    br_buf_init(&req->body);
    br_buf_init(&req->resp.body);
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr)
        memcpy(&req->peer, ci->client_addr,
               ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                      : sizeof(struct sockaddr_in));
    if (!req->path) {
        req_free(req);
        return NULL;
    }
    return req;
}

/* First call, headers only: route, method and declared body size are judged here. */
static enum MHD_Result begin(br_http_t *h, struct MHD_Connection *conn, const char *url,
                             const char *method, void **con_cls)
{
    br_http_req_t *req = req_new(h, conn, url, method);
    const char *cl;

    if (!req)
        return MHD_NO;
    *con_cls = req;
    req->route = find_route(h, url);
    req->state = ST_BODY;
    if (!req->route)
        return respond_text(req, 404, "not found");
    if (!method_allowed(req->route, method))
        return respond_text(req, 405, "method not allowed");
    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > BR_HTTP_MAX_BODY) {
        br_warn("http: request body of %s bytes for %s refused (limit %d)", cl, url, BR_HTTP_MAX_BODY);
        return respond_text(req, 413, "request body too large");
    }
    return MHD_YES;
}

static void work_cb(uv_work_t *w)
{
    br_http_req_t *req = w->data;
    req->resp.status = 200;
    req->route->fn(req->route->ctx, req, &req->resp);
}

static void after_work_cb(uv_work_t *w, int status)
{
    br_http_req_t *req = w->data;
    if (status < 0)
        req->resp.status = 503;
    req->state = ST_DONE;
    MHD_resume_connection(req->conn);
    drive(req->h);
}

/* The whole request is in: run the handler here or on the pool. */
static enum MHD_Result dispatch(br_http_req_t *req)
{
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, add_field, req);
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, add_field, req);
    MHD_get_connection_values(req->conn, MHD_COOKIE_KIND, add_field, req);
    if (br_buf_reserve(&req->body, 1) == 0)
        req->body.data[req->body.len] = 0; /* handlers may read the body as a string */
    if (!req->route->work) {
        req->resp.status = 200;
        req->route->fn(req->route->ctx, req, &req->resp);
        req->state = ST_DONE;
        return MHD_YES; /* fall through to the response below */
    }
    req->state = ST_WORKING;
    req->work.data = req;
    MHD_suspend_connection(req->conn);
    if (uv_queue_work(req->h->loop, &req->work, work_cb, after_work_cb) < 0) {
        MHD_resume_connection(req->conn);
        return respond_text(req, 503, "busy");
    }
    return MHD_YES;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    br_http_req_t *req = *con_cls;
    enum MHD_Result ret;

    (void)version;
    if (!req)
        return begin(cls, conn, url, method, con_cls);
    if (req->state == ST_RESPONDED || req->state == ST_WORKING) {
        *upload_size = 0; /* answered already: whatever else comes is dropped */
        return MHD_YES;
    }
    if (*upload_size) {
        /* MHD takes no response before the body is in (a body without Content-Length, sent
         * chunked): the excess is counted and dropped, and 413 goes out at the end; a body
         * far beyond any use closes the connection instead. */
        if (req->dropped || req->body.len + *upload_size > BR_HTTP_MAX_BODY) {
            req->dropped += *upload_size;
            *upload_size = 0;
            return req->dropped > 64 * BR_HTTP_MAX_BODY ? MHD_NO : MHD_YES;
        }
        br_buf_append(&req->body, upload, *upload_size);
        *upload_size = 0;
        return req->body.failed ? MHD_NO : MHD_YES;
    }
    if (req->dropped) {
        br_warn("http: request body for %s over %d bytes refused", req->path, BR_HTTP_MAX_BODY);
        return respond_text(req, 413, "request body too large");
    }
    if (req->state == ST_BODY) {
        ret = dispatch(req);
        if (req->state != ST_DONE)
            return ret;
    }
    if (req->resp.body.failed) {
        br_buf_reset(&req->resp.body);
        req->resp.status = 500;
    }
    req->state = ST_RESPONDED;
    return respond(conn, &req->resp);
}


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
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
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
        h->tls = 1;
    }
    {
        /* MHD refuses HTTPS options on a plain daemon: a plain one gets the array's end only. */
        struct MHD_OptionItem tls_opts[] = {
            { MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert },
            { MHD_OPTION_HTTPS_MEM_KEY, 0, h->key },
            { MHD_OPTION_END, 0, NULL },
        };
        h->mhd = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, access_cb, h,
                                  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                                  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)32,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)15,
                                  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
                                  MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h,
                                  MHD_OPTION_ARRAY, (flags & MHD_USE_TLS) ? tls_opts : tls_opts + 2,
                                  MHD_OPTION_END);
    }
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

static int add_route(br_http_t *h, const char *path, br_http_handler fn, void *ctx, int work)
{
    if (h->nroutes == MAX_ROUTES)
        return -ENOSPC;
    br_strlcpy(h->routes[h->nroutes].path, path, sizeof h->routes[0].path);
    h->routes[h->nroutes].fn = fn;
    h->routes[h->nroutes].ctx = ctx;
    h->routes[h->nroutes].work = work;
    h->nroutes++;
    return 0;
}

int br_http_route(br_http_t *h, const char *path, br_http_handler fn, void *ctx)
{
    return add_route(h, path, fn, ctx, 0);
}

int br_http_route_work(br_http_t *h, const char *path, br_http_handler fn, void *ctx)
{
    return add_route(h, path, fn, ctx, 1);
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
