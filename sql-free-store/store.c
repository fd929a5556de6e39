/*
 * LevelDB-backed recording store; see store.h for the key layout and the
 * chain. Writes of a running call go to LevelDB without fsync (the log is
 * appended in order, so a crash keeps a prefix of the segments), while the
 * records that finish something (the first metadata, the seal) are synced.
 */
#include "store.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <leveldb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "common/log.h"
#include "common/util.h"
#include "store_int.h"

#define SEAL_VERSION 1
#define META_BLOB_VERSION 1
#define SEG_HDR (BR_HASH_LEN + BR_NONCE_LEN)
#define KEY_MAX 64
/* A segment's plaintext in an audio file: u8 encoding ‖ payload. */
#define ENC_RAW 0
#define ENC_ZSTD 1
/* Decompressed, a segment is never larger than this (10 s of 16 kHz stereo is 640 KB). */
#define PLAIN_MAX (4u << 20)

struct br_rec_writer {
    br_store_t *st;
    char id[BR_ID_LEN + 1];
    uint8_t wrapped[BR_WRAPPED_KEY_LEN]; /* the data key, for br_rec_begin */
    br_aead_t *aead;
    uint8_t link[BR_HASH_LEN];    /* of the last segment written */
    uint32_t segments;
    /* Segments added to a batch not yet written (br_rec_segment_add) chain
     * on these; the batch's outcome makes them the written state or not. */
    uint8_t plink[BR_HASH_LEN];
    uint32_t psegments;
    br_audio_out_t audio;
    br_buf_t scratch;
};

int br_store_map_error(char *err)
{
    int rc = -EIO;
    if (!err)
        return 0;
    if (strstr(err, "lock") || strstr(err, "LOCK"))
        rc = -EBUSY;
    else if (strstr(err, "Corruption"))
        rc = -EPROTO;
    else if (strstr(err, "No space"))
        rc = -ENOSPC;
    br_debug("leveldb: %s", err);
    leveldb_free(err);
    return rc;
}

/* The index key lives in the store wrapped by the master key, made once. */
static int load_index_key(br_store_t *st)
{
    static const char key[] = "meta/index-key";
    uint8_t blob[BR_WRAPPED_KEY_LEN];
    size_t vlen;
    char *v;
    int rc;

    v = br_store_get(st, key, sizeof key - 1, &vlen, &rc);
    if (v) {
        rc = -EKEYREJECTED;
        for (int i = 0; i < st->nkeys && rc < 0; i++)
            rc = br_key_unwrap(&st->keys[i], (uint8_t *)v, vlen, "index-key", 9, st->index_key);
        leveldb_free(v);
        if (rc < 0)
            return 0; /* searching is off until a key that opens it is loaded */
        st->have_index_key = 1;
        return 0;
    }
    if (rc != -ENOENT)
        return rc;
    rc = br_random_key(st->index_key, BR_KEY_LEN);
    if (rc == 0)
        rc = br_key_wrap(&st->keys[0], st->index_key, "index-key", 9, blob);
    if (rc == 0)
        rc = br_store_put(st, key, sizeof key - 1, blob, sizeof blob, 1);
    st->have_index_key = rc == 0;
    return rc;
}

static size_t index_key(br_store_t *st, char *out, char kind, const char *value, const char *id)
{
    char norm[BR_META_STR], hex[33];
    uint8_t h[BR_HASH_LEN];
    size_t i;

    if (kind == 'n' || kind == 'c') {
        br_number_digits(value, norm, sizeof norm);
    } else {
        for (i = 0; value[i] && i + 1 < sizeof norm; i++)
            norm[i] = (char)toupper((unsigned char)value[i]);
        norm[i] = 0;
    }
    br_hmac_sha256(st->index_key, norm, strlen(norm), h);
    br_hex_encode(h, 16, hex);
    return (size_t)snprintf(out, KEY_MAX, "idx/%c/%s/%s", kind, hex, id ? id : "");
}

size_t br_store_index_key(br_store_t *st, char *out, char kind, const char *value, const char *id)
{
    return index_key(st, out, kind, value, id);
}

/* Adds (or, with del, removes) the index entries of a recording. */
static void index_batch(br_store_t *st, leveldb_writebatch_t *b, const br_rec_meta_t *m, int del)
{
    const char *values[4] = { m->near.addr, m->far.addr, m->near.device, m->far.device };
    char key[KEY_MAX];

    if (!st->have_index_key)
        return;
    for (int i = 0; i < 4; i++) {
        size_t klen;
        if (!values[i][0])
            continue;
        klen = index_key(st, key, i < 2 ? 'n' : 'd', values[i], m->id);
        if (del)
            leveldb_writebatch_delete(b, key, klen);
        else
            leveldb_writebatch_put(b, key, klen, "", 0);
    }
}

