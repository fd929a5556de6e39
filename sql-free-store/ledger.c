/*
 * The ledger: an append-only list in LevelDB of everything that happened to
 * the store, hashed as an RFC 6962 Merkle tree and signed at checkpoints.
 *
 *   ledger/e/<seq>            entry (br_ledger_entry_encode)
 *   ledger/n/<level>/<index>  hash of each perfect subtree, written as the
 *                             ledger grows (level 0: the leaf hashes)
 *   ledger/c/<seq>            signed checkpoint: size, root, time, Ed25519
 *
 * The cached subtree hashes make proofs cheap (O(log n) reads) but are not
 * trusted: verification recomputes the tree from the entries themselves.
 * A "sealed" entry is written in the same LevelDB batch as the recording's
 * seal, so a crash can never leave a sealed recording out of the ledger.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"
#include "store_int.h"

#define ENTRY_VERSION 1
#define CHECKPOINT_VERSION 1

static size_t entry_key(char *out, uint64_t seq)
{
    return (size_t)snprintf(out, BR_KEY_MAX, "ledger/e/%016" PRIx64, seq);
}

static size_t node_key(char *out, unsigned level, uint64_t index)
{
    return (size_t)snprintf(out, BR_KEY_MAX, "ledger/n/%02u/%016" PRIx64, level, index);
}

static size_t checkpoint_key(char *out, uint64_t seq)
{
    return (size_t)snprintf(out, BR_KEY_MAX, "ledger/c/%016" PRIx64, seq);
}

int br_ledger_entry_encode(const br_ledger_entry_t *e, br_buf_t *b)
{
    br_buf_put_u8(b, ENTRY_VERSION);
    br_buf_put_u64le(b, e->seq);
    br_buf_put_u8(b, e->type);
    br_buf_put_u64le(b, (uint64_t)e->time_us);
    br_buf_put_str(b, e->actor);
    br_buf_put_str(b, e->action);
    br_buf_put_str(b, e->target);
    br_buf_put_str(b, e->source);
    br_buf_put_u8(b, e->outcome);
    br_buf_put_str(b, e->detail);
    br_buf_append(b, e->hash, BR_HASH_LEN);
    return b->failed ? -ENOMEM : 0;
}

int br_ledger_entry_decode(const uint8_t *data, size_t len, br_ledger_entry_t *e)
{
    br_reader_t r;
    const uint8_t *h;

    memset(e, 0, sizeof *e);
    br_reader_init(&r, data, len);
    if (br_get_u8(&r) != ENTRY_VERSION)
        return -EPROTO;
    e->seq = br_get_u64le(&r);
    e->type = br_get_u8(&r);
    e->time_us = (int64_t)br_get_u64le(&r);
    br_get_str(&r, e->actor, sizeof e->actor);
    br_get_str(&r, e->action, sizeof e->action);
    br_get_str(&r, e->target, sizeof e->target);
    br_get_str(&r, e->source, sizeof e->source);
    e->outcome = br_get_u8(&r);
    br_get_str(&r, e->detail, sizeof e->detail);
    h = br_get_bytes(&r, BR_HASH_LEN);
    if (r.failed || r.left || !h || e->type < BR_LEDGER_SEALED || e->type > BR_LEDGER_AUDIT)
        return -EPROTO;
    memcpy(e->hash, h, BR_HASH_LEN);
    return 0;
}

const char *br_ledger_type_name(uint8_t type)
{
    switch (type) {
    case BR_LEDGER_SEALED:
        return "sealed";
    case BR_LEDGER_ERASED:
        return "erased";
    case BR_LEDGER_AUDIT:
        return "audit";
    default:
        return "unknown";
    }
}

const char *br_outcome_name(uint8_t outcome)
{
    switch (outcome) {
    case BR_OUTCOME_OK:
        return "ok";
    case BR_OUTCOME_REFUSED:
        return "refused";
    default:
        return "failed";
    }
}

/* ---- appending ------------------------------------------------------------ */

