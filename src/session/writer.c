/*
 * The store writer thread; see writer.h. Jobs are one allocation each (the
 * audio of a segment inline), linked in a FIFO under one mutex. The thread
 * detaches the whole FIFO, writes it without the lock held, syncs once if
 * any job asked for it, then returns the jobs whose outcome the loop needs
 * through a second list and a uv_async_t, and frees the rest itself.
 */
#include "writer.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define DEFAULT_MAX_BYTES (256u << 20)
#define POOL_MAX_BYTES (4u << 20)

typedef struct job {
    struct job *next;
    int op;
    int rc;
    br_wrec_t *r;
    char id[BR_ID_LEN + 1];
    uint8_t state;
    int report;
    int erase_asked;
    int erase_rc;
    char *erase_actor, *erase_source, *erase_reason;
    br_rec_meta_t *meta;
    size_t len;       /* audio bytes (BR_WRITE_SEGMENT), just after the job */
    uint8_t *data;
    int embedded;     /* the recording's own last job: freed with it */
} job_t;

/* Forget a recording without sealing it (no memory for its seal): it stays
 * as written, and the next start seals it as recovered. */
#define OP_ABANDON 100

struct br_wrec {
    br_rec_writer_t *rw;
    int failed;       /* a write failed: skip its remaining segments */
    int begin_failed; /* nothing of it is in the store: nothing to seal */
    job_t last;       /* for the seal or discard, which must not fail */
};

struct br_writer {
    uv_loop_t *loop;
    br_store_t *st;
    br_writer_done_cb cb;
    void *ctx;
    uv_async_t async;
    int async_open;
    void (*close_cb)(void *);
    void *close_ctx;
    pthread_t thread;
    int thread_running;
    pthread_mutex_t lock;
    pthread_cond_t work;  /* jobs queued, or stop */
    pthread_cond_t space; /* bytes fell, or the thread went idle */
    job_t *head, *tail;   /* queued */
    job_t *done_head, *done_tail; /* outcomes for the loop */
    /* Segment jobs come back here instead of to malloc: they are all of
     * one size, and recycling them keeps the heap from filling with holes
     * between the calls' long-lived allocations. At most POOL_MAX_BYTES. */
    job_t *pool;
    size_t pool_len;      /* audio bytes of the pooled jobs */
    size_t pool_bytes;
    int busy;             /* the thread holds a batch */
    int stopping;
    size_t max_bytes;
    br_writer_stats_t stats;
    br_buf_t scratch;     /* the thread's: every segment is encrypted into it */
};

static void job_free(job_t *j)
{
    if (!j)
        return;
    free(j->meta);
    free(j->erase_actor);
    free(j->erase_source);
    free(j->erase_reason);
    if (j->embedded)
        free((char *)j - offsetof(br_wrec_t, last)); /* the recording it ended */
    else
        free(j);
}

static void job_init(job_t *j, int op, br_wrec_t *r, size_t len)
{
    j->op = op;
    j->r = r;
    j->len = len;
    j->data = (uint8_t *)(j + 1);
    br_strlcpy(j->id, br_rec_writer_id(r->rw), sizeof j->id);
}

static job_t *job_new(int op, br_wrec_t *r, size_t len)
{
    job_t *j = malloc(sizeof *j + len); /* the audio is copied in: no need to clear it */
    if (j) {
        memset(j, 0, sizeof *j);
        job_init(j, op, r, len);
    }
    return j;
}

/* The recording's last job lives in its handle, so ending a recording
 * needs no allocation; the handle is freed with that job. */
static job_t *last_job(br_wrec_t *r, int op)
{
    job_t *j = &r->last;
    memset(j, 0, sizeof *j);
    job_init(j, op, r, 0);
    j->embedded = 1;
    return j;
}

/* ---- the thread --------------------------------------------------------- */

/* Writes one job; returns whether it needs the batch's sync before its
 * outcome may be reported. */
static int run_job(br_writer_t *w, job_t *j)
{
    br_wrec_t *r = j->r;

    switch (j->op) {
    case BR_WRITE_BEGIN:
        j->rc = br_rec_begin(r->rw, j->meta, 0);
        if (j->rc < 0) {
            r->failed = r->begin_failed = 1;
            j->report = 1;
        }
        return 1;
    case BR_WRITE_SEGMENT: /* gathered by add_segment() instead */
        return 0;
    case BR_WRITE_SEAL:
        j->report = 1;
        if (r->begin_failed) {
            j->rc = -EIO;
            br_rec_writer_free(r->rw);
        } else {
            if (r->failed)
                j->meta->flags |= BR_FLAG_STORAGE_ERROR;
            j->rc = br_rec_seal_opt(r->rw, j->meta, j->state, 0);
            if (j->rc == 0 && j->erase_asked && j->erase_rc == 0)
                j->erase_rc = br_store_erase(w->st, j->id, j->erase_actor, j->erase_source,
                                             j->erase_reason);
        }
        r->rw = NULL;
        j->r = NULL;
        return 1;
    case BR_WRITE_DISCARD:
        j->report = 1;
        if (r->begin_failed) {
            br_rec_writer_free(r->rw);
            j->rc = 0;
        } else {
            j->rc = br_rec_discard_opt(r->rw, 0);
        }
        r->rw = NULL;
        j->r = NULL;
        return 1;
    case OP_ABANDON:
        j->report = 1; /* only to be freed on the loop's side, like the others */
        br_rec_writer_abandon(r->rw);
        r->rw = NULL;
        j->r = NULL;
        return 0;
    }
    return 0;
}

