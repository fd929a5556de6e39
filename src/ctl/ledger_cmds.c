/*
 * The auditor's commands: verify (chains, ledger, signed checkpoints, and
 * with --since that the ledger only grew), prove and check-proof (Merkle
 * inclusion of one recording in a signed checkpoint), checkpoint, keys
 * export-public, audit export (RFC 4180 CSV) and backup.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands_int.h"
#include "common/util.h"
#include "crypto/crypto.h"

#define BR_MAX_KEYS_LISTED 64

/* Finds "--name VALUE" in argv; returns VALUE or NULL. */
static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

/* The first argument that is neither an option nor an option's value. */
static const char *positional(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0) {
            i++;
            continue;
        }
        return argv[i];
    }
    return NULL;
}

/* The public key to check signatures with: the one given, else our own. */
static int get_verifier(const br_cmd_env_t *env, int argc, char **argv, br_verifier_t **v,
                        br_buf_t *err)
{
    const char *pem = opt(argc, argv, "--pubkey-pem");
    int rc;

    *v = NULL;
    if (pem) {
        rc = br_verifier_from_pem(v, pem, strlen(pem));
        if (rc < 0)
            br_buf_printf(err, "the public key given is not an Ed25519 key in PEM form\n");
        return rc;
    }
    if (env->signer)
        return br_verifier_from_signer(v, env->signer);
    return 0;
}

struct verify_ctx {
    br_buf_t *out;
};

static void verify_report(const br_verify_result_t *r, void *ctx)
{
    struct verify_ctx *v = ctx;
    if (r->ok)
        br_buf_printf(v->out, "ok %s segments=%" PRIu32 "%s\n", r->id, r->segments,
                      r->sealed ? "" : " (not sealed yet)");
    else if (r->bad_segment >= 0)
        br_buf_printf(v->out, "FAIL %s segment %" PRId64 ": %s\n", r->id, r->bad_segment, r->reason);
    else
        br_buf_printf(v->out, "FAIL %s: %s\n", r->id, r->reason);
}

static void ledger_report(const char *what, const char *id, void *ctx)
{
    struct verify_ctx *v = ctx;
    if (id)
        br_buf_printf(v->out, "FAIL %s: %s\n", id, what);
    else
        br_buf_printf(v->out, "FAIL ledger: %s\n", what);
}

/* --since: the old checkpoint (text form, or a number in this store). */
static int verify_since(const br_cmd_env_t *env, const char *since, br_verifier_t *v, br_buf_t *out,
                        br_buf_t *err)
{
    br_checkpoint_t old, last;
    br_merkle_proof_t proof;
    char *end;
    int rc;

    if (strncmp(since, "bibrec-checkpoint", 17) == 0) {
        if (br_checkpoint_parse(since, &old) < 0) {
            br_buf_printf(err, "verify: --since: not a checkpoint line\n");
            return 2;
        }
        if (v && br_checkpoint_verify(&old, v) < 0) {
            br_buf_printf(out, "FAIL ledger: the old checkpoint's signature does not verify\n");
            return 1;
        }
    } else {
        unsigned long long n = strtoull(since, &end, 10);
        if (*end || br_store_get_checkpoint(env->st, n, &old) < 0) {
            br_buf_printf(err, "verify: --since: no checkpoint %s in this store\n", since);
            return 1;
        }
    }
    rc = br_store_last_checkpoint(env->st, &last);
    if (rc < 0) {
        br_buf_printf(out, "FAIL ledger: the store has no checkpoint (rolled back?)\n");
        return 1;
    }
    if (last.size < old.size) {
        br_buf_printf(out,
                      "FAIL ledger: the newest checkpoint covers %" PRIu64 " entries, fewer than the "
                      "%" PRIu64 " of checkpoint %" PRIu64 " (rolled back)\n",
                      last.size, old.size, old.seq);
        return 1;
    }
    rc = br_store_consistency(env->st, old.size, &last, &proof);
    if (rc < 0 || br_merkle_verify_consistency(old.size, last.size, old.root, last.root, &proof) < 0) {
        br_buf_printf(out,
                      "FAIL ledger: checkpoint %" PRIu64 " is not a prefix of checkpoint %" PRIu64
                      " (history rewritten)\n",
                      old.seq, last.seq);
        return 1;
    }
    br_buf_printf(out,
                  "ok ledger grew from %" PRIu64 " to %" PRIu64 " entries since checkpoint %" PRIu64
                  " (consistency proof of %d hashes)\n",
                  old.size, last.size, old.seq, proof.n);
    return 0;
}