int br_store_open(br_store_t **out, const char *path, const br_master_key_t *mk)
{
    char dbpath[4096];
    char *err = NULL;
    br_store_t *st;
    int rc;

    *out = NULL;
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -errno;
    if ((size_t)snprintf(dbpath, sizeof dbpath, "%s/db", path) >= sizeof dbpath)
        return -ENAMETOOLONG;
    st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    br_strlcpy(st->path, path, sizeof st->path);
    st->options = leveldb_options_create();
    leveldb_options_set_create_if_missing(st->options, 1);
    /* Values are ciphertext: compression would only cost CPU. */
    leveldb_options_set_compression(st->options, leveldb_no_compression);
    /* No paranoid checks: after a crash or a full disk the log may end in a
     * torn record, which LevelDB should skip rather than refuse to open;
     * our own chains and ledger say whether anything that matters broke. */
    leveldb_options_set_paranoid_checks(st->options, 0);
    /* The block cache serves the few small reads of a recording's life
     * (its metadata at the seal) and the CLI's scans, which read each block
     * once: 1 MiB instead of LevelDB's default 8 MiB of resident memory. */
    st->cache = leveldb_cache_create_lru(1u << 20);
    /* The audio is in files of its own: what LevelDB gets (keys, metadata,
     * seals, indexes, the ledger) is a few KB per recording, so a 1 MiB
     * memtable (LevelDB's default is 4 MiB of resident memory) still
     * holds hundreds of recordings between flushes. */
    leveldb_options_set_write_buffer_size(st->options, 1u << 20);
    leveldb_options_set_cache(st->options, st->cache);
    st->ropts = leveldb_readoptions_create();
    leveldb_readoptions_set_verify_checksums(st->ropts, 1);
    st->wopts = leveldb_writeoptions_create();
    st->wopts_sync = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(st->wopts_sync, 1);
    st->db = leveldb_open(st->options, dbpath, &err);
    if (err) {
        rc = br_store_map_error(err);
        br_store_close(st);
        return rc;
    }
    pthread_mutex_init(&st->key_lock, NULL);
    pthread_mutex_init(&st->plain_lock, NULL);
    br_buf_init(&st->plain);
    st->compress = 1;
    br_audio_setup(st);
    if (mk) {
        st->keys[0] = *mk;
        st->nkeys = 1;
    }
    rc = br_ledger_open(st);
    if (rc == 0 && st->nkeys)
        rc = load_index_key(st);
    if (rc < 0) {
        br_store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

void br_store_set_compress(br_store_t *st, int on)
{
    pthread_mutex_lock(&st->plain_lock);
    st->compress = on;
    pthread_mutex_unlock(&st->plain_lock);
}

void br_store_close(br_store_t *st)
{
    if (!st)
        return;
    if (st->db) {
        leveldb_close(st->db);
        pthread_mutex_destroy(&st->ledger_lock);
    }
    leveldb_options_destroy(st->options);
    if (st->cache)
        leveldb_cache_destroy(st->cache);
    leveldb_readoptions_destroy(st->ropts);
    leveldb_writeoptions_destroy(st->wopts);
    leveldb_writeoptions_destroy(st->wopts_sync);
    explicit_bzero(st->keys, sizeof st->keys);
    explicit_bzero(st->index_key, sizeof st->index_key);
    pthread_mutex_destroy(&st->key_lock);
    pthread_mutex_destroy(&st->plain_lock);
    br_buf_free(&st->plain);
    ZSTD_freeCCtx(st->zctx);
    free(st);
}

/* ---- small helpers ---------------------------------------------------- */

int br_store_iter_done(leveldb_iterator_t *it, int rc)
{
    if (rc == 0) {
        char *err = NULL;
        leveldb_iter_get_error(it, &err);
        rc = br_store_map_error(err);
    }
    leveldb_iter_destroy(it);
    return rc;
}

static size_t rec_key(char *out, const char *id, const char *what)
{
    return (size_t)snprintf(out, KEY_MAX, "rec/%s/%s", id, what);
}

static size_t seg_key(char *out, const char *id, uint32_t n)
{
    return (size_t)snprintf(out, KEY_MAX, "rec/%s/seg/%08" PRIu32, id, n);
}

int br_store_sync(br_store_t *st)
{
    /* An empty batch, synced: LevelDB appends it to its log and syncs the
     * log, which makes every earlier write durable (the log is one file,
     * written in order). */
    leveldb_writebatch_t *b = leveldb_writebatch_create();
    char *err = NULL;
    leveldb_write(st->db, st->wopts_sync, b, &err);
    leveldb_writebatch_destroy(b);
    return br_store_map_error(err);
}

int br_store_put(br_store_t *st, const char *key, size_t klen, const void *val, size_t vlen,
                  int sync)
{
    char *err = NULL;
    leveldb_put(st->db, sync ? st->wopts_sync : st->wopts, key, klen, val, vlen, &err);
    return br_store_map_error(err);
}

/* Returns a malloc'd value (free with leveldb_free), NULL with *rc = -ENOENT
 * when absent. */
char *br_store_get(br_store_t *st, const char *key, size_t klen, size_t *vlen, int *rc)
{
    char *err = NULL;
    char *v = leveldb_get(st->db, st->ropts, key, klen, vlen, &err);
    *rc = br_store_map_error(err);
    if (*rc == 0 && !v)
        *rc = -ENOENT;
    return v;
}

static void chain_start(const char *id, uint8_t out[BR_HASH_LEN])
{
    static const char label[] = "bibrec chain v1";
    struct br_iov p[2] = { { label, sizeof label - 1 }, { id, strlen(id) } };
    br_sha256(p, 2, out);
}

static void chain_next(const uint8_t prev[BR_HASH_LEN], const void *blob, size_t len,
                       uint8_t out[BR_HASH_LEN])
{
    uint8_t h[BR_HASH_LEN];
    struct br_iov one = { blob, len };
    struct br_iov two[2] = { { prev, BR_HASH_LEN }, { h, BR_HASH_LEN } };
    br_sha256(&one, 1, h);
    br_sha256(two, 2, out);
}

static int valid_id(const char *id)
{
    if (strlen(id) != BR_ID_LEN)
        return 0;
    for (int i = 0; i < BR_ID_LEN; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return 1;
}

static void seg_aad(uint8_t *aad, const char *id, uint32_t n, const uint8_t prev[BR_HASH_LEN])
{
    memcpy(aad, id, BR_ID_LEN);
    for (int i = 0; i < 4; i++)
        aad[BR_ID_LEN + i] = (uint8_t)(n >> (8 * i));
    memcpy(aad + BR_ID_LEN + 4, prev, BR_HASH_LEN);
}
#define SEG_AAD_LEN (BR_ID_LEN + 4 + BR_HASH_LEN)

/* Unwraps with whichever key of the ring the blob names. */
static int unwrap_any(br_store_t *st, const uint8_t *blob, size_t len, const char *id,
                      uint8_t dk[BR_KEY_LEN])
{
    int rc = -ENOKEY;

    pthread_mutex_lock(&st->key_lock);
    for (int i = 0; i < st->nkeys && rc == -ENOKEY; i++)
        rc = br_key_unwrap(&st->keys[i], blob, len, id, BR_ID_LEN, dk);
    pthread_mutex_unlock(&st->key_lock);
    return rc;
}

int br_store_load_data_key(br_store_t *st, const char *id, br_aead_t **out)
{
    char key[KEY_MAX];
    uint8_t dk[BR_KEY_LEN];
    size_t klen = (size_t)snprintf(key, sizeof key, "key/%s", id), vlen;
    char *v;
    int rc;

    *out = NULL;
    v = br_store_get(st, key, klen, &vlen, &rc);
    if (!v)
        return rc == -ENOENT ? -ENOKEY : rc;
    rc = unwrap_any(st, (uint8_t *)v, vlen, id, dk);
    leveldb_free(v);
    if (rc == 0)
        rc = br_aead_new(out, dk);
    explicit_bzero(dk, sizeof dk);
    return rc;
}

/* Meta blob: [version 1][nonce 12][ciphertext+tag], AAD = "meta" || id. */
static int write_meta(br_store_t *st, br_aead_t *aead, const br_rec_meta_t *m, br_buf_t *scratch,
                      int sync)
{
    br_buf_t plain;
    uint8_t aad[4 + BR_ID_LEN];
    char key[KEY_MAX];
    size_t klen;
    int rc;

    br_buf_init(&plain);
    rc = br_meta_encode(m, &plain);
    if (rc < 0)
        goto out;
    br_buf_reset(scratch);
    rc = br_buf_reserve(scratch, 1 + BR_NONCE_LEN + plain.len + BR_TAG_LEN);
    if (rc < 0)
        goto out;
    scratch->data[0] = META_BLOB_VERSION;
    rc = br_random_nonce(scratch->data + 1, BR_NONCE_LEN);
    if (rc < 0)
        goto out;
    memcpy(aad, "meta", 4);
    memcpy(aad + 4, m->id, BR_ID_LEN);
    rc = br_aead_seal(aead, scratch->data + 1, aad, sizeof aad, plain.data, plain.len,
                      scratch->data + 1 + BR_NONCE_LEN);
    if (rc < 0)
        goto out;
    scratch->len = 1 + BR_NONCE_LEN + plain.len + BR_TAG_LEN;
    klen = rec_key(key, m->id, "meta");
    rc = br_store_put(st, key, klen, scratch->data, scratch->len, sync);
out:
    br_buf_free(&plain);
    return rc;
}

static int decrypt_meta(br_aead_t *aead, const char *id, const uint8_t *v, size_t vlen,
                        br_rec_meta_t *m)
{
    uint8_t aad[4 + BR_ID_LEN];
    uint8_t *plain;
    size_t plen;
    int rc;

    if (vlen < 1 + BR_NONCE_LEN + BR_TAG_LEN || v[0] != META_BLOB_VERSION)
        return -EPROTO;
    plen = vlen - 1 - BR_NONCE_LEN - BR_TAG_LEN;
    plain = malloc(plen ? plen : 1);
    if (!plain)
        return -ENOMEM;
    memcpy(aad, "meta", 4);
    memcpy(aad + 4, id, BR_ID_LEN);
    rc = br_aead_open(aead, v + 1, aad, sizeof aad, v + 1 + BR_NONCE_LEN, vlen - 1 - BR_NONCE_LEN,
                      plain);
    if (rc == 0)
        rc = br_meta_decode(plain, plen, m);
    if (rc == 0 && strcmp(m->id, id) != 0)
        rc = -EPROTO;
    free(plain);
    return rc;
}

/* ---- writing ------------------------------------------------------------ */

int br_store_make_id(char *id)
{
    uint8_t rnd[4];
    uint64_t ms = (uint64_t)br_now_us() / 1000;
    int rc = br_random_nonce(rnd, sizeof rnd);
    if (rc < 0)
        return rc;
    snprintf(id, BR_ID_LEN + 1, "%012" PRIx64 "%02x%02x%02x%02x", ms & UINT64_C(0xffffffffffff), rnd[0],
             rnd[1], rnd[2], rnd[3]);
    return 0;
}

int br_rec_new(br_store_t *st, br_rec_meta_t *meta, br_rec_writer_t **out)
{
    uint8_t dk[BR_KEY_LEN];
    br_rec_writer_t *w;
    int rc;

    *out = NULL;
    if (st->nkeys == 0)
        return -ENOKEY;
    w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->st = st;
    w->audio.fd = -1;
    br_buf_init(&w->scratch);
    rc = br_store_make_id(meta->id);
    if (rc < 0)
        goto fail;
    memcpy(w->id, meta->id, BR_ID_LEN + 1);
    rc = br_random_key(dk, sizeof dk);
    if (rc < 0)
        goto fail;
    pthread_mutex_lock(&st->key_lock);
    rc = br_key_wrap(&st->keys[0], dk, w->id, BR_ID_LEN, w->wrapped);
    pthread_mutex_unlock(&st->key_lock);
    if (rc < 0)
        goto fail;
    rc = br_aead_new(&w->aead, dk);
    if (rc < 0)
        goto fail;
    chain_start(w->id, w->link);
    memcpy(w->plink, w->link, BR_HASH_LEN);
    explicit_bzero(dk, sizeof dk);
    meta->state = BR_REC_RECORDING;
    *out = w;
    return 0;
fail:
    explicit_bzero(dk, sizeof dk);
    br_aead_free(w->aead);
    br_buf_free(&w->scratch);
    free(w);
    return rc;
}

int br_rec_begin(br_rec_writer_t *w, const br_rec_meta_t *meta, int sync)
{
    char key[KEY_MAX];
    size_t klen = (size_t)snprintf(key, sizeof key, "key/%s", w->id);
    br_rec_meta_t m;
    int rc;

    rc = br_store_put(w->st, key, klen, w->wrapped, sizeof w->wrapped, 0);
    if (rc < 0)
        return rc;
    if (strcmp(meta->id, w->id) == 0 && meta->state == BR_REC_RECORDING)
        return write_meta(w->st, w->aead, meta, &w->scratch, sync);
    m = *meta;
    memcpy(m.id, w->id, BR_ID_LEN + 1);
    m.state = BR_REC_RECORDING;
    return write_meta(w->st, w->aead, &m, &w->scratch, sync);
}

void br_rec_writer_free(br_rec_writer_t *w)
{
    if (!w)
        return;
    br_audio_close(w->st, &w->audio);
    br_aead_free(w->aead);
    br_buf_free(&w->scratch);
    explicit_bzero(w->wrapped, sizeof w->wrapped);
    free(w);
}

int br_rec_create(br_store_t *st, br_rec_meta_t *meta, br_rec_writer_t **out)
{
    br_rec_writer_t *w;
    int rc = br_rec_new(st, meta, &w);

    *out = NULL;
    if (rc < 0)
        return rc;
    rc = br_rec_begin(w, meta, 1);
    if (rc < 0) {
        br_rec_writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* The plaintext of the next segment into st->plain: the audio compressed
 * when that makes it smaller, else as it is. Called with st->plain_lock. */
static int segment_plain(br_store_t *st, const uint8_t *audio, size_t len)
{
    size_t bound = ZSTD_compressBound(len), n;
    int rc = br_buf_reserve(&st->plain, 1 + (bound > len ? bound : len));

    br_buf_reset(&st->plain);
    if (rc < 0)
        return rc;
    if (st->compress) {
        if (!st->zctx)
            st->zctx = ZSTD_createCCtx();
        /* Level 1: about 300 MB/s here, and within 0.1 % of level 19 on telephone audio. */
        n = st->zctx ? ZSTD_compressCCtx(st->zctx, st->plain.data + 1, bound, audio, len, 1) : 0;
        if (st->zctx && !ZSTD_isError(n) && n < len) {
            st->plain.data[0] = ENC_ZSTD;
            st->plain.len = 1 + n;
            return 0;
        }
    }
    st->plain.data[0] = ENC_RAW;
    memcpy(st->plain.data + 1, audio, len);
    st->plain.len = 1 + len;
    return 0;
}

/* Encrypts and chains the next segment into scratch, on the pending state. */
static int segment_encode(br_rec_writer_t *w, const uint8_t *audio, size_t len, br_buf_t *scratch)
{
    br_store_t *st = w->st;
    uint8_t aad[SEG_AAD_LEN];
    uint8_t *v;
    size_t vlen;
    int rc;

    pthread_mutex_lock(&st->plain_lock);
    rc = segment_plain(st, audio, len);
    vlen = SEG_HDR + st->plain.len + BR_TAG_LEN;
    br_buf_reset(scratch);
    if (rc == 0)
        rc = br_buf_reserve(scratch, vlen);
    v = scratch->data;
    if (rc == 0)
        rc = br_random_nonce(v + BR_HASH_LEN, BR_NONCE_LEN);
    seg_aad(aad, w->id, w->psegments, w->plink);
    if (rc == 0)
        rc = br_aead_seal(w->aead, v + BR_HASH_LEN, aad, sizeof aad, st->plain.data, st->plain.len,
                          v + SEG_HDR);
    pthread_mutex_unlock(&st->plain_lock);
    if (rc < 0)
        return rc;
    chain_next(w->plink, v + BR_HASH_LEN, vlen - BR_HASH_LEN, v);
    scratch->len = vlen;
    memcpy(w->plink, v, BR_HASH_LEN);
    w->psegments++;
    return 0;
}

static void segments_done(br_rec_writer_t *w, int written)
{
    if (written) {
        memcpy(w->link, w->plink, BR_HASH_LEN);
        w->segments = w->psegments;
    } else {
        memcpy(w->plink, w->link, BR_HASH_LEN);
        w->psegments = w->segments;
    }
}

int br_rec_write_segment(br_rec_writer_t *w, const uint8_t *audio, size_t len)
{
    return br_rec_write_segment_buf(w, audio, len, &w->scratch);
}

int br_rec_write_segment_buf(br_rec_writer_t *w, const uint8_t *audio, size_t len, br_buf_t *scratch)
{
    int rc = segment_encode(w, audio, len, scratch);

    if (rc == 0)
        rc = br_audio_append(w->st, w->id, &w->audio, scratch->data, scratch->len);
    segments_done(w, rc == 0);
    return rc;
}

/* Writes the seal [version][segments u32][final hash 32][time u64] and the
 * ledger's "sealed" entry in one synced batch: a recording is sealed if and
 * only if the ledger says so. */
/* exp/<when, hex seconds>/<id> orders recordings by when they are due to
 * be erased; rec/<id>/exp says which entry is theirs (to move it on Keep). */
static size_t exp_key(char *out, int64_t when_us, const char *id)
{
    return (size_t)snprintf(out, KEY_MAX, "exp/%016" PRIx64 "/%s", (uint64_t)(when_us / 1000000), id);
}

static void add_expiry(leveldb_writebatch_t *batch, const char *id, const br_rec_meta_t *m)
{
    char key[KEY_MAX];
    uint8_t val[17];
    int64_t when = m->keep_deadline_us ? m->keep_deadline_us : m->retain_until_us;
    uint8_t reason = m->keep_deadline_us ? BR_EXPIRY_NOT_KEPT : BR_EXPIRY_RETENTION;

    if (!when)
        return;
    leveldb_writebatch_put(batch, key, exp_key(key, when, id), (const char *)&reason, 1);
    val[0] = reason;
    for (int i = 0; i < 8; i++) {
        val[1 + i] = (uint8_t)((uint64_t)when >> (8 * i));
        val[9 + i] = (uint8_t)((uint64_t)m->retain_until_us >> (8 * i));
    }
    leveldb_writebatch_put(batch, key, rec_key(key, id, "exp"), (const char *)val, sizeof val);
}

/* Where a recording's sealing is in the ledger, for proofs (ledger.c). */
static void note_ledger_position(leveldb_writebatch_t *batch, const br_ledger_entry_t *e, void *ctx)
{
    char key[KEY_MAX];
    uint8_t seq[8];
    for (int i = 0; i < 8; i++)
        seq[i] = (uint8_t)(e->seq >> (8 * i));
    leveldb_writebatch_put(batch, key, rec_key(key, ctx, "ledger"), (const char *)seq, 8);
}

static int write_seal(br_store_t *st, const char *id, uint32_t segments,
                      const uint8_t link[BR_HASH_LEN], const char *actor, uint8_t state,
                      const br_rec_meta_t *m, int sync)
{
    leveldb_writebatch_t *batch;
    br_ledger_entry_t e;
    char key[KEY_MAX];
    size_t klen, vlen;
    char *meta;
    br_buf_t b;
    int rc;

    memset(&e, 0, sizeof e);
    klen = rec_key(key, id, "meta");
    meta = br_store_get(st, key, klen, &vlen, &rc);
    if (!meta)
        return rc;
    chain_next(link, meta, vlen, e.hash);
    leveldb_free(meta);
    e.type = BR_LEDGER_SEALED;
    br_strlcpy(e.actor, actor, sizeof e.actor);
    br_strlcpy(e.action, "seal", sizeof e.action);
    br_strlcpy(e.target, id, sizeof e.target);
    br_strlcpy(e.source, "-", sizeof e.source);
    snprintf(e.detail, sizeof e.detail, "state=%s segments=%" PRIu32, br_rec_state_name(state),
             segments);
    br_buf_init(&b);
    br_buf_put_u8(&b, SEAL_VERSION);
    br_buf_put_u32le(&b, segments);
    br_buf_append(&b, e.hash, sizeof e.hash);
    br_buf_put_u64le(&b, (uint64_t)br_now_us());
    if (b.failed) {
        br_buf_free(&b);
        return -ENOMEM;
    }
    batch = leveldb_writebatch_create();
    klen = rec_key(key, id, "seal");
    leveldb_writebatch_put(batch, key, klen, (const char *)b.data, b.len);
    add_expiry(batch, id, m);
    index_batch(st, batch, m, 0);
    rc = br_ledger_write_opt(st, batch, &e, note_ledger_position, (void *)id, sync);
    leveldb_writebatch_destroy(batch);
    br_buf_free(&b);
    return rc;
}

int br_rec_seal_opt(br_rec_writer_t *w, br_rec_meta_t *meta, uint8_t state, int sync)
{
    int rc;

    meta->state = state;
    meta->segments = w->segments;
    memcpy(meta->id, w->id, BR_ID_LEN + 1);
    /* The seal vouches for the audio: it must be on disk first. */
    rc = br_audio_finish(w->st, w->id, &w->audio);
    if (rc < 0)
        br_err("recording %s: audio file not synced: %s", w->id, br_strerror(rc));
    if (rc == 0)
        rc = write_meta(w->st, w->aead, meta, &w->scratch, 0);
    if (rc == 0)
        rc = write_seal(w->st, w->id, w->segments, w->link, "bibrecd", state, meta, sync);
    br_rec_writer_free(w);
    return rc;
}

int br_rec_seal(br_rec_writer_t *w, br_rec_meta_t *meta, uint8_t state)
{
    return br_rec_seal_opt(w, meta, state, 1);
}

int br_rec_discard(br_rec_writer_t *w)
{
    return br_rec_discard_opt(w, 1);
}

int br_rec_discard_opt(br_rec_writer_t *w, int sync)
{
    leveldb_writebatch_t *batch = leveldb_writebatch_create();
    char key[KEY_MAX], *err = NULL;
    size_t klen;

    klen = (size_t)snprintf(key, sizeof key, "key/%s", w->id);
    leveldb_writebatch_delete(batch, key, klen);
    klen = rec_key(key, w->id, "meta");
    leveldb_writebatch_delete(batch, key, klen);
    leveldb_write(w->st->db, sync ? w->st->wopts_sync : w->st->wopts, batch, &err);
    leveldb_writebatch_destroy(batch);
    br_audio_close(w->st, &w->audio);
    if (w->audio.created) {
        int rc = br_audio_remove(w->st, w->id);
        if (rc < 0)
            br_warn("recording %s: audio file not removed: %s", w->id, br_strerror(rc));
    }
    br_rec_writer_free(w);
    return br_store_map_error(err);
}

void br_rec_writer_abandon(br_rec_writer_t *w)
{
    br_rec_writer_free(w);
}

const char *br_rec_writer_id(const br_rec_writer_t *w)
{
    return w->id;
}

uint32_t br_rec_writer_segments(const br_rec_writer_t *w)
{
    return w->segments;
}

/* ---- reading ------------------------------------------------------------ */

int br_store_read_meta(br_store_t *st, const char *id, br_rec_meta_t *m)
{
    char key[KEY_MAX];
    size_t klen, vlen;
    br_aead_t *aead;
    char *v;
    int rc;

    memset(m, 0, sizeof *m);
    if (!valid_id(id))
        return -ENOENT;
    br_strlcpy(m->id, id, sizeof m->id);
    klen = rec_key(key, id, "meta");
    v = br_store_get(st, key, klen, &vlen, &rc);
    if (!v)
        return rc;
    rc = br_store_load_data_key(st, id, &aead);
    if (rc == 0) {
        rc = decrypt_meta(aead, id, (uint8_t *)v, vlen, m);
        br_aead_free(aead);
    }
    leveldb_free(v);
    if (rc == -ENOKEY) {
        /* Crypto-shredded: only the marker says when and why. */
        char *e = br_store_get(st, key, rec_key(key, id, "erased"), &vlen, &rc);
        if (e) {
            br_reader_t r;
            memset(m, 0, sizeof *m);
            br_strlcpy(m->id, id, sizeof m->id);
            br_reader_init(&r, e, vlen);
            m->end_us = (int64_t)br_get_u64le(&r);
            m->start_us = m->end_us;
            m->sample_rate = 8000;
            m->state = BR_REC_ERASED;
            leveldb_free(e);
            return 0;
        }
        rc = -ENOKEY;
    }
    if (rc < 0) {
        memset(m, 0, sizeof *m);
        br_strlcpy(m->id, id, sizeof m->id);
    }
    return rc;
}

/* Walks "rec/<id>/..." keys and calls fn once per distinct id. */
int br_store_each_id(br_store_t *st, leveldb_readoptions_t *ro,
                   int (*fn)(br_store_t *, const char *, void *), void *ctx)
{
    leveldb_iterator_t *it = leveldb_create_iterator(st->db, ro);
    char id[BR_ID_LEN + 1], seek[KEY_MAX];
    int rc = 0;

    leveldb_iter_seek(it, "rec/", 4);
    while (leveldb_iter_valid(it)) {
        size_t klen;
        const char *k = leveldb_iter_key(it, &klen);
        if (klen < 4 || memcmp(k, "rec/", 4) != 0)
            break;
        if (klen < 4 + BR_ID_LEN + 1 || k[4 + BR_ID_LEN] != '/') {
            leveldb_iter_next(it); /* not ours: skip */
            continue;
        }
        memcpy(id, k + 4, BR_ID_LEN);
        id[BR_ID_LEN] = 0;
        if (valid_id(id)) {
            rc = fn(st, id, ctx);
            if (rc != 0)
                break;
        }
        /* '0' sorts right after '/', so this skips the rest of this id. */
        leveldb_iter_seek(it, seek, (size_t)snprintf(seek, sizeof seek, "rec/%s0", id));
    }
    rc = br_store_iter_done(it, rc);
    return rc;
}

struct each_ctx {
    br_store_each_cb cb;
    void *ctx;
};

static int each_meta(br_store_t *st, const char *id, void *ctx)
{
    struct each_ctx *c = ctx;
    br_rec_meta_t m;
    int rc = br_store_read_meta(st, id, &m);
    return c->cb(&m, rc, c->ctx);
}

int br_store_each(br_store_t *st, br_store_each_cb cb, void *ctx)
{
    struct each_ctx c = { cb, ctx };
    return br_store_each_id(st, st->ropts, each_meta, &c);
}

/* Iterates one recording's segments in order, checking numbering and the
 * chain. fn (may be NULL) gets each raw value. Returns 0, or on a broken
 * chain -EBADMSG with bad set to the segment and why in reason. */
struct walk;
typedef int (*seg_fn)(const struct walk *wk, const uint8_t *v, size_t vlen, void *ctx);

struct walk {
    uint8_t link[BR_HASH_LEN]; /* after the last segment whose chain holds */
    uint32_t count;            /* segments whose chain holds */
    int64_t bad;
    char reason[160];
    int in_file;               /* read from the audio file (else LevelDB: earlier versions) */
    int torn;                  /* the file ends inside a segment (reason says so) */
    uint64_t end;              /* file offset just past segment count - 1 */
};

static int walk_one(struct walk *wk, const uint8_t *v, size_t vlen, seg_fn fn, void *ctx)
{
    uint8_t computed[BR_HASH_LEN];
    int rc;

    if (vlen < SEG_HDR + BR_TAG_LEN) {
        snprintf(wk->reason, sizeof wk->reason, "segment truncated (%zu bytes)", vlen);
        return -EBADMSG;
    }
    chain_next(wk->link, v + BR_HASH_LEN, vlen - BR_HASH_LEN, computed);
    if (memcmp(computed, v, BR_HASH_LEN) != 0) {
        snprintf(wk->reason, sizeof wk->reason, "chain link mismatch (segment content or link altered)");
        return -EBADMSG;
    }
    if (fn) {
        rc = fn(wk, v, vlen, ctx); /* wk->count is the segment, wk->link the link before it */
        if (rc < 0) {
            snprintf(wk->reason, sizeof wk->reason, "%s", br_strerror(rc));
            return rc;
        }
    }
    memcpy(wk->link, computed, BR_HASH_LEN);
    wk->count++;
    return 0;
}

static int walk_file(br_audio_in_t *in, struct walk *wk, seg_fn fn, void *ctx)
{
    const uint8_t *v;
    size_t vlen;
    int rc;

    wk->in_file = 1;
    wk->end = in->end;
    while ((rc = br_audio_next(in, &v, &vlen, wk->reason, sizeof wk->reason)) > 0) {
        rc = walk_one(wk, v, vlen, fn, ctx);
        if (rc < 0)
            break;
        wk->end = in->end;
    }
    if (in->torn) {
        wk->torn = 1;
        rc = 0; /* a recording in progress, or cut by a crash: the caller decides */
    }
    return rc;
}

/* Recordings made before the audio files kept their segments in LevelDB under rec/<id>/seg/<n>. */
static int walk_db(br_store_t *st, leveldb_readoptions_t *ro, const char *id, struct walk *wk,
                   seg_fn fn, void *ctx)
{
    leveldb_iterator_t *it = leveldb_create_iterator(st->db, ro);
    char prefix[KEY_MAX];
    size_t plen = (size_t)snprintf(prefix, sizeof prefix, "rec/%s/seg/", id);
    int rc = 0;

    for (leveldb_iter_seek(it, prefix, plen); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vlen);
        char want[KEY_MAX];

        if (klen < plen || memcmp(k, prefix, plen) != 0)
            break;
        if (klen != seg_key(want, id, wk->count) || memcmp(k, want, klen) != 0) {
            snprintf(wk->reason, sizeof wk->reason, "segment missing (found key %.*s next)", (int)klen, k);
            rc = -EBADMSG;
            break;
        }
        rc = walk_one(wk, v, vlen, fn, ctx);
        if (rc < 0)
            break;
    }
    if (rc == 0) {
        char *err = NULL;
        leveldb_iter_get_error(it, &err);
        rc = br_store_map_error(err);
        if (rc < 0)
            snprintf(wk->reason, sizeof wk->reason, "store read error: %s", br_strerror(rc));
    }
    leveldb_iter_destroy(it);
    return rc;
}

static int walk_segments(br_store_t *st, leveldb_readoptions_t *ro, const char *id, struct walk *wk,
                         seg_fn fn, void *ctx)
{
    br_audio_in_t in;
    int rc;

    memset(wk, 0, sizeof *wk);
    wk->bad = -1;
    chain_start(id, wk->link);
    rc = br_audio_open(st, id, &in);
    if (rc == 0) {
        rc = walk_file(&in, wk, fn, ctx);
        br_audio_in_close(&in);
    } else if (rc == -ENOENT) {
        rc = walk_db(st, ro, id, wk, fn, ctx);
    } else {
        snprintf(wk->reason, sizeof wk->reason, "audio file %s",
                 rc == -EBADMSG ? "has a wrong header (not this recording's)" : br_strerror(rc));
        rc = rc == -EBADMSG ? rc : -EIO;
    }
    if (rc < 0)
        wk->bad = wk->count;
    return rc;
}

struct audio_ctx {
    const char *id;
    br_aead_t *aead;
    br_store_audio_cb cb; /* NULL: only count frames */
    void *ctx;
    uint8_t *plain, *out;
    size_t plaincap, outcap;
    ZSTD_DCtx *z;
    uint64_t bytes;       /* of audio handed on */
};

static int grow(uint8_t **p, size_t *cap, size_t want)
{
    uint8_t *n;

    if (want <= *cap)
        return 0;
    n = realloc(*p, want);
    if (!n)
        return -ENOMEM;
    *p = n;
    *cap = want;
    return 0;
}

/* A file segment's plaintext (u8 encoding ‖ payload) back to audio. */
static int decode_plain(struct audio_ctx *a, const uint8_t *p, size_t plen, const uint8_t **audio,
                        size_t *len)
{
    unsigned long long size;
    size_t n;
    int rc;

    if (plen < 1)
        return -EBADMSG;
    if (p[0] == ENC_RAW) {
        *audio = p + 1;
        *len = plen - 1;
        return 0;
    }
    if (p[0] != ENC_ZSTD)
        return -EBADMSG;
    size = ZSTD_getFrameContentSize(p + 1, plen - 1);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > PLAIN_MAX)
        return -EBADMSG;
    if (!a->z && !(a->z = ZSTD_createDCtx()))
        return -ENOMEM;
    rc = grow(&a->out, &a->outcap, size ? (size_t)size : 1);
    if (rc < 0)
        return rc;
    n = ZSTD_decompressDCtx(a->z, a->out, (size_t)size, p + 1, plen - 1);
    if (ZSTD_isError(n) || n != size)
        return -EBADMSG;
    *audio = a->out;
    *len = n;
    return 0;
}

static int decrypt_segment(const struct walk *wk, const uint8_t *v, size_t vlen, void *ctx)
{
    struct audio_ctx *a = ctx;
    size_t ctlen = vlen - SEG_HDR, plen = ctlen - BR_TAG_LEN, len;
    uint8_t aad[SEG_AAD_LEN];
    const uint8_t *audio;
    int rc;

    rc = grow(&a->plain, &a->plaincap, plen ? plen : 1);
    if (rc < 0)
        return rc;
    seg_aad(aad, a->id, wk->count, wk->link);
    rc = br_aead_open(a->aead, v + BR_HASH_LEN, aad, sizeof aad, v + SEG_HDR, ctlen, a->plain);
    if (rc < 0)
        return rc;
    audio = a->plain;
    len = plen;
    if (wk->in_file) {
        rc = decode_plain(a, a->plain, plen, &audio, &len);
        if (rc < 0)
            return rc;
    }
    a->bytes += len;
    return a->cb ? a->cb(audio, len, a->ctx) : 0;
}

static void audio_ctx_free(struct audio_ctx *a)
{
    br_aead_free(a->aead);
    ZSTD_freeDCtx(a->z);
    free(a->plain);
    free(a->out);
}

int br_store_read_audio(br_store_t *st, const char *id, br_store_audio_cb cb, void *ctx)
{
    struct audio_ctx a = { .id = id, .cb = cb, .ctx = ctx };
    struct walk wk;
    int rc;

    if (!valid_id(id))
        return -ENOENT;
    rc = br_store_load_data_key(st, id, &a.aead);
    if (rc < 0)
        return rc;
    rc = walk_segments(st, st->ropts, id, &wk, decrypt_segment, &a);
    if (rc < 0)
        br_warn("recording %s: segment %" PRId64 ": %s", id, wk.bad, wk.reason);
    audio_ctx_free(&a);
    return rc;
}

/* ---- verification and recovery ----------------------------------------- */

struct verify_ctx {
    const char *only;
    br_verify_cb cb;
    void *ctx;
    leveldb_readoptions_t *ro;
    int failures;
    int found;
};

/* An erasure that removed the audio file keeps its chain's end in the
 * marker (u64 time ‖ str reason ‖ u32 segments ‖ link): 1 with wk filled in
 * when that is so and the file is gone, else 0 (walk the segments). Read
 * from the latest state, not a snapshot: the file goes after the marker. */
static int erased_chain(br_store_t *st, const char *id, struct walk *wk)
{
    char key[KEY_MAX], path[4096];
    const uint8_t *link;
    br_reader_t r;
    size_t vlen;
    char *v;
    int rc, found = 0;

    v = br_store_get(st, key, rec_key(key, id, "erased"), &vlen, &rc);
    if (!v)
        return 0;
    br_reader_init(&r, v, vlen);
    br_get_u64le(&r);
    br_get_bytes(&r, br_get_u32le(&r));
    if (!r.failed && r.left == 4 + BR_HASH_LEN && br_audio_path(st, id, path, sizeof path) == 0 &&
        access(path, F_OK) < 0 && errno == ENOENT) {
        memset(wk, 0, sizeof *wk);
        wk->bad = -1;
        wk->count = br_get_u32le(&r);
        link = br_get_bytes(&r, BR_HASH_LEN);
        memcpy(wk->link, link, BR_HASH_LEN);
        wk->in_file = 1;
        found = 1;
    }
    leveldb_free(v);
    return found;
}

static int verify_one(br_store_t *st, const char *id, void *ctx)
{
    struct verify_ctx *c = ctx;
    br_verify_result_t r = { .id = id, .ok = 1, .bad_segment = -1 };
    uint8_t final[BR_HASH_LEN];
    struct walk wk;
    char key[KEY_MAX];
    size_t klen, mlen, slen;
    char *meta = NULL, *seal = NULL;
    int rc, mrc, src, audio_erased;

    if (c->only && strcmp(c->only, id) != 0)
        return 0;
    c->found++;
    audio_erased = erased_chain(st, id, &wk);
    rc = audio_erased ? 0 : walk_segments(st, c->ro, id, &wk, NULL, NULL);
    r.segments = wk.count;
    if (rc < 0) {
        r.ok = 0;
        r.bad_segment = wk.bad;
        br_strlcpy(r.reason, wk.reason, sizeof r.reason);
        goto report;
    }
    klen = rec_key(key, id, "meta");
    {
        char *err = NULL;
        meta = leveldb_get(st->db, c->ro, key, klen, &mlen, &err);
        mrc = br_store_map_error(err);
        klen = rec_key(key, id, "seal");
        seal = leveldb_get(st->db, c->ro, key, klen, &slen, &err);
        src = br_store_map_error(err);
    }
    if (mrc < 0 || !meta) {
        r.ok = 0;
        snprintf(r.reason, sizeof r.reason, "metadata missing or unreadable");
        goto report;
    }
    if (src < 0) {
        r.ok = 0;
        snprintf(r.reason, sizeof r.reason, "seal unreadable");
        goto report;
    }
    /* The wrapped data key is no part of the chain (a rotation re-wraps
     * it); with a master key at hand, check that it still opens. */
    if (st->nkeys) {
        uint8_t dk[BR_KEY_LEN];
        char *w;
        size_t wlen;
        int wrc;
        klen = (size_t)snprintf(key, sizeof key, "key/%s", id);
        w = br_store_get(st, key, klen, &wlen, &wrc);
        if (w) {
            wrc = unwrap_any(st, (uint8_t *)w, wlen, id, dk);
            explicit_bzero(dk, sizeof dk);
            leveldb_free(w);
            if (wrc < 0) {
                r.ok = 0;
                snprintf(r.reason, sizeof r.reason, "%s",
                         wrc == -ENOKEY ? "wrapped data key names a master key not held here "
                                          "(altered, or that key is missing)"
                                        : "wrapped data key altered (does not authenticate)");
                goto report;
            }
        }
    }
    if (!seal)
        goto report; /* still recording: the chain so far holds */
    r.sealed = 1;
    {
        br_reader_t rd;
        const uint8_t *h;
        uint32_t nseg;
        br_reader_init(&rd, seal, slen);
        if (br_get_u8(&rd) != SEAL_VERSION) {
            r.ok = 0;
            snprintf(r.reason, sizeof r.reason, "seal record malformed");
            goto report;
        }
        nseg = br_get_u32le(&rd);
        h = br_get_bytes(&rd, BR_HASH_LEN);
        br_get_u64le(&rd);
        if (rd.failed || rd.left) {
            r.ok = 0;
            snprintf(r.reason, sizeof r.reason, "seal record malformed");
            goto report;
        }
        if (wk.torn) { /* a sealed file never ends inside a segment */
            r.ok = 0;
            r.bad_segment = r.segments;
            snprintf(r.reason, sizeof r.reason, "%.100s (sealed with %" PRIu32 " segments)", wk.reason,
                     nseg);
            goto report;
        }
        if (nseg != r.segments) {
            r.ok = 0;
            r.bad_segment = nseg < r.segments ? nseg : r.segments;
            snprintf(r.reason, sizeof r.reason, "sealed with %" PRIu32 " segments, %" PRIu32 " found",
                     nseg, r.segments);
            goto report;
        }
        chain_next(wk.link, meta, mlen, final);
        if (memcmp(final, h, BR_HASH_LEN) != 0) {
            r.ok = 0;
            snprintf(r.reason, sizeof r.reason, "%s",
                     audio_erased ? "erased: the chain kept at erasure or the metadata altered "
                                    "(final chain hash mismatch)"
                                  : "metadata altered (final chain hash mismatch)");
        }
    }
report:
    if (!r.ok)
        c->failures++;
    c->cb(&r, c->ctx);
    if (meta)
        leveldb_free(meta);
    if (seal)
        leveldb_free(seal);
    return 0;
}

int br_store_verify(br_store_t *st, const char *id, br_verify_cb cb, void *ctx)
{
    /* One snapshot: a recording being written while we check is seen as of
     * one moment, never half-way through a segment write. */
    const leveldb_snapshot_t *snap = leveldb_create_snapshot(st->db);
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    struct verify_ctx c = { id, cb, ctx, ro, 0, 0 };
    int rc;

    leveldb_readoptions_set_verify_checksums(ro, 1);
    leveldb_readoptions_set_snapshot(ro, snap);
    rc = br_store_each_id(st, ro, verify_one, &c);
    leveldb_readoptions_destroy(ro);
    leveldb_release_snapshot(st->db, snap);
    if (rc < 0)
        return rc;
    if (id && c.found == 0)
        return -ENOENT;
    return c.failures;
}

static int recover_one(br_store_t *st, const char *id, void *ctx)
{
    int *count = ctx;
    char key[KEY_MAX];
    size_t klen, vlen;
    uint64_t frames;
    struct audio_ctx a = { .id = id };
    struct walk wk;
    br_rec_meta_t m;
    br_buf_t scratch;
    char *seal;
    int rc;

    klen = rec_key(key, id, "seal");
    seal = br_store_get(st, key, klen, &vlen, &rc);
    if (seal) {
        leveldb_free(seal);
        return 0;
    }
    if (rc != -ENOENT)
        return 0;
    rc = br_store_read_meta(st, id, &m);
    if (rc < 0) {
        br_err("recovery: recording %s: metadata unreadable (%s); left unsealed", id, br_strerror(rc));
        return 0;
    }
    rc = br_store_load_data_key(st, id, &a.aead);
    if (rc < 0) {
        br_err("recovery: recording %s: data key unavailable (%s)", id, br_strerror(rc));
        return 0;
    }
    /* Keep the prefix of segments whose chain holds and that decrypt; the
     * frames are counted from the audio (2 bytes per stereo frame). */
    rc = walk_segments(st, st->ropts, id, &wk, decrypt_segment, &a);
    frames = a.bytes / 2;
    if (rc < 0 || wk.torn)
        br_err("recovery: recording %s: segment %" PRIu32 ": %s; sealing the segments before it", id,
               wk.count, wk.reason);
    if (wk.in_file && (rc < 0 || wk.torn)) {
        /* What follows the good prefix would make the sealed file fail
         * verification: cut it off first. */
        rc = br_audio_truncate(st, id, wk.end);
        if (rc < 0) {
            br_err("recovery: recording %s: audio file not cut to its %" PRIu32
                   " good segments (%s); left unsealed", id, wk.count, br_strerror(rc));
            audio_ctx_free(&a);
            return 0;
        }
    }
    m.frames = frames;
    m.segments = wk.count;
    m.state = BR_REC_RECOVERED;
    if (m.sample_rate)
        m.end_us = m.start_us + (int64_t)(frames * 1000000 / m.sample_rate);
    br_buf_init(&scratch);
    rc = write_meta(st, a.aead, &m, &scratch, 0);
    if (rc == 0)
        rc = write_seal(st, id, wk.count, wk.link, "recovery", BR_REC_RECOVERED, &m, 1);
    br_buf_free(&scratch);
    audio_ctx_free(&a);
    if (rc < 0) {
        br_err("recovery: recording %s: could not seal: %s", id, br_strerror(rc));
        return rc;
    }
    br_warn("recovery: recording %s sealed as recovered (%" PRIu32 " segments, %.2f s)", id, wk.count,
            m.sample_rate ? (double)frames / m.sample_rate : 0.0);
    (*count)++;
    return 0;
}

int br_store_recover(br_store_t *st)
{
    int count = 0;
    int rc = br_store_each_id(st, st->ropts, recover_one, &count);
    return rc < 0 ? rc : count;
}

/* ---- master keys ------------------------------------------------------------ */

int br_store_add_key(br_store_t *st, const br_master_key_t *mk, int make_current)
{
    int rc = 0;

    pthread_mutex_lock(&st->key_lock);
    for (int i = 0; i < st->nkeys; i++)
        if (memcmp(st->keys[i].id, mk->id, BR_KEYID_LEN) == 0) {
            pthread_mutex_unlock(&st->key_lock);
            return -EEXIST;
        }
    if (st->nkeys == BR_MAX_MASTER_KEYS) {
        rc = -ENOSPC;
    } else if (make_current) {
        memmove(&st->keys[1], &st->keys[0], (size_t)st->nkeys * sizeof st->keys[0]);
        st->keys[0] = *mk;
        st->nkeys++;
    } else {
        st->keys[st->nkeys++] = *mk;
    }
    pthread_mutex_unlock(&st->key_lock);
    /* The index key may be wrapped by the key just added (a retired one, after a rotation that
     * began before the index key was rewrapped): searching and the users need it. */
    if (rc == 0 && !st->have_index_key)
        rc = load_index_key(st);
    return rc;
}

int br_store_drop_key(br_store_t *st, const uint8_t id[BR_KEYID_LEN])
{
    int rc = -ENOENT;

    pthread_mutex_lock(&st->key_lock);
    for (int i = 1; i < st->nkeys; i++) /* never the current key */
        if (memcmp(st->keys[i].id, id, BR_KEYID_LEN) == 0) {
            explicit_bzero(&st->keys[i], sizeof st->keys[i]);
            memmove(&st->keys[i], &st->keys[i + 1], (size_t)(st->nkeys - i - 1) * sizeof st->keys[0]);
            st->nkeys--;
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&st->key_lock);
    return rc;
}

int br_store_key_usage(br_store_t *st, br_key_usage_cb cb, void *ctx)
{
    static const char ikey[] = "meta/index-key";
    leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->ropts);
    size_t ilen;
    int rc = 0;
    char *iv = br_store_get(st, ikey, sizeof ikey - 1, &ilen, &rc);

    /* The blind-index key (users, PINs and consent answers depend on it too). */
    rc = 0;
    if (iv && ilen == BR_WRAPPED_KEY_LEN)
        rc = cb("index-key", (const uint8_t *)iv, ctx);
    if (iv)
        leveldb_free(iv);
    for (leveldb_iter_seek(it, "key/", 4); rc == 0 && leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vlen);
        char id[BR_ID_LEN + 1];
        if (klen < 4 || memcmp(k, "key/", 4) != 0)
            break;
        if (klen != 4 + BR_ID_LEN || vlen != BR_WRAPPED_KEY_LEN)
            continue;
        memcpy(id, k + 4, BR_ID_LEN);
        id[BR_ID_LEN] = 0;
        rc = cb(id, v, ctx);
    }
    leveldb_iter_destroy(it);
    return rc;
}

/* Re-wraps one wrapped key (value v of key k, AAD aad) under current into batch, unless it is
 * under current already. 1 if re-wrapped, 0 if it needed nothing, < 0 on error (-ENOKEY: no key
 * held opens it). */
static int rewrap_one(br_store_t *st, const br_master_key_t *current, leveldb_writebatch_t *batch,
                      const char *k, size_t klen, const uint8_t *v, size_t vlen, const char *aad,
                      size_t aadlen)
{
    uint8_t dk[BR_KEY_LEN], wrapped[BR_WRAPPED_KEY_LEN];
    int rc = -ENOKEY;

    if (vlen != BR_WRAPPED_KEY_LEN || memcmp(v, current->id, BR_KEYID_LEN) == 0)
        return 0;
    pthread_mutex_lock(&st->key_lock);
    for (int i = 0; i < st->nkeys && rc == -ENOKEY; i++)
        rc = br_key_unwrap(&st->keys[i], v, vlen, aad, aadlen, dk);
    pthread_mutex_unlock(&st->key_lock);
    if (rc < 0)
        return -ENOKEY;
    rc = br_key_wrap(current, dk, aad, aadlen, wrapped);
    explicit_bzero(dk, sizeof dk);
    if (rc < 0)
        return rc;
    leveldb_writebatch_put(batch, k, klen, (const char *)wrapped, sizeof wrapped);
    return 1;
}

int br_store_rewrap(br_store_t *st, uint64_t *rewrapped, uint64_t *failed)
{
    leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->ropts);
    leveldb_writebatch_t *batch = leveldb_writebatch_create();
    br_master_key_t current;
    unsigned pending = 0;
    char *err = NULL;
    int rc = 0;

    *rewrapped = *failed = 0;
    pthread_mutex_lock(&st->key_lock);
    current = st->keys[0];
    pthread_mutex_unlock(&st->key_lock);
    {
        /* The blind-index key first: without it no search, user or consent answer works. */
        static const char ikey[] = "meta/index-key";
        size_t ilen;
        char *iv = br_store_get(st, ikey, sizeof ikey - 1, &ilen, &rc);
        rc = iv ? rewrap_one(st, &current, batch, ikey, sizeof ikey - 1, (const uint8_t *)iv, ilen,
                             "index-key", 9)
                : 0;
        if (iv)
            leveldb_free(iv);
        if (rc == -ENOKEY) {
            br_err("key rotation: the index key cannot be unwrapped with any key held; left as it is");
            (*failed)++;
        } else if (rc > 0) {
            (*rewrapped)++;
            pending++;
        }
        rc = rc < 0 && rc != -ENOKEY ? rc : 0;
    }
    for (leveldb_iter_seek(it, "key/", 4); rc == 0 && leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vlen);
        char id[BR_ID_LEN + 1];
        int one;

        if (klen < 4 || memcmp(k, "key/", 4) != 0)
            break;
        if (klen != 4 + BR_ID_LEN)
            continue;
        memcpy(id, k + 4, BR_ID_LEN);
        id[BR_ID_LEN] = 0;
        one = rewrap_one(st, &current, batch, k, klen, v, vlen, id, BR_ID_LEN);
        if (one == -ENOKEY) {
            br_err("key rotation: %s: data key cannot be unwrapped with any key held; left as it is", id);
            (*failed)++;
            continue;
        }
        if (one < 0) {
            rc = one;
            break;
        }
        if (one == 0)
            continue;
        (*rewrapped)++;
        if (++pending == 1000) {
            leveldb_write(st->db, st->wopts_sync, batch, &err);
            leveldb_writebatch_clear(batch);
            pending = 0;
            if ((rc = br_store_map_error(err)) < 0)
                break;
        }
    }
    if (rc == 0 && pending) {
        leveldb_write(st->db, st->wopts_sync, batch, &err);
        rc = br_store_map_error(err);
    }
    explicit_bzero(&current, sizeof current);
    leveldb_writebatch_destroy(batch);
    leveldb_iter_destroy(it);
    return rc;
}

