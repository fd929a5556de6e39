/*
 * The ledger with real LevelDB and GnuTLS: appends, signed checkpoints,
 * inclusion and consistency proofs, and what verification says when an
 * entry is altered, removed or rolled back, or a recording is replaced.
 */
#include <errno.h>
#include <leveldb/c.h>

#include "common/util.h"
#include "sql-free-store/store.h"
#include "tap.h"

static char dir[256], storepath[300];

struct log {
    int n;
    int root_mismatch;
    char last[256];
};

static void rep(const char *what, const char *id, void *ctx)
{
    struct log *l = ctx;
    l->n++;
    if (strstr(what, "root mismatch"))
        l->root_mismatch = 1;
    snprintf(l->last, sizeof l->last, "%s %s", id ? id : "-", what);
    printf("# reported: %s\n", l->last);
}

/* Opens the LevelDB directly, as someone with file access would. */
static leveldb_t *raw_open(void)
{
    char path[400], *err = NULL;
    leveldb_options_t *o = leveldb_options_create();
    leveldb_t *db;
    snprintf(path, sizeof path, "%s/db", storepath);
    db = leveldb_open(o, path, &err);
    leveldb_options_destroy(o);
    return db;
}

/* Flips the byte at off, counted from the end of the value when negative. */
static void raw_flip(const char *key, long off)
{
    leveldb_t *db = raw_open();
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    char *err = NULL, *v;
    size_t vlen;
    v = leveldb_get(db, ro, key, strlen(key), &vlen, &err);
    if (off < 0)
        off += (long)vlen;
    if (v && off >= 0 && (size_t)off < vlen) {
        v[off] ^= 1;
        leveldb_put(db, wo, key, strlen(key), v, vlen, &err);
    }
    leveldb_free(v);
    leveldb_readoptions_destroy(ro);
    leveldb_writeoptions_destroy(wo);
    leveldb_close(db);
}

static void raw_delete(const char *key)
{
    leveldb_t *db = raw_open();
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    char *err = NULL;
    leveldb_delete(db, wo, key, strlen(key), &err);
    leveldb_writeoptions_destroy(wo);
    leveldb_close(db);
}

static void count_chain(const br_verify_result_t *r, void *ctx)
{
    (void)r;
    (void)ctx;
}

static int make_recording(br_store_t *st, char *id)
{
    br_rec_meta_t m;
    br_rec_writer_t *w;
    uint8_t audio[320];
    memset(&m, 0, sizeof m);
    m.sample_rate = 8000;
    m.start_us = br_now_us();
    if (br_rec_create(st, &m, &w) < 0)
        return -1;
    memset(audio, 0x55, sizeof audio);
    br_rec_write_segment(w, audio, sizeof audio);
    strcpy(id, m.id);
    return br_rec_seal(w, &m, BR_REC_SEALED);
}

