/*
 * Merkle tree hashing, inclusion and consistency proofs as in Certificate
 * Transparency (RFC 6962 §2.1, verification as in RFC 9162 §2.1.3-2.1.4),
 * over the entries of the ledger. Storage-agnostic: the caller supplies the
 * hash of any perfect, aligned subtree (a leaf is level 0) through get_node.
 *
 *   leaf hash = SHA-256(0x00 || entry),  node = SHA-256(0x01 || left || right)
 */
#ifndef BR_MERKLE_H
#define BR_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define BR_MERKLE_HASH 32
#define BR_MERKLE_MAX_PROOF 64 /* hashes: enough for 2^63 entries */

/* Returns the hash of the perfect subtree of 2^level leaves starting at leaf
 * index << level, 0 or a negative error. */
typedef int (*br_merkle_get_node)(void *ctx, unsigned level, uint64_t index,
                                  uint8_t out[BR_MERKLE_HASH]);

typedef struct br_merkle_proof {
    int n;
    uint8_t h[BR_MERKLE_MAX_PROOF][BR_MERKLE_HASH];
} br_merkle_proof_t;

void br_merkle_leaf_hash(const void *entry, size_t len, uint8_t out[BR_MERKLE_HASH]);
void br_merkle_node_hash(const uint8_t l[BR_MERKLE_HASH], const uint8_t r[BR_MERKLE_HASH],
                         uint8_t out[BR_MERKLE_HASH]);

/* Root of the tree of the first size leaves (size >= 1). */
int br_merkle_root(br_merkle_get_node get, void *ctx, uint64_t size, uint8_t out[BR_MERKLE_HASH]);
/* Audit path of leaf index m in the tree of size leaves (RFC 6962 PATH). */
int br_merkle_inclusion(br_merkle_get_node get, void *ctx, uint64_t m, uint64_t size,
                        br_merkle_proof_t *proof);
/* Consistency proof between the trees of old_size and size leaves. */
int br_merkle_consistency(br_merkle_get_node get, void *ctx, uint64_t old_size, uint64_t size,
                          br_merkle_proof_t *proof);

/* Verification needs no tree, only the proof: 0 when it holds, -EBADMSG not. */
int br_merkle_verify_inclusion(const uint8_t leaf[BR_MERKLE_HASH], uint64_t m, uint64_t size,
                               const br_merkle_proof_t *proof, const uint8_t root[BR_MERKLE_HASH]);
int br_merkle_verify_consistency(uint64_t old_size, uint64_t size,
                                 const uint8_t old_root[BR_MERKLE_HASH],
                                 const uint8_t root[BR_MERKLE_HASH],
                                 const br_merkle_proof_t *proof);

#endif
