/*
 * Fuzzes the JSON API's request handling (src/api/) with requests made in
 * memory: the first byte of an input picks an endpoint, the rest is its body
 * (POST, DELETE) or its query string (GET). The requests come from a logged
 * in privacy officer, so they pass authentication and reach the JSON parser,
 * the field checks and the store. Logins are left out: each costs an Argon2id
 * hash. Whatever the bytes, the answer must be a status between 200 and 599,
 * and a JSON answer must be valid JSON.
 */
#include <ftw.h>
#include <jansson.h>
#include <unistd.h>

#include "access/roles.h"
#include "access/users.h"
#include "api/api.h"
#include "config/settings.h"
#include "crypto/crypto.h"
#include "fuzz.h"

static br_store_t *st;
static br_api_t *api;
static br_config_t cfg;
static char headers[200];
static char dir[] = "/tmp/bibrec-fuzz-api.XXXXXX";

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* The store goes when the fuzzer ends. */
static void teardown(void)
{
    br_api_free(api);
    br_store_close(st);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const struct {
    const char *method, *path;
} endpoints[] = {
    { "POST", "/api/v1/export" },
    { "POST", "/api/v1/subject/export" },
    { "POST", "/api/v1/subject/erase" },
    { "POST", "/api/v1/recordings/0123456789abcdef0123/hold" },
    { "DELETE", "/api/v1/recordings/0123456789abcdef0123" },
    { "GET", "/api/v1/recordings" },
    { "GET", "/api/v1/audit" },
    { "GET", "/api/v1/me" },
};

static br_http_resp_t *call(const char *method, const char *path, const char *query,
                            const char *hdrs, const void *body, size_t len)
{
    br_http_resp_t *resp = calloc(1, sizeof *resp);
    br_http_req_t *req = br_http_req_local(method, path, query, hdrs, body, len);
    if (!resp || !req)
        abort();
    br_buf_init(&resp->body);
    resp->status = 200;
    br_api_handle(api, req, resp);
    br_http_req_local_free(req);
    return resp;
}

static void free_resp(br_http_resp_t *r)
{
    br_buf_free(&r->body);
    free(r);
}

/* A store in a temporary folder with one privacy officer, logged in once. */
static void setup(void)
{
    char path[300];
    static const char login[] = "{\"user\":\"po\",\"password\":\"fuzzing password\"}";
    br_master_key_t mk;
    br_user_t u;
    br_http_resp_t *r;
    const char *tok;

    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/store", dir);
    br_random_key(mk.key, BR_KEY_LEN);
    memset(mk.id, 1, sizeof mk.id);
    br_config_defaults(&cfg);
    if (br_store_open(&st, path, &mk) < 0 || br_api_new(&api, st, &cfg, NULL) < 0)
        abort();
    memset(&u, 0, sizeof u);
    strcpy(u.name, "po");
    u.role = BR_ROLE_PRIVACY_OFFICER;
    if (br_user_set_password(&u, "fuzzing password", 0) < 0 || br_user_put(st, &u) < 0)
        abort();
    atexit(teardown);
    r = call("POST", "/api/v1/login", NULL, NULL, login, sizeof login - 1);
    tok = r->status == 200 ? strstr((char *)r->body.data, "\"token\":\"") : NULL;
    if (!tok)
        abort();
    snprintf(headers, sizeof headers, "Authorization: Bearer %.64s", tok + 9);
    free_resp(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    br_http_resp_t *r;
    char *query = NULL;
    size_t e;

    if (!api)
        setup();
    if (size < 1)
        return 0;
    e = data[0] % (sizeof endpoints / sizeof endpoints[0]);
    if (strcmp(endpoints[e].method, "GET") == 0) {
        query = malloc(size);
        if (!query)
            abort();
        memcpy(query, data + 1, size - 1);
        query[size - 1] = 0;
        r = call("GET", endpoints[e].path, query, headers, NULL, 0);
    } else {
        r = call(endpoints[e].method, endpoints[e].path, NULL, headers, data + 1, size - 1);
    }
    FUZZ_CHECK(r->status >= 200 && r->status <= 599);
    if (strcmp(r->content_type, "application/json") == 0) {
        json_t *j = json_loadb((char *)r->body.data, r->body.len, 0, NULL);
        FUZZ_CHECK(j != NULL);
        json_decref(j);
    }
    free_resp(r);
    free(query);
    return 0;
}
