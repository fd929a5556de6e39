/*
 * Control socket server. One connection carries one request and its
 * response, then closes: the CLI is short-lived and this keeps the state
 * machine trivial. Connections and requests are bounded in size; a client
 * that sends garbage gets its connection closed and a log line.
 */
#include "server.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "common/log.h"
#include "common/util.h"
#include "proto.h"

typedef struct conn conn_t;

struct br_ctl {
    uv_loop_t *loop;
    uv_pipe_t listener;
    br_store_t *st;
    br_signer_t *signer;
    const char *master_key_path;
    const br_stats_t *stats;
    char path[108];
    int open_handles;
    int stopping;
    void (*stop_cb)(void *ctx);
    void *stop_ctx;
};

struct conn {
    br_ctl_t *ctl;
    uv_pipe_t pipe;
    uv_work_t work;
    uv_write_t write;
    br_buf_t in;
    br_buf_t reply;
    int argc;
    char *argv[BR_CTL_MAX_ARGS];
    int busy;
    char actor[64];
    char source[64];
};

static void ctl_handle_closed(br_ctl_t *c)
{
    if (--c->open_handles == 0 && c->stopping && c->stop_cb) {
        void (*cb)(void *) = c->stop_cb;
        c->stop_cb = NULL;
        cb(c->stop_ctx);
    }
}

static void conn_closed(uv_handle_t *h)
{
    conn_t *k = h->data;
    br_ctl_t *c = k->ctl;
    br_ctl_free_args(k->argc, k->argv);
    br_buf_free(&k->in);
    br_buf_free(&k->reply);
    free(k);
    ctl_handle_closed(c);
}

static void conn_close(conn_t *k)
{
    if (!uv_is_closing((uv_handle_t *)&k->pipe))
        uv_close((uv_handle_t *)&k->pipe, conn_closed);
}

static void work_cb(uv_work_t *w)
{
    conn_t *k = w->data;
    br_buf_t out, msgs;
    int status;

    br_buf_init(&out);
    br_buf_init(&msgs);
    br_cmd_env_t env = { k->ctl->st, k->ctl->signer, k->actor, k->source, k->ctl->master_key_path };

    status = br_cmd_run(&env, k->argc, k->argv, &out, &msgs);
    if (br_ctl_encode_response(&k->reply, status, &out, &msgs) < 0)
        br_buf_reset(&k->reply);
    br_buf_free(&out);
    br_buf_free(&msgs);
}

static void written_cb(uv_write_t *w, int status)
{
    conn_t *k = w->data;
    if (status < 0)
        br_debug("control: reply not delivered: %s", uv_strerror(status));
    conn_close(k);
}

