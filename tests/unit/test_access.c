/*
 * Users, roles and sessions (src/access/): Argon2id hashing and checking,
 * session expiry (idle and absolute), the login throttle, the role decision
 * table (role x action, then role x kind of recording), and user records in
 * a real store, where only the name may be in clear.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access/password.h"
#include "access/ratelimit.h"
#include "access/roles.h"
#include "access/tokens.h"
#include "access/users.h"
#include "common/util.h"
#include "crypto/crypto.h"
#include "tap.h"

#define S 1000000LL /* one second in µs */

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static void test_password(void)
{
    char h[BR_PW_HASH_MAX], h2[BR_PW_HASH_MAX], gen[BR_PW_GENERATED + 1], bad[BR_PW_HASH_MAX];
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    is_int(br_password_hash("correct horse battery", h, sizeof h), 0, "Argon2id hash");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("# one Argon2id hash (m=19 MiB, t=2, p=1): %.1f ms\n", elapsed_ms(&t0, &t1));
    ok(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0, "PHC string with the OWASP parameters: %s", h);
    is_int(br_password_verify(h, "correct horse battery"), 0, "the right password verifies");
    is_int(br_password_verify(h, "correct horse batterY"), -EACCES, "a wrong one does not");
    is_int(br_password_verify(h, ""), -EACCES, "nor an empty one");
    br_password_hash("correct horse battery", h2, sizeof h2);
    ok(strcmp(h, h2) != 0, "the same password hashes differently (random salt)");
    is_int(br_password_verify("$2y$10$notargon", "x"), -EINVAL, "a non-Argon2id string is refused");
    snprintf(bad, sizeof bad, "$argon2id$v=19$m=4194304,t=2,p=1$%s", strrchr(h, '$') - 22);
    is_int(br_password_verify(bad, "correct horse battery"), -EINVAL, "absurd costs in a stored hash are refused");
    h[strlen(h) - 2] ^= 1;
    ok(br_password_verify(h, "correct horse battery") < 0, "a damaged hash does not verify");
    is_int(br_password_generate(gen, sizeof gen), 0, "a password is generated");
    ok(strlen(gen) == BR_PW_GENERATED && strspn(gen, "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") == BR_PW_GENERATED,
       "20 characters without look-alikes: %s", gen);
    ok(!br_password_acceptable("short") && !br_password_acceptable("twelve chars\x01") &&
           br_password_acceptable("twelve chars"),
       "chosen passwords: 12 characters at least, no control characters");
}

static void test_tokens(void)
{
    br_tokens_t *t;
    br_token_info_t info;
    char tok[BR_TOKEN_HEX], csrf[BR_TOKEN_HEX], t2[BR_TOKEN_HEX], c2[BR_TOKEN_HEX], t3[BR_TOKEN_HEX];
    int64_t now = 1000 * S, idle = 30 * 60 * S, max = 8 * 3600 * S;

    br_tokens_new(&t, idle, max, 2);
    is_int(br_tokens_create(t, "alice", now, 42, tok, csrf), 0, "a session is made");
    ok(strlen(tok) == 64 && strlen(csrf) == 64 && strcmp(tok, csrf) != 0, "token and CSRF token: 64 hex digits each");
    is_int(br_tokens_check(t, tok, now + 60 * S, &info), 0, "it is live a minute later");
    ok(strcmp(info.user, "alice") == 0 && strcmp(info.csrf, csrf) == 0 && info.created_us == 42,
       "it names the user, its CSRF token and when it was made");
    is_int(br_tokens_check(t, "00", now, &info), -ENOENT, "a malformed token is unknown");
    {
        char c0 = tok[0];
        tok[0] = c0 == 'a' ? 'b' : 'a';
        is_int(br_tokens_check(t, tok, now, &info), -ENOENT, "a token one digit off is unknown");
        tok[0] = c0;
    }
    /* Activity keeps it alive past the idle limit... */
    {
        int64_t broke = 0;
        for (int64_t at = now; at <= now + 7 * 3600 * S && !broke; at += 25 * 60 * S)
            if (br_tokens_check(t, tok, at, &info) != 0)
                broke = at - now;
        is_int(broke, 0, "a session used every 25 minutes stays live for 7 hours");
    }
    /* ...but not past the absolute limit. */
    is_int(br_tokens_check(t, tok, now + max + S, &info), -ETIMEDOUT, "after 8 hours it ends however busy");
    is_int(br_tokens_check(t, tok, now + max + 2 * S, &info), -ENOENT, "and is forgotten");
    br_tokens_create(t, "bob", now, 0, t2, c2);
    is_int(br_tokens_check(t, t2, now + idle + S, &info), -ETIMEDOUT, "30 minutes idle end a session");
    br_tokens_create(t, "bob", now, 0, t2, c2);
    is_int(br_tokens_revoke(t, t2), 0, "logout revokes");
    is_int(br_tokens_check(t, t2, now, &info), -ENOENT, "a revoked token is unknown");
    br_tokens_create(t, "a", now, 0, tok, csrf);
    br_tokens_create(t, "b", now + S, 0, t2, c2);
    br_tokens_check(t, tok, now + 2 * S, &info); /* a is now the more recently used */
    br_tokens_create(t, "c", now + 3 * S, 0, t3, c2);
    ok(br_tokens_check(t, tok, now + 4 * S, &info) == 0 && br_tokens_check(t, t2, now + 4 * S, &info) == -ENOENT &&
           br_tokens_check(t, t3, now + 4 * S, &info) == 0,
       "a full table drops the session idle longest");
    br_tokens_free(t);
}

