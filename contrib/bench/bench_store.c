/*
 * The store benchmark: figures for the store issue. It builds a store of N
 * recordings with the real API, exactly as the daemon does (br_rec_create,
 * S x br_rec_write_segment, br_rec_seal, each seal appending a "sealed"
 * ledger entry), interleaving one audit event per recording (a supervisor's
 * export) and a signed checkpoint every C recordings. It then times ledger
 * appends on their own, checkpoints, chain and ledger verification,
 * inclusion and consistency proofs, and a backup, and prints a Markdown
 * table. Progress goes to stderr, results to stdout in a fixed format.
 *
 * Every call's return code is checked: a failure stops the run with a
 * message and leaves the folder in place for inspection.
 *
 *   usage: bench_store [--recordings N] [--segments S] [--segment-bytes B]
 *                      [--audits A] [--proofs P] [--checkpoint-every C]
 *                      [--seed X] [--dir DIR] [--keep]
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/buf.h"
#include "common/util.h"
#include "crypto/crypto.h"
#include "crypto/sign.h"
#include "sql-free-store/merkle.h"
#include "sql-free-store/store.h"

#define MB 1e6 /* figures are in decimal megabytes */

typedef struct bench_opts {
    uint64_t recordings;
    unsigned segments;
    size_t segment_bytes;
    uint64_t audits;
    unsigned proofs;
    unsigned checkpoint_every;
    uint64_t seed;
    const char *dir;
    int keep;
} bench_opts_t;

/* Timings of one kind of operation, in seconds; samples are kept only when
 * a percentile is wanted. */
typedef struct series {
    double sum;
    uint64_t n;
    int keep;
    double *v;
    size_t cap;
} series_t;

static char g_dir[4096]; /* the run's folder, named in failure messages */

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_store: %s failed: %s (%d); folder left at %s\n", what, br_strerror(rc),
            rc, g_dir[0] ? g_dir : "(none)");
    exit(1);
}

#define CHECK(expr, what)                                                                         \
    do {                                                                                          \
        int rc_ = (expr);                                                                         \
        if (rc_ < 0)                                                                              \
            die(what, rc_);                                                                       \
    } while (0)

static double now_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        die("clock_gettime", -errno);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void series_add(series_t *s, double x)
{
    s->sum += x;
    if (s->keep) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 1024;
            double *p = realloc(s->v, cap * sizeof *p);
            if (!p)
                die("realloc", -ENOMEM);
            s->v = p;
            s->cap = cap;
        }
        s->v[s->n] = x;
    }
    s->n++;
}

static double series_mean(const series_t *s)
{
    return s->n ? s->sum / (double)s->n : 0.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile; sorts the samples in place. */
static double series_pct(series_t *s, double pct)
{
    size_t rank;

    if (!s->keep || s->n == 0)
        return 0.0;
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    rank = (size_t)ceil(pct / 100.0 * (double)s->n);
    return s->v[rank ? rank - 1 : 0];
}

static void series_free(series_t *s)
{
    free(s->v);
    s->v = NULL;
}

/* xorshift64*: a reproducible choice of recordings to prove. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(2685821657736338717);
}

/* ---- the folder: its size as du counts it, and its removal --------------- */

static uint64_t g_du_bytes;

static int du_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)path;
    (void)flag;
    (void)ftw;
    g_du_bytes += (uint64_t)sb->st_blocks * 512;
    return 0;
}

static uint64_t du_bytes(const char *path)
{
    g_du_bytes = 0;
    if (nftw(path, du_one, 32, FTW_PHYS) < 0)
        die("nftw (du)", -errno);
    return g_du_bytes;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

static void rm_tree(const char *path)
{
    if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) < 0)
        die("removing the folder", -errno);
}

/* ---- generation ---------------------------------------------------------- */

