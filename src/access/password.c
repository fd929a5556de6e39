/*
 * Argon2id through Debian's libargon2 (the reference implementation). The
 * library compares tags in constant time; we only add a parameter check on
 * stored strings so a damaged record cannot make us hash with absurd costs.
 */
#include "password.h"

#include <argon2.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"

#define SALT_LEN 16
#define TAG_LEN 32

int br_password_acceptable(const char *pw)
{
    size_t n = pw ? strlen(pw) : 0;
    if (n < BR_PW_MIN || n > BR_PW_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
            return 0;
    return 1;
}

int br_password_hash(const char *pw, char *out, size_t outsz)
{
    uint8_t salt[SALT_LEN];
    size_t n = pw ? strlen(pw) : 0;
    int rc;

    if (n == 0 || n > BR_PW_MAX)
        return -EINVAL;
    if (argon2_encodedlen(BR_ARGON2_T, BR_ARGON2_M_KIB, BR_ARGON2_P, SALT_LEN, TAG_LEN,
                          Argon2_id) > outsz)
        return -ENOSPC;
    if (br_random_key(salt, sizeof salt) < 0)
        return -EIO;
    rc = argon2id_hash_encoded(BR_ARGON2_T, BR_ARGON2_M_KIB, BR_ARGON2_P, pw, n, salt, sizeof salt,
                               TAG_LEN, out, outsz);
    return rc == ARGON2_OK ? 0 : rc == ARGON2_MEMORY_ALLOCATION_ERROR ? -ENOMEM : -EIO;
}

/* Refuses stored strings whose costs are far from ours (a damaged or planted record). */
static int sane_params(const char *encoded)
{
    unsigned m = 0, t = 0, p = 0;
    if (strncmp(encoded, "$argon2id$v=19$", 15) != 0)
        return 0;
    if (sscanf(encoded + 15, "m=%u,t=%u,p=%u$", &m, &t, &p) != 3)
        return 0;
    return m >= 8 && m <= 1u << 20 && t >= 1 && t <= 16 && p >= 1 && p <= 8;
}

int br_password_verify(const char *encoded, const char *pw)
{
    size_t n = pw ? strlen(pw) : 0;
    int rc;

    if (!encoded || !sane_params(encoded))
        return -EINVAL;
    if (n > BR_PW_MAX)
        return -EACCES;
    rc = argon2id_verify(encoded, pw ? pw : "", n);
    if (rc == ARGON2_OK)
        return 0;
    return rc == ARGON2_VERIFY_MISMATCH ? -EACCES : -EINVAL;
}

int br_password_generate(char *out, size_t outsz)
{
    /* 56 symbols: no 0/O, 1/l/I. Rejection sampling keeps them uniform. */
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    const unsigned na = sizeof alphabet - 1, limit = 256 - 256 % na;
    size_t i = 0;

    if (outsz < BR_PW_GENERATED + 1)
        return -ENOSPC;
    while (i < BR_PW_GENERATED) {
        uint8_t r[32];
        if (br_random_key(r, sizeof r) < 0)
            return -EIO;
        for (size_t k = 0; k < sizeof r && i < BR_PW_GENERATED; k++)
            if (r[k] < limit)
                out[i++] = alphabet[r[k] % na];
    }
    out[i] = 0;
    return 0;
}