int main(void)
{
    char keypath[300], sigpath[300], id[8][BR_ID_LEN + 1], key[80];
    br_master_key_t mk;
    br_signer_t *signer, *other;
    br_verifier_t *v, *wrong;
    br_store_t *st;
    br_checkpoint_t cp0, cp1, cp2, parsed;
    br_ledger_entry_t e;
    br_merkle_proof_t proof;
    struct log l = { 0 };
    char line[512];
    uint64_t entries, cps;

    snprintf(dir, sizeof dir, "%s/bibrec-test-ledger-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    snprintf(keypath, sizeof keypath, "%s/master.key", dir);
    snprintf(sigpath, sizeof sigpath, "%s/signing.key", dir);
    snprintf(storepath, sizeof storepath, "%s/store", dir);
    br_master_key_load(&mk, keypath, 1, NULL);
    is_int(br_signer_load(&signer, sigpath, 1, NULL), 0, "signing key created");
    br_verifier_from_signer(&v, signer);
    br_signer_load(&other, "/nonexistent/other.key", 0, NULL);
    {
        char p2[300];
        snprintf(p2, sizeof p2, "%s/other.key", dir);
        br_signer_load(&other, p2, 1, NULL);
        br_verifier_from_signer(&wrong, other);
    }
    is_int(br_store_open(&st, storepath, &mk), 0, "store opens");
    is_int(br_store_checkpoint(st, signer, &cp0), -ENOENT, "no checkpoint of an empty ledger");

    for (int i = 0; i < 5; i++)
        make_recording(st, id[i]);
    br_store_audit(st, "alice", "export", id[2], "test", BR_OUTCOME_OK, "exit=0");
    is_int(br_ledger_size(st), 6, "5 sealings and 1 audit event in the ledger");
    is_int(br_ledger_read(st, 5, &e), 0, "entry 5 reads back");
    is_str(e.actor, "alice", "audit actor kept");
    is_int(e.type, BR_LEDGER_AUDIT, "audit type");
    is_int(br_store_checkpoint(st, signer, &cp0), 0, "checkpoint 0 signed");
    is_int(cp0.size, 6, "covers 6 entries");
    is_int(br_store_checkpoint(st, signer, &cp1), 1, "no new checkpoint without new entries");
    is_int(br_checkpoint_verify(&cp0, v), 0, "signature verifies");
    is_int(br_checkpoint_verify(&cp0, wrong), -EBADMSG, "another key does not verify it");
    br_checkpoint_format(&cp0, line, sizeof line);
    is_int(br_checkpoint_parse(line, &parsed), 0, "checkpoint text parses");
    ok(memcmp(&parsed, &cp0, sizeof parsed) == 0, "and round-trips");

    is_int(br_store_prove(st, id[3], &e, &cp1, &proof), 0, "proof for recording 3");
    {
        br_buf_t raw;
        uint8_t leaf[32];
        br_buf_init(&raw);
        br_ledger_entry_encode(&e, &raw);
        br_merkle_leaf_hash(raw.data, raw.len, leaf);
        is_int(br_merkle_verify_inclusion(leaf, e.seq, cp1.size, &proof, cp1.root), 0,
               "inclusion proof verifies against the signed root");
        ok(proof.n <= 3, "proof of %d hashes for 6 entries", proof.n);
        br_buf_free(&raw);
    }
    l.n = 0;
    is_int(br_store_verify_ledger(st, v, rep, &l, &entries, &cps), 0, "clean ledger verifies");
    is_int(entries, 6, "6 entries checked");
    is_int(cps, 1, "1 checkpoint checked");

    for (int i = 5; i < 8; i++)
        make_recording(st, id[i]);
    br_store_checkpoint(st, signer, &cp2);
    is_int(br_store_consistency(st, cp0.size, &cp2, &proof), 0, "consistency proof 6 -> 9");
    is_int(br_merkle_verify_consistency(cp0.size, cp2.size, cp0.root, cp2.root, &proof), 0,
           "the ledger only grew");
    is_int(br_store_verify(st, NULL, count_chain, &l), 0, "all 8 recordings' chains hold");
    br_store_close(st);

    /* An entry altered on disk: the root no longer matches the signed one. */
    snprintf(key, sizeof key, "ledger/e/%016x", 2);
    raw_flip(key, -5); /* inside the recorded final hash */
    br_store_open(&st, storepath, &mk);
    l.n = 0;
    ok(br_store_verify_ledger(st, v, rep, &l, NULL, NULL) > 0, "altered entry detected");
    ok(l.root_mismatch, "reported as a root mismatch of the signed checkpoints");
    ok(strstr(l.last, id[2]) != NULL, "and the recording whose entry changed is named");
    br_store_close(st);
    raw_flip(key, -5);

    /* A recording deleted outside bibrec. */
    snprintf(key, sizeof key, "rec/%s/seal", id[1]);
    raw_delete(key);
    br_store_open(&st, storepath, &mk);
    l.n = 0;
    ok(br_store_verify_ledger(st, v, rep, &l, NULL, NULL) > 0, "missing recording detected");
    ok(strstr(l.last, id[1]) && strstr(l.last, "missing"), "names the recording");
    br_store_close(st);

    /* Roll-back: the newest entries and their checkpoint removed. */
    for (int i = 8; i >= 6; i--) {
        snprintf(key, sizeof key, "ledger/e/%016x", i);
        raw_delete(key);
    }
    snprintf(key, sizeof key, "ledger/c/%016x", 1);
    raw_delete(key);
    br_store_open(&st, storepath, &mk);
    is_int(br_ledger_size(st), 6, "store reopens with the shortened ledger");
    {
        br_checkpoint_t last;
        br_store_last_checkpoint(st, &last);
        ok(last.size < cp2.size, "only an auditor's saved checkpoint can show the roll-back: %llu < %llu",
           (unsigned long long)last.size, (unsigned long long)cp2.size);
    }
    br_store_close(st);

    br_verifier_free(v);
    br_verifier_free(wrong);
    br_signer_free(signer);
    br_signer_free(other);
    {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            printf("# could not remove %s\n", dir);
    }
    return tap_done();
}
