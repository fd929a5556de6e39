/*
 * `bibrec user ...`: the console and API users (src/access/). Run in the
 * daemon (over the control socket) or on the store directly, like every
 * command, and audited by br_cmd_run; a password given on the command line
 * (the CLI reads it from stdin and passes it as --password) never reaches
 * the audit trail or a log.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "access/roles.h"
#include "access/users.h"
#include "commands_int.h"
#include "common/util.h"

#define USAGE                                                                                  \
    "usage: user add NAME --role ROLE [--group G ...] [--dn N ...] [--password-stdin]\n"      \
    "       user passwd NAME [--password-stdin]\n"                                             \
    "       user role NAME ROLE [--group G ...] [--dn N ...]\n"                                \
    "       user disable NAME | user enable NAME | user list\n"                                \
    "roles: admin, supervisor, auditor, privacy-officer, user\n"

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 3; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

/* --group and --dn options into u (replacing what it had when any is given). */
static int scope_of(int argc, char **argv, br_user_t *u, br_buf_t *err)
{
    int ng = 0, nd = 0;
    for (int i = 3; i + 1 < argc; i++) {
        int group = strcmp(argv[i], "--group") == 0;
        if (!group && strcmp(argv[i], "--dn") != 0)
            continue;
        if (!br_user_valid_item(argv[i + 1]) || (group ? ng : nd) == BR_USER_MAX_GROUPS) {
            br_buf_printf(err, "user: %s '%s' refused (1 to 63 of A-Z a-z 0-9 . _ + * -; at most %d)\n",
                          argv[i], argv[i + 1], BR_USER_MAX_GROUPS);
            return -EINVAL;
        }
        if (group)
            br_strlcpy(u->groups[ng++], argv[i + 1], BR_USER_ITEM);
        else
            br_strlcpy(u->dns[nd++], argv[i + 1], BR_USER_ITEM);
        i++;
    }
    if (ng || nd) {
        u->ngroups = ng;
        u->ndns = nd;
    }
    return 0;
}

/* The password given, or a generated one (printed once). */
static int set_password(int argc, char **argv, br_user_t *u, br_buf_t *out, br_buf_t *err)
{
    const char *given = opt(argc, argv, "--password");
    char pw[BR_PW_GENERATED + 1];
    int rc;

    if (given && !br_password_acceptable(given)) {
        br_buf_printf(err, "user: a password has %d to %d characters and no control characters\n",
                      BR_PW_MIN, BR_PW_MAX);
        return -EINVAL;
    }
    if (!given && (rc = br_password_generate(pw, sizeof pw)) < 0)
        return rc;
    /* A generated password was seen by whoever ran this: the user changes it at first login. */
    rc = br_user_set_password(u, given ? given : pw, !given);
    if (rc == 0 && !given)
        br_buf_printf(out, "password for %s (shown once; to be changed at first login): %s\n",
                      u->name, pw);
    explicit_bzero(pw, sizeof pw);
    return rc;
}

static int fail(br_buf_t *err, const char *what, const char *name, int rc)
{
    br_buf_printf(err, "user %s %s: %s\n", what, name,
                  rc == -ENOENT ? "no such user"
                  : rc == -ENOKEY ? "the master key is not available here"
                                  : br_strerror(rc));
    return 1;
}

static int user_add(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    br_user_t u;
    int rc;

    memset(&u, 0, sizeof u);
    if (!br_user_valid_name(argv[2])) {
        br_buf_printf(err, "user add: '%s' is not a valid name (1 to 63 of A-Z a-z 0-9 . _ @ -)\n", argv[2]);
        return 2;
    }
    u.role = (uint8_t)br_role_parse(opt(argc, argv, "--role"));
    if (u.role == BR_ROLE_NONE) {
        br_buf_printf(err, "%s", USAGE);
        return 2;
    }
    rc = br_user_get(env->st, argv[2], &u);
    if (rc == 0) {
        br_buf_printf(err, "user add: %s exists already\n", argv[2]);
        return 1;
    }
    if (rc != -ENOENT)
        return fail(err, "add", argv[2], rc);
    memset(&u, 0, sizeof u);
    br_strlcpy(u.name, argv[2], sizeof u.name);
    u.role = (uint8_t)br_role_parse(opt(argc, argv, "--role"));
    u.created_us = br_now_us();
    if (scope_of(argc, argv, &u, err) < 0)
        return 2;
    rc = set_password(argc, argv, &u, out, err);
    if (rc == 0)
        rc = br_user_put(env->st, &u);
    if (rc < 0)
        return rc == -EINVAL ? 2 : fail(err, "add", argv[2], rc);
    br_buf_printf(out, "created %s (%s)\n", u.name, br_role_name(u.role));
    return 0;
}

/* Loads NAME, applies change, stores it. */
static int user_change(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    const char *what = argv[1];
    br_user_t u;
    int rc = br_user_get(env->st, argv[2], &u);

    if (rc < 0)
        return fail(err, what, argv[2], rc);
    if (strcmp(what, "passwd") == 0) {
        rc = set_password(argc, argv, &u, out, err);
    } else if (strcmp(what, "role") == 0) {
        int role = argc >= 4 ? br_role_parse(argv[3]) : BR_ROLE_NONE;
        if (role == BR_ROLE_NONE) {
            br_buf_printf(err, "%s", USAGE);
            return 2;
        }
        u.role = (uint8_t)role;
        rc = scope_of(argc, argv, &u, err);
    } else if (strcmp(what, "disable") == 0) {
        u.flags |= BR_USER_DISABLED;
    } else {
        u.flags &= ~(uint32_t)BR_USER_DISABLED;
    }
    if (rc == 0)
        rc = br_user_put(env->st, &u);
    if (rc < 0)
        return rc == -EINVAL ? 2 : fail(err, what, argv[2], rc);
    br_buf_printf(out, "%s: %s done\n", u.name, what);
    return 0;
}

static int list_one(const br_user_t *u, void *ctx)
{
    br_buf_t *out = ctx;
    br_buf_printf(out, "%s\t%s\t", u->name, br_role_name(u->role));
    for (int i = 0; i < u->ngroups; i++)
        br_buf_printf(out, "%s%s", i ? "," : "", u->groups[i]);
    br_buf_printf(out, "%s\t", u->ngroups ? "" : "-");
    for (int i = 0; i < u->ndns; i++)
        br_buf_printf(out, "%s%s", i ? "," : "", u->dns[i]);
    br_buf_printf(out, "%s\t%s\n", u->ndns ? "" : "-",
                  u->flags & BR_USER_DISABLED      ? "disabled"
                  : u->flags & BR_USER_MUST_CHANGE ? "must-change-password"
                                                   : "active");
    return 0;
}

int br_cmd_user(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    int rc;

    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        br_buf_printf(out, "NAME\tROLE\tGROUPS\tDNS\tSTATE\n");
        rc = br_user_each(env->st, list_one, out);
        return rc < 0 ? fail(err, "list", "", rc) : 0;
    }
    if (argc < 3) {
        br_buf_printf(err, "%s", USAGE);
        return 2;
    }
    if (strcmp(argv[1], "add") == 0)
        return user_add(env, argc, argv, out, err);
    if (strcmp(argv[1], "passwd") == 0 || strcmp(argv[1], "role") == 0 ||
        ((strcmp(argv[1], "disable") == 0 || strcmp(argv[1], "enable") == 0) && argc == 3))
        return user_change(env, argc, argv, out, err);
    br_buf_printf(err, "%s", USAGE);
    return 2;
}