/* Metadata the size of a real call's: both parties, devices, a cluster. */
static void fill_meta(br_rec_meta_t *m, uint64_t i, const bench_opts_t *o)
{
    memset(m, 0, sizeof *m);
    m->sample_rate = 8000;
    m->frames = (uint64_t)o->segments * o->segment_bytes / 2;
    m->start_us = br_now_us();
    m->end_us = m->start_us + (int64_t)(m->frames * 125);
    snprintf(m->session_id, sizeof m->session_id, "bench-%012" PRIu64, i);
    snprintf(m->near.refci, sizeof m->near.refci, "%" PRIu64, 16777216 + 2 * i);
    snprintf(m->near.device, sizeof m->near.device, "SEP00AABB%06" PRIX64, i & 0xffffff);
    snprintf(m->near.addr, sizeof m->near.addr, "4%04" PRIu64, i % 10000);
    snprintf(m->near.cluster, sizeof m->near.cluster, "StandAloneCluster");
    snprintf(m->near.guid, sizeof m->near.guid, "%032" PRIx64, i);
    m->near.present = 1;
    m->near.packets = (uint64_t)o->segments * 50;
    m->far = m->near;
    snprintf(m->far.refci, sizeof m->far.refci, "%" PRIu64, 16777217 + 2 * i);
    snprintf(m->far.device, sizeof m->far.device, "SIP-Trunk-PSTN");
    snprintf(m->far.addr, sizeof m->far.addr, "+4930%07" PRIu64, i % 10000000);
}

typedef struct gen_stats {
    series_t create, segment, seal, audit, checkpoint;
    double total;
} gen_stats_t;

static void take_checkpoint(br_store_t *st, br_signer_t *signer, series_t *s)
{
    br_checkpoint_t cp;
    double t0 = now_s();
    int rc = br_store_checkpoint(st, signer, &cp);
    double t1 = now_s();

    CHECK(rc, "br_store_checkpoint");
    if (rc == 0) /* 1: nothing new since the last one, nothing signed */
        series_add(s, t1 - t0);
}

static void generate(br_store_t *st, br_signer_t *signer, const bench_opts_t *o, char (*ids)[BR_ID_LEN + 1],
                     gen_stats_t *g)
{
    uint64_t step = o->recordings >= 20 ? o->recordings / 20 : 1;
    uint8_t *audio = malloc(o->segment_bytes);
    uint64_t rng = o->seed;
    br_rec_meta_t m;
    double start = now_s();

    if (!audio)
        die("malloc", -ENOMEM);
    /* Content does not matter to AES-GCM or SHA-256; noise like a line. */
    for (size_t i = 0; i < o->segment_bytes; i++)
        audio[i] = (uint8_t)(rng_next(&rng) >> 56);
    for (uint64_t i = 0; i < o->recordings; i++) {
        br_rec_writer_t *w;
        double t0, t1, t2, t3;

        fill_meta(&m, i, o);
        t0 = now_s();
        CHECK(br_rec_create(st, &m, &w), "br_rec_create");
        t1 = now_s();
        for (unsigned s = 0; s < o->segments; s++) {
            double a = now_s();
            int rc = br_rec_write_segment(w, audio, o->segment_bytes);
            if (rc < 0) {
                br_rec_writer_abandon(w);
                die("br_rec_write_segment", rc);
            }
            series_add(&g->segment, now_s() - a);
        }
        t2 = now_s();
        CHECK(br_rec_seal(w, &m, BR_REC_SEALED), "br_rec_seal");
        t3 = now_s();
        series_add(&g->create, t1 - t0);
        series_add(&g->seal, t3 - t2);
        memcpy(ids[i], m.id, sizeof ids[i]);

        t0 = now_s();
        CHECK(br_store_audit(st, "supervisor", "export", m.id, "ctl:uid=1000", BR_OUTCOME_OK,
                             "format=wav channels=2"),
              "br_store_audit");
        series_add(&g->audit, now_s() - t0);

        if ((i + 1) % o->checkpoint_every == 0)
            take_checkpoint(st, signer, &g->checkpoint);
        if ((i + 1) % step == 0 || i + 1 == o->recordings) {
            double el = now_s() - start;
            fprintf(stderr, "  generated %" PRIu64 "/%" PRIu64 " recordings in %.1f s (%.1f/s)\n",
                    i + 1, o->recordings, el, (double)(i + 1) / el);
        }
    }
    g->total = now_s() - start;
    free(audio);
}

