/*
 * Web sessions: what a successful login hands out. A token is 32 random
 * bytes (64 hex digits to the client); we keep only its SHA-256, so a memory
 * dump does not give away live sessions. Each session ends after idle time
 * without a request or at an absolute limit, whichever comes first. Sessions
 * live in memory only: a restart logs everybody out. Safe to call from
 * several threads (the API's handlers run on libuv's thread pool). Times are
 * passed in (µs, any monotonic clock) so that tests can move them.
 */
#ifndef BR_TOKENS_H
#define BR_TOKENS_H

#include <stdint.h>

#define BR_TOKEN_HEX 65 /* 64 hex digits and a NUL */

typedef struct br_tokens br_tokens_t;

typedef struct br_token_info {
    char user[64];
    char csrf[BR_TOKEN_HEX]; /* the double-submit CSRF token given at login */
    int64_t created_us;      /* on the wall clock, to compare with a password change */
} br_token_info_t;

/* max_sessions: beyond it the session idle longest is dropped. */
int br_tokens_new(br_tokens_t **out, int64_t idle_us, int64_t max_us, unsigned max_sessions);
void br_tokens_free(br_tokens_t *t);

/* A new session for user at now: writes the token and the CSRF token (hex). */
int br_tokens_create(br_tokens_t *t, const char *user, int64_t now, int64_t wall_us,
                     char token[BR_TOKEN_HEX], char csrf[BR_TOKEN_HEX]);
/* 0 and info when token names a live session (its idle time restarts), -ETIMEDOUT when it
 * expired (and is now forgotten), -ENOENT when unknown or malformed. */
int br_tokens_check(br_tokens_t *t, const char *token, int64_t now, br_token_info_t *info);
/* Ends one session; -ENOENT when unknown. */
int br_tokens_revoke(br_tokens_t *t, const char *token);
unsigned br_tokens_count(br_tokens_t *t);

#endif
