/*
 * Ed25519 signatures (through GnuTLS) for the store's signed checkpoints.
 * The signing key lives in a PEM file (PKCS#8, mode 0600) created on first
 * start; auditors get the public key as a PEM SubjectPublicKeyInfo.
 */
#ifndef BR_SIGN_H
#define BR_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define BR_SIG_LEN 64

typedef struct br_signer br_signer_t;
typedef struct br_verifier br_verifier_t;

/* Loads the key file, or creates it (mode 0600) when absent and create is
 * set. Refuses a file readable by others (-EACCES). */
int br_signer_load(br_signer_t **out, const char *path, int create, int *created);
void br_signer_free(br_signer_t *s);
int br_signer_sign(br_signer_t *s, const void *data, size_t len, uint8_t sig[BR_SIG_LEN]);
/* Appends the public key as PEM. */
int br_signer_public_pem(br_signer_t *s, br_buf_t *out);

int br_verifier_from_pem(br_verifier_t **out, const void *pem, size_t len);
int br_verifier_from_signer(br_verifier_t **out, br_signer_t *s);
void br_verifier_free(br_verifier_t *v);
/* 0 when the signature holds, -EBADMSG when not. */
int br_verifier_check(br_verifier_t *v, const void *data, size_t len, const uint8_t sig[BR_SIG_LEN]);

#endif
