/*
 * The session table: a fixed array searched linearly by token hash. A few
 * hundred console users at most, so a scan costs microseconds and needs no
 * allocation after start.
 */
#include "tokens.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "crypto/crypto.h"

struct slot {
    int used;
    uint8_t hash[BR_HASH_LEN];
    br_token_info_t info;
    int64_t start, last;
};

struct br_tokens {
    pthread_mutex_t lock;
    int64_t idle_us, max_us;
    unsigned n;
    struct slot *slots;
};

int br_tokens_new(br_tokens_t **out, int64_t idle_us, int64_t max_us, unsigned max_sessions)
{
    br_tokens_t *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        return -ENOMEM;
    t->slots = calloc(max_sessions ? max_sessions : 1, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return -ENOMEM;
    }
    t->n = max_sessions ? max_sessions : 1;
    t->idle_us = idle_us;
    t->max_us = max_us;
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return 0;
}

void br_tokens_free(br_tokens_t *t)
{
    if (!t)
        return;
    explicit_bzero(t->slots, t->n * sizeof *t->slots);
    free(t->slots);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static int hash_token(const char *token, uint8_t out[BR_HASH_LEN])
{
    uint8_t raw[32];
    struct br_iov part = { raw, sizeof raw };
    if (!token || strlen(token) != 64 || br_hex_decode(token, raw, sizeof raw) < 0)
        return -ENOENT;
    br_sha256(&part, 1, out);
    return 0;
}

static int expired(const br_tokens_t *t, const struct slot *s, int64_t now)
{
    return now - s->last > t->idle_us || now - s->start > t->max_us;
}

int br_tokens_create(br_tokens_t *t, const char *user, int64_t now, int64_t wall_us,
                     char token[BR_TOKEN_HEX], char csrf[BR_TOKEN_HEX])
{
    uint8_t raw[32], c[32];
    struct slot *victim = NULL;

    if (br_random_key(raw, sizeof raw) < 0 || br_random_key(c, sizeof c) < 0)
        return -EIO;
    br_hex_encode(raw, sizeof raw, token);
    br_hex_encode(c, sizeof c, csrf);
    pthread_mutex_lock(&t->lock);
    victim = &t->slots[0]; /* the table has at least one slot */
    for (unsigned i = 0; i < t->n; i++) {
        struct slot *s = &t->slots[i];
        if (!s->used || expired(t, s, now)) {
            victim = s;
            break;
        }
        if (s->last < victim->last)
            victim = s;
    }
    memset(victim, 0, sizeof *victim);
    victim->used = 1;
    hash_token(token, victim->hash);
    br_strlcpy(victim->info.user, user, sizeof victim->info.user);
    memcpy(victim->info.csrf, csrf, BR_TOKEN_HEX);
    victim->info.created_us = wall_us;
    victim->start = victim->last = now;
    pthread_mutex_unlock(&t->lock);
    explicit_bzero(raw, sizeof raw);
    return 0;
}

static struct slot *find(br_tokens_t *t, const uint8_t h[BR_HASH_LEN])
{
    for (unsigned i = 0; i < t->n; i++)
        if (t->slots[i].used && memcmp(t->slots[i].hash, h, BR_HASH_LEN) == 0)
            return &t->slots[i];
    return NULL;
}

int br_tokens_check(br_tokens_t *t, const char *token, int64_t now, br_token_info_t *info)
{
    uint8_t h[BR_HASH_LEN];
    struct slot *s;
    int rc = 0;

    if (hash_token(token, h) < 0)
        return -ENOENT;
    pthread_mutex_lock(&t->lock);
    s = find(t, h);
    if (!s) {
        rc = -ENOENT;
    } else if (expired(t, s, now)) {
        memset(s, 0, sizeof *s);
        rc = -ETIMEDOUT;
    } else {
        s->last = now;
        *info = s->info;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int br_tokens_revoke(br_tokens_t *t, const char *token)
{
    uint8_t h[BR_HASH_LEN];
    struct slot *s;

    if (hash_token(token, h) < 0)
        return -ENOENT;
    pthread_mutex_lock(&t->lock);
    s = find(t, h);
    if (s)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&t->lock);
    return s ? 0 : -ENOENT;
}

unsigned br_tokens_count(br_tokens_t *t)
{
    unsigned n = 0;
    pthread_mutex_lock(&t->lock);
    for (unsigned i = 0; i < t->n; i++)
        n += t->slots[i].used;
    pthread_mutex_unlock(&t->lock);
    return n;
}
