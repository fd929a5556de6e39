/*
 * The only module that talks to GnuTLS. Everything that encrypts, hashes or
 * draws random bytes goes through these calls, so the algorithms are chosen
 * in one place: AES-256-GCM for data and key wrapping, SHA-256 for chains.
 */
#ifndef BR_CRYPTO_H
#define BR_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define BR_KEY_LEN 32
#define BR_NONCE_LEN 12
#define BR_TAG_LEN 16
#define BR_HASH_LEN 32
#define BR_KEYID_LEN 8

/* Fills buf with bytes from GnuTLS's CSPRNG (key-grade for keys, nonce-grade
 * otherwise). Returns 0 or -EIO. */
int br_random_key(uint8_t *buf, size_t len);
int br_random_nonce(uint8_t *buf, size_t len);

/* SHA-256 of the concatenation of up to n parts. */
struct br_iov {
    const void *p;
    size_t n;
};
void br_sha256(const struct br_iov *parts, int nparts, uint8_t out[BR_HASH_LEN]);

/* HMAC-SHA-256 (for the blind search indexes). */
void br_hmac_sha256(const uint8_t key[BR_KEY_LEN], const void *data, size_t len,
                    uint8_t out[BR_HASH_LEN]);

/* An AES-256-GCM context bound to one key. */
typedef struct br_aead br_aead_t;

int br_aead_new(br_aead_t **out, const uint8_t key[BR_KEY_LEN]);
void br_aead_free(br_aead_t *a);
/* Encrypts pt into out, which must hold len + BR_TAG_LEN bytes. */
int br_aead_seal(br_aead_t *a, const uint8_t nonce[BR_NONCE_LEN], const void *aad, size_t aadlen,
                 const void *pt, size_t len, uint8_t *out);
/* Decrypts and authenticates ct (len includes the tag) into out (len -
 * BR_TAG_LEN bytes). Returns 0, or -EBADMSG when the tag does not match. */
int br_aead_open(br_aead_t *a, const uint8_t nonce[BR_NONCE_LEN], const void *aad, size_t aadlen,
                 const void *ct, size_t len, uint8_t *out);

/* The master key: wraps every recording's data key. */
typedef struct br_master_key {
    uint8_t key[BR_KEY_LEN];
    uint8_t id[BR_KEYID_LEN]; /* derived from the key, names it in wrapped keys */
} br_master_key_t;

/* Loads the master key file (64 hex digits), or creates it with mode 0600
 * when it does not exist and create is set. Refuses a file that others can
 * read. Returns 0 or a negative errno; *created tells whether it was made. */
int br_master_key_load(br_master_key_t *mk, const char *path, int create, int *created);
void br_master_key_wipe(br_master_key_t *mk);

/* Retired master keys live beside the current one as PATH.<key id hex>
 * until no data key needs them. Loads up to max of them; returns how many. */
int br_master_key_load_retired(const char *path, br_master_key_t *out, int max);
/* Rotation on disk: writes a new key to PATH.new, moves the current file to
 * PATH.<its id>, then PATH.new to PATH (each step a rename, so a crash
 * leaves every key on disk). Fills *fresh with the new key. */
int br_master_key_rotate_files(const char *path, const br_master_key_t *current,
                               br_master_key_t *fresh);
/* Deletes PATH.<id>. */
int br_master_key_remove_retired(const char *path, const uint8_t id[BR_KEYID_LEN]);

/* Wrapped key blob: [key id 8][nonce 12][ciphertext 32][tag 16]. */
#define BR_WRAPPED_KEY_LEN (BR_KEYID_LEN + BR_NONCE_LEN + BR_KEY_LEN + BR_TAG_LEN)
int br_key_wrap(const br_master_key_t *mk, const uint8_t dk[BR_KEY_LEN], const void *aad,
                size_t aadlen, uint8_t out[BR_WRAPPED_KEY_LEN]);
/* -ENOKEY when the blob names another master key, -EKEYREJECTED when it does
 * not authenticate. */
int br_key_unwrap(const br_master_key_t *mk, const uint8_t *blob, size_t bloblen, const void *aad,
                  size_t aadlen, uint8_t dk[BR_KEY_LEN]);

#endif