static int get_node(void *ctx, unsigned level, uint64_t index, uint8_t out[BR_MERKLE_HASH])
{
    br_store_t *st = ctx;
    char key[BR_KEY_MAX];
    size_t klen = node_key(key, level, index), vlen;
    int rc;
    char *v = br_store_get(st, key, klen, &vlen, &rc);

    if (!v)
        return rc;
    if (vlen != BR_MERKLE_HASH) {
        leveldb_free(v);
        return -EPROTO;
    }
    memcpy(out, v, BR_MERKLE_HASH);
    leveldb_free(v);
    return 0;
}

int br_ledger_open(br_store_t *st)
{
    leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->ropts);
    const char *limit = "ledger/e0"; /* sorts right after every ledger/e/ key */
    int rc = 0;

    pthread_mutex_init(&st->ledger_lock, NULL);
    st->ledger_size = 0;
    leveldb_iter_seek(it, limit, strlen(limit));
    if (leveldb_iter_valid(it))
        leveldb_iter_prev(it);
    else
        leveldb_iter_seek_to_last(it);
    if (leveldb_iter_valid(it)) {
        size_t klen;
        const char *k = leveldb_iter_key(it, &klen);
        if (klen == 9 + 16 && memcmp(k, "ledger/e/", 9) == 0) {
            char hex[17];
            memcpy(hex, k + 9, 16);
            hex[16] = 0;
            st->ledger_size = strtoull(hex, NULL, 16) + 1;
        }
    }
    {
        char *err = NULL;
        leveldb_iter_get_error(it, &err);
        rc = br_store_map_error(err);
    }
    leveldb_iter_destroy(it);
    return rc;
}

int br_ledger_add_to_batch(br_store_t *st, leveldb_writebatch_t *batch, br_ledger_entry_t *e)
{
    uint8_t h[BR_MERKLE_HASH];
    char key[BR_KEY_MAX];
    br_buf_t b;
    uint64_t i;
    int rc;

    e->seq = st->ledger_size;
    if (e->time_us == 0)
        e->time_us = br_now_us();
    br_buf_init(&b);
    rc = br_ledger_entry_encode(e, &b);
    if (rc < 0)
        goto out;
    leveldb_writebatch_put(batch, key, entry_key(key, e->seq), (const char *)b.data, b.len);
    br_merkle_leaf_hash(b.data, b.len, h);
    leveldb_writebatch_put(batch, key, node_key(key, 0, e->seq), (const char *)h, sizeof h);
    /* Each completed perfect subtree gets its hash, like carries in a
     * binary counter; the left siblings were written by earlier appends. */
    i = e->seq;
    for (unsigned level = 1; (i & 1) == 1; level++) {
        uint8_t left[BR_MERKLE_HASH];
        rc = get_node(st, level - 1, i - 1, left);
        if (rc < 0)
            goto out;
        br_merkle_node_hash(left, h, h);
        i >>= 1;
        leveldb_writebatch_put(batch, key, node_key(key, level, i), (const char *)h, sizeof h);
    }
out:
    br_buf_free(&b);
    return rc;
}

int br_ledger_write(br_store_t *st, leveldb_writebatch_t *batch, br_ledger_entry_t *e,
                    br_ledger_before_write_cb cb, void *ctx)
{
    return br_ledger_write_opt(st, batch, e, cb, ctx, 1);
}

int br_ledger_write_opt(br_store_t *st, leveldb_writebatch_t *batch, br_ledger_entry_t *e,
                        br_ledger_before_write_cb cb, void *ctx, int sync)
{
    char *err = NULL;
    int rc;

    pthread_mutex_lock(&st->ledger_lock);
    rc = br_ledger_add_to_batch(st, batch, e);
    if (rc == 0 && cb)
        cb(batch, e, ctx);
    if (rc == 0) {
        leveldb_write(st->db, sync ? st->wopts_sync : st->wopts, batch, &err);
        rc = br_store_map_error(err);
    }
    if (rc == 0)
        st->ledger_size++;
    pthread_mutex_unlock(&st->ledger_lock);
    return rc;
}