/* ---- running out of disk -------------------------------------------------------- */

static int reserve_path(br_store_t *st, char *out, size_t outsz)
{
    return (size_t)snprintf(out, outsz, "%s/reserve", st->path) < outsz ? 0 : -ENAMETOOLONG;
}

int br_store_reserve(br_store_t *st, size_t bytes)
{
    char path[4200];
    int fd, rc;

    rc = reserve_path(st, path, sizeof path);
    if (rc < 0)
        return rc;
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    rc = posix_fallocate(fd, 0, (off_t)bytes);
    if (rc == 0 && fsync(fd) < 0)
        rc = errno;
    close(fd);
    if (rc != 0) {
        unlink(path);
        return -rc;
    }
    st->reserve_bytes = bytes;
    return 0;
}

int br_store_release_reserve(br_store_t *st)
{
    char path[4200];
    if (reserve_path(st, path, sizeof path) < 0 || st->reserve_bytes == 0)
        return -ENOENT;
    st->reserve_bytes = 0;
    return unlink(path) < 0 ? -errno : 0;
}

int br_store_probe(br_store_t *st)
{
    static const char key[] = "health/probe";
    char val[32];
    int n = snprintf(val, sizeof val, "%" PRId64, br_now_us());
    int rc = br_store_put(st, key, sizeof key - 1, val, (size_t)n, 1);
    if (rc == 0) {
        /* Flush the memtable to a table file and start a new log, so that
         * nothing written after a torn log record depends on that log. */
        leveldb_compact_range(st->db, "health/", 7, "health0", 7);
    }
    return rc;
}