int br_cmd_verify(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    struct verify_ctx vc = { out };
    const char *id = positional(argc, argv), *since = opt(argc, argv, "--since");
    br_verifier_t *v = NULL;
    uint64_t entries = 0, cps = 0;
    int rc, failed = 0;

    if (get_verifier(env, argc, argv, &v, err) < 0)
        return 2;
    rc = br_store_verify(env->st, id, verify_report, &vc);
    if (rc < 0) {
        br_buf_printf(err, "verify: %s\n", rc == -ENOENT ? "no such recording" : br_strerror(rc));
        br_verifier_free(v);
        return 1;
    }
    failed += rc;
    if (!id) {
        rc = br_store_verify_ledger(env->st, v, ledger_report, &vc, &entries, &cps);
        if (rc < 0) {
            br_buf_printf(err, "verify: ledger unreadable: %s\n", br_strerror(rc));
            failed++;
        } else {
            failed += rc;
            br_buf_printf(out, "%s ledger: %" PRIu64 " entries, %" PRIu64 " signed checkpoints%s\n",
                          rc ? "FAIL" : "ok", entries, cps,
                          v ? "" : " (signatures NOT checked: give --pubkey FILE)");
        }
        if (since)
            failed += verify_since(env, since, v, out, err) != 0;
    }
    br_verifier_free(v);
    if (failed) {
        br_buf_printf(err, "verify: %d problem(s) found\n", failed);
        return 1;
    }
    return 0;
}

int br_cmd_prove(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    br_ledger_entry_t e;
    br_checkpoint_t cp;
    br_merkle_proof_t proof;
    char line[512], hex[2 * BR_MERKLE_HASH + 1];
    br_buf_t raw;
    int rc;

    if (argc != 2) {
        br_buf_printf(err, "usage: prove ID\n");
        return 2;
    }
    rc = br_store_prove(env->st, argv[1], &e, &cp, &proof);
    if (rc < 0) {
        br_buf_printf(err, "prove: %s: %s\n", argv[1],
                      rc == -EAGAIN   ? "sealed after the last checkpoint; run `bibrec checkpoint`"
                      : rc == -ENOENT ? "no sealed recording with that id, or no checkpoint yet"
                                      : br_strerror(rc));
        return 1;
    }
    br_buf_init(&raw);
    br_ledger_entry_encode(&e, &raw);
    br_buf_printf(out, "bibrec-proof v1\nrecording %s\nentry %" PRIu64 " ", argv[1], e.seq);
    for (size_t i = 0; i < raw.len; i++)
        br_buf_printf(out, "%02x", raw.data[i]);
    br_buf_free(&raw);
    br_checkpoint_format(&cp, line, sizeof line);
    br_buf_printf(out, "\n%s\n", line);
    for (int i = 0; i < proof.n; i++) {
        br_hex_encode(proof.h[i], BR_MERKLE_HASH, hex);
        br_buf_printf(out, "path %s\n", hex);
    }
    return 0;
}

