/*
 * The recording policy: which profile a recorded line falls under (and so
 * why it is recorded, how long it is kept, who may see it), and the policy
 * document required by GDPR Art. 5(2), rendered from the same configuration
 * the daemon runs, so the policy people read is the policy that runs.
 */
#ifndef BR_POLICY_H
#define BR_POLICY_H

#include "common/buf.h"
#include "config/settings.h"

/* The first profile whose <match> covers the line (by DN or device name),
 * or NULL. With no profile configured, NULL too: see br_policy_enforced(). */
const br_profile_t *br_policy_match(const br_config_t *cfg, const char *dn, const char *device);
/* Whether profiles are configured (otherwise every line is recorded). */
int br_policy_enforced(const br_config_t *cfg);

/* Whether one pattern matches: DN "4xxx" (x: any digit), "4000-4099",
 * "4001" or "*"; device "SEP00AABB*" (glob, case-insensitive). */
int br_policy_dn_matches(const char *pattern, const char *dn);
int br_policy_device_matches(const char *pattern, const char *device);

enum br_policy_format { BR_POLICY_MARKDOWN, BR_POLICY_HTML };
/* Renders the policy document. */
int br_policy_render(const br_config_t *cfg, enum br_policy_format f, br_buf_t *out);

/* The Art. 6(1) letter and a plain-language sentence for a basis. */
const char *br_basis_article(uint8_t basis);
const char *br_basis_explained(uint8_t basis);

#endif