/* ---- erasure and expiry ----------------------------------------------------------- */

int br_store_erase(br_store_t *st, const char *id, const char *actor, const char *source,
                   const char *reason)
{
    leveldb_writebatch_t *batch;
    br_ledger_entry_t e;
    char key[KEY_MAX], *v;
    size_t vlen;
    br_buf_t marker;
    struct walk wk;
    int rc, remove_audio = 0;

    if (!valid_id(id))
        return -ENOENT;
    v = br_store_get(st, key, rec_key(key, id, "seal"), &vlen, &rc);
    if (!v)
        return rc == -ENOENT ? -ENOENT : rc; /* only sealed recordings are erased */
    leveldb_free(v);
    if (br_store_held(st, id, NULL, 0))
        return -EPERM;
    v = br_store_get(st, key, (size_t)snprintf(key, sizeof key, "key/%s", id), &vlen, &rc);
    if (!v)
        return rc == -ENOENT ? -EALREADY : rc;
    leveldb_free(v);

    batch = leveldb_writebatch_create();
    {
        /* The search index would still link the person to the recording. */
        br_rec_meta_t m;
        if (br_store_read_meta(st, id, &m) == 0 && m.state != BR_REC_ERASED)
            index_batch(st, batch, &m, 1);
    }
    leveldb_writebatch_delete(batch, key, (size_t)snprintf(key, sizeof key, "key/%s", id));
    br_buf_init(&marker);
    br_buf_put_u64le(&marker, (uint64_t)br_now_us());
    br_buf_put_str(&marker, reason);
    /* Crypto-shredding makes the audio unreadable; removing its file also
     * gives the disk back (retention erases every recording sooner or
     * later). The chain's end stays in the marker so the seal still checks
     * against the metadata. A file whose chain does not hold is evidence:
     * it stays, and verification goes on reporting it. */
    if (walk_segments(st, st->ropts, id, &wk, NULL, NULL) == 0 && wk.in_file && !wk.torn) {
        br_buf_put_u32le(&marker, wk.count);
        br_buf_append(&marker, wk.link, BR_HASH_LEN);
        remove_audio = 1;
    }
    leveldb_writebatch_put(batch, key, rec_key(key, id, "erased"), (const char *)marker.data,
                           marker.len);
    v = br_store_get(st, key, rec_key(key, id, "exp"), &vlen, &rc);
    if (v && vlen == 17) {
        br_reader_t r;
        br_reader_init(&r, v + 1, 8);
        leveldb_writebatch_delete(batch, key, exp_key(key, (int64_t)br_get_u64le(&r), id));
    }
    if (v)
        leveldb_free(v);
    leveldb_writebatch_delete(batch, key, rec_key(key, id, "exp"));
    br_ledger_entry_set(&e, BR_LEDGER_ERASED, actor, "erase", id, source, BR_OUTCOME_OK, reason);
    rc = br_ledger_write(st, batch, &e, NULL, NULL);
    leveldb_writebatch_destroy(batch);
    if (rc == 0 && remove_audio) {
        int frc = br_audio_remove(st, id);
        if (frc < 0)
            br_warn("recording %s: erased, but its audio file stays: %s", id, br_strerror(frc));
    }
    br_buf_free(&marker);
    return rc;
}

