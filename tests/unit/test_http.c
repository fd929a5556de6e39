/*
 * The HTTP module: the Range header parser (RFC 9110 §14.1.2) as a table,
 * requests made in memory, and a real server on the loop: a work route
 * running on the thread pool while the loop keeps serving, POST bodies,
 * 413 beyond the limit (with and without Content-Length), 405, extra
 * response headers; then every handle closed and the loop closed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "http/http.h"
#include "tap.h"

static void test_range(void)
{
    static const struct {
        const char *hdr;
        uint64_t total;
        int rc;
        uint64_t first, last;
    } t[] = {
        { "bytes=0-99", 1000, 0, 0, 99 },
        { "bytes=0-0", 1000, 0, 0, 0 },
        { "bytes=100-", 1000, 0, 100, 999 },
        { "bytes=-100", 1000, 0, 900, 999 },
        { "bytes=-5000", 1000, 0, 0, 999 },        /* more than there is: all of it */
        { "bytes=900-5000", 1000, 0, 900, 999 },   /* last clipped to the end */
        { "BYTES=1-2", 1000, 0, 1, 2 },
        { "bytes=999-", 1000, 0, 999, 999 },
        { "bytes=1000-", 1000, -ERANGE, 0, 0 },    /* starts past the end: 416 */
        { "bytes=5000-6000", 1000, -ERANGE, 0, 0 },
        { "bytes=-0", 1000, -ERANGE, 0, 0 },
        { "bytes=0-", 0, -ERANGE, 0, 0 },
        { "bytes=99999999999999999999999-", 1000, -ERANGE, 0, 0 }, /* too big is unsatisfiable */
        { "bytes=5-1", 1000, -EINVAL, 0, 0 },      /* invalid: ignored, 200 */
        { "bytes=0-1,5-6", 1000, -EINVAL, 0, 0 },  /* several ranges: we send it all */
        { "bytes= 0-1", 1000, -EINVAL, 0, 0 },
        { "bytes=+1-2", 1000, -EINVAL, 0, 0 },
        { "bytes=1--2", 1000, -EINVAL, 0, 0 },
        { "bytes=-", 1000, -EINVAL, 0, 0 },
        { "bytes=", 1000, -EINVAL, 0, 0 },
        { "items=0-1", 1000, -EINVAL, 0, 0 },
        { "bytes=0-99x", 1000, -EINVAL, 0, 0 },
        { "", 1000, -EINVAL, 0, 0 },
    };
    for (size_t i = 0; i < BR_ARRAY_SIZE(t); i++) {
        uint64_t a = 77, b = 77;
        int rc = br_http_range_parse(t[i].hdr, t[i].total, &a, &b);
        ok(rc == t[i].rc && (rc != 0 || (a == t[i].first && b == t[i].last)),
           "'%s' of %llu: %d [%llu, %llu]", t[i].hdr, (unsigned long long)t[i].total, rc,
           (unsigned long long)a, (unsigned long long)b);
    }
    is_int(br_http_range_parse(NULL, 10, &(uint64_t){ 0 }, &(uint64_t){ 0 }), -EINVAL, "no header");
}

static void test_local(void)
{
    char v[64];
    size_t len;
    br_http_req_t *r = br_http_req_local("POST", "/api/v1/x", "a=1&b=&c",
                                         "X-Thing: yes\nCookie: s=abc; other=2\nAuthorization: Bearer t",
                                         "{\"k\":1}", 7);
    ok(r != NULL, "a request in memory");
    is_str(br_http_method(r), "POST", "method");
    is_str(br_http_query(r, "a"), "1", "query a");
    is_str(br_http_query(r, "b"), "", "query b, empty");
    is_str(br_http_query(r, "c"), "", "query c, no '='");
    ok(br_http_query(r, "d") == NULL, "no query d");
    is_str(br_http_header(r, "x-thing"), "yes", "headers compared without case");
    ok(br_http_cookie(r, "s", v, sizeof v) == 0 && strcmp(v, "abc") == 0, "cookie s");
    ok(br_http_cookie(r, "other", v, sizeof v) == 0 && strcmp(v, "2") == 0, "cookie other");
    ok(br_http_cookie(r, "nope", v, sizeof v) == -ENOENT, "no such cookie");
    ok(strcmp(br_http_body(r, &len), "{\"k\":1}") == 0 && len == 7, "body");
    br_http_peer_str(r, v, sizeof v);
    is_str(v, "127.0.0.1:1", "peer");
    br_http_req_local_free(r);
}

/* ---- a real server --------------------------------------------------------------------- */

static uv_loop_t loop;
static uv_async_t done;
static unsigned port;
static int loop_turns; /* the loop keeps turning while a work handler sleeps */
static uv_timer_t ticker;

