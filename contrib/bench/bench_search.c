/*
 * The search benchmark: how long the JSON API takes to answer a number
 * search over a large store. Two steps, so the store can be made once on a
 * fast folder and queried where it will live:
 *
 *   bench_search generate DIR N   N sealed recordings made with the real store API
 *                                 (br_rec_create, br_rec_seal: encrypted metadata, the
 *                                 blind index entries, a ledger entry each), no audio;
 *                                 a privacy officer "po" to query as
 *   bench_search argon2 [K]       K Argon2id hashes with the API's parameters, timed
 *   bench_search query DIR [Q]    Q searches (default 1000) through br_api_handle, as the
 *                                 daemon runs them: by a far-end number (about 5
 *                                 recordings each) and by a near-end DN (N / 10000 each,
 *                                 first page of 50), plus the bare index scan; prints
 *                                 p50, p95, p99 and the maximum
 *
 * Far numbers are drawn from N / 5 distinct numbers, near DNs from 10,000
 * extensions, so a number has about 5 recordings whatever N. Every call's
 * return code is checked; a failure stops the run with a message.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/password.h"
#include "access/roles.h"
#include "access/users.h"
#include "api/api.h"
#include "common/util.h"
#include "config/settings.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "sql-free-store/store.h"

#define PW "benchmark password"

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_search: %s: %s\n", what, br_strerror(rc));
    exit(1);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static br_store_t *open_store(const char *dir)
{
    char path[4096];
    br_master_key_t mk;
    br_store_t *st;
    int created, rc;

    snprintf(path, sizeof path, "%s/master.key", dir);
    if ((rc = br_master_key_load(&mk, path, 1, &created)) < 0)
        die("master key", rc);
    snprintf(path, sizeof path, "%s/store", dir);
    if ((rc = br_store_open(&st, path, &mk)) < 0)
        die("store", rc);
    return st;
}

/* Deterministic numbers, so the query step can name existing ones. */
static void far_number(uint64_t k, char *out, size_t n)
{
    snprintf(out, n, "+4420%08" PRIu64, 10000000 + k);
}

static void near_dn(uint64_t k, char *out, size_t n)
{
    snprintf(out, n, "%" PRIu64, 20000 + k % 10000);
}

static int generate(const char *dir, uint64_t n)
{
    br_store_t *st = open_store(dir);
    br_user_t u;
    uint64_t nfar = n / 5 ? n / 5 : 1;
    double t0 = now_s(), last = t0;
    int rc;

    srand(42);
    for (uint64_t i = 0; i < n; i++) {
        br_rec_meta_t m;
        br_rec_writer_t *w;
        memset(&m, 0, sizeof m);
        m.start_us = br_now_us() - (int64_t)(n - i) * 60 * 1000000;
        m.end_us = m.start_us + 120 * 1000000;
        m.sample_rate = 8000;
        m.frames = 8000ull * (uint64_t)(10 + rand() % 600);
        br_strlcpy(m.profile, "sales", sizeof m.profile);
        m.basis = BR_BASIS_CONTRACT;
        m.mode = BR_MODE_ALWAYS;
        near_dn((uint64_t)rand(), m.near.addr, sizeof m.near.addr);
        snprintf(m.near.device, sizeof m.near.device, "SEP00AABB%06X", (unsigned)(rand() % 10000));
        far_number((uint64_t)rand() % nfar, m.far.addr, sizeof m.far.addr);
        m.near.present = m.far.present = 1;
        if ((rc = br_rec_create(st, &m, &w)) < 0)
            die("create", rc);
        if ((rc = br_rec_seal(w, &m, BR_REC_SEALED)) < 0)
            die("seal", rc);
        if (now_s() - last > 10) {
            last = now_s();
            fprintf(stderr, "  %" PRIu64 " recordings, %.0f/s\n", i + 1, (double)(i + 1) / (last - t0));
        }
    }
    fprintf(stderr, "generated %" PRIu64 " recordings in %.1f s (%.0f/s)\n", n, now_s() - t0,
            (double)n / (now_s() - t0));
    if (br_user_get(st, "po", &u) != 0) {
        memset(&u, 0, sizeof u);
        br_strlcpy(u.name, "po", sizeof u.name);
        u.role = BR_ROLE_PRIVACY_OFFICER;
        if ((rc = br_user_set_password(&u, PW, 0)) < 0 || (rc = br_user_put(st, &u)) < 0)
            die("user", rc);
    }
    br_store_close(st);
    return 0;
}

static br_http_resp_t resp;

static int call(br_api_t *api, const char *method, const char *path, const char *query,
                const char *headers, const char *body)
{
    br_http_req_t *req = br_http_req_local(method, path, query, headers, body, body ? strlen(body) : 0);
    if (!req)
        die("request", -ENOMEM);
    br_buf_reset(&resp.body);
    resp.nheaders = 0;
    resp.status = 200;
    br_api_handle(api, req, &resp);
    br_http_req_local_free(req);
    return resp.status;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, size_t n, double hits)
{
    qsort(v, n, sizeof *v, cmp_d);
    printf("| %s | %zu | %.1f | %.2f | %.2f | %.2f | %.2f |\n", what, n, hits, v[n / 2] * 1e3,
           v[(size_t)(n * 0.95)] * 1e3, v[(size_t)(n * 0.99)] * 1e3, v[n - 1] * 1e3);
}