static void after_work_cb(uv_work_t *w, int status)
{
    conn_t *k = w->data;
    uv_buf_t b;

    k->busy = 0;
    if (status < 0 || k->reply.len == 0) {
        conn_close(k);
        return;
    }
    b = uv_buf_init((char *)k->reply.data, (unsigned)k->reply.len);
    k->write.data = k;
    if (k->reply.len > UINT32_MAX ||
        uv_write(&k->write, (uv_stream_t *)&k->pipe, &b, 1, written_cb) < 0)
        conn_close(k);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn_t *k = h->data;
    (void)suggested;
    if (br_buf_reserve(&k->in, 4096) < 0) {
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    buf->base = (char *)k->in.data + k->in.len;
    buf->len = 4096;
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn_t *k = s->data;
    int used;

    (void)buf;
    if (n < 0) {
        conn_close(k);
        return;
    }
    k->in.len += (size_t)n;
    if (k->in.len > BR_CTL_MAX_REQUEST) {
        br_warn("control: request too large; connection closed");
        conn_close(k);
        return;
    }
    used = br_ctl_parse_request(k->in.data, k->in.len, &k->argc, k->argv);
    if (used == 0)
        return;
    uv_read_stop(s);
    if (used < 0) {
        br_warn("control: malformed request; connection closed");
        conn_close(k);
        return;
    }
    br_debug("control: %s", k->argv[0]);
    if (strcmp(k->argv[0], "stats") == 0) {
        /* Counters live on the loop thread: answer here, not in the pool. */
        br_buf_t out, msgs;
        br_buf_init(&out);
        br_buf_init(&msgs);
        if (k->ctl->stats)
            br_stats_format(k->ctl->stats, &out);
        br_ctl_encode_response(&k->reply, 0, &out, &msgs);
        br_buf_free(&out);
        br_buf_free(&msgs);
        k->work.data = k;
        after_work_cb(&k->work, 0);
        return;
    }
    k->work.data = k;
    k->busy = 1;
    if (uv_queue_work(k->ctl->loop, &k->work, work_cb, after_work_cb) < 0) {
        k->busy = 0;
        conn_close(k);
    }
}

/* The audit trail names who asked: the kernel tells us the peer's uid. */
static void identify_peer(conn_t *k)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    uv_os_fd_t fd;

    br_strlcpy(k->actor, "unknown", sizeof k->actor);
    br_strlcpy(k->source, "control-socket", sizeof k->source);
    if (uv_fileno((uv_handle_t *)&k->pipe, &fd) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        struct passwd pw, *res = NULL;
        char buf[1024];
        if (getpwuid_r(cred.uid, &pw, buf, sizeof buf, &res) == 0 && res)
            br_strlcpy(k->actor, res->pw_name, sizeof k->actor);
        else
            snprintf(k->actor, sizeof k->actor, "uid %u", (unsigned)cred.uid);
        snprintf(k->source, sizeof k->source, "control-socket pid %d uid %u", (int)cred.pid,
                 (unsigned)cred.uid);
    }
}

static void connection_cb(uv_stream_t *server, int status)
{
    br_ctl_t *c = server->data;
    conn_t *k;

    if (status < 0 || c->stopping)
        return;
    k = calloc(1, sizeof *k);
    if (!k)
        return;
    k->ctl = c;
    br_buf_init(&k->in);
    br_buf_init(&k->reply);
    uv_pipe_init(c->loop, &k->pipe, 0);
    k->pipe.data = k;
    c->open_handles++;
    if (uv_accept(server, (uv_stream_t *)&k->pipe) < 0 ||
        uv_read_start((uv_stream_t *)&k->pipe, alloc_cb, read_cb) < 0) {
        conn_close(k);
        return;
    }
    identify_peer(k);
}

int br_ctl_start(br_ctl_t **out, uv_loop_t *loop, const char *path, br_store_t *st,
                 br_signer_t *signer, const char *master_key_path, const br_stats_t *stats)
{
    br_ctl_t *c;
    mode_t old;
    int rc;

    *out = NULL;
    c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->loop = loop;
    c->st = st;
    c->signer = signer;
    c->master_key_path = master_key_path;
    c->stats = stats;
    br_strlcpy(c->path, path, sizeof c->path);
    uv_pipe_init(loop, &c->listener, 0);
    c->listener.data = c;
    c->open_handles = 1;
    /* A socket file left by a crashed daemon: we hold the store lock, so no
     * other daemon can be serving it. */
    unlink(path);
    old = umask(0077);
    rc = uv_pipe_bind(&c->listener, path);
    umask(old);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&c->listener, 16, connection_cb);
    if (rc < 0) {
        c->stopping = 1;
        uv_close((uv_handle_t *)&c->listener, NULL);
        c->open_handles = 0;
        /* The handle is freed with c after the loop ran its close callback;
         * the caller runs the loop to completion before br_ctl_free(). */
        *out = c;
        return rc;
    }
    *out = c;
    return 0;
}

static void listener_closed(uv_handle_t *h)
{
    br_ctl_t *c = h->data;
    unlink(c->path);
    ctl_handle_closed(c);
}

void br_ctl_stop(br_ctl_t *c, void (*cb)(void *ctx), void *ctx)
{
    c->stopping = 1;
    c->stop_cb = cb;
    c->stop_ctx = ctx;
    if (!uv_is_closing((uv_handle_t *)&c->listener))
        uv_close((uv_handle_t *)&c->listener, listener_closed);
    else if (c->open_handles == 0 && cb) {
        c->stop_cb = NULL;
        cb(ctx);
    }
}

void br_ctl_free(br_ctl_t *c)
{
    free(c);
}