static void test_ratelimit(void)
{
    br_ratelimit_t *rl;
    int64_t now = 5000 * S, w = -1;
    int free_ok = 1;

    br_ratelimit_new(&rl, 5, S, 60 * S, 3);
    for (int i = 0; i < 4; i++) {
        free_ok &= br_ratelimit_fail(rl, "user:a", now) == 0;
        free_ok &= br_ratelimit_wait(rl, "user:a", now) == 0;
    }
    ok(free_ok, "four failures cost nothing");
    is_int(br_ratelimit_fail(rl, "user:a", now), S, "the fifth imposes 1 s");
    is_int(br_ratelimit_wait(rl, "user:a", now + S / 4), 3 * S / 4, "which counts down");
    is_int(br_ratelimit_wait(rl, "user:b", now), 0, "another key is not affected");
    is_int(br_ratelimit_fail(rl, "user:a", now + S), 2 * S, "the sixth doubles it");
    is_int(br_ratelimit_fail(rl, "user:a", now + 3 * S), 4 * S, "and the seventh again");
    for (int i = 0; i < 40; i++)
        w = br_ratelimit_fail(rl, "user:a", now + 10 * S);
    is_int(w, 60 * S, "the wait stops at its ceiling");
    is_int(br_ratelimit_wait(rl, "user:a", now + 71 * S), 0, "and ends");
    br_ratelimit_reset(rl, "user:a");
    is_int(br_ratelimit_fail(rl, "user:a", now), 0, "a success resets the count");
    br_ratelimit_fail(rl, "addr:1", now + 1);
    br_ratelimit_fail(rl, "addr:2", now + 2);
    br_ratelimit_fail(rl, "addr:3", now + 3); /* the table holds 3: user:a (oldest) goes */
    for (int i = 0; i < 4; i++)
        br_ratelimit_fail(rl, "user:a", now + 4);
    is_int(br_ratelimit_wait(rl, "user:a", now + 4), 0, "a full table forgets the quietest key");
    br_ratelimit_free(rl);
}

/* role x action: the whole table, written out. */
static void test_role_table(void)
{
    static const struct {
        int role;
        const char *allowed; /* actions, in enum order: search metadata play export delete hold private subject audit verify users */
    } table[] = {
        { BR_ROLE_ADMIN,           "----------U" },
        { BR_ROLE_SUPERVISOR,      "SMPE-------" },
        { BR_ROLE_AUDITOR,         "SM------AV-" },
        { BR_ROLE_PRIVACY_OFFICER, "SMPEDHPS---" },
        { BR_ROLE_USER,            "SMPE--P----" },
        { BR_ROLE_NONE,            "-----------" },
    };
    for (size_t r = 0; r < BR_ARRAY_SIZE(table); r++) {
        int wrong = 0;
        for (int a = 0; a < BR_ACT_COUNT; a++)
            wrong += br_role_allows(table[r].role, a) != (table[r].allowed[a] != '-');
        is_int(wrong, 0, "%s: %s", br_role_name(table[r].role), table[r].allowed);
    }
    ok(br_role_parse("privacy-officer") == BR_ROLE_PRIVACY_OFFICER && br_role_parse("root") == BR_ROLE_NONE &&
           br_role_parse(NULL) == BR_ROLE_NONE,
       "role names parse, unknown ones do not");
}

