/*
 * Endpoints the web console needs beyond the CLI's: the ledger's last
 * signed checkpoint (the auditor's page) and the recording policy document
 * (everyone's policy page).
 */
#include "api_int.h"

#include <string.h>

#include "common/util.h"
#include "policy/policy.h"

int api_checkpoint(api_call_t *c)
{
    br_checkpoint_t cp;
    char root[2 * BR_HASH_LEN + 1], when[32];
    uint64_t size = br_ledger_size(c->api->st);
    int rc;

    if (!br_role_allows(c->user.role, BR_ACT_AUDIT))
        return api_refuse(c, 403, "checkpoint", "-", "only auditors read the ledger's state");
    rc = br_store_last_checkpoint(c->api->st, &cp);
    if (rc == -ENOENT) {
        api_json(c, 200, json_pack("{s:n,s:I}", "checkpoint", "ledger_size", (json_int_t)size));
        return 0;
    }
    if (rc < 0) {
        api_error(c, 500, br_strerror(rc));
        return 0;
    }
    br_hex_encode(cp.root, BR_HASH_LEN, root);
    br_format_time(cp.time_us, when, sizeof when);
    api_json(c, 200,
             json_pack("{s:{s:I,s:I,s:s,s:s},s:I}", "checkpoint", "seq", (json_int_t)cp.seq, "size",
                       (json_int_t)cp.size, "root", root, "time", when, "ledger_size", (json_int_t)size));
    return 0;
}

int api_policy(api_call_t *c)
{
    br_buf_t md;

    br_buf_init(&md);
    if (br_policy_render(c->api->cfg, BR_POLICY_MARKDOWN, &md) < 0) {
        br_buf_free(&md);
        api_error(c, 500, "cannot render the policy");
        return 0;
    }
    br_buf_put_u8(&md, 0);
    api_json(c, 200, json_pack("{s:s}", "markdown", (const char *)md.data));
    br_buf_free(&md);
    return 0;
}
