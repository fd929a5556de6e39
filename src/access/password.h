/*
 * Password hashing for the console and API users: Argon2id (RFC 9106) with
 * the OWASP Password Storage Cheat Sheet's first set of parameters, m = 19
 * MiB, t = 2, p = 1, a 16-byte random salt and a 32-byte tag, kept in the
 * PHC string format ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash"), so the
 * parameters travel with each hash and can be raised later without
 * invalidating old ones. One hash takes tens of milliseconds on purpose:
 * callers on the event loop must hand it to the thread pool.
 */
#ifndef BR_PASSWORD_H
#define BR_PASSWORD_H

#include <stddef.h>

#define BR_PW_HASH_MAX 128 /* an encoded hash fits, NUL included */
#define BR_PW_MIN 12       /* a chosen password has at least this many characters */
#define BR_PW_MAX 256
#define BR_PW_GENERATED 20 /* characters of a generated password */

/* Argon2 cost parameters (memory in KiB). */
#define BR_ARGON2_M_KIB 19456
#define BR_ARGON2_T 2
#define BR_ARGON2_P 1

/* Hashes pw into out (PHC string). 0, -EINVAL (pw too short or too long), -ENOMEM or -EIO. */
int br_password_hash(const char *pw, char *out, size_t outsz);
/* 0 when pw matches encoded, -EACCES when it does not, -EINVAL when encoded is not an Argon2id
 * string. Takes as long whatever the outcome. */
int br_password_verify(const char *encoded, const char *pw);
/* A fresh random password of BR_PW_GENERATED characters from an alphabet without look-alikes
 * (about 5.6 bits each, 112 bits in all). out holds at least BR_PW_GENERATED + 1 bytes. */
int br_password_generate(char *out, size_t outsz);
/* Whether pw is acceptable as a chosen password (length, no control characters). */
int br_password_acceptable(const char *pw);

#endif
