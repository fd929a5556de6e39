/*
 * Failed-login throttling, per user name and per source address: the first
 * few failures are free, then each further failure doubles the time before
 * the next attempt is even looked at (base, 2 base, 4 base, ... up to a
 * ceiling). A success resets the key. Checking happens before any password
 * is hashed, so a flood of guesses costs us no Argon2 time. Keys are strings
 * ("user:NAME", "addr:IP"); the table has a fixed number of slots and
 * forgets the quietest key when full. Thread-safe; times passed in (µs).
 */
#ifndef BR_RATELIMIT_H
#define BR_RATELIMIT_H

#include <stdint.h>

typedef struct br_ratelimit br_ratelimit_t;

int br_ratelimit_new(br_ratelimit_t **out, unsigned free_failures, int64_t base_us, int64_t max_us,
                     unsigned slots);
void br_ratelimit_free(br_ratelimit_t *rl);

/* 0 when key may try now, else how many µs it must still wait. */
int64_t br_ratelimit_wait(br_ratelimit_t *rl, const char *key, int64_t now);
/* Counts a failure; returns the wait it now imposes (0 while failures are free). */
int64_t br_ratelimit_fail(br_ratelimit_t *rl, const char *key, int64_t now);
void br_ratelimit_reset(br_ratelimit_t *rl, const char *key);

#endif