int br_cmd_check_proof(const char *text, const char *pem, br_buf_t *out, br_buf_t *err)
{
    br_merkle_proof_t proof = { 0 };
    br_checkpoint_t cp;
    br_ledger_entry_t e;
    br_verifier_t *v = NULL;
    char id[64] = "";
    uint8_t *raw = NULL, leaf[BR_MERKLE_HASH];
    size_t rawlen = 0;
    uint64_t seq = 0;
    int have_cp = 0, status = 1;
    const char *p = text;

    if (strncmp(p, "bibrec-proof v1\n", 16) != 0) {
        br_buf_printf(err, "check-proof: not a bibrec proof\n");
        return 2;
    }
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char buf[1024];
        if (n >= sizeof buf)
            goto malformed;
        memcpy(buf, p, n);
        buf[n] = 0;
        p = nl ? nl + 1 : NULL;
        if (strncmp(buf, "recording ", 10) == 0) {
            br_strlcpy(id, buf + 10, sizeof id);
        } else if (strncmp(buf, "entry ", 6) == 0) {
            char *sp = strchr(buf + 6, ' ');
            if (!sp)
                goto malformed;
            seq = strtoull(buf + 6, NULL, 10);
            rawlen = strlen(sp + 1) / 2;
            raw = malloc(rawlen + 1);
            if (!raw || br_hex_decode(sp + 1, raw, rawlen) < 0)
                goto malformed;
        } else if (strncmp(buf, "bibrec-checkpoint", 17) == 0) {
            if (br_checkpoint_parse(buf, &cp) < 0)
                goto malformed;
            have_cp = 1;
        } else if (strncmp(buf, "path ", 5) == 0) {
            if (proof.n >= BR_MERKLE_MAX_PROOF || br_hex_decode(buf + 5, proof.h[proof.n], BR_MERKLE_HASH) < 0)
                goto malformed;
            proof.n++;
        }
    }
    if (!raw || !have_cp || !id[0] || br_ledger_entry_decode(raw, rawlen, &e) < 0 || e.seq != seq)
        goto malformed;
    if (e.type != BR_LEDGER_SEALED || strcmp(e.target, id) != 0) {
        br_buf_printf(out, "FAIL the entry is not the sealing of recording %s\n", id);
        goto out;
    }
    if (br_verifier_from_pem(&v, pem, strlen(pem)) < 0) {
        br_buf_printf(err, "check-proof: the public key is not an Ed25519 key in PEM form\n");
        status = 2;
        goto out;
    }
    if (br_checkpoint_verify(&cp, v) < 0) {
        br_buf_printf(out, "FAIL the checkpoint's signature does not verify with this key\n");
        goto out;
    }
    br_merkle_leaf_hash(raw, rawlen, leaf);
    if (br_merkle_verify_inclusion(leaf, seq, cp.size, &proof, cp.root) < 0) {
        br_buf_printf(out, "FAIL the inclusion proof does not lead to the checkpoint's root\n");
        goto out;
    }
    {
        char hex[2 * BR_HASH_LEN + 1];
        br_hex_encode(e.hash, BR_HASH_LEN, hex);
        br_buf_printf(out,
                      "ok recording %s was sealed as ledger entry %" PRIu64 " with final hash %s,\n"
                      "   covered by signed checkpoint %" PRIu64 " (%" PRIu64 " entries; proof of %d hashes)\n",
                      id, seq, hex, cp.seq, cp.size, proof.n);
    }
    status = 0;
    goto out;
malformed:
    br_buf_printf(err, "check-proof: the proof is malformed\n");
    status = 2;
out:
    free(raw);
    br_verifier_free(v);
    return status;
}

int br_cmd_checkpoint(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    br_checkpoint_t cp;
    char line[512];
    int rc;

    (void)argv;
    if (argc != 1) {
        br_buf_printf(err, "usage: checkpoint\n");
        return 2;
    }
    if (!env->signer) {
        br_buf_printf(err, "checkpoint: the signing key is not available here\n");
        return 1;
    }
    rc = br_store_checkpoint(env->st, env->signer, &cp);
    if (rc < 0) {
        br_buf_printf(err, "checkpoint: %s\n", rc == -ENOENT ? "the ledger is empty" : br_strerror(rc));
        return 1;
    }
    br_checkpoint_format(&cp, line, sizeof line);
    br_buf_printf(out, "%s\n", line);
    return 0;
}

struct usage_ctx {
    uint8_t ids[BR_MAX_KEYS_LISTED][BR_KEYID_LEN];
    uint64_t counts[BR_MAX_KEYS_LISTED];
    int n;
};

