/*
 * RFC 6962 Merkle trees. Any subtree hash the algorithms need is either a
 * perfect aligned subtree (asked from the caller, who caches them as the
 * ledger grows) or a right-edge subtree, computed here from perfect ones in
 * O(log n) steps, so proofs over millions of entries read few hashes.
 */
#include "merkle.h"

#include <errno.h>
#include <string.h>

#include "crypto/crypto.h"

void br_merkle_leaf_hash(const void *entry, size_t len, uint8_t out[BR_MERKLE_HASH])
{
    static const uint8_t zero = 0x00;
    struct br_iov p[2] = { { &zero, 1 }, { entry, len } };
    br_sha256(p, 2, out);
}

void br_merkle_node_hash(const uint8_t l[BR_MERKLE_HASH], const uint8_t r[BR_MERKLE_HASH],
                         uint8_t out[BR_MERKLE_HASH])
{
    static const uint8_t one = 0x01;
    struct br_iov p[3] = { { &one, 1 }, { l, BR_MERKLE_HASH }, { r, BR_MERKLE_HASH } };
    br_sha256(p, 3, out);
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

static int is_pow2(uint64_t n)
{
    return n && !(n & (n - 1));
}

static unsigned log2u(uint64_t n)
{
    unsigned l = 0;
    while (n > 1) {
        n >>= 1;
        l++;
    }
    return l;
}

/* MTH(D[a:b]). */
static int mth(br_merkle_get_node get, void *ctx, uint64_t a, uint64_t b, uint8_t out[BR_MERKLE_HASH])
{
    uint8_t l[BR_MERKLE_HASH], r[BR_MERKLE_HASH];
    uint64_t n = b - a, k;
    int rc;

    if (n == 0)
        return -EINVAL;
    if (is_pow2(n) && (a & (n - 1)) == 0)
        return get(ctx, log2u(n), a >> log2u(n), out);
    k = split(n);
    rc = mth(get, ctx, a, a + k, l);
    if (rc == 0)
        rc = mth(get, ctx, a + k, b, r);
    if (rc == 0)
        br_merkle_node_hash(l, r, out);
    return rc;
}

int br_merkle_root(br_merkle_get_node get, void *ctx, uint64_t size, uint8_t out[BR_MERKLE_HASH])
{
    return mth(get, ctx, 0, size, out);
}

static int push(br_merkle_proof_t *p, br_merkle_get_node get, void *ctx, uint64_t a, uint64_t b)
{
    if (p->n >= BR_MERKLE_MAX_PROOF)
        return -E2BIG;
    return mth(get, ctx, a, b, p->h[p->n++]);
}

static int path(br_merkle_get_node get, void *ctx, uint64_t m, uint64_t a, uint64_t b,
                br_merkle_proof_t *p)
{
    uint64_t n = b - a, k;
    int rc;

    if (n <= 1)
        return 0;
    k = split(n);
    if (m < k) {
        rc = path(get, ctx, m, a, a + k, p);
        return rc ? rc : push(p, get, ctx, a + k, b);
    }
    rc = path(get, ctx, m - k, a + k, b, p);
    return rc ? rc : push(p, get, ctx, a, a + k);
}

int br_merkle_inclusion(br_merkle_get_node get, void *ctx, uint64_t m, uint64_t size,
                        br_merkle_proof_t *proof)
{
    proof->n = 0;
    if (m >= size)
        return -EINVAL;
    return path(get, ctx, m, 0, size, proof);
}

static int subproof(br_merkle_get_node get, void *ctx, uint64_t m, uint64_t a, uint64_t b, int whole,
                    br_merkle_proof_t *p)
{
    uint64_t n = b - a, k;
    int rc;

    if (m == n)
        return whole ? 0 : push(p, get, ctx, a, b);
    k = split(n);
    if (m <= k) {
        rc = subproof(get, ctx, m, a, a + k, whole, p);
        return rc ? rc : push(p, get, ctx, a + k, b);
    }
    rc = subproof(get, ctx, m - k, a + k, b, 0, p);
    return rc ? rc : push(p, get, ctx, a, a + k);
}

int br_merkle_consistency(br_merkle_get_node get, void *ctx, uint64_t old_size, uint64_t size,
                          br_merkle_proof_t *proof)
{
    proof->n = 0;
    if (old_size == 0 || old_size > size)
        return -EINVAL;
    if (old_size == size)
        return 0;
    return subproof(get, ctx, old_size, 0, size, 1, proof);
}

int br_merkle_verify_inclusion(const uint8_t leaf[BR_MERKLE_HASH], uint64_t m, uint64_t size,
                               const br_merkle_proof_t *proof, const uint8_t root[BR_MERKLE_HASH])
{
    uint64_t fn = m, sn;
    uint8_t r[BR_MERKLE_HASH];

    if (m >= size)
        return -EBADMSG;
    sn = size - 1;
    memcpy(r, leaf, BR_MERKLE_HASH);
    for (int i = 0; i < proof->n; i++) {
        if (sn == 0)
            return -EBADMSG;
        if ((fn & 1) || fn == sn) {
            br_merkle_node_hash(proof->h[i], r, r);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            br_merkle_node_hash(r, proof->h[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, BR_MERKLE_HASH) == 0 ? 0 : -EBADMSG;
}

int br_merkle_verify_consistency(uint64_t old_size, uint64_t size,
                                 const uint8_t old_root[BR_MERKLE_HASH],
                                 const uint8_t root[BR_MERKLE_HASH],
                                 const br_merkle_proof_t *proof)
{
    uint8_t path[BR_MERKLE_MAX_PROOF + 1][BR_MERKLE_HASH];
    uint8_t fr[BR_MERKLE_HASH], sr[BR_MERKLE_HASH];
    uint64_t fn, sn;
    int n = 0;

    if (old_size == 0 || old_size > size)
        return -EBADMSG;
    if (old_size == size)
        return proof->n == 0 && memcmp(old_root, root, BR_MERKLE_HASH) == 0 ? 0 : -EBADMSG;
    if (proof->n == 0 || proof->n > BR_MERKLE_MAX_PROOF)
        return -EBADMSG;
    if (is_pow2(old_size))
        memcpy(path[n++], old_root, BR_MERKLE_HASH);
    for (int i = 0; i < proof->n; i++)
        memcpy(path[n++], proof->h[i], BR_MERKLE_HASH);
    fn = old_size - 1;
    sn = size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    memcpy(fr, path[0], BR_MERKLE_HASH);
    memcpy(sr, path[0], BR_MERKLE_HASH);
    for (int i = 1; i < n; i++) {
        if (sn == 0)
            return -EBADMSG;
        if ((fn & 1) || fn == sn) {
            br_merkle_node_hash(path[i], fr, fr);
            br_merkle_node_hash(path[i], sr, sr);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            br_merkle_node_hash(sr, path[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, old_root, BR_MERKLE_HASH) == 0 &&
                   memcmp(sr, root, BR_MERKLE_HASH) == 0
               ? 0
               : -EBADMSG;
}
