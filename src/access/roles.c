/*
 * The role decision table. Kept as data so the unit test can walk it and
 * docs/api.md can show the same matrix.
 */
#include "roles.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

static const char *const role_names[BR_ROLE_COUNT] = {
    [BR_ROLE_NONE] = "none",
    [BR_ROLE_ADMIN] = "admin",
    [BR_ROLE_SUPERVISOR] = "supervisor",
    [BR_ROLE_AUDITOR] = "auditor",
    [BR_ROLE_PRIVACY_OFFICER] = "privacy-officer",
    [BR_ROLE_USER] = "user",
};

static const char *const action_names[BR_ACT_COUNT] = {
    "search", "metadata", "play", "export", "delete", "hold",
    "private", "subject", "audit", "verify", "users",
};

#define A(x) (1u << BR_ACT_##x)
static const unsigned allowed[BR_ROLE_COUNT] = {
    [BR_ROLE_NONE] = 0,
    [BR_ROLE_ADMIN] = A(USERS),
    [BR_ROLE_SUPERVISOR] = A(SEARCH) | A(METADATA) | A(PLAY) | A(EXPORT),
    [BR_ROLE_AUDITOR] = A(SEARCH) | A(METADATA) | A(AUDIT) | A(VERIFY),
    [BR_ROLE_PRIVACY_OFFICER] = A(SEARCH) | A(METADATA) | A(PLAY) | A(EXPORT) | A(DELETE) |
                                A(HOLD) | A(PRIVATE) | A(SUBJECT),
    [BR_ROLE_USER] = A(SEARCH) | A(METADATA) | A(PLAY) | A(EXPORT) | A(PRIVATE),
};
#undef A

const char *br_role_name(int role)
{
    return role > 0 && role < BR_ROLE_COUNT ? role_names[role] : "none";
}

int br_role_parse(const char *name)
{
    for (int r = 1; name && r < BR_ROLE_COUNT; r++)
        if (strcmp(role_names[r], name) == 0)
            return r;
    return BR_ROLE_NONE;
}

const char *br_action_name(int action)
{
    return action >= 0 && action < BR_ACT_COUNT ? action_names[action] : "?";
}

int br_role_allows(int role, int action)
{
    if (role <= 0 || role >= BR_ROLE_COUNT || action < 0 || action >= BR_ACT_COUNT)
        return 0;
    return (allowed[role] >> action) & 1;
}

int br_access_own(const br_user_t *u, const br_rec_meta_t *m)
{
    char near[BR_META_STR], mine[BR_USER_ITEM];

    br_number_digits(m->near.addr, near, sizeof near);
    for (int i = 0; i < u->ndns; i++) {
        br_number_digits(u->dns[i], mine, sizeof mine);
        if (mine[0] && strcmp(mine, near) == 0)
            return 1;
        if (m->near.device[0] && strcasecmp(u->dns[i], m->near.device) == 0)
            return 1;
    }
    return 0;
}

/* Whether one of u's groups is in the access list (comma or space separated) of m's profile. */
static int in_profile_groups(const br_user_t *u, const br_rec_meta_t *m, const br_config_t *cfg)
{
    for (int p = 0; p < cfg->nprofiles; p++) {
        const char *list = cfg->profiles[p].access;
        if (strcmp(cfg->profiles[p].name, m->profile) != 0)
            continue;
        for (const char *s = list; *s;) {
            size_t n;
            s += strspn(s, ", \t");
            n = strcspn(s, ", \t");
            for (int g = 0; n && g < u->ngroups; g++)
                if (strlen(u->groups[g]) == n && strncmp(u->groups[g], s, n) == 0)
                    return 1;
            s += n;
        }
    }
    return 0;
}

int br_access_recording(const br_user_t *u, int action, const br_rec_meta_t *m, int private_mark,
                        const br_config_t *cfg)
{
    int own, priv = private_mark || (m->flags & BR_FLAG_PRIVATE);

    if ((u->flags & BR_USER_DISABLED) || !br_role_allows(u->role, action))
        return 0;
    own = br_access_own(u, m);
    if (u->role == BR_ROLE_PRIVACY_OFFICER)
        return 1;
    if (priv)
        return u->role == BR_ROLE_USER && own;
    switch (u->role) {
    case BR_ROLE_SUPERVISOR:
        return in_profile_groups(u, m, cfg);
    case BR_ROLE_AUDITOR:
        return action == BR_ACT_SEARCH || action == BR_ACT_METADATA;
    case BR_ROLE_USER:
        return own;
    default:
        return 0;
    }
}