static int count_usage(const char *id, const uint8_t *blob, void *ctx)
{
    struct usage_ctx *u = ctx;
    (void)id;
    for (int i = 0; i < u->n; i++)
        if (memcmp(u->ids[i], blob, BR_KEYID_LEN) == 0) {
            u->counts[i]++;
            return 0;
        }
    if (u->n < BR_MAX_KEYS_LISTED) {
        memcpy(u->ids[u->n], blob, BR_KEYID_LEN);
        u->counts[u->n++] = 1;
    }
    return 0;
}

static int keys_list(const br_cmd_env_t *env, br_buf_t *out)
{
    struct usage_ctx u;
    char hex[2 * BR_KEYID_LEN + 1];

    memset(&u, 0, sizeof u);
    if (br_store_key_usage(env->st, count_usage, &u) < 0)
        return 1;
    br_buf_printf(out, "MASTER-KEY-ID\tDATA-KEYS\n");
    for (int i = 0; i < u.n; i++) {
        br_hex_encode(u.ids[i], BR_KEYID_LEN, hex);
        br_buf_printf(out, "%s\t%" PRIu64 "\n", hex, u.counts[i]);
    }
    return 0;
}

static int keys_rotate(const br_cmd_env_t *env, br_buf_t *out, br_buf_t *err)
{
    br_master_key_t current, fresh;
    uint64_t done, failed;
    char oldhex[2 * BR_KEYID_LEN + 1], newhex[2 * BR_KEYID_LEN + 1];
    int rc;

    if (!env->master_key_path || br_master_key_load(&current, env->master_key_path, 0, NULL) < 0) {
        br_buf_printf(err, "keys rotate: the master key is not available here\n");
        return 1;
    }
    rc = br_master_key_rotate_files(env->master_key_path, &current, &fresh);
    if (rc == 0)
        rc = br_store_add_key(env->st, &fresh, 1);
    if (rc < 0) {
        br_buf_printf(err, "keys rotate: %s\n", br_strerror(rc));
        br_master_key_wipe(&current);
        br_master_key_wipe(&fresh);
        return 1;
    }
    br_hex_encode(current.id, BR_KEYID_LEN, oldhex);
    br_hex_encode(fresh.id, BR_KEYID_LEN, newhex);
    br_master_key_wipe(&current);
    br_master_key_wipe(&fresh);
    /* New recordings use the new key from here on; re-wrap the rest. */
    rc = br_store_rewrap(env->st, &done, &failed);
    br_buf_printf(out,
                  "new master key %s; %" PRIu64 " data key(s) re-wrapped%s%s\n"
                  "old key %s kept in %s.%s until: bibrec keys retire %s\n",
                  newhex, done, failed ? ", NOT re-wrapped (no key opens them): " : "",
                  failed ? "see the daemon's log" : "", oldhex, env->master_key_path, oldhex, oldhex);
    if (rc < 0) {
        br_buf_printf(err, "keys rotate: re-wrapping stopped: %s (run it again)\n", br_strerror(rc));
        return 1;
    }
    return failed ? 1 : 0;
}

static int keys_retire(const br_cmd_env_t *env, const char *hex, br_buf_t *out, br_buf_t *err)
{
    struct usage_ctx u;
    uint8_t id[BR_KEYID_LEN];
    int rc;

    if (strlen(hex) != 2 * BR_KEYID_LEN || br_hex_decode(hex, id, BR_KEYID_LEN) < 0) {
        br_buf_printf(err, "keys retire: '%s' is not a key id (see bibrec keys list)\n", hex);
        return 2;
    }
    memset(&u, 0, sizeof u);
    br_store_key_usage(env->st, count_usage, &u);
    for (int i = 0; i < u.n; i++)
        if (memcmp(u.ids[i], id, BR_KEYID_LEN) == 0) {
            br_buf_printf(err,
                          "keys retire: %" PRIu64 " data key(s) still need %s; run bibrec keys "
                          "rotate (again) first\n",
                          u.counts[i], hex);
            return 1;
        }
    rc = env->master_key_path ? br_master_key_remove_retired(env->master_key_path, id) : -ENOENT;
    br_store_drop_key(env->st, id);
    if (rc < 0) {
        br_buf_printf(err, "keys retire: %s.%s: %s\n", env->master_key_path ? env->master_key_path : "?",
                      hex, br_strerror(rc));
        return 1;
    }
    br_buf_printf(out, "master key %s retired and deleted\n", hex);
    return 0;
}