int br_store_keep(br_store_t *st, const char *id, int64_t *retain_until)
{
    leveldb_writebatch_t *batch;
    char key[KEY_MAX], *err = NULL, *v;
    size_t vlen;
    br_reader_t r;
    uint8_t reason;
    int64_t when, retain;
    int rc;

    *retain_until = 0;
    v = br_store_get(st, key, rec_key(key, id, "exp"), &vlen, &rc);
    if (!v)
        return rc == -ENOENT ? -ENOENT : rc;
    br_reader_init(&r, v, vlen);
    reason = br_get_u8(&r);
    when = (int64_t)br_get_u64le(&r);
    retain = (int64_t)br_get_u64le(&r);
    leveldb_free(v);
    if (r.failed || reason != BR_EXPIRY_NOT_KEPT)
        return -EALREADY; /* nothing to confirm: not waiting for Keep */
    batch = leveldb_writebatch_create();
    leveldb_writebatch_delete(batch, key, exp_key(key, when, id));
    leveldb_writebatch_delete(batch, key, rec_key(key, id, "exp"));
    if (retain) {
        br_rec_meta_t m;
        memset(&m, 0, sizeof m);
        m.retain_until_us = retain;
        add_expiry(batch, id, &m);
    }
    leveldb_write(st->db, st->wopts_sync, batch, &err);
    leveldb_writebatch_destroy(batch);
    *retain_until = retain;
    return br_store_map_error(err);
}