/* A batch of audit events alone, checkpointed every C entries. */
static void audit_batch(br_store_t *st, br_signer_t *signer, const bench_opts_t *o, series_t *append,
                        series_t *checkpoint, double *total)
{
    uint64_t step = o->audits >= 10 ? o->audits / 10 : 1;
    double start = now_s();
    char detail[64];

    for (uint64_t j = 0; j < o->audits; j++) {
        double t0;
        snprintf(detail, sizeof detail, "batch entry %" PRIu64, j);
        t0 = now_s();
        CHECK(br_store_audit(st, "auditor", "verify", "-", "ctl:uid=1001", BR_OUTCOME_OK, detail),
              "br_store_audit");
        series_add(append, now_s() - t0);
        if ((j + 1) % o->checkpoint_every == 0)
            take_checkpoint(st, signer, checkpoint);
        if ((j + 1) % step == 0)
            fprintf(stderr, "  appended %" PRIu64 "/%" PRIu64 " audit entries in %.1f s\n", j + 1,
                    o->audits, now_s() - start);
    }
    *total = now_s() - start;
}

/* ---- verification --------------------------------------------------------- */

typedef struct verify_count {
    uint64_t ok, failed;
} verify_count_t;

static void count_verified(const br_verify_result_t *r, void *ctx)
{
    verify_count_t *c = ctx;
    if (r->ok && r->sealed) {
        c->ok++;
    } else {
        c->failed++;
        fprintf(stderr, "bench_store: recording %s does not verify: %s\n", r->id, r->reason);
    }
}

static void ledger_problem(const char *what, const char *id, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "bench_store: ledger: %s%s%s\n", id ? id : "", id ? ": " : "", what);
}

/* ---- proofs ----------------------------------------------------------------- */

/* The proof exactly as `bibrec prove ID` prints it (src/ctl/ledger_cmds.c). */
static void proof_text(const char *id, const br_ledger_entry_t *e, const br_buf_t *raw,
                       const br_checkpoint_t *cp, const br_merkle_proof_t *proof, br_buf_t *out)
{
    char line[512], hex[2 * BR_MERKLE_HASH + 1];

    br_buf_printf(out, "bibrec-proof v1\nrecording %s\nentry %" PRIu64 " ", id, e->seq);
    for (size_t i = 0; i < raw->len; i++)
        br_buf_printf(out, "%02x", raw->data[i]);
    br_checkpoint_format(cp, line, sizeof line);
    br_buf_printf(out, "\n%s\n", line);
    for (int i = 0; i < proof->n; i++) {
        br_hex_encode(proof->h[i], BR_MERKLE_HASH, hex);
        br_buf_printf(out, "path %s\n", hex);
    }
}

typedef struct proof_stats {
    series_t produce, verify_path, verify_all;
    uint64_t hashes_sum, bin_sum, text_sum;
    int hashes_max;
} proof_stats_t;

