/*
 * Consent decisions in the store. Layout (FORMAT.md):
 *   key/ID            the decision's data key, wrapped by the master key
 *   consent/ID        [version 1][nonce 12][AES-256-GCM(record), AAD "cons" || ID]
 *   idx/c/HMAC/ID     the caller's number, blind
 * and a ledger audit entry "consent" in the same synced batch.
 */
#include "consent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "config/settings.h"
#include "store_int.h"

#define CONSENT_VERSION 1
#define BLOB_VERSION 1
#define KEY_LEN 64

int br_consent_encode(const br_consent_rec_t *c, br_buf_t *out)
{
    int rc = 0;
    rc |= br_buf_put_u8(out, CONSENT_VERSION);
    rc |= br_buf_put_u64le(out, (uint64_t)c->at_us);
    rc |= br_buf_put_str(out, c->caller);
    rc |= br_buf_put_str(out, c->called);
    rc |= br_buf_put_str(out, c->language);
    rc |= br_buf_put_str(out, c->prompt);
    rc |= br_buf_put_u8(out, c->decision);
    rc |= br_buf_put_u8(out, (uint8_t)c->digit);
    rc |= br_buf_put_u8(out, c->timed_out);
    rc |= br_buf_put_u32le(out, c->played_ms);
    return rc ? -ENOMEM : 0;
}

int br_consent_decode(const uint8_t *data, size_t len, br_consent_rec_t *c)
{
    br_reader_t r;
    char id[BR_ID_LEN + 1];

    memcpy(id, c->id, sizeof id);
    memset(c, 0, sizeof *c);
    memcpy(c->id, id, sizeof id);
    br_reader_init(&r, data, len);
    if (br_get_u8(&r) != CONSENT_VERSION)
        return -EPROTO;
    c->at_us = (int64_t)br_get_u64le(&r);
    if (br_get_str(&r, c->caller, sizeof c->caller) < 0 ||
        br_get_str(&r, c->called, sizeof c->called) < 0 ||
        br_get_str(&r, c->language, sizeof c->language) < 0 ||
        br_get_str(&r, c->prompt, sizeof c->prompt) < 0)
        return -EPROTO;
    c->decision = br_get_u8(&r);
    c->digit = (char)br_get_u8(&r);
    c->timed_out = br_get_u8(&r);
    c->played_ms = br_get_u32le(&r);
    if (r.failed || r.left != 0 || c->decision > BR_CONSENT_INFORMED)
        return -EPROTO;
    if (c->digit && !strchr("0123456789*#ABCD", c->digit))
        return -EPROTO;
    return 0;
}

static void consent_aad(uint8_t *aad, const char *id)
{
    memcpy(aad, "cons", 4);
    memcpy(aad + 4, id, BR_ID_LEN);
}

/* Encrypts c under a fresh data key into blob; the wrapped key goes to wrapped. */
static int seal_record(br_store_t *st, const br_consent_rec_t *c, br_buf_t *blob,
                       uint8_t wrapped[BR_WRAPPED_KEY_LEN])
{
    uint8_t dk[BR_KEY_LEN], aad[4 + BR_ID_LEN];
    br_aead_t *aead = NULL;
    br_buf_t plain;
    int rc;

    br_buf_init(&plain);
    rc = br_consent_encode(c, &plain);
    if (rc == 0)
        rc = br_random_key(dk, sizeof dk);
    if (rc == 0) {
        pthread_mutex_lock(&st->key_lock);
        rc = st->nkeys ? br_key_wrap(&st->keys[0], dk, c->id, BR_ID_LEN, wrapped) : -ENOKEY;
        pthread_mutex_unlock(&st->key_lock);
    }
    if (rc == 0)
        rc = br_aead_new(&aead, dk);
    if (rc == 0)
        rc = br_buf_reserve(blob, 1 + BR_NONCE_LEN + plain.len + BR_TAG_LEN);
    if (rc == 0) {
        blob->data[0] = BLOB_VERSION;
        rc = br_random_nonce(blob->data + 1, BR_NONCE_LEN);
    }
    if (rc == 0) {
        consent_aad(aad, c->id);
        rc = br_aead_seal(aead, blob->data + 1, aad, sizeof aad, plain.data, plain.len,
                          blob->data + 1 + BR_NONCE_LEN);
        blob->len = 1 + BR_NONCE_LEN + plain.len + BR_TAG_LEN;
    }
    explicit_bzero(dk, sizeof dk);
    br_aead_free(aead);
    br_buf_free(&plain);
    return rc;
}

/* "by digit 1", "(no digit: the profile's default)" or "(prompt played)". */
static const char *how(const br_consent_rec_t *c, char *out, size_t outsz)
{
    if (c->digit)
        snprintf(out, outsz, "by digit %c", c->digit);
    else
        snprintf(out, outsz, "%s", c->timed_out ? "(no digit: the profile's default)" : "(prompt played)");
    return out;
}