int br_ledger_append(br_store_t *st, br_ledger_entry_t *e)
{
    leveldb_writebatch_t *batch = leveldb_writebatch_create();
    int rc = br_ledger_write(st, batch, e, NULL, NULL);
    leveldb_writebatch_destroy(batch);
    return rc;
}

void br_ledger_entry_set(br_ledger_entry_t *e, uint8_t type, const char *actor, const char *action,
                         const char *target, const char *source, uint8_t outcome, const char *detail)
{
    memset(e, 0, sizeof *e);
    e->type = type;
    br_strlcpy(e->actor, actor ? actor : "-", sizeof e->actor);
    br_strlcpy(e->action, action ? action : "-", sizeof e->action);
    br_strlcpy(e->target, target && *target ? target : "-", sizeof e->target);
    br_strlcpy(e->source, source ? source : "-", sizeof e->source);
    br_strlcpy(e->detail, detail ? detail : "", sizeof e->detail);
    e->outcome = outcome;
}

int br_store_audit(br_store_t *st, const char *actor, const char *action, const char *target,
                   const char *source, uint8_t outcome, const char *detail)
{
    br_ledger_entry_t e;

    br_ledger_entry_set(&e, BR_LEDGER_AUDIT, actor, action, target, source, outcome, detail);
    return br_ledger_append(st, &e);
}

uint64_t br_ledger_size(br_store_t *st)
{
    uint64_t n;
    pthread_mutex_lock(&st->ledger_lock);
    n = st->ledger_size;
    pthread_mutex_unlock(&st->ledger_lock);
    return n;
}

int br_ledger_read(br_store_t *st, uint64_t seq, br_ledger_entry_t *e)
{
    char key[BR_KEY_MAX];
    size_t vlen;
    int rc;
    char *v = br_store_get(st, key, entry_key(key, seq), &vlen, &rc);

    if (!v)
        return rc;
    rc = br_ledger_entry_decode((uint8_t *)v, vlen, e);
    if (rc == 0 && e->seq != seq)
        rc = -EPROTO;
    leveldb_free(v);
    return rc;
}

/* Walks entries in order with their raw bytes. */
typedef int (*raw_cb)(uint64_t seq, const uint8_t *v, size_t vlen, void *ctx);

static int walk_entries(br_store_t *st, leveldb_readoptions_t *ro, uint64_t from, raw_cb cb, void *ctx)
{
    leveldb_iterator_t *it = leveldb_create_iterator(st->db, ro);
    char key[BR_KEY_MAX];
    uint64_t expect = from;
    int rc = 0;

    for (leveldb_iter_seek(it, key, entry_key(key, from)); leveldb_iter_valid(it);
         leveldb_iter_next(it), expect++) {
        size_t klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vlen);
        if (klen != 25 || memcmp(k, "ledger/e/", 9) != 0)
            break;
        if (klen != entry_key(key, expect) || memcmp(k, key, klen) != 0) {
            rc = -EBADMSG; /* a hole: an entry was removed */
            break;
        }
        rc = cb(expect, v, vlen, ctx);
        if (rc != 0)
            break;
    }
    rc = br_store_iter_done(it, rc);
    return rc;
}

struct each_ctx {
    br_ledger_cb cb;
    void *ctx;
};

static int each_raw(uint64_t seq, const uint8_t *v, size_t vlen, void *ctx)
{
    struct each_ctx *c = ctx;
    br_ledger_entry_t e;
    int rc = br_ledger_entry_decode(v, vlen, &e);
    if (rc < 0 || e.seq != seq)
        return -EPROTO;
    return c->cb(&e, c->ctx);
}

int br_ledger_each(br_store_t *st, uint64_t from, br_ledger_cb cb, void *ctx)
{
    struct each_ctx c = { cb, ctx };
    return walk_entries(st, st->ropts, from, each_raw, &c);
}

/* ---- checkpoints ----------------------------------------------------------- */