static void inclusion_proofs(br_store_t *st, br_verifier_t *v, const bench_opts_t *o,
                             char (*ids)[BR_ID_LEN + 1], proof_stats_t *p)
{
    uint64_t rng = o->seed ^ UINT64_C(0x9e3779b97f4a7c15);
    unsigned step = o->proofs >= 10 ? o->proofs / 10 : 1;

    for (unsigned k = 0; k < o->proofs; k++) {
        const char *id = ids[rng_next(&rng) % o->recordings];
        br_ledger_entry_t e;
        br_checkpoint_t cp;
        br_merkle_proof_t proof;
        uint8_t leaf[BR_MERKLE_HASH];
        char line[512];
        br_buf_t raw, text;
        double t0, t1, t2;
        int rc;

        t0 = now_s();
        CHECK(br_store_prove(st, id, &e, &cp, &proof), "br_store_prove");
        series_add(&p->produce, now_s() - t0);
        if (strcmp(e.target, id) != 0 || e.type != BR_LEDGER_SEALED)
            die("br_store_prove (returned another entry)", -EPROTO);

        br_buf_init(&raw);
        br_buf_init(&text);
        CHECK(br_ledger_entry_encode(&e, &raw), "br_ledger_entry_encode");
        proof_text(id, &e, &raw, &cp, &proof, &text);
        if (text.failed)
            die("br_buf_printf", -ENOMEM);
        br_checkpoint_format(&cp, line, sizeof line);

        t0 = now_s();
        br_merkle_leaf_hash(raw.data, raw.len, leaf);
        rc = br_merkle_verify_inclusion(leaf, e.seq, cp.size, &proof, cp.root);
        t1 = now_s();
        CHECK(rc, "br_merkle_verify_inclusion");
        CHECK(br_checkpoint_verify(&cp, v), "br_checkpoint_verify");
        t2 = now_s();
        series_add(&p->verify_path, t1 - t0);
        series_add(&p->verify_all, t2 - t0);

        p->hashes_sum += (uint64_t)proof.n;
        if (proof.n > p->hashes_max)
            p->hashes_max = proof.n;
        p->bin_sum += (uint64_t)proof.n * BR_MERKLE_HASH + raw.len + strlen(line);
        p->text_sum += text.len;
        br_buf_free(&raw);
        br_buf_free(&text);
        if ((k + 1) % step == 0)
            fprintf(stderr, "  proved %u/%u recordings\n", k + 1, o->proofs);
    }
}

