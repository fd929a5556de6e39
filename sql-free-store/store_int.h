/*
 * What the store's own files share: the open database and a few helpers.
 * Not for use outside sql-free-store/.
 */
#ifndef BR_STORE_INT_H
#define BR_STORE_INT_H

#include <leveldb/c.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "store.h"

#define BR_KEY_MAX 64
#define BR_MAX_MASTER_KEYS 8

struct br_store {
    leveldb_t *db;
    leveldb_options_t *options;
    leveldb_cache_t *cache;
    leveldb_readoptions_t *ropts;
    leveldb_writeoptions_t *wopts;      /* no sync: segments */
    leveldb_writeoptions_t *wopts_sync; /* sync: meta at start, seal */
    /* The keyring: keys[0] wraps new data keys; the others (retired by a
     * rotation, not yet removed) only unwrap. Guarded by key_lock, since a
     * rotation runs on a worker thread while calls are recorded. */
    pthread_mutex_t key_lock;
    int nkeys;
    br_master_key_t keys[BR_MAX_MASTER_KEYS];
    /* Keys the blind search indexes: HMAC of a number or device name, so
     * the store can be searched without holding them in clear. */
    int have_index_key;
    uint8_t index_key[BR_KEY_LEN];
    /* The ledger's next sequence number; appends are serialised by the
     * mutex (the daemon appends from its loop, a CLI run from its thread). */
    char path[4096];
    size_t reserve_bytes; /* space held back for sealing when the disk fills */
    pthread_mutex_t ledger_lock;
    uint64_t ledger_size;
    /* A segment's plaintext is built here (compressed or not) before it is
     * encrypted; the compressor is kept for the next one. */
    pthread_mutex_t plain_lock;
    br_buf_t plain;
    void *zctx; /* ZSTD_CCtx */
    int compress;
    /* Audio files held open by writers, and how many may be (audio.c). */
    atomic_long audio_fds;
    long audio_fd_cap;
};


/* Translates (and frees) a LevelDB error string into a negative errno. */
int br_store_map_error(char *err);
int br_store_put(br_store_t *st, const char *key, size_t klen, const void *val, size_t vlen, int sync);
/* Destroys an iterator, turning its error (if rc is still 0) into rc. */
int br_store_iter_done(leveldb_iterator_t *it, int rc);
/* A malloc'd value (free with leveldb_free), or NULL with *rc = -ENOENT. */
char *br_store_get(br_store_t *st, const char *key, size_t klen, size_t *vlen, int *rc);

/* Adds the entry and its Merkle nodes to batch (ledger lock held). */
int br_ledger_add_to_batch(br_store_t *st, leveldb_writebatch_t *batch, br_ledger_entry_t *e);
/* Writes batch, synced, with the ledger entry e in it, so that what the
 * batch does and its record in the ledger land together. cb (may be NULL)
 * adds to the batch once e->seq is known. */
typedef void (*br_ledger_before_write_cb)(leveldb_writebatch_t *b, const br_ledger_entry_t *e, void *ctx);
int br_ledger_write(br_store_t *st, leveldb_writebatch_t *batch, br_ledger_entry_t *e,
                    br_ledger_before_write_cb cb, void *ctx);
/* The same, synced only if sync (the caller then syncs later with
 * br_store_sync(), before it reports the write as done). */
int br_ledger_write_opt(br_store_t *st, leveldb_writebatch_t *batch, br_ledger_entry_t *e,
                        br_ledger_before_write_cb cb, void *ctx, int sync);
int br_ledger_open(br_store_t *st);

/* The data key of a recording (or consent decision), unwrapped. */
int br_store_load_data_key(br_store_t *st, const char *id, br_aead_t **out);
/* A new id: 12 hex digits of milliseconds, 8 random. */
int br_store_make_id(char *id);
/* The blind-index key "idx/KIND/HMAC(value)/ID" (KEY_MAX bytes at out);
 * numbers (kind 'n', 'c') are normalised to digits first. */
size_t br_store_index_key(br_store_t *st, char *out, char kind, const char *value, const char *id);

/* ---- audio files (audio.c): <store>/audio/<last two hex digits of id>/<id>,
 * "bibrecA1" ‖ id ‖ records of u32 length ‖ segment value (FORMAT.md). */
#define BR_AUDIO_MAGIC_LEN 8

typedef struct br_audio_out {
    int fd;        /* -1 while closed (never opened, or over the open-file cap) */
    int created;
    int torn;      /* a failed append could not be cut off: br_audio_finish does */
    uint64_t size; /* bytes of whole records (and the header) written */
} br_audio_out_t;

typedef struct br_audio_in {
    FILE *fp;
    uint8_t *buf;
    size_t cap;
    uint64_t end; /* offset just past the last whole record read */
    int torn;     /* the file ended inside a record */
} br_audio_in_t;

void br_audio_setup(br_store_t *st);
int br_audio_path(const br_store_t *st, const char *id, char *out, size_t outsz);
/* Appends one record, creating the file (and its folders) on first use;
 * a failed append leaves the file as it was. */
int br_audio_append(br_store_t *st, const char *id, br_audio_out_t *f, const uint8_t *v, size_t len);
/* Makes the file durable (data and its directory entry) and closes it. */
int br_audio_finish(br_store_t *st, const char *id, br_audio_out_t *f);
void br_audio_close(br_store_t *st, br_audio_out_t *f);
int br_audio_remove(br_store_t *st, const char *id);
/* -ENOENT: no file (no audio yet, or a recording of an earlier version whose
 * segments are in LevelDB); -EBADMSG: not this recording's audio file. */
int br_audio_open(const br_store_t *st, const char *id, br_audio_in_t *r);
/* 1 with the next record's value in *v (valid until the next call), 0 at
 * the end, < 0 with reason filled in when the file is cut or malformed. */
int br_audio_next(br_audio_in_t *r, const uint8_t **v, size_t *len, char *reason, size_t reasonsz);
void br_audio_in_close(br_audio_in_t *r);
/* Cuts the file to size bytes, synced (recovery drops a torn tail). */
int br_audio_truncate(const br_store_t *st, const char *id, uint64_t size);
/* Copies id's audio file, if any, into the store folder dir. */
int br_audio_copy(const br_store_t *st, const char *id, const char *dir);
/* Calls fn for every recording id (see store.c). */
int br_store_each_id(br_store_t *st, leveldb_readoptions_t *ro,
                     int (*fn)(br_store_t *, const char *, void *), void *ctx);

#endif