void br_checkpoint_message(const br_checkpoint_t *c, char *out, size_t outsz)
{
    char root[2 * BR_HASH_LEN + 1];
    br_hex_encode(c->root, BR_HASH_LEN, root);
    snprintf(out, outsz, "bibrec-checkpoint v1 seq=%" PRIu64 " size=%" PRIu64 " root=%s time=%" PRId64,
             c->seq, c->size, root, c->time_us);
}

void br_checkpoint_format(const br_checkpoint_t *c, char *out, size_t outsz)
{
    char msg[256], sig[2 * BR_SIG_LEN + 1];
    br_checkpoint_message(c, msg, sizeof msg);
    br_hex_encode(c->sig, BR_SIG_LEN, sig);
    snprintf(out, outsz, "%s sig=%s", msg, sig);
}

int br_checkpoint_parse(const char *text, br_checkpoint_t *c)
{
    char root[2 * BR_HASH_LEN + 2], sig[2 * BR_SIG_LEN + 2];
    unsigned long long seq, size;
    long long time;

    memset(c, 0, sizeof *c);
    if (sscanf(text, "bibrec-checkpoint v1 seq=%llu size=%llu root=%65s time=%lld sig=%129s", &seq,
               &size, root, &time, sig) != 5)
        return -EPROTO;
    if (br_hex_decode(root, c->root, BR_HASH_LEN) < 0 || br_hex_decode(sig, c->sig, BR_SIG_LEN) < 0)
        return -EPROTO;
    c->seq = seq;
    c->size = size;
    c->time_us = time;
    return 0;
}

int br_checkpoint_verify(const br_checkpoint_t *c, br_verifier_t *v)
{
    char msg[256];
    br_checkpoint_message(c, msg, sizeof msg);
    return br_verifier_check(v, msg, strlen(msg), c->sig);
}

static int decode_checkpoint(const uint8_t *v, size_t vlen, br_checkpoint_t *c)
{
    br_reader_t r;
    const uint8_t *root, *sig;

    br_reader_init(&r, v, vlen);
    if (br_get_u8(&r) != CHECKPOINT_VERSION)
        return -EPROTO;
    c->seq = br_get_u64le(&r);
    c->size = br_get_u64le(&r);
    root = br_get_bytes(&r, BR_HASH_LEN);
    c->time_us = (int64_t)br_get_u64le(&r);
    sig = br_get_bytes(&r, BR_SIG_LEN);
    if (r.failed || r.left)
        return -EPROTO;
    memcpy(c->root, root, BR_HASH_LEN);
    memcpy(c->sig, sig, BR_SIG_LEN);
    return 0;
}

int br_store_get_checkpoint(br_store_t *st, uint64_t seq, br_checkpoint_t *c)
{
    char key[BR_KEY_MAX];
    size_t vlen;
    int rc;
    char *v = br_store_get(st, key, checkpoint_key(key, seq), &vlen, &rc);
    if (!v)
        return rc;
    rc = decode_checkpoint((uint8_t *)v, vlen, c);
    leveldb_free(v);
    return rc;
}

int br_store_last_checkpoint(br_store_t *st, br_checkpoint_t *c)
{
    leveldb_iterator_t *it = leveldb_create_iterator(st->db, st->ropts);
    const char *limit = "ledger/c0";
    int rc = -ENOENT;

    leveldb_iter_seek(it, limit, strlen(limit));
    if (leveldb_iter_valid(it))
        leveldb_iter_prev(it);
    else
        leveldb_iter_seek_to_last(it);
    if (leveldb_iter_valid(it)) {
        size_t klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        const char *v = leveldb_iter_value(it, &vlen);
        if (klen == 25 && memcmp(k, "ledger/c/", 9) == 0)
            rc = decode_checkpoint((const uint8_t *)v, vlen, c);
    }
    leveldb_iter_destroy(it);
    return rc;
}

