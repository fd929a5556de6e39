/*
 * The store writer thread (src/session/writer.c): segments chained in the
 * order they were queued, seals after their segments, the outcome of every
 * seal reported on the loop, back-pressure when the queue is full, and
 * everything written before close returns (shutdown flush).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session/writer.h"
#include "sql-free-store/store.h"
#include "tap.h"

#define SEG 1600 /* 100 ms of stereo G.711 */

struct seen {
    int seals, discards, errors, erased;
    uint32_t segments[8];
    char ids[8][BR_ID_LEN + 1];
};

static void done_cb(const br_write_done_t *d, void *ctx)
{
    struct seen *s = ctx;
    if (d->rc < 0) {
        s->errors++;
        return;
    }
    if (d->op == BR_WRITE_SEAL) {
        if (s->seals < 8) {
            s->segments[s->seals] = d->meta->segments;
            memcpy(s->ids[s->seals], d->id, BR_ID_LEN + 1);
        }
        s->seals++;
        s->erased += d->erase_asked && d->erase_rc == 0;
    } else if (d->op == BR_WRITE_DISCARD) {
        s->discards++;
    }
}

struct audio {
    uint8_t expect;
    size_t bytes;
    int bad;
};

/* Segment k of a recording holds bytes of value k: order is visible. */
static int audio_cb(const uint8_t *a, size_t len, void *ctx)
{
    struct audio *x = ctx;
    for (size_t i = 0; i < len; i++)
        if (a[i] != x->expect)
            x->bad = 1;
    x->expect++;
    x->bytes += len;
    return 0;
}

static void run_loop_once(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_NOWAIT);
}

static void verify_cb(const br_verify_result_t *r, void *ctx)
{
    int *sealed_ok = ctx;
    *sealed_ok = r->ok && r->sealed;
}

int main(void)
{
    char dir[] = "/tmp/test_writer.XXXXXX";
    char keypath[64];
    br_master_key_t mk;
    int created;
    br_store_t *st = NULL;
    br_writer_t *w = NULL;
    br_writer_stats_t ws;
    struct seen seen;
    uv_loop_t loop;
    uint8_t buf[SEG];
    br_rec_meta_t m[3];
    br_wrec_t *r[3];

    if (!mkdtemp(dir))
        return 1;
    snprintf(keypath, sizeof keypath, "%s/master.key", dir);
    if (br_master_key_load(&mk, keypath, 1, &created) < 0 || br_store_open(&st, dir, &mk) < 0) {
        printf("Bail out! no store in %s\n", dir);
        return 1;
    }
    uv_loop_init(&loop);
    memset(&seen, 0, sizeof seen);

    /* Ordering: three recordings, their segments interleaved in the queue. */
    ok(br_writer_new(&w, &loop, st, 4 * SEG, done_cb, &seen) == 0, "writer started");
    for (int k = 0; k < 3; k++) {
        memset(&m[k], 0, sizeof m[k]);
        m[k].sample_rate = 8000;
        ok(br_writer_begin(w, &m[k], &r[k]) == 0 && strlen(m[k].id) == BR_ID_LEN,
           "recording %d: id made at once (%s)", k, m[k].id);
    }
    for (int n = 0; n < 20; n++)
        for (int k = 0; k < 3; k++) {
            memset(buf, n, sizeof buf);
            if (k == 2 && n >= 5)
                continue;
            br_writer_segment(w, r[k], buf, sizeof buf);
        }
    br_writer_get_stats(w, &ws);
    ok(ws.max_queued_bytes <= 4 * SEG, "the queue never held more than its bound (%zu bytes)",
       ws.max_queued_bytes);
    br_writer_seal(w, r[0], &m[0], BR_REC_SEALED, NULL, NULL, NULL);
    br_writer_seal(w, r[1], &m[1], BR_REC_SEALED, "tester", "unit", "stopped and deleted");
    br_writer_discard(w, r[2]);

    /* Outcomes arrive on the loop, not on the writer's thread. */
    for (int i = 0; i < 200 && seen.seals + seen.discards < 3; i++) {
        usleep(10000);
        run_loop_once(&loop);
    }
    is_int(seen.seals, 2, "both seals reported through the loop");
    is_int(seen.discards, 1, "the discard reported");
    is_int(seen.errors, 0, "no write failed");
    is_int(seen.segments[0], 20, "the first recording sealed with its 20 segments");
    is_int(seen.erased, 1, "the second one erased after its seal, as asked");
    br_writer_get_stats(w, &ws);
    ok(ws.stalls > 0, "a producer faster than the disk waited (%llu waits) instead of dropping audio",
       (unsigned long long)ws.stalls);
    ok(ws.syncs >= 1 && ws.syncs < ws.batches + 1, "seals made durable by group syncs (%llu syncs, %llu batches)",
       (unsigned long long)ws.syncs, (unsigned long long)ws.batches);

    {
        struct audio a = { 0, 0, 0 };
        br_rec_meta_t rm;
        int rc = br_store_read_audio(st, m[0].id, audio_cb, &a);
        ok(rc == 0 && !a.bad && a.bytes == 20 * SEG, "segments chained and decrypted in queue order");
        int sealed_ok = 0;
        ok(br_store_verify(st, m[0].id, verify_cb, &sealed_ok) == 0 && sealed_ok,
           "its chain and seal verify");
        rc = br_store_read_meta(st, m[1].id, &rm);
        ok(rc == 0 && rm.state == BR_REC_ERASED, "the erased recording reads as erased");
        rc = br_store_read_meta(st, m[2].id, &rm);
        ok(rc == -ENOENT, "the discarded recording is gone (%d)", rc);
    }

    /* Shutdown: what is queued when close is called is written before it
     * returns, and its outcome reported. */
    {
        br_rec_meta_t x;
        br_wrec_t *rx;
        memset(&x, 0, sizeof x);
        x.sample_rate = 8000;
        br_writer_begin(w, &x, &rx);
        for (int n = 0; n < 3; n++) {
            memset(buf, n, sizeof buf);
            br_writer_segment(w, rx, buf, sizeof buf);
        }
        br_writer_seal(w, rx, &x, BR_REC_SEALED, NULL, NULL, NULL);
        br_writer_close(w, NULL, NULL);
        is_int(seen.seals, 3, "close wrote and reported what was still queued");
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    br_writer_free(w);
    ok(uv_loop_close(&loop) == 0, "every handle closed");
    br_store_close(st);
    {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            printf("# could not remove %s\n", dir);
    }
    return tap_done();
}