/* ---- main --------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_store [--recordings N] [--segments S] [--segment-bytes B]\n"
               "                   [--audits A] [--proofs P] [--checkpoint-every C]\n"
               "                   [--seed X] [--dir DIR] [--keep]\n"
               "  defaults: N=100000, S=1, B=16000 (1 s of G.711 stereo), A=50000,\n"
               "  P=1000, C=1000, a new folder under /tmp removed at the end.\n"
               "  DIR must not exist yet; it is created, and removed unless --keep.\n");
}

static uint64_t parse_u64(const char *s, const char *name, uint64_t min)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || !*s || *s == '-' || v < min) {
        fprintf(stderr, "bench_store: %s: not a number >= %" PRIu64 ": %s\n", name, min, s);
        exit(2);
    }
    return v;
}

static void parse_args(int argc, char **argv, bench_opts_t *o)
{
    static const struct option longopts[] = {
        { "recordings", required_argument, NULL, 'n' },
        { "segments", required_argument, NULL, 's' },
        { "segment-bytes", required_argument, NULL, 'b' },
        { "audits", required_argument, NULL, 'a' },
        { "proofs", required_argument, NULL, 'p' },
        { "checkpoint-every", required_argument, NULL, 'c' },
        { "seed", required_argument, NULL, 'x' },
        { "dir", required_argument, NULL, 'd' },
        { "keep", no_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    *o = (bench_opts_t){ .recordings = 100000, .segments = 1, .segment_bytes = 16000,
                         .audits = 50000, .proofs = 1000, .checkpoint_every = 1000, .seed = 1 };
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': o->recordings = parse_u64(optarg, "--recordings", 1); break;
        case 's': o->segments = (unsigned)parse_u64(optarg, "--segments", 0); break;
        case 'b': o->segment_bytes = (size_t)parse_u64(optarg, "--segment-bytes", 2); break;
        case 'a': o->audits = parse_u64(optarg, "--audits", 0); break;
        case 'p': o->proofs = (unsigned)parse_u64(optarg, "--proofs", 0); break;
        case 'c': o->checkpoint_every = (unsigned)parse_u64(optarg, "--checkpoint-every", 1); break;
        case 'x': o->seed = parse_u64(optarg, "--seed", 1); break;
        case 'd': o->dir = optarg; break;
        case 'k': o->keep = 1; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind != argc || o->segments > 100000 || o->segment_bytes > (64u << 20)) {
        usage(stderr);
        exit(2);
    }
}

static double rate(double count, double secs)
{
    return secs > 0 ? count / secs : 0.0;
}

int main(int argc, char **argv)
{
    bench_opts_t o;
    char path[4200], msg[256];
    br_master_key_t mk;
    br_signer_t *signer = NULL;
    br_verifier_t *v = NULL;
    br_store_t *st = NULL;
    char(*ids)[BR_ID_LEN + 1];
    gen_stats_t g = { .create = { .keep = 1 }, .seal = { .keep = 1 }, .audit = { .keep = 1 } };
    series_t batch_append = { .keep = 1 }, batch_cp = { 0 }, sign_only = { 0 }, cons_make = { 0 },
             cons_verify = { 0 };
    proof_stats_t ps = { .produce = { .keep = 1 } };
    br_checkpoint_t first, last;
    br_merkle_proof_t cproof;
    verify_count_t vc = { 0, 0 };
    uint64_t entries = 0, ncps = 0, store_bytes, backup_bytes, seg_total;
    series_t final_cp = { 0 };
    double batch_total = 0, t0, t_chain, t_ledger, t_backup;
    int created, rc;

    parse_args(argc, argv, &o);
    if (o.dir) {
        if (mkdir(o.dir, 0700) < 0)
            die("creating --dir (it must not exist yet)", -errno);
        snprintf(g_dir, sizeof g_dir, "%s", o.dir);
    } else {
        snprintf(g_dir, sizeof g_dir, "/tmp/bench_store.XXXXXX");
        if (!mkdtemp(g_dir))
            die("mkdtemp", -errno);
    }
    ids = calloc(o.recordings, sizeof *ids);
    if (!ids)
        die("calloc", -ENOMEM);
    seg_total = o.recordings * o.segments;

    printf("bench_store: %" PRIu64 " recordings x %u segment(s) of %zu bytes, %" PRIu64
           " batch audits, %u proofs, checkpoint every %u, seed %" PRIu64 "\n",
           o.recordings, o.segments, o.segment_bytes, o.audits, o.proofs, o.checkpoint_every, o.seed);
    printf("folder: %s%s\n", g_dir, o.keep ? " (kept)" : " (removed at the end)");
    fflush(stdout);

    snprintf(path, sizeof path, "%s/master.key", g_dir);
    CHECK(br_master_key_load(&mk, path, 1, &created), "br_master_key_load");
    snprintf(path, sizeof path, "%s/signing.pem", g_dir);
    CHECK(br_signer_load(&signer, path, 1, &created), "br_signer_load");
    CHECK(br_verifier_from_signer(&v, signer), "br_verifier_from_signer");
    snprintf(path, sizeof path, "%s/store", g_dir);
    CHECK(br_store_open(&st, path, &mk), "br_store_open");

    /* 1. generation, then ledger appends alone */
    fprintf(stderr, "generating the store\n");
    generate(st, signer, &o, ids, &g);
    if (o.audits) {
        fprintf(stderr, "appending %" PRIu64 " audit entries\n", o.audits);
        audit_batch(st, signer, &o, &batch_append, &batch_cp, &batch_total);
    }
    /* Everything sealed must be provable: sign the head. */
    take_checkpoint(st, signer, &final_cp);

    /* 2. the signature alone, to split the checkpoint's time */
    CHECK(br_store_last_checkpoint(st, &last), "br_store_last_checkpoint");
    br_checkpoint_message(&last, msg, sizeof msg);
    for (int i = 0; i < 1000; i++) {
        uint8_t sig[BR_SIG_LEN];
        t0 = now_s();
        CHECK(br_signer_sign(signer, msg, strlen(msg), sig), "br_signer_sign");
        series_add(&sign_only, now_s() - t0);
    }

    /* 3. verification */
    snprintf(path, sizeof path, "%s/store/db", g_dir);
    store_bytes = du_bytes(path);
    fprintf(stderr, "verifying chains\n");
    t0 = now_s();
    rc = br_store_verify(st, NULL, count_verified, &vc);
    t_chain = now_s() - t0;
    CHECK(rc, "br_store_verify");
    if (rc > 0 || vc.failed || vc.ok != o.recordings)
        die("br_store_verify (recordings failed or missing)", -EBADMSG);
    fprintf(stderr, "verifying the ledger\n");
    t0 = now_s();
    rc = br_store_verify_ledger(st, v, ledger_problem, NULL, &entries, &ncps);
    t_ledger = now_s() - t0;
    CHECK(rc, "br_store_verify_ledger");
    if (rc > 0)
        die("br_store_verify_ledger (problems found)", -EBADMSG);
    if (entries != 2 * o.recordings + o.audits)
        die("br_store_verify_ledger (entry count)", -EPROTO);

    /* 4. inclusion proofs */
    fprintf(stderr, "proving %u recordings\n", o.proofs);
    inclusion_proofs(st, v, &o, ids, &ps);

    /* 5. consistency between the first and the last checkpoint */
    CHECK(br_store_get_checkpoint(st, 0, &first), "br_store_get_checkpoint");
    for (int i = 0; i < 1000; i++) {
        t0 = now_s();
        CHECK(br_store_consistency(st, first.size, &last, &cproof), "br_store_consistency");
        series_add(&cons_make, now_s() - t0);
        t0 = now_s();
        rc = br_merkle_verify_consistency(first.size, last.size, first.root, last.root, &cproof);
        series_add(&cons_verify, now_s() - t0);
        CHECK(rc, "br_merkle_verify_consistency");
    }

    /* 6. backup */
    fprintf(stderr, "backing up\n");
    snprintf(path, sizeof path, "%s/backup", g_dir);
    t0 = now_s();
    CHECK(br_store_backup(st, path), "br_store_backup");
    t_backup = now_s() - t0;
    backup_bytes = du_bytes(path);

    /* ---- report ---- */
    {
        double t_rec = g.create.sum + g.segment.sum + g.seal.sum;
        uint64_t ncp_total = g.checkpoint.n + batch_cp.n + final_cp.n;
        double cp_sum = g.checkpoint.sum + batch_cp.sum + final_cp.sum;
        double np = o.proofs ? (double)o.proofs : 1.0;

        printf("\n| Measure | Result |\n|---|---|\n");
        printf("| Store | %" PRIu64 " recordings x %u segment(s) of %zu B (%" PRIu64
               " segments); %" PRIu64 " ledger entries; %" PRIu64 " checkpoints; %.1f MB on disk (du of the LevelDB folder) |\n",
               o.recordings, o.segments, o.segment_bytes, seg_total, entries, ncps,
               (double)store_bytes / MB);
        printf("| 1. Recordings generated (create + segments + seal) | %.1f rec/s over %.1f s; "
               "mean create %.3f ms (p99 %.3f), segment %.3f ms, seal %.3f ms (p99 %.3f); "
               "create and seal each fsync |\n",
               rate((double)o.recordings, t_rec), t_rec, 1e3 * series_mean(&g.create),
               1e3 * series_pct(&g.create, 99), 1e3 * series_mean(&g.segment),
               1e3 * series_mean(&g.seal), 1e3 * series_pct(&g.seal, 99));
        printf("| 1. Whole generation phase (with %" PRIu64 " interleaved audits, %" PRIu64
               " checkpoints) | %.1f s = %.1f rec/s; interleaved audit mean %.3f ms (p99 %.3f) |\n",
               g.audit.n, g.checkpoint.n, g.total, rate((double)o.recordings, g.total),
               1e3 * series_mean(&g.audit), 1e3 * series_pct(&g.audit, 99));
        if (o.audits)
            printf("| 1. Ledger appends alone (br_store_audit x %" PRIu64
                   ", each fsync'ed, checkpoint every %u) | %.1f appends/s (%.1f with checkpoints); "
                   "mean %.3f ms, p99 %.3f ms |\n",
                   batch_append.n, o.checkpoint_every, rate((double)batch_append.n, batch_append.sum),
                   rate((double)batch_append.n, batch_total), 1e3 * series_mean(&batch_append),
                   1e3 * series_pct(&batch_append, 99));
        else
            printf("| 1. Ledger appends alone (br_store_audit) | not run (--audits 0) |\n");
        printf("| 2. Checkpoint (br_store_checkpoint: root + Ed25519 + synced put) | mean %.3f ms over %" PRIu64
               "; Ed25519 signature alone (br_signer_sign) %.3f ms |\n",
               ncp_total ? 1e3 * cp_sum / (double)ncp_total : 0.0, ncp_total,
               1e3 * series_mean(&sign_only));
        printf("| 3. Chain verification (br_store_verify, no decryption) | %.2f s: %.1f MB/s, %.0f recordings/s, %.0f segments/s |\n",
               t_chain, rate((double)store_bytes / MB, t_chain), rate((double)o.recordings, t_chain),
               rate((double)seg_total, t_chain));
        printf("| 3. Ledger verification (br_store_verify_ledger, signatures checked) | %.2f s: %.1f MB/s, %.0f entries/s, %" PRIu64 " checkpoints |\n",
               t_ledger, rate((double)store_bytes / MB, t_ledger), rate((double)entries, t_ledger), ncps);
        if (o.proofs) {
            printf("| 4. Inclusion proof size (%u random recordings) | %.1f hashes (max %d) = %.0f B; "
                   "with entry and checkpoint line %.0f B; as `bibrec prove` prints it %.0f B |\n",
                   o.proofs, (double)ps.hashes_sum / np, ps.hashes_max,
                   (double)ps.hashes_sum * BR_MERKLE_HASH / np, (double)ps.bin_sum / np,
                   (double)ps.text_sum / np);
            printf("| 4. Inclusion proof, produce (br_store_prove) | mean %.3f ms, p99 %.3f ms |\n",
                   1e3 * series_mean(&ps.produce), 1e3 * series_pct(&ps.produce, 99));
            printf("| 4. Inclusion proof, verify (leaf + br_merkle_verify_inclusion + br_checkpoint_verify) | mean %.3f ms (Merkle path alone %.4f ms) |\n",
                   1e3 * series_mean(&ps.verify_all), 1e3 * series_mean(&ps.verify_path));
        } else {
            printf("| 4. Inclusion proofs (br_store_prove) | not run (--proofs 0) |\n");
        }
        printf("| 5. Consistency proof (checkpoint %" PRIu64 ", size %" PRIu64 " -> checkpoint %" PRIu64
               ", size %" PRIu64 ") | %d hashes = %d B; produce %.4f ms, verify %.4f ms |\n",
               first.seq, first.size, last.seq, last.size, cproof.n, cproof.n * BR_MERKLE_HASH,
               1e3 * series_mean(&cons_make), 1e3 * series_mean(&cons_verify));
        printf("| 6. Backup (br_store_backup) | %.2f s: %.1f MB/s; the copy is %.1f MB |\n", t_backup,
               rate((double)store_bytes / MB, t_backup), (double)backup_bytes / MB);
    }

    br_store_close(st);
    br_verifier_free(v);
    br_signer_free(signer);
    br_master_key_wipe(&mk);
    free(ids);
    series_free(&g.create);
    series_free(&g.segment);
    series_free(&g.seal);
    series_free(&g.audit);
    series_free(&g.checkpoint);
    series_free(&batch_append);
    series_free(&ps.produce);
    if (!o.keep)
        rm_tree(g_dir);
    return 0;
}
