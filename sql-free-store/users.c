/*
 * User records (src/access/users.h) and the private marker. A user record
 * holds a password hash, roles, groups and the user's directory numbers;
 * only the name (the key) is in clear. Records are sealed with AES-256-GCM
 * under a key derived from the index key (HMAC-SHA-256(index key, "bibrec
 * user records v1")), which the master key wraps, so a stolen store without
 * the master key gives away names and nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store_int.h"

#define USER_VERSION 1
#define USER_KEY_MAX 80

static int user_aead(br_store_t *st, br_aead_t **out)
{
    static const char label[] = "bibrec user records v1";
    uint8_t k[BR_HASH_LEN];
    int rc;

    if (!st->have_index_key)
        return -ENOKEY;
    br_hmac_sha256(st->index_key, label, sizeof label - 1, k);
    rc = br_aead_new(out, k);
    explicit_bzero(k, sizeof k);
    return rc;
}

static size_t user_key(char *out, const char *name)
{
    int n = snprintf(out, USER_KEY_MAX, "user/%s", name);
    return n > 0 && n < USER_KEY_MAX ? (size_t)n : 0;
}

int br_store_user_put(br_store_t *st, const char *name, const void *rec, size_t len)
{
    char key[USER_KEY_MAX];
    size_t klen = user_key(key, name);
    uint8_t *val;
    br_aead_t *aead = NULL;
    int rc;

    if (!klen)
        return -EINVAL;
    rc = user_aead(st, &aead);
    if (rc < 0)
        return rc;
    val = malloc(1 + BR_NONCE_LEN + len + BR_TAG_LEN);
    if (!val) {
        br_aead_free(aead);
        return -ENOMEM;
    }
    val[0] = USER_VERSION;
    rc = br_random_nonce(val + 1, BR_NONCE_LEN);
    if (rc == 0)
        rc = br_aead_seal(aead, val + 1, key, klen, rec, len, val + 1 + BR_NONCE_LEN);
    if (rc == 0)
        rc = br_store_put(st, key, klen, val, 1 + BR_NONCE_LEN + len + BR_TAG_LEN, 1);
    br_aead_free(aead);
    free(val);
    return rc;
}

static int user_open(br_aead_t *aead, const char *key, size_t klen, const uint8_t *v, size_t vlen,
                     br_buf_t *out)
{
    size_t n;
    if (vlen < 1 + BR_NONCE_LEN + BR_TAG_LEN || v[0] != USER_VERSION)
        return -EPROTO;
    n = vlen - 1 - BR_NONCE_LEN - BR_TAG_LEN;
    br_buf_reset(out);
    if (br_buf_reserve(out, n + 1) < 0)
        return -ENOMEM;
    if (br_aead_open(aead, v + 1, key, klen, v + 1 + BR_NONCE_LEN, vlen - 1 - BR_NONCE_LEN,
                     out->data) < 0)
        return -EBADMSG;
    out->len = n;
    return 0;
}

int br_store_user_get(br_store_t *st, const char *name, br_buf_t *out)
{
    char key[USER_KEY_MAX], *v;
    size_t klen = user_key(key, name), vlen;
    br_aead_t *aead = NULL;
    int rc;

    if (!klen)
        return -ENOENT;
    v = br_store_get(st, key, klen, &vlen, &rc);
    if (!v)
        return rc;
    rc = user_aead(st, &aead);
    if (rc == 0)
        rc = user_open(aead, key, klen, (uint8_t *)v, vlen, out);
    br_aead_free(aead);
    leveldb_free(v);
    return rc;
}

int br_store_user_each(br_store_t *st, br_store_user_cb cb, void *ctx)
{
    leveldb_iterator_t *it;
    br_aead_t *aead = NULL;
    br_buf_t rec;
    int rc = user_aead(st, &aead);

    if (rc < 0)
        return rc;
    br_buf_init(&rec);
    it = leveldb_create_iterator(st->db, st->ropts);
    for (leveldb_iter_seek(it, "user/", 5); rc == 0 && leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        const char *v = leveldb_iter_value(it, &vlen);
        char name[USER_KEY_MAX];
        if (klen < 5 || memcmp(k, "user/", 5) != 0)
            break;
        if (klen - 5 >= sizeof name)
            continue;
        memcpy(name, k + 5, klen - 5);
        name[klen - 5] = 0;
        if (user_open(aead, k, klen, (const uint8_t *)v, vlen, &rec) == 0)
            rc = cb(name, rec.data, rec.len, ctx);
    }
    rc = br_store_iter_done(it, rc);
    br_aead_free(aead);
    br_buf_free(&rec);
    return rc;
}

/* ---- private marks ---------------------------------------------------------------------- */

int br_store_set_private(br_store_t *st, const char *id, const char *actor)
{
    char key[BR_KEY_MAX], *v;
    size_t vlen;
    br_buf_t b;
    int rc;

    if (strlen(id) != BR_ID_LEN || strchr(id, '/'))
        return -ENOENT;
    snprintf(key, sizeof key, "rec/%s/seal", id);
    v = br_store_get(st, key, strlen(key), &vlen, &rc);
    if (!v)
        return rc;
    leveldb_free(v);
    br_buf_init(&b);
    br_buf_put_u64le(&b, (uint64_t)br_now_us());
    br_buf_put_str(&b, actor);
    snprintf(key, sizeof key, "rec/%s/private", id);
    rc = b.failed ? -ENOMEM : br_store_put(st, key, strlen(key), b.data, b.len, 1);
    br_buf_free(&b);
    return rc;
}

int br_store_is_private(br_store_t *st, const char *id)
{
    char key[BR_KEY_MAX], *v;
    size_t vlen;
    int rc;

    if (strlen(id) != BR_ID_LEN || strchr(id, '/'))
        return 0;
    snprintf(key, sizeof key, "rec/%s/private", id);
    v = br_store_get(st, key, strlen(key), &vlen, &rc);
    if (!v)
        return 0;
    leveldb_free(v);
    return 1;
}