int br_store_checkpoint(br_store_t *st, br_signer_t *signer, br_checkpoint_t *out)
{
    br_checkpoint_t last, c;
    char msg[256], key[BR_KEY_MAX];
    br_buf_t b;
    int have_last, rc;

    pthread_mutex_lock(&st->ledger_lock);
    have_last = br_store_last_checkpoint(st, &last) == 0;
    if (st->ledger_size == 0 || (have_last && last.size == st->ledger_size)) {
        pthread_mutex_unlock(&st->ledger_lock);
        if (!have_last)
            return -ENOENT;
        *out = last;
        return 1;
    }
    memset(&c, 0, sizeof c);
    c.seq = have_last ? last.seq + 1 : 0;
    c.size = st->ledger_size;
    c.time_us = br_now_us();
    rc = br_merkle_root(get_node, st, c.size, c.root);
    if (rc == 0) {
        br_checkpoint_message(&c, msg, sizeof msg);
        rc = br_signer_sign(signer, msg, strlen(msg), c.sig);
    }
    if (rc == 0) {
        br_buf_init(&b);
        br_buf_put_u8(&b, CHECKPOINT_VERSION);
        br_buf_put_u64le(&b, c.seq);
        br_buf_put_u64le(&b, c.size);
        br_buf_append(&b, c.root, BR_HASH_LEN);
        br_buf_put_u64le(&b, (uint64_t)c.time_us);
        br_buf_append(&b, c.sig, BR_SIG_LEN);
        rc = b.failed ? -ENOMEM
                      : br_store_put(st, key, checkpoint_key(key, c.seq), b.data, b.len, 1);
        br_buf_free(&b);
    }
    pthread_mutex_unlock(&st->ledger_lock);
    if (rc == 0)
        *out = c;
    return rc;
}

/* ---- proofs ----------------------------------------------------------------- */

struct find_ctx {
    const char *id;
    br_ledger_entry_t found;
    int have;
};

static int find_sealed(const br_ledger_entry_t *e, void *ctx)
{
    struct find_ctx *f = ctx;
    if (e->type == BR_LEDGER_SEALED && strcmp(e->target, f->id) == 0) {
        f->found = *e;
        f->have = 1;
    }
    return 0;
}

int br_store_prove(br_store_t *st, const char *id, br_ledger_entry_t *entry, br_checkpoint_t *cp,
                   br_merkle_proof_t *proof)
{
    struct find_ctx f = { id, { 0 }, 0 };
    char key[BR_KEY_MAX], *v;
    size_t vlen;
    int rc;

    rc = br_store_last_checkpoint(st, cp);
    if (rc < 0)
        return rc;
    /* The seal names its ledger entry; a ledger walk is only for stores
     * sealed before it did. */
    v = br_store_get(st, key, (size_t)snprintf(key, sizeof key, "rec/%s/ledger", id), &vlen, &rc);
    if (v && vlen == 8) {
        br_reader_t r;
        br_reader_init(&r, v, vlen);
        rc = br_ledger_read(st, br_get_u64le(&r), &f.found);
        f.have = rc == 0 && f.found.type == BR_LEDGER_SEALED && strcmp(f.found.target, id) == 0;
    }
    if (v)
        leveldb_free(v);
    if (!f.have)
        rc = br_ledger_each(st, 0, find_sealed, &f);
    if (rc < 0 && !f.have)
        return rc;
    if (!f.have)
        return -ENOENT;
    if (f.found.seq >= cp->size)
        return -EAGAIN; /* sealed after the last checkpoint: not signed yet */
    *entry = f.found;
    return br_merkle_inclusion(get_node, st, f.found.seq, cp->size, proof);
}

int br_store_consistency(br_store_t *st, uint64_t old_size, const br_checkpoint_t *cp,
                         br_merkle_proof_t *proof)
{
    return br_merkle_consistency(get_node, st, old_size, cp->size, proof);
}

/* ---- verification ------------------------------------------------------------- */

struct sealed_rec {
    char id[BR_ID_LEN + 1];
    uint8_t hash[BR_HASH_LEN];
    int erased;
    int seen;
};

/* Recordings named by sealed/erased entries, in an open-addressing hash
 * table keyed by id: verifying a ledger is linear in its size. */