/* role x kind of recording x action. */
static void test_recording_decisions(void)
{
    br_config_t cfg;
    br_rec_meta_t sales, support, mine, priv_mine, priv_sales;
    enum { SALES, SUPPORT, MINE, PRIV_MINE, PRIV_SALES };
    const br_rec_meta_t *recs[] = { &sales, &support, &mine, &priv_mine, &priv_sales };
    br_user_t users[BR_ROLE_COUNT];
    static const struct {
        int role, action;
        const char *want; /* per recording kind: sales support mine priv_mine priv_sales; 1 allow */
    } table[] = {
        { BR_ROLE_SUPERVISOR, BR_ACT_PLAY, "10000" },      /* group sales only; private never */
        { BR_ROLE_SUPERVISOR, BR_ACT_SEARCH, "10000" },
        { BR_ROLE_SUPERVISOR, BR_ACT_DELETE, "00000" },
        { BR_ROLE_AUDITOR, BR_ACT_METADATA, "11100" },     /* all but private */
        { BR_ROLE_AUDITOR, BR_ACT_PLAY, "00000" },         /* never audio */
        { BR_ROLE_PRIVACY_OFFICER, BR_ACT_PLAY, "11111" },
        { BR_ROLE_PRIVACY_OFFICER, BR_ACT_DELETE, "11111" },
        { BR_ROLE_USER, BR_ACT_PLAY, "00110" },            /* own, private or not */
        { BR_ROLE_USER, BR_ACT_PRIVATE, "00110" },
        { BR_ROLE_USER, BR_ACT_DELETE, "00000" },
        { BR_ROLE_ADMIN, BR_ACT_METADATA, "00000" },
    };

    memset(&cfg, 0, sizeof cfg);
    cfg.nprofiles = 2;
    br_strlcpy(cfg.profiles[0].name, "sales", 64);
    br_strlcpy(cfg.profiles[0].access, "sales-team, managers", 128);
    br_strlcpy(cfg.profiles[1].name, "support", 64);
    br_strlcpy(cfg.profiles[1].access, "support-team", 128);
    memset(&sales, 0, sizeof sales);
    br_strlcpy(sales.profile, "sales", 64);
    br_strlcpy(sales.near.addr, "4001", BR_META_STR);
    support = sales;
    br_strlcpy(support.profile, "support", 64);
    mine = support;
    br_strlcpy(mine.near.addr, "+1 (555) 4003", BR_META_STR);
    priv_mine = mine;
    priv_mine.flags |= BR_FLAG_PRIVATE;
    priv_sales = sales;
    priv_sales.flags |= BR_FLAG_PRIVATE;

    memset(users, 0, sizeof users);
    for (int r = 1; r < BR_ROLE_COUNT; r++)
        users[r].role = (uint8_t)r;
    users[BR_ROLE_SUPERVISOR].ngroups = 1;
    br_strlcpy(users[BR_ROLE_SUPERVISOR].groups[0], "managers", BR_USER_ITEM);
    users[BR_ROLE_USER].ndns = 1;
    br_strlcpy(users[BR_ROLE_USER].dns[0], "+15554003", BR_USER_ITEM);

    for (size_t i = 0; i < BR_ARRAY_SIZE(table); i++) {
        char got[6];
        for (int k = 0; k < 5; k++)
            got[k] = (char)('0' + br_access_recording(&users[table[i].role], table[i].action, recs[k], 0, &cfg));
        got[5] = 0;
        is_str(got, table[i].want, "%s %s: sales support mine private-mine private-sales",
               br_role_name(table[i].role), br_action_name(table[i].action));
    }
    ok(!br_access_recording(&users[BR_ROLE_SUPERVISOR], BR_ACT_PLAY, &sales, 1, &cfg) &&
           br_access_recording(&users[BR_ROLE_USER], BR_ACT_PLAY, &mine, 1, &cfg),
       "a private mark set after sealing counts like the flag");
    users[BR_ROLE_PRIVACY_OFFICER].flags |= BR_USER_DISABLED;
    ok(!br_access_recording(&users[BR_ROLE_PRIVACY_OFFICER], BR_ACT_PLAY, &sales, 0, &cfg),
       "a disabled user may do nothing");
    users[BR_ROLE_USER].ndns = 1;
    br_strlcpy(users[BR_ROLE_USER].dns[0], "sep00aabbccdd03", BR_USER_ITEM);
    br_strlcpy(mine.near.device, "SEP00AABBCCDD03", BR_META_STR);
    ok(br_access_own(&users[BR_ROLE_USER], &mine), "a user's device name (any case) makes a recording theirs");
}