static int work_handler(void *ctx, br_http_req_t *req, br_http_resp_t *resp)
{
    size_t len;
    const char *body = br_http_body(req, &len);
    (void)ctx;
    usleep(200000); /* like an Argon2 hash, only longer */
    br_strlcpy(resp->content_type, "text/plain", sizeof resp->content_type);
    br_http_resp_header(resp, "X-Seen", br_http_method(req));
    br_buf_printf(&resp->body, "%s %zu %s", br_http_method(req), len, body ? body : "-");
    return 0;
}

static int loop_handler(void *ctx, br_http_req_t *req, br_http_resp_t *resp)
{
    (void)ctx, (void)req;
    br_buf_printf(&resp->body, "loop");
    return 0;
}

/* One request on a new connection; returns the whole response. */
static void exchange(const char *req, size_t reqlen, char *out, size_t outsz)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t n = 0;
    ssize_t r;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    out[0] = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return;
    }
    for (size_t off = 0; off < reqlen; off += (size_t)r)
        if ((r = write(fd, req + off, reqlen - off)) <= 0)
            break;
    while (n + 1 < outsz && (r = read(fd, out + n, outsz - n - 1)) > 0)
        n += (size_t)r;
    out[n] = 0;
    close(fd);
}

static char results[6][4096];
static int turns_during_work;

static void *client(void *arg)
{
    static char big[100000];
    char req[200000];
    int n, before;
    (void)arg;

    n = snprintf(req, sizeof req, "POST /w/x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
    before = __atomic_load_n(&loop_turns, __ATOMIC_SEQ_CST);
    exchange(req, (size_t)n, results[0], sizeof results[0]);
    turns_during_work = __atomic_load_n(&loop_turns, __ATOMIC_SEQ_CST) - before;
    n = snprintf(req, sizeof req, "GET /loop HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    exchange(req, (size_t)n, results[1], sizeof results[1]);
    n = snprintf(req, sizeof req, "POST /loop HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
    exchange(req, (size_t)n, results[2], sizeof results[2]);
    memset(big, 'a', sizeof big);
    n = snprintf(req, sizeof req, "POST /w HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", sizeof big);
    exchange(req, (size_t)n, results[3], sizeof results[3]);
    n = snprintf(req, sizeof req, "POST /w HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n%zx\r\n", sizeof big);
    memcpy(req + n, big, sizeof big);
    n += (int)sizeof big;
    n += snprintf(req + n, sizeof req - (size_t)n, "\r\n0\r\n\r\n");
    exchange(req, (size_t)n, results[4], sizeof results[4]);
    n = snprintf(req, sizeof req, "DELETE /w/1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    exchange(req, (size_t)n, results[5], sizeof results[5]);
    uv_async_send(&done);
    return NULL;
}

static void tick_cb(uv_timer_t *t)
{
    (void)t;
    __atomic_add_fetch(&loop_turns, 1, __ATOMIC_SEQ_CST);
}

static br_http_t *server;

static void stopped(void *ctx)
{
    (void)ctx;
}

static void done_cb(uv_async_t *a)
{
    uv_close((uv_handle_t *)a, NULL);
    uv_close((uv_handle_t *)&ticker, NULL);
    br_http_stop(server, stopped, NULL);
}

static void test_server(void)
{
    br_http_opts_t o = { "127.0.0.1", 0, NULL, NULL };
    pthread_t th;

    uv_loop_init(&loop);
    for (port = 18680; port < 18700; port++) {
        o.port = port;
        if (br_http_start(&server, &loop, &o) == 0)
            break;
    }
    ok(server != NULL, "server on 127.0.0.1:%u", port);
    if (!server)
        return;
    br_http_route_work(server, "/w", work_handler, NULL);
    br_http_route(server, "/loop", loop_handler, NULL);
    uv_async_init(&loop, &done, done_cb);
    uv_timer_init(&loop, &ticker);
    uv_timer_start(&ticker, tick_cb, 10, 10);
    pthread_create(&th, NULL, client, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    br_http_free(server);
    is_int(uv_loop_close(&loop), 0, "every handle closed");

    ok(strstr(results[0], "HTTP/1.1 200") && strstr(results[0], "POST 5 hello") && strstr(results[0], "X-Seen: POST"),
       "a work route gets the POST body and sets a header");
    ok(turns_during_work >= 10, "the loop kept turning while the handler worked (%d ticks of 10 ms)", turns_during_work);
    ok(strstr(results[1], "HTTP/1.1 200") && strstr(results[1], "loop"), "a loop route answers GET");
    ok(strstr(results[2], "HTTP/1.1 405") != NULL, "a loop route refuses POST with 405");
    ok(strstr(results[3], "HTTP/1.1 413") != NULL, "a declared 100 kB body: 413");
    ok(strstr(results[4], "HTTP/1.1 413") != NULL, "a chunked 100 kB body: 413 at its end");
    ok(strstr(results[5], "HTTP/1.1 200") && strstr(results[5], "DELETE 0 -"), "DELETE without a body");
}

int main(void)
{
    test_range();
    test_local();
    test_server();
    return tap_done();
}
