/*
 * Merkle proofs against a brute-force RFC 6962 tree: every inclusion proof
 * and every consistency proof for trees of 1..40 leaves verifies, and any
 * changed hash, index or size makes verification fail.
 */
#include <errno.h>

#include "sql-free-store/merkle.h"
#include "tap.h"

#define N 40

static uint8_t leaves[N][BR_MERKLE_HASH];
static int reads;

/* Brute force MTH over leaves[a:b], straight from the RFC's definition. */
static void mth(uint64_t a, uint64_t b, uint8_t out[BR_MERKLE_HASH])
{
    uint64_t n = b - a, k = 1;
    uint8_t l[BR_MERKLE_HASH], r[BR_MERKLE_HASH];
    if (n == 1) {
        memcpy(out, leaves[a], BR_MERKLE_HASH);
        return;
    }
    while (k << 1 < n)
        k <<= 1;
    mth(a, a + k, l);
    mth(a + k, b, r);
    br_merkle_node_hash(l, r, out);
}

static int get_node(void *ctx, unsigned level, uint64_t index, uint8_t out[BR_MERKLE_HASH])
{
    uint64_t a = index << level, b = a + (1ULL << level);
    (void)ctx;
    reads++;
    if (b > N)
        return -ERANGE;
    mth(a, b, out);
    return 0;
}

int main(void)
{
    int inc_ok = 1, inc_neg = 1, con_ok = 1, con_neg = 1, root_ok = 1;
    br_merkle_proof_t p;
    uint8_t root[BR_MERKLE_HASH], old[BR_MERKLE_HASH], want[BR_MERKLE_HASH];

    for (int i = 0; i < N; i++) {
        char e[16];
        snprintf(e, sizeof e, "entry %d", i);
        br_merkle_leaf_hash(e, strlen(e), leaves[i]);
    }
    /* RFC 6962 test vector: the empty-string leaf. */
    {
        static const uint8_t empty_leaf[BR_MERKLE_HASH] = {
            0x6e, 0x34, 0x0b, 0x9c, 0xff, 0xb3, 0x7a, 0x98, 0x9c, 0xa5, 0x44, 0xe6, 0xbb, 0x78, 0x0a, 0x2c,
            0x78, 0x90, 0x1d, 0x3f, 0xb3, 0x37, 0x38, 0x76, 0x85, 0x11, 0xa3, 0x06, 0x17, 0xaf, 0xa0, 0x1d
        };
        uint8_t h[BR_MERKLE_HASH];
        br_merkle_leaf_hash("", 0, h);
        ok(memcmp(h, empty_leaf, BR_MERKLE_HASH) == 0, "leaf hash of the empty entry matches RFC 6962");
    }
    for (uint64_t n = 1; n <= N; n++) {
        br_merkle_root(get_node, NULL, n, root);
        mth(0, n, want);
        if (memcmp(root, want, BR_MERKLE_HASH))
            root_ok = 0;
        for (uint64_t m = 0; m < n; m++) {
            if (br_merkle_inclusion(get_node, NULL, m, n, &p) < 0 ||
                br_merkle_verify_inclusion(leaves[m], m, n, &p, root) != 0)
                inc_ok = 0;
            if (br_merkle_verify_inclusion(leaves[(m + 1) % n], m, n, &p, root) == 0 && n > 1)
                inc_neg = 0;
            if (p.n > 0) {
                p.h[0][5] ^= 1;
                if (br_merkle_verify_inclusion(leaves[m], m, n, &p, root) == 0)
                    inc_neg = 0;
            }
        }
        for (uint64_t m = 1; m <= n; m++) {
            br_merkle_root(get_node, NULL, m, old);
            if (br_merkle_consistency(get_node, NULL, m, n, &p) < 0 ||
                br_merkle_verify_consistency(m, n, old, root, &p) != 0)
                con_ok = 0;
            if (m < n) {
                uint8_t bad[BR_MERKLE_HASH];
                memcpy(bad, old, BR_MERKLE_HASH);
                bad[0] ^= 1;
                if (br_merkle_verify_consistency(m, n, bad, root, &p) == 0)
                    con_neg = 0; /* a rewritten history must not pass */
                if (m + 1 < n && br_merkle_verify_consistency(m + 1, n, old, root, &p) == 0)
                    con_neg = 0;
            }
        }
    }
    ok(root_ok, "roots equal the brute-force MTH for sizes 1..%d", N);
    ok(inc_ok, "every inclusion proof verifies");
    ok(inc_neg, "wrong leaf or altered path fails inclusion");
    ok(con_ok, "every consistency proof verifies");
    ok(con_neg, "altered old root or wrong size fails consistency");
    br_merkle_inclusion(get_node, NULL, 0, 1, &p);
    is_int(p.n, 0, "single-leaf tree: empty path");
    is_int(br_merkle_inclusion(get_node, NULL, 5, 5, &p), -EINVAL, "index beyond the tree refused");
    br_merkle_inclusion(get_node, NULL, 3, 32, &p);
    is_int(p.n, 5, "32 leaves: 5 hashes in a path");
    reads = 0;
    br_merkle_root(get_node, NULL, 39, root);
    ok(reads <= 6, "root of 39 leaves from %d cached subtrees", reads);
    return tap_done();
}
