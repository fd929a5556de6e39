/*
 * The store writer: one thread that makes the store writes of recordings in
 * progress (first metadata, audio segments, seals, discards), so that the
 * event loop, which also reads every RTP socket, never waits for LevelDB:
 * not for an fsync (4 ms on a virtio disk), not for LevelDB's write
 * throttle while compaction catches up.
 *
 * The loop queues work and goes on; the thread takes everything queued at
 * once, writes it in queue order, and makes it durable with one sync for
 * the whole batch when any of it asked for one (group commit): a recording's
 * first metadata and its seal are durable before their outcome is reported,
 * as they were when each was synced on its own, and a burst of 200 call
 * set-ups a second costs a few syncs instead of 200. Outcomes come back to
 * the loop (done_cb, on the loop's thread) only where the loop must act:
 * any failure, every seal and discard.
 *
 * Ordering: one thread, one FIFO, so a recording's segments are chained in
 * the order they were produced and its seal comes after its last segment;
 * ledger entries are appended in the order recordings are sealed. What a
 * crash (kill -9) loses is what was still queued: the queue is drained as
 * fast as the disk takes it, normally well under one segment per recording.
 *
 * Segments are appended to each recording's audio file as they come (one
 * write each, not synced); a seal syncs its file before the seal record.
 *
 * Back-pressure: the queue holds at most max_bytes of audio; a producer that
 * finds it full waits (counted in stalls) rather than drop audio, so a disk
 * that cannot keep up slows the loop down only after that much buffering.
 * The bound is large on purpose: a disk stalls in bursts (another process's
 * writes, the journal), and while the loop waits the kernel drops RTP and
 * SIP goes unanswered, which is worse than holding the audio in memory for
 * a while.
 */
#ifndef BR_WRITER_H
#define BR_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sql-free-store/store.h"

typedef struct br_writer br_writer_t;
typedef struct br_wrec br_wrec_t; /* one recording being written */

enum br_write_op { BR_WRITE_BEGIN = 1, BR_WRITE_SEGMENT, BR_WRITE_SEAL, BR_WRITE_DISCARD };

/* An outcome handed to done_cb; valid only during the call. */
typedef struct br_write_done {
    int op;                     /* enum br_write_op */
    int rc;                     /* 0 or a negative errno from the store */
    const char *id;             /* the recording */
    const br_rec_meta_t *meta;  /* BR_WRITE_SEAL: as sealed (segments, flags set) */
    int erase_asked;            /* BR_WRITE_SEAL: an erasure followed the seal */
    int erase_rc;               /* and its outcome */
} br_write_done_t;

typedef void (*br_writer_done_cb)(const br_write_done_t *d, void *ctx);

typedef struct br_writer_stats {
    uint64_t jobs;          /* written */
    uint64_t batches;       /* times the thread took the queue */
    uint64_t syncs;         /* group syncs */
    uint64_t stalls;        /* producer waits on a full queue */
    size_t queued_bytes;    /* now */
    size_t max_queued_bytes;
} br_writer_stats_t;

/* Starts the thread. done_cb runs on loop's thread. max_bytes bounds the
 * audio waiting in the queue (0: 256 MiB). */
int br_writer_new(br_writer_t **out, uv_loop_t *loop, br_store_t *st, size_t max_bytes,
                  br_writer_done_cb cb, void *ctx);
/* Starts a recording: makes its id (into meta->id) and data key now and
 * queues the write of meta as its first metadata. *out is the handle for
 * what follows; it stays valid until it is sealed or discarded. */
int br_writer_begin(br_writer_t *w, br_rec_meta_t *meta, br_wrec_t **out);
/* Queues a segment of audio (copied). Waits while the queue is full. */
int br_writer_segment(br_writer_t *w, br_wrec_t *r, const uint8_t *audio, size_t len);
/* Queues the seal with meta (copied) as the final metadata; r is gone
 * afterwards. erase_actor non-NULL: erase the recording once sealed (the
 * user stopped and deleted it, or consent was withdrawn). */
int br_writer_seal(br_writer_t *w, br_wrec_t *r, const br_rec_meta_t *meta, uint8_t state,
                   const char *erase_actor, const char *erase_source, const char *erase_reason);
/* Queues the removal of a recording that holds nothing worth keeping; r is
 * gone afterwards. */
int br_writer_discard(br_writer_t *w, br_wrec_t *r);
/* Waits until everything queued is written, and runs the outstanding
 * done callbacks before it returns. Blocks the caller: for shutdown and
 * tests. */
void br_writer_flush(br_writer_t *w);
/* Flushes, stops the thread and closes the loop handle; cb (may be NULL)
 * runs when it is closed, and then br_writer_free may be called. */
void br_writer_close(br_writer_t *w, void (*cb)(void *ctx), void *ctx);
void br_writer_free(br_writer_t *w);
void br_writer_get_stats(br_writer_t *w, br_writer_stats_t *out);

#endif
