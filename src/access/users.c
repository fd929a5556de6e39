/*
 * User records: encoding (with the bounded reader, like the metadata) and
 * their storage through the store's user/ keys.
 */
#include "users.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "roles.h"

#define RECORD_VERSION 1

int br_user_valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= BR_USER_NAME || !isalnum((unsigned char)name[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("._@-", name[i]))
            return 0;
    return 1;
}

int br_user_valid_item(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= BR_USER_ITEM)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._+*-", s[i]))
            return 0;
    return 1;
}

int br_user_encode(const br_user_t *u, br_buf_t *out)
{
    br_buf_put_u8(out, RECORD_VERSION);
    br_buf_put_str(out, u->name);
    br_buf_put_u8(out, u->role);
    br_buf_put_u32le(out, u->flags);
    br_buf_put_str(out, u->hash);
    br_buf_put_u64le(out, (uint64_t)u->created_us);
    br_buf_put_u64le(out, (uint64_t)u->password_us);
    br_buf_put_u8(out, (uint8_t)u->ngroups);
    for (int i = 0; i < u->ngroups; i++)
        br_buf_put_str(out, u->groups[i]);
    br_buf_put_u8(out, (uint8_t)u->ndns);
    for (int i = 0; i < u->ndns; i++)
        br_buf_put_str(out, u->dns[i]);
    return out->failed ? -ENOMEM : 0;
}

int br_user_decode(const uint8_t *data, size_t len, br_user_t *u)
{
    br_reader_t r;

    memset(u, 0, sizeof *u);
    br_reader_init(&r, data, len);
    if (br_get_u8(&r) != RECORD_VERSION)
        return -EPROTO;
    if (br_get_str(&r, u->name, sizeof u->name) < 0)
        return -EPROTO;
    u->role = br_get_u8(&r);
    u->flags = br_get_u32le(&r);
    if (br_get_str(&r, u->hash, sizeof u->hash) < 0)
        return -EPROTO;
    u->created_us = (int64_t)br_get_u64le(&r);
    u->password_us = (int64_t)br_get_u64le(&r);
    u->ngroups = br_get_u8(&r);
    if (u->ngroups > BR_USER_MAX_GROUPS)
        return -EPROTO;
    for (int i = 0; i < u->ngroups; i++)
        if (br_get_str(&r, u->groups[i], sizeof u->groups[i]) < 0)
            return -EPROTO;
    u->ndns = br_get_u8(&r);
    if (u->ndns > BR_USER_MAX_DNS)
        return -EPROTO;
    for (int i = 0; i < u->ndns; i++)
        if (br_get_str(&r, u->dns[i], sizeof u->dns[i]) < 0)
            return -EPROTO;
    if (r.failed || r.left != 0 || u->role == BR_ROLE_NONE || u->role >= BR_ROLE_COUNT)
        return -EPROTO;
    return 0;
}

int br_user_get(br_store_t *st, const char *name, br_user_t *u)
{
    br_buf_t b;
    int rc;

    memset(u, 0, sizeof *u);
    if (!br_user_valid_name(name))
        return -ENOENT;
    br_buf_init(&b);
    rc = br_store_user_get(st, name, &b);
    if (rc == 0)
        rc = br_user_decode(b.data, b.len, u);
    if (rc == 0 && strcmp(u->name, name) != 0)
        rc = -EPROTO; /* a record moved to another name */
    if (b.data)
        explicit_bzero(b.data, b.len);
    br_buf_free(&b);
    return rc;
}

int br_user_put(br_store_t *st, const br_user_t *u)
{
    br_buf_t b;
    int rc;

    if (!br_user_valid_name(u->name))
        return -EINVAL;
    br_buf_init(&b);
    rc = br_user_encode(u, &b);
    if (rc == 0)
        rc = br_store_user_put(st, u->name, b.data, b.len);
    br_buf_free(&b);
    return rc;
}

struct each_ctx {
    br_user_cb cb;
    void *ctx;
};

static int each_one(const char *name, const uint8_t *rec, size_t len, void *ctx)
{
    struct each_ctx *c = ctx;
    br_user_t u;
    if (br_user_decode(rec, len, &u) < 0 || strcmp(u.name, name) != 0)
        return 0; /* a damaged record is skipped; br_user_get reports it */
    return c->cb(&u, c->ctx);
}

int br_user_each(br_store_t *st, br_user_cb cb, void *ctx)
{
    struct each_ctx c = { cb, ctx };
    return br_store_user_each(st, each_one, &c);
}

int br_user_set_password(br_user_t *u, const char *pw, int must_change)
{
    int rc = br_password_hash(pw, u->hash, sizeof u->hash);
    if (rc < 0)
        return rc;
    u->password_us = br_now_us();
    if (must_change)
        u->flags |= BR_USER_MUST_CHANGE;
    else
        u->flags &= ~(uint32_t)BR_USER_MUST_CHANGE;
    return 0;
}

static int any_user(const br_user_t *u, void *ctx)
{
    (void)u;
    *(int *)ctx = 1;
    return 1;
}

int br_user_bootstrap(br_store_t *st, char *pw, size_t pwsz)
{
    br_user_t u;
    int found = 0, rc = br_user_each(st, any_user, &found);

    if (rc < 0)
        return rc;
    if (found)
        return 0;
    memset(&u, 0, sizeof u);
    br_strlcpy(u.name, "admin", sizeof u.name);
    u.role = BR_ROLE_ADMIN;
    u.created_us = br_now_us();
    rc = br_password_generate(pw, pwsz);
    if (rc == 0)
        rc = br_user_set_password(&u, pw, 1);
    if (rc == 0)
        rc = br_user_put(st, &u);
    explicit_bzero(&u, sizeof u);
    return rc < 0 ? rc : 1;
}