static int count_id(const char *id, void *ctx)
{
    (void)id;
    (*(uint64_t *)ctx)++;
    return 0;
}

static uint64_t read_count(const char *dir)
{
    char path[4096];
    unsigned long long n = 0;
    FILE *f;
    snprintf(path, sizeof path, "%s/count", dir);
    f = fopen(path, "r");
    if (!f || fscanf(f, "%llu", &n) != 1)
        die("count file (run generate first)", -ENOENT);
    fclose(f);
    return n;
}

static double total_of(void)
{
    const char *p = strstr((char *)resp.body.data, "\"total\":");
    return p ? atof(p + 8) : -1;
}

static int query(const char *dir, unsigned q)
{
    br_store_t *st = open_store(dir);
    br_config_t cfg;
    br_api_t *api;
    char headers[128], args[128], num[40];
    double *t = calloc(q, sizeof *t), hits;
    uint64_t n = read_count(dir), nfar = n / 5 ? n / 5 : 1;
    int rc;

    br_config_defaults(&cfg);
    if (!t || (rc = br_api_new(&api, st, &cfg, NULL)) < 0)
        die("api", -ENOMEM);
    br_buf_init(&resp.body);
    if (call(api, "POST", "/api/v1/login", NULL, NULL, "{\"user\":\"po\",\"password\":\"" PW "\"}") != 200)
        die("login", -EACCES);
    snprintf(headers, sizeof headers, "Authorization: Bearer %.64s",
             strstr((char *)resp.body.data, "\"token\":\"") + 9);
    srand(7);
    printf("| query (%" PRIu64 " recordings) | queries | recordings found (mean) | p50 ms | p95 ms | p99 ms | max ms |\n", n);
    printf("|---|---|---|---|---|---|---|\n");
    hits = 0;
    for (unsigned i = 0; i < q; i++) {
        double t0;
        far_number((uint64_t)rand() % nfar, num, sizeof num);
        t0 = now_s();
        uint64_t c = 0;
        if ((rc = br_store_search(st, 'n', num, count_id, &c)) < 0)
            die("search", rc);
        t[i] = now_s() - t0;
        hits += (double)c;
    }
    report("blind index scan only, far number", t, q, hits / q);
    hits = 0;
    for (unsigned i = 0; i < q; i++) {
        double t0;
        far_number((uint64_t)rand() % nfar, num, sizeof num);
        snprintf(args, sizeof args, "number=%s", num);
        t0 = now_s();
        if (call(api, "GET", "/api/v1/recordings", args, headers, NULL) != 200)
            die("api search", -EIO);
        t[i] = now_s() - t0;
        hits += total_of();
    }
    report("`GET /api/v1/recordings?number=` far number", t, q, hits / q);
    hits = 0;
    for (unsigned i = 0; i < q; i++) {
        double t0;
        near_dn((uint64_t)rand(), num, sizeof num);
        snprintf(args, sizeof args, "dn=%s&per_page=50", num);
        t0 = now_s();
        if (call(api, "GET", "/api/v1/recordings", args, headers, NULL) != 200)
            die("api search", -EIO);
        t[i] = now_s() - t0;
        hits += total_of();
    }
    report("`GET /api/v1/recordings?dn=&per_page=50` near DN", t, q, hits / q);
    br_buf_free(&resp.body);
    br_api_free(api);
    br_store_close(st);
    free(t);
    return 0;
}

static int argon2(unsigned k)
{
    char h[BR_PW_HASH_MAX];
    double *t = calloc(k ? k : 1, sizeof *t);
    int rc;

    for (unsigned i = 0; i < k; i++) {
        double t0 = now_s();
        if ((rc = br_password_hash(PW, h, sizeof h)) < 0)
            die("argon2", rc);
        t[i] = now_s() - t0;
    }
    qsort(t, k, sizeof *t, cmp_d);
    printf("| Argon2id hash, m=19 MiB t=2 p=1 | runs | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|\n");
    printf("| one hash, one thread | %u | %.1f | %.1f | %.1f |\n", k, t[k / 2] * 1e3,
           t[(size_t)(k * 0.95)] * 1e3, t[k - 1] * 1e3);
    free(t);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "generate") == 0) {
        char path[4096];
        uint64_t n = strtoull(argv[3], NULL, 10);
        FILE *f;
        generate(argv[2], n);
        snprintf(path, sizeof path, "%s/count", argv[2]);
        f = fopen(path, "w");
        if (!f)
            die("count file", -errno);
        fprintf(f, "%" PRIu64 "\n", n);
        fclose(f);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "argon2") == 0)
        return argon2(argc >= 3 ? (unsigned)strtoul(argv[2], NULL, 10) : 50);
    if (argc >= 3 && strcmp(argv[1], "query") == 0)
        return query(argv[2], argc >= 4 ? (unsigned)strtoul(argv[3], NULL, 10) : 1000);
    fprintf(stderr, "usage: bench_search generate DIR N | query DIR [QUERIES] | argon2 [RUNS]\n");
    return 2;
}