/* Appends a segment to its recording's audio file (a write of its own,
 * not synced: the seal syncs the file). */
static void add_segment(br_writer_t *w, job_t *j)
{
    br_wrec_t *r = j->r;
    int rc;

    if (r->failed)
        return;
    rc = br_rec_write_segment_buf(r->rw, j->data, j->len, &w->scratch);
    if (rc < 0) {
        r->failed = 1;
        j->rc = rc;
        j->report = 1; /* once per recording: later segments are skipped */
    }
}

static void *thread_main(void *arg)
{
    br_writer_t *w = arg;

    pthread_mutex_lock(&w->lock);
    for (;;) {
        job_t *batch, *j, *next;
        int need_sync = 0, report = 0;
        size_t bytes = 0;

        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->work, &w->lock);
        if (!w->head)
            break; /* stopping, and everything is written */
        batch = w->head;
        w->head = w->tail = NULL;
        w->busy = 1;
        w->stats.batches++;
        pthread_mutex_unlock(&w->lock);

        for (j = batch; j; j = j->next) {
            if (j->op == BR_WRITE_SEGMENT) {
                add_segment(w, j);
                continue;
            }
            need_sync |= run_job(w, j);
        }
        if (need_sync) {
            int rc = br_store_sync(w->st);
            for (j = batch; j && rc < 0; j = j->next)
                if (j->op != BR_WRITE_SEGMENT && j->rc == 0) {
                    j->rc = rc;
                    j->report = 1;
                }
        }

        pthread_mutex_lock(&w->lock);
        if (need_sync)
            w->stats.syncs++;
        for (j = batch; j; j = next) {
            next = j->next;
            j->next = NULL;
            bytes += j->len;
            w->stats.jobs++;
            if (!j->report) {
                if (j->op == BR_WRITE_SEGMENT && j->len == w->pool_len &&
                    w->pool_bytes + j->len <= POOL_MAX_BYTES) {
                    j->next = w->pool;
                    w->pool = j;
                    w->pool_bytes += j->len;
                } else {
                    job_free(j);
                }
                continue;
            }
            if (w->done_tail)
                w->done_tail->next = j;
            else
                w->done_head = j;
            w->done_tail = j;
            report = 1;
        }
        w->stats.queued_bytes -= bytes;
        w->busy = 0;
        pthread_cond_broadcast(&w->space);
        if (report && w->async_open)
            uv_async_send(&w->async);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* ---- the loop's side -------------------------------------------------------- */

static void run_done(br_writer_t *w)
{
    job_t *j, *next;

    pthread_mutex_lock(&w->lock);
    j = w->done_head;
    w->done_head = w->done_tail = NULL;
    pthread_mutex_unlock(&w->lock);
    for (; j; j = next) {
        br_write_done_t d = { j->op, j->rc, j->id, j->meta, j->erase_asked, j->erase_rc };
        next = j->next;
        if (w->cb && j->op != OP_ABANDON)
            w->cb(&d, w->ctx);
        job_free(j);
    }
}

static void async_cb(uv_async_t *a)
{
    run_done(a->data);
}

static void queue(br_writer_t *w, job_t *j)
{
    pthread_mutex_lock(&w->lock);
    /* A segment waits for room; a job that ends a recording never does
     * (it carries no audio, and the bound is on audio). */
    if (j->len && w->stats.queued_bytes + j->len > w->max_bytes && w->stats.queued_bytes > 0) {
        w->stats.stalls++;
        if (w->stats.stalls == 1 || w->stats.stalls % 1000 == 0)
            br_warn("the store is not keeping up: %zu bytes of audio queued; waiting (%" PRIu64
                    " waits so far)",
                    w->stats.queued_bytes, w->stats.stalls);
        while (w->stats.queued_bytes + j->len > w->max_bytes && w->stats.queued_bytes > 0)
            pthread_cond_wait(&w->space, &w->lock);
    }
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->stats.queued_bytes += j->len;
    if (w->stats.queued_bytes > w->stats.max_queued_bytes)
        w->stats.max_queued_bytes = w->stats.queued_bytes;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
}

/* Asks the thread to finish what is queued and waits for it. */
static void stop_thread(br_writer_t *w)
{
    if (!w->thread_running)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->thread_running = 0;
}

int br_writer_new(br_writer_t **out, uv_loop_t *loop, br_store_t *st, size_t max_bytes,
                  br_writer_done_cb cb, void *ctx)
{
    br_writer_t *w = calloc(1, sizeof *w);
    int rc;

    *out = NULL;
    if (!w)
        return -ENOMEM;
    w->loop = loop;
    w->st = st;
    w->cb = cb;
    w->ctx = ctx;
    w->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX_BYTES;
    br_buf_init(&w->scratch);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->space, NULL);
    /* The thread first: it only waits until something is queued, and it
     * can be stopped at once if the handle cannot be made. */
    rc = -pthread_create(&w->thread, NULL, thread_main, w);
    if (rc < 0)
        goto fail;
    w->thread_running = 1;
    rc = uv_async_init(loop, &w->async, async_cb);
    if (rc < 0)
        goto fail;
    w->async.data = w;
    pthread_mutex_lock(&w->lock);
    w->async_open = 1;
    pthread_mutex_unlock(&w->lock);
    *out = w;
    return 0;
fail:
    stop_thread(w);
    br_writer_free(w);
    return rc;
}