int br_store_expiry(br_store_t *st, const char *id, uint8_t *reason, int64_t *when)
{
    char key[KEY_MAX], *v;
    size_t vlen;
    br_reader_t r;
    int rc;

    v = br_store_get(st, key, rec_key(key, id, "exp"), &vlen, &rc);
    if (!v)
        return rc;
    br_reader_init(&r, v, vlen);
    *reason = br_get_u8(&r);
    *when = (int64_t)br_get_u64le(&r);
    leveldb_free(v);
    return r.failed ? -EPROTO : 0;
}

int br_store_sweep(br_store_t *st, int64_t now_us, unsigned max, const char *actor, unsigned *erased)
{
    leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->ropts);
    char ids[64][BR_ID_LEN + 1];
    uint8_t reasons[64];
    unsigned n = 0;
    int rc = 0;

    *erased = 0;
    if (max > 64)
        max = 64;
    /* Collect first, erase after: erasing deletes exp/ keys under the iterator. */
    for (leveldb_iter_seek(it, "exp/", 4); leveldb_iter_valid(it) && n < max; leveldb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        const char *v = leveldb_iter_value(it, &vlen);
        char hex[17];
        if (klen != 4 + 16 + 1 + BR_ID_LEN || memcmp(k, "exp/", 4) != 0)
            break;
        memcpy(hex, k + 4, 16);
        hex[16] = 0;
        if ((int64_t)strtoull(hex, NULL, 16) * 1000000 > now_us)
            break;
        memcpy(ids[n], k + 4 + 17, BR_ID_LEN);
        ids[n][BR_ID_LEN] = 0;
        if (br_store_held(st, ids[n], NULL, 0))
            continue; /* a legal hold stops the retention sweep */
        reasons[n++] = vlen ? (uint8_t)v[0] : BR_EXPIRY_RETENTION;
    }
    rc = br_store_iter_done(it, rc);
    for (unsigned i = 0; i < n && rc == 0; i++) {
        int erc = br_store_erase(st, ids[i], actor, "sweep",
                                 reasons[i] == BR_EXPIRY_NOT_KEPT
                                     ? "on-demand recording not kept by the user before the deadline"
                                     : "retention period of its profile ended");
        if (erc == 0)
            (*erased)++;
        else if (erc != -EALREADY && erc != -ENOENT)
            rc = erc;
    }
    return rc;
}

