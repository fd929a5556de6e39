/*
 * The throttle table: a fixed array scanned linearly (logins are rare and
 * each one costs an Argon2 hash anyway).
 */
#include "ratelimit.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct entry {
    char key[96];
    unsigned failures;
    int64_t until; /* no attempt before this */
    int64_t last;  /* last failure */
};

struct br_ratelimit {
    pthread_mutex_t lock;
    unsigned free_failures;
    int64_t base_us, max_us;
    unsigned n;
    struct entry *e;
};

int br_ratelimit_new(br_ratelimit_t **out, unsigned free_failures, int64_t base_us, int64_t max_us,
                     unsigned slots)
{
    br_ratelimit_t *rl = calloc(1, sizeof *rl);
    *out = NULL;
    if (!rl)
        return -ENOMEM;
    rl->n = slots ? slots : 1;
    rl->e = calloc(rl->n, sizeof *rl->e);
    if (!rl->e) {
        free(rl);
        return -ENOMEM;
    }
    rl->free_failures = free_failures;
    rl->base_us = base_us;
    rl->max_us = max_us;
    pthread_mutex_init(&rl->lock, NULL);
    *out = rl;
    return 0;
}

void br_ratelimit_free(br_ratelimit_t *rl)
{
    if (!rl)
        return;
    free(rl->e);
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

static struct entry *find(br_ratelimit_t *rl, const char *key)
{
    for (unsigned i = 0; i < rl->n; i++)
        if (rl->e[i].key[0] && strcmp(rl->e[i].key, key) == 0)
            return &rl->e[i];
    return NULL;
}

int64_t br_ratelimit_wait(br_ratelimit_t *rl, const char *key, int64_t now)
{
    struct entry *e;
    int64_t wait = 0;

    pthread_mutex_lock(&rl->lock);
    e = find(rl, key);
    if (e && e->until > now)
        wait = e->until - now;
    pthread_mutex_unlock(&rl->lock);
    return wait;
}

int64_t br_ratelimit_fail(br_ratelimit_t *rl, const char *key, int64_t now)
{
    struct entry *e;
    int64_t wait = 0;

    pthread_mutex_lock(&rl->lock);
    e = find(rl, key);
    if (!e) { /* a free slot, else the one whose last failure is oldest */
        e = &rl->e[0];
        for (unsigned i = 0; i < rl->n && e->key[0]; i++)
            if (!rl->e[i].key[0] || rl->e[i].last < e->last)
                e = &rl->e[i];
        memset(e, 0, sizeof *e);
        br_strlcpy(e->key, key, sizeof e->key);
    }
    e->failures++;
    e->last = now;
    if (e->failures >= rl->free_failures) {
        unsigned shift = e->failures - rl->free_failures;
        wait = shift >= 30 ? rl->max_us : rl->base_us << shift;
        if (wait > rl->max_us || wait <= 0)
            wait = rl->max_us;
        e->until = now + wait;
    }
    pthread_mutex_unlock(&rl->lock);
    return wait;
}

void br_ratelimit_reset(br_ratelimit_t *rl, const char *key)
{
    struct entry *e;
    pthread_mutex_lock(&rl->lock);
    e = find(rl, key);
    if (e)
        memset(e, 0, sizeof *e);
    pthread_mutex_unlock(&rl->lock);
}
