/*
 * Phone PINs. A PIN has four to sixteen digits, so no hash makes a stolen
 * configuration file safe by its cost alone; what protects it is a key:
 * the stored form is HMAC-SHA-256 under a key derived from the store's
 * index key (itself wrapped by the master key, and kept across master key
 * rotations), so trying PINs needs the master key, and the phone service
 * rate-limits the PINs it is sent.
 *
 *   hmac-sha256$SALT$MAC    SALT 16 hex digits, MAC 64 hex digits,
 *   MAC = HMAC(K, SALT || ":" || PIN),  K = HMAC(index key, "bibrec phone pin v1")
 */
#include "pin.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "store_int.h"

#define PREFIX "hmac-sha256$"

static int pin_ok(const char *pin)
{
    size_t n = pin ? strlen(pin) : 0;
    if (n < 4 || n > 16)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (pin[i] < '0' || pin[i] > '9')
            return 0;
    return 1;
}

static void mac(br_store_t *st, const char *salt, const char *pin, char out[65])
{
    static const char label[] = "bibrec phone pin v1";
    uint8_t k[BR_HASH_LEN], h[BR_HASH_LEN];
    char msg[64];
    int n = snprintf(msg, sizeof msg, "%s:%s", salt, pin);

    br_hmac_sha256(st->index_key, label, sizeof label - 1, k);
    br_hmac_sha256(k, msg, (size_t)n, h);
    br_hex_encode(h, sizeof h, out);
    explicit_bzero(k, sizeof k);
    explicit_bzero(msg, sizeof msg);
}

int br_pin_hash(br_store_t *st, const char *pin, char *out, size_t outsz)
{
    uint8_t rnd[8];
    char salt[17], m[65];
    int rc;

    if (!pin_ok(pin))
        return -EINVAL;
    if (!st->have_index_key)
        return -ENOKEY;
    rc = br_random_nonce(rnd, sizeof rnd);
    if (rc < 0)
        return rc;
    br_hex_encode(rnd, sizeof rnd, salt);
    mac(st, salt, pin, m);
    return (size_t)snprintf(out, outsz, PREFIX "%s$%s", salt, m) < outsz ? 0 : -ENOSPC;
}

int br_pin_check(br_store_t *st, const char *stored, const char *pin)
{
    char salt[17], m[65];
    unsigned diff = 0;

    if (!st->have_index_key)
        return -ENOKEY;
    if (strncmp(stored, PREFIX, sizeof PREFIX - 1) != 0 || strlen(stored) != sizeof PREFIX - 1 + 16 + 1 + 64 ||
        stored[sizeof PREFIX - 1 + 16] != '$')
        return -EINVAL;
    if (!pin_ok(pin))
        return 0;
    memcpy(salt, stored + sizeof PREFIX - 1, 16);
    salt[16] = 0;
    mac(st, salt, pin, m);
    for (int i = 0; i < 64; i++)
        diff |= (unsigned)(m[i] ^ stored[sizeof PREFIX - 1 + 17 + i]);
    return diff == 0;
}