struct verify_ctx {
    br_store_t *st;
    br_verifier_t *v;
    br_ledger_report_cb cb;
    void *ctx;
    int failures;
    /* the Merkle frontier: perfect subtrees, largest first */
    uint8_t stack[64][BR_MERKLE_HASH];
    unsigned level[64];
    int depth;
    uint64_t count;
    br_checkpoint_t *cps;
    size_t ncps, next_cp;
    struct sealed_rec *recs; /* hash table of caprecs slots (a power of two) */
    size_t nrecs, caprecs;
};

static uint64_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *id; id++)
        h = (h ^ (uint8_t)*id) * 1099511628211ULL;
    return h;
}

static struct sealed_rec *slot_of(struct sealed_rec *t, size_t cap, const char *id)
{
    size_t i = (size_t)id_hash(id) & (cap - 1);
    while (t[i].id[0] && strcmp(t[i].id, id) != 0)
        i = (i + 1) & (cap - 1);
    return &t[i];
}

static int grow_recs(struct verify_ctx *c)
{
    size_t cap = c->caprecs ? 2 * c->caprecs : 4096;
    struct sealed_rec *t = calloc(cap, sizeof *t);
    if (!t)
        return -ENOMEM;
    for (size_t i = 0; i < c->caprecs; i++)
        if (c->recs[i].id[0])
            *slot_of(t, cap, c->recs[i].id) = c->recs[i];
    free(c->recs);
    c->recs = t;
    c->caprecs = cap;
    return 0;
}

static void report(struct verify_ctx *c, const char *what, const char *id)
{
    c->failures++;
    c->cb(what, id, c->ctx);
}

static void frontier_root(struct verify_ctx *c, uint8_t out[BR_MERKLE_HASH])
{
    memcpy(out, c->stack[c->depth - 1], BR_MERKLE_HASH);
    for (int i = c->depth - 2; i >= 0; i--)
        br_merkle_node_hash(c->stack[i], out, out);
}

static struct sealed_rec *find_rec(struct verify_ctx *c, const char *id)
{
    struct sealed_rec *r;
    if (!c->caprecs)
        return NULL;
    r = slot_of(c->recs, c->caprecs, id);
    return r->id[0] ? r : NULL;
}

static int verify_entry(uint64_t seq, const uint8_t *v, size_t vlen, void *ctx)
{
    struct verify_ctx *c = ctx;
    br_ledger_entry_t e;
    char what[160];

    if (br_ledger_entry_decode(v, vlen, &e) < 0 || e.seq != seq) {
        snprintf(what, sizeof what, "ledger entry %" PRIu64 " is malformed", seq);
        report(c, what, NULL);
    } else if (e.type == BR_LEDGER_SEALED || e.type == BR_LEDGER_ERASED) {
        struct sealed_rec *r = find_rec(c, e.target);
        if (!r && e.type == BR_LEDGER_SEALED && strlen(e.target) == BR_ID_LEN) {
            if (2 * (c->nrecs + 1) > c->caprecs && grow_recs(c) < 0)
                return -ENOMEM;
            r = slot_of(c->recs, c->caprecs, e.target);
            memset(r, 0, sizeof *r);
            br_strlcpy(r->id, e.target, sizeof r->id);
            c->nrecs++;
        }
        if (r && e.type == BR_LEDGER_SEALED)
            memcpy(r->hash, e.hash, BR_HASH_LEN);
        else if (r)
            r->erased = 1;
    }
    /* Merkle frontier: add the leaf, merge equal-sized subtrees. */
    br_merkle_leaf_hash(v, vlen, c->stack[c->depth]);
    c->level[c->depth++] = 0;
    while (c->depth >= 2 && c->level[c->depth - 1] == c->level[c->depth - 2]) {
        br_merkle_node_hash(c->stack[c->depth - 2], c->stack[c->depth - 1], c->stack[c->depth - 2]);
        c->level[c->depth - 2]++;
        c->depth--;
    }
    c->count++;
    while (c->next_cp < c->ncps && c->cps[c->next_cp].size == c->count) {
        br_checkpoint_t *cp = &c->cps[c->next_cp++];
        uint8_t root[BR_MERKLE_HASH];
        frontier_root(c, root);
        if (memcmp(root, cp->root, BR_MERKLE_HASH) != 0) {
            snprintf(what, sizeof what,
                     "checkpoint %" PRIu64 " (size %" PRIu64 "): ledger entries altered, removed "
                     "or reordered (root mismatch)",
                     cp->seq, cp->size);
            report(c, what, NULL);
        }
    }
    return 0;
}