static int grep_dir(const char *dir, const char *needle)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "grep -rqa -- '%s' '%s'", needle, dir);
    return system(cmd) == 0;
}

static void test_users_store(void)
{
    char dir[] = "/tmp/bibrec-test-access.XXXXXX", path[300], pw[BR_PW_GENERATED + 1];
    br_master_key_t mk;
    br_store_t *st = NULL;
    br_user_t u, v;
    br_buf_t b;

    mkdtemp(dir);
    snprintf(path, sizeof path, "%s/store", dir);
    br_random_key(mk.key, BR_KEY_LEN);
    memset(mk.id, 7, sizeof mk.id);
    is_int(br_store_open(&st, path, &mk), 0, "store opened");
    is_int(br_user_bootstrap(st, pw, sizeof pw), 1, "the first start makes the first administrator");
    ok(br_user_get(st, "admin", &u) == 0 && u.role == BR_ROLE_ADMIN && (u.flags & BR_USER_MUST_CHANGE) &&
           br_password_verify(u.hash, pw) == 0,
       "admin, with the one-time password to be changed");
    is_int(br_user_bootstrap(st, pw, sizeof pw), 0, "the next start makes none");

    memset(&u, 0, sizeof u);
    br_strlcpy(u.name, "carol", sizeof u.name);
    u.role = BR_ROLE_USER;
    u.ndns = 2;
    br_strlcpy(u.dns[0], "+4412345678", BR_USER_ITEM);
    br_strlcpy(u.dns[1], "SEP00AABBCC0042", BR_USER_ITEM);
    u.ngroups = 1;
    br_strlcpy(u.groups[0], "night-shift-group", BR_USER_ITEM);
    br_user_set_password(&u, "carol's password", 0);
    is_int(br_user_put(st, &u), 0, "a user is stored");
    is_int(br_user_get(st, "carol", &v), 0, "and read back");
    ok(memcmp(&u, &v, sizeof u) == 0, "field for field");
    is_int(br_user_get(st, "nobody", &v), -ENOENT, "an unknown user is -ENOENT");
    is_int(br_user_get(st, "../x", &v), -ENOENT, "a malformed name too");
    br_buf_init(&b);
    br_user_encode(&u, &b);
    is_int(br_user_decode(b.data, b.len - 1, &v), -EPROTO, "a truncated record is refused");
    b.data[b.len - 1] ^= 0xff;
    ok(br_user_decode(b.data, b.len, &v) == 0 && strcmp(v.dns[1], u.dns[1]) != 0,
       "a changed byte in a string changes only that string");
    b.data[1] = 0xff; /* the name's length */
    is_int(br_user_decode(b.data, b.len, &v), -EPROTO, "a wrong length is refused");
    br_buf_free(&b);
    br_store_close(st);
    {
        /* A master key rotation: reopened under a new key B with the old one A retired, the
         * index key (which seals the user records) must still open, and after the rewrap B
         * alone must do. */
        br_master_key_t b2;
        br_random_key(b2.key, BR_KEY_LEN);
        memset(b2.id, 9, sizeof b2.id);
        br_store_open(&st, path, &b2);
        is_int(br_user_get(st, "carol", &v), -ENOKEY, "under a new master key alone the users are sealed");
        is_int(br_store_add_key(st, &mk, 0), 0, "the retired key is added");
        is_int(br_user_get(st, "carol", &v), 0, "and the users open again");
        {
            uint64_t rewrapped, failed;
            is_int(br_store_rewrap(st, &rewrapped, &failed), 0, "rewrap");
        }
        br_store_close(st);
        br_store_open(&st, path, &b2);
        is_int(br_user_get(st, "carol", &v), 0, "after the rewrap the new key alone opens the users");
        br_store_close(st);
    }
    ok(grep_dir(path, "carol") && !grep_dir(path, "4412345678") && !grep_dir(path, "night-shift-group") &&
           !grep_dir(path, "argon2id"),
       "in the store files: the name, but neither DNs, groups nor the hash");
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    system(path);
}

int main(void)
{
    test_password();
    test_tokens();
    test_ratelimit();
    test_role_table();
    test_recording_decisions();
    test_users_store();
    return tap_done();
}