/* ---- search and legal hold ------------------------------------------------------------ */

int br_store_search(br_store_t *st, char kind, const char *value, br_store_id_cb cb, void *ctx)
{
    leveldb_iterator_t *it;
    char prefix[KEY_MAX];
    size_t plen;
    int rc = 0;

    if (!st->have_index_key)
        return -ENOKEY;
    plen = index_key(st, prefix, kind, value, NULL);
    it = leveldb_create_iterator(st->db, st->ropts);
    for (leveldb_iter_seek(it, prefix, plen); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t klen;
        const char *k = leveldb_iter_key(it, &klen);
        char id[BR_ID_LEN + 1];
        if (klen != plen + BR_ID_LEN || memcmp(k, prefix, plen) != 0)
            break;
        memcpy(id, k + plen, BR_ID_LEN);
        id[BR_ID_LEN] = 0;
        rc = cb(id, ctx);
        if (rc != 0)
            break;
    }
    return br_store_iter_done(it, rc);
}

int br_store_hold(br_store_t *st, const char *id, int on, const char *actor, const char *reason)
{
    char key[KEY_MAX], *v;
    size_t vlen;
    br_buf_t b;
    int rc;

    v = br_store_get(st, key, rec_key(key, id, "seal"), &vlen, &rc);
    if (!v)
        return rc;
    leveldb_free(v);
    if (on) {
        br_buf_init(&b);
        br_buf_put_u64le(&b, (uint64_t)br_now_us());
        br_buf_put_str(&b, actor);
        br_buf_put_str(&b, reason);
        rc = b.failed ? -ENOMEM : br_store_put(st, key, rec_key(key, id, "hold"), b.data, b.len, 1);
        br_buf_free(&b);
    } else {
        char *err = NULL;
        leveldb_delete(st->db, st->wopts_sync, key, rec_key(key, id, "hold"), &err);
        rc = br_store_map_error(err);
    }
    return rc;
}

int br_store_held(br_store_t *st, const char *id, char *reason, size_t reasonsz)
{
    char key[KEY_MAX], *v;
    size_t vlen;
    int rc;

    v = br_store_get(st, key, rec_key(key, id, "hold"), &vlen, &rc);
    if (!v)
        return 0;
    if (reason && reasonsz) {
        br_reader_t r;
        char actor[64];
        br_reader_init(&r, v, vlen);
        br_get_u64le(&r);
        br_get_str(&r, actor, sizeof actor);
        br_get_str(&r, reason, reasonsz);
    }
    leveldb_free(v);
    return 1;
}