static int collect_checkpoint(struct verify_ctx *c, const uint8_t *v, size_t vlen)
{
    br_checkpoint_t cp;
    char what[160];

    if (decode_checkpoint(v, vlen, &cp) < 0) {
        report(c, "a checkpoint record is malformed", NULL);
        return 0;
    }
    if (c->v && br_checkpoint_verify(&cp, c->v) < 0) {
        snprintf(what, sizeof what, "checkpoint %" PRIu64 ": signature does not verify", cp.seq);
        report(c, what, NULL);
    }
    if (c->ncps && cp.size < c->cps[c->ncps - 1].size) {
        snprintf(what, sizeof what, "checkpoint %" PRIu64 ": ledger shrank (size %" PRIu64 ")", cp.seq,
                 cp.size);
        report(c, what, NULL);
        return 0;
    }
    {
        br_checkpoint_t *p = realloc(c->cps, (c->ncps + 1) * sizeof *p);
        if (!p)
            return -ENOMEM;
        c->cps = p;
        c->cps[c->ncps++] = cp;
    }
    return 0;
}

int br_store_verify_ledger(br_store_t *st, br_verifier_t *v, br_ledger_report_cb cb, void *ctx,
                           uint64_t *entries, uint64_t *checkpoints)
{
    const leveldb_snapshot_t *snap = leveldb_create_snapshot(st->db);
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    struct verify_ctx c;
    leveldb_iterator_t *it;
    char what[200];
    int rc;

    memset(&c, 0, sizeof c);
    c.st = st;
    c.v = v;
    c.cb = cb;
    c.ctx = ctx;
    leveldb_readoptions_set_verify_checksums(ro, 1);
    leveldb_readoptions_set_snapshot(ro, snap);

    it = leveldb_create_iterator(st->db, ro);
    for (leveldb_iter_seek(it, "ledger/c/", 9); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        const char *val = leveldb_iter_value(it, &vlen);
        if (klen < 9 || memcmp(k, "ledger/c/", 9) != 0)
            break;
        rc = collect_checkpoint(&c, (const uint8_t *)val, vlen);
        if (rc < 0)
            break;
    }
    leveldb_iter_destroy(it);

    rc = walk_entries(st, ro, 0, verify_entry, &c);
    if (rc == -EBADMSG) {
        snprintf(what, sizeof what, "ledger entry %" PRIu64 " is missing (entries removed)", c.count);
        report(&c, what, NULL);
        rc = 0;
    }
    for (; c.next_cp < c.ncps; c.next_cp++) {
        snprintf(what, sizeof what,
                 "checkpoint %" PRIu64 " covers %" PRIu64 " entries but the ledger has %" PRIu64
                 " (entries removed: rolled back)",
                 c.cps[c.next_cp].seq, c.cps[c.next_cp].size, c.count);
        report(&c, what, NULL);
    }
    /* Every sealed recording against the ledger, and back. */
    it = leveldb_create_iterator(st->db, ro);
    for (leveldb_iter_seek(it, "rec/", 4); rc == 0 && leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        const uint8_t *val = (const uint8_t *)leveldb_iter_value(it, &vlen);
        char id[BR_ID_LEN + 1];
        struct sealed_rec *r;

        if (klen < 4 || memcmp(k, "rec/", 4) != 0)
            break;
        if (klen != 4 + BR_ID_LEN + 5 || memcmp(k + 4 + BR_ID_LEN, "/seal", 5) != 0)
            continue;
        memcpy(id, k + 4, BR_ID_LEN);
        id[BR_ID_LEN] = 0;
        r = find_rec(&c, id);
        if (!r) {
            report(&c, "sealed recording is not in the ledger (added or replaced outside bibrec)", id);
            continue;
        }
        r->seen = 1;
        if (vlen != 1 + 4 + BR_HASH_LEN + 8 || memcmp(val + 5, r->hash, BR_HASH_LEN) != 0)
            report(&c, "recording differs from what the ledger recorded at sealing (replaced)", id);
    }
    leveldb_iter_destroy(it);
    for (size_t i = 0; rc == 0 && i < c.caprecs; i++)
        if (c.recs[i].id[0] && !c.recs[i].seen && !c.recs[i].erased)
            report(&c, "recording in the ledger is missing from the store (deleted outside bibrec)",
                   c.recs[i].id);
    if (entries)
        *entries = c.count;
    if (checkpoints)
        *checkpoints = c.ncps;
    free(c.cps);
    free(c.recs);
    leveldb_readoptions_destroy(ro);
    leveldb_release_snapshot(st->db, snap);
    return rc < 0 ? rc : c.failures;
}