int br_consent_put(br_store_t *st, br_consent_rec_t *c, const char *source)
{
    uint8_t wrapped[BR_WRAPPED_KEY_LEN];
    leveldb_writebatch_t *batch;
    br_ledger_entry_t e;
    char key[KEY_LEN], how_buf[48], detail[256];
    br_buf_t blob;
    int rc;

    rc = br_store_make_id(c->id);
    if (rc < 0)
        return rc;
    br_buf_init(&blob);
    rc = seal_record(st, c, &blob, wrapped);
    if (rc < 0) {
        br_buf_free(&blob);
        return rc;
    }
    batch = leveldb_writebatch_create();
    leveldb_writebatch_put(batch, key, (size_t)snprintf(key, sizeof key, "key/%s", c->id),
                           (const char *)wrapped, sizeof wrapped);
    leveldb_writebatch_put(batch, key, (size_t)snprintf(key, sizeof key, "consent/%s", c->id),
                           (const char *)blob.data, blob.len);
    if (st->have_index_key && c->caller[0])
        leveldb_writebatch_put(batch, key, br_store_index_key(st, key, 'c', c->caller, c->id), "", 0);
    snprintf(detail, sizeof detail, "%s %s at announcement %s, prompt %s (%s), %u ms played",
             br_consent_name(c->decision), how(c, how_buf, sizeof how_buf), c->called, c->prompt,
             c->language, c->played_ms);
    br_ledger_entry_set(&e, BR_LEDGER_AUDIT, "caller", "consent", c->id, source, BR_OUTCOME_OK, detail);
    rc = br_ledger_write(st, batch, &e, NULL, NULL);
    leveldb_writebatch_destroy(batch);
    br_buf_free(&blob);
    return rc;
}

int br_consent_get(br_store_t *st, const char *id, br_consent_rec_t *c)
{
    uint8_t aad[4 + BR_ID_LEN], *plain;
    br_aead_t *aead;
    char key[KEY_LEN], *v;
    size_t vlen, plen;
    int rc;

    if (strlen(id) != BR_ID_LEN)
        return -ENOENT;
    v = br_store_get(st, key, (size_t)snprintf(key, sizeof key, "consent/%s", id), &vlen, &rc);
    if (!v)
        return rc;
    rc = br_store_load_data_key(st, id, &aead);
    if (rc == 0 && (vlen < 1 + BR_NONCE_LEN + BR_TAG_LEN || v[0] != BLOB_VERSION))
        rc = -EPROTO;
    plen = rc == 0 ? vlen - 1 - BR_NONCE_LEN - BR_TAG_LEN : 0;
    plain = rc == 0 ? malloc(plen ? plen : 1) : NULL;
    if (rc == 0 && !plain)
        rc = -ENOMEM;
    if (rc == 0) {
        consent_aad(aad, id);
        rc = br_aead_open(aead, (const uint8_t *)v + 1, aad, sizeof aad,
                          (const uint8_t *)v + 1 + BR_NONCE_LEN, vlen - 1 - BR_NONCE_LEN, plain);
    }
    if (rc == 0) {
        br_strlcpy(c->id, id, sizeof c->id);
        rc = br_consent_decode(plain, plen, c);
    }
    free(plain);
    br_aead_free(aead);
    leveldb_free(v);
    return rc;
}

int br_consent_by_number(br_store_t *st, const char *number, br_store_id_cb cb, void *ctx)
{
    return br_store_search(st, 'c', number, cb, ctx);
}

struct latest {
    int64_t since_ms;
    char id[BR_ID_LEN + 1];
};

static int keep_latest(const char *id, void *ctx)
{
    struct latest *l = ctx;
    char ms_hex[13];
    unsigned long long ms;

    /* Ids begin with their creation time, so the window needs no decryption. */
    memcpy(ms_hex, id, 12);
    ms_hex[12] = 0;
    ms = strtoull(ms_hex, NULL, 16);
    if ((int64_t)ms >= l->since_ms && strcmp(id, l->id) > 0)
        br_strlcpy(l->id, id, sizeof l->id);
    return 0;
}

int br_consent_latest(br_store_t *st, const char *number, int64_t since_us, br_consent_rec_t *out)
{
    struct latest l = { .since_ms = since_us / 1000 };
    int rc;

    if (!number || !number[0])
        return 0;
    rc = br_consent_by_number(st, number, keep_latest, &l);
    if (rc < 0)
        return rc;
    if (!l.id[0])
        return 0;
    rc = br_consent_get(st, l.id, out);
    return rc < 0 ? rc : 1;
}

int br_consent_erase(br_store_t *st, const char *id, const char *actor, const char *source,
                     const char *reason)
{
    leveldb_writebatch_t *batch;
    br_ledger_entry_t e;
    br_consent_rec_t c;
    char key[KEY_LEN];
    int rc;

    memset(&c, 0, sizeof c);
    rc = br_consent_get(st, id, &c);
    if (rc < 0)
        return rc == -ENOKEY ? -EALREADY : rc;
    batch = leveldb_writebatch_create();
    /* The key makes the record unreadable; the index would still tie the
     * number to a decision, and the record itself is useless without it. */
    leveldb_writebatch_delete(batch, key, (size_t)snprintf(key, sizeof key, "key/%s", id));
    leveldb_writebatch_delete(batch, key, (size_t)snprintf(key, sizeof key, "consent/%s", id));
    if (st->have_index_key && c.caller[0])
        leveldb_writebatch_delete(batch, key, br_store_index_key(st, key, 'c', c.caller, id));
    br_ledger_entry_set(&e, BR_LEDGER_ERASED, actor, "erase-consent", id, source, BR_OUTCOME_OK, reason);
    rc = br_ledger_write(st, batch, &e, NULL, NULL);
    leveldb_writebatch_destroy(batch);
    explicit_bzero(&c, sizeof c);
    return rc;
}
