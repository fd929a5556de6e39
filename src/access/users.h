/*
 * The people who may use the console and the API: a name, a role, the
 * groups a supervisor sees (a recording profile's `access` lists groups),
 * the directory numbers or device names whose recordings are a user's own,
 * and an Argon2id password hash. Records live in the store under user/<name>,
 * encrypted like everything else (sql-free-store/FORMAT.md), so only the
 * name is in clear. Roles and what each may do are in roles.h.
 */
#ifndef BR_USERS_H
#define BR_USERS_H

#include <stdint.h>

#include "password.h"
#include "sql-free-store/store.h"

#define BR_USER_NAME 64
#define BR_USER_MAX_GROUPS 16
#define BR_USER_MAX_DNS 16
#define BR_USER_ITEM 64

enum {
    BR_USER_DISABLED = 1 << 0,    /* may not log in; live sessions end at their next request */
    BR_USER_MUST_CHANGE = 1 << 1, /* the password was set by someone else: change it first */
};

typedef struct br_user {
    char name[BR_USER_NAME];
    uint8_t role; /* enum br_role */
    uint32_t flags;
    char hash[BR_PW_HASH_MAX];
    int64_t created_us;
    int64_t password_us; /* when the password was last set: older sessions end */
    int ngroups;
    char groups[BR_USER_MAX_GROUPS][BR_USER_ITEM];
    int ndns;
    char dns[BR_USER_MAX_DNS][BR_USER_ITEM]; /* directory numbers or device names */
} br_user_t;

/* 1..63 of [A-Za-z0-9._@-], starting with a letter or digit. */
int br_user_valid_name(const char *name);
/* A group, DN or device name: 1..63 of [A-Za-z0-9._+*-]. */
int br_user_valid_item(const char *s);

int br_user_encode(const br_user_t *u, br_buf_t *out);
int br_user_decode(const uint8_t *data, size_t len, br_user_t *u);

/* -ENOENT when there is no such user. */
int br_user_get(br_store_t *st, const char *name, br_user_t *u);
int br_user_put(br_store_t *st, const br_user_t *u);
typedef int (*br_user_cb)(const br_user_t *u, void *ctx);
int br_user_each(br_store_t *st, br_user_cb cb, void *ctx);

/* Sets a new password (hashing it) and its time; clears or sets MUST_CHANGE. */
int br_user_set_password(br_user_t *u, const char *pw, int must_change);

/* At the first start of a store without users: creates "admin" (role admin, must change) with a
 * random password written into pw (BR_PW_GENERATED + 1 bytes). Returns 1 when created, 0 when
 * users exist, or < 0. */
int br_user_bootstrap(br_store_t *st, char *pw, size_t pwsz);

#endif