/* ---- backup ------------------------------------------------------------------- */

static int copy_audio(br_store_t *st, const char *id, void *ctx)
{
    return br_audio_copy(st, id, ctx);
}

int br_store_backup(br_store_t *st, const char *dir)
{
    const leveldb_snapshot_t *snap;
    leveldb_readoptions_t *ro;
    leveldb_options_t *o;
    leveldb_writeoptions_t *wo;
    leveldb_writebatch_t *batch;
    leveldb_iterator_t *it;
    leveldb_t *dst;
    char path[4096], *err = NULL;
    size_t pending = 0;
    int rc;

    if (mkdir(dir, 0700) < 0)
        return -errno;
    snprintf(path, sizeof path, "%s/db", dir);
    o = leveldb_options_create();
    leveldb_options_set_create_if_missing(o, 1);
    leveldb_options_set_error_if_exists(o, 1);
    leveldb_options_set_compression(o, leveldb_no_compression);
    dst = leveldb_open(o, path, &err);
    if (err) {
        leveldb_options_destroy(o);
        return br_store_map_error(err);
    }
    wo = leveldb_writeoptions_create();
    ro = leveldb_readoptions_create();
    snap = leveldb_create_snapshot(st->db);
    leveldb_readoptions_set_snapshot(ro, snap);
    leveldb_readoptions_set_verify_checksums(ro, 1);
    leveldb_readoptions_set_fill_cache(ro, 0);
    batch = leveldb_writebatch_create();
    it = leveldb_create_iterator(st->db, ro);
    for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it) && !err; leveldb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        const char *v = leveldb_iter_value(it, &vlen);
        leveldb_writebatch_put(batch, k, klen, v, vlen);
        pending += klen + vlen;
        if (pending > 4 << 20) { /* keep batches around 4 MiB */
            leveldb_write(dst, wo, batch, &err);
            leveldb_writebatch_clear(batch);
            pending = 0;
        }
    }
    rc = br_store_map_error(err);
    err = NULL;
    leveldb_iter_get_error(it, &err);
    if (rc == 0)
        rc = br_store_map_error(err);
    else
        leveldb_free(err);
    if (rc == 0) {
        leveldb_writeoptions_set_sync(wo, 1);
        leveldb_write(dst, wo, batch, &err);
        rc = br_store_map_error(err);
    }
    leveldb_iter_destroy(it);
    leveldb_writebatch_destroy(batch);
    /* The audio files of the recordings in the snapshot: a sealed one's
     * file is complete and no longer changes; one still recording is copied
     * as far as it got, and the copy's recovery seals it. */
    if (rc == 0)
        rc = br_store_each_id(st, ro, copy_audio, (void *)dir);
    leveldb_release_snapshot(st->db, snap);
    leveldb_readoptions_destroy(ro);
    leveldb_writeoptions_destroy(wo);
    leveldb_close(dst);
    leveldb_options_destroy(o);
    return rc;
}