int br_cmd_keys(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    if (argc == 2 && strcmp(argv[1], "export-public") == 0) {
        if (!env->signer) {
            br_buf_printf(err, "keys: the signing key is not available here\n");
            return 1;
        }
        return br_signer_public_pem(env->signer, out) < 0 ? 1 : 0;
    }
    if (argc == 2 && strcmp(argv[1], "list") == 0)
        return keys_list(env, out);
    if (argc == 2 && strcmp(argv[1], "rotate") == 0)
        return keys_rotate(env, out, err);
    if (argc == 3 && strcmp(argv[1], "retire") == 0)
        return keys_retire(env, argv[2], out, err);
    br_buf_printf(err, "usage: keys export-public | list | rotate | retire KEY-ID\n");
    return 2;
}

struct audit_ctx {
    br_buf_t *out;
    int64_t from, to;
    unsigned rows;
};

void br_cmd_audit_csv_row(br_buf_t *out, const br_ledger_entry_t *e)
{
    char seq[24], when[32];

    snprintf(seq, sizeof seq, "%" PRIu64, e->seq);
    br_format_time(e->time_us, when, sizeof when);
    br_buf_csv_field(out, seq, 0);
    br_buf_csv_field(out, when, 0);
    br_buf_csv_field(out, br_ledger_type_name(e->type), 0);
    br_buf_csv_field(out, e->actor, 0);
    br_buf_csv_field(out, e->action, 0);
    br_buf_csv_field(out, e->target, 0);
    br_buf_csv_field(out, e->source, 0);
    br_buf_csv_field(out, br_outcome_name(e->outcome), 0);
    br_buf_csv_field(out, e->detail, 1);
}

static int audit_row(const br_ledger_entry_t *e, void *ctx)
{
    struct audit_ctx *a = ctx;

    if (e->time_us < a->from || e->time_us >= a->to)
        return 0;
    br_cmd_audit_csv_row(a->out, e);
    a->rows++;
    return 0;
}

int br_cmd_audit(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    struct audit_ctx a = { out, INT64_MIN, INT64_MAX, 0 };
    const char *from = opt(argc, argv, "--from"), *to = opt(argc, argv, "--to");
    const char *format = opt(argc, argv, "--format");
    int rc;

    if (argc < 2 || strcmp(argv[1], "export") != 0 || (format && strcmp(format, "csv") != 0)) {
        br_buf_printf(err, "usage: audit export [--from DATE] [--to DATE] [--format csv]\n");
        return 2;
    }
    if ((from && br_parse_time(from, &a.from) < 0) || (to && br_parse_time(to, &a.to) < 0)) {
        br_buf_printf(err, "audit: dates are YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)\n");
        return 2;
    }
    br_buf_printf(out, "seq,time,type,actor,action,target,source,outcome,detail\r\n");
    rc = br_ledger_each(env->st, 0, audit_row, &a);
    if (rc < 0) {
        br_buf_printf(err, "audit: ledger unreadable: %s\n", br_strerror(rc));
        return 1;
    }
    return 0;
}

int br_cmd_backup(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    int rc;

    if (argc != 2 || argv[1][0] != '/') {
        br_buf_printf(err, "usage: backup DIR (an absolute path that does not exist yet)\n");
        return 2;
    }
    rc = br_store_backup(env->st, argv[1]);
    if (rc < 0) {
        br_buf_printf(err, "backup: %s: %s\n", argv[1], br_strerror(rc));
        return 1;
    }
    br_buf_printf(out, "backup written to %s (verify it with: bibrec verify --store %s)\n", argv[1],
                  argv[1]);
    return 0;
}