int br_writer_begin(br_writer_t *w, br_rec_meta_t *meta, br_wrec_t **out)
{
    br_wrec_t *r = calloc(1, sizeof *r);
    job_t *j = NULL;
    int rc;

    *out = NULL;
    if (!r)
        return -ENOMEM;
    rc = br_rec_new(w->st, meta, &r->rw);
    if (rc < 0)
        goto fail;
    rc = -ENOMEM;
    j = job_new(BR_WRITE_BEGIN, r, 0);
    if (!j || !(j->meta = malloc(sizeof *meta)))
        goto fail;
    *j->meta = *meta;
    queue(w, j);
    *out = r;
    return 0;
fail:
    job_free(j);
    if (r->rw)
        br_rec_writer_free(r->rw);
    free(r);
    return rc;
}

int br_writer_segment(br_writer_t *w, br_wrec_t *r, const uint8_t *audio, size_t len)
{
    job_t *j = NULL;

    pthread_mutex_lock(&w->lock);
    if (w->pool_len != len) { /* the first segment, or the size changed */
        while (w->pool) {
            job_t *p = w->pool;
            w->pool = p->next;
            free(p);
        }
        w->pool_bytes = 0;
        w->pool_len = len;
    } else if (w->pool) {
        j = w->pool;
        w->pool = j->next;
        w->pool_bytes -= len;
    }
    pthread_mutex_unlock(&w->lock);
    if (j) {
        memset(j, 0, sizeof *j);
        job_init(j, BR_WRITE_SEGMENT, r, len);
    } else if (!(j = job_new(BR_WRITE_SEGMENT, r, len))) {
        return -ENOMEM;
    }
    memcpy(j->data, audio, len);
    queue(w, j);
    return 0;
}

static char *dup_or_null(const char *s, int *failed)
{
    char *d;
    if (!s)
        return NULL;
    d = strdup(s);
    if (!d)
        *failed = 1;
    return d;
}

int br_writer_seal(br_writer_t *w, br_wrec_t *r, const br_rec_meta_t *meta, uint8_t state,
                   const char *erase_actor, const char *erase_source, const char *erase_reason)
{
    job_t *j = last_job(r, BR_WRITE_SEAL);
    int failed = 0;

    j->meta = malloc(sizeof *meta);
    if (!j->meta) {
        /* Unsealed, it is sealed as recovered at the next start. */
        j->op = OP_ABANDON;
        queue(w, j);
        return -ENOMEM;
    }
    *j->meta = *meta;
    j->state = state;
    if (erase_actor) {
        j->erase_asked = 1;
        j->erase_actor = dup_or_null(erase_actor, &failed);
        j->erase_source = dup_or_null(erase_source ? erase_source : "-", &failed);
        j->erase_reason = dup_or_null(erase_reason ? erase_reason : "-", &failed);
        if (failed)
            j->erase_rc = -ENOMEM; /* sealed, but not erased: said so by done_cb */
    }
    queue(w, j);
    return 0;
}

int br_writer_discard(br_writer_t *w, br_wrec_t *r)
{
    queue(w, last_job(r, BR_WRITE_DISCARD));
    return 0;
}
void br_writer_flush(br_writer_t *w)
{
    pthread_mutex_lock(&w->lock);
    while (w->head || w->busy)
        pthread_cond_wait(&w->space, &w->lock);
    pthread_mutex_unlock(&w->lock);
    run_done(w);
}

static void async_closed(uv_handle_t *h)
{
    br_writer_t *w = h->data;
    w->async_open = 0;
    if (w->close_cb)
        w->close_cb(w->close_ctx);
}

void br_writer_close(br_writer_t *w, void (*cb)(void *ctx), void *ctx)
{
    stop_thread(w);
    run_done(w);
    w->close_cb = cb;
    w->close_ctx = ctx;
    uv_close((uv_handle_t *)&w->async, async_closed);
}

void br_writer_free(br_writer_t *w)
{
    if (!w)
        return;
    if (w->thread_running) { /* never closed: write what is queued, then stop */
        stop_thread(w);
        w->cb = NULL;
        run_done(w);
    }
    while (w->pool) {
        job_t *p = w->pool;
        w->pool = p->next;
        free(p);
    }
    br_buf_free(&w->scratch);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->space);
    free(w);
}

void br_writer_get_stats(br_writer_t *w, br_writer_stats_t *out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->stats;
    pthread_mutex_unlock(&w->lock);
}
