/*
 * Who may do what: the role × action table, and the decision about one
 * recording, which adds the scope of each role:
 *
 *   admin            users, configuration, keys; no recording at all
 *   supervisor       search, metadata, play, export of recordings whose
 *                    profile's access groups include one of the user's groups
 *   auditor          verify, audit trail, metadata (never audio)
 *   privacy-officer  everything a data subject's request needs: search,
 *                    metadata, play, export, erase, legal hold, private
 *                    recordings, subject export and erasure
 *   user             their own recordings (near-end DN or device is one of
 *                    theirs): search, metadata, play, export, mark private
 *
 * A private recording is seen only by its own user and privacy officers,
 * whatever the table says. Every decision is made on the server for every
 * request; the API audits each one (src/api/).
 */
#ifndef BR_ROLES_H
#define BR_ROLES_H

#include "config/settings.h"
#include "sql-free-store/meta.h"
#include "users.h"

enum br_role {
    BR_ROLE_NONE = 0,
    BR_ROLE_ADMIN,
    BR_ROLE_SUPERVISOR,
    BR_ROLE_AUDITOR,
    BR_ROLE_PRIVACY_OFFICER,
    BR_ROLE_USER,
    BR_ROLE_COUNT
};

enum br_action {
    BR_ACT_SEARCH = 0, /* list recordings' metadata */
    BR_ACT_METADATA,   /* one recording's metadata and timeline */
    BR_ACT_PLAY,       /* its audio */
    BR_ACT_EXPORT,     /* audio and metadata of several, as an archive */
    BR_ACT_DELETE,     /* crypto-shred */
    BR_ACT_HOLD,       /* legal hold on and off */
    BR_ACT_PRIVATE,    /* mark private */
    BR_ACT_SUBJECT,    /* a data subject's export or erasure */
    BR_ACT_AUDIT,      /* read the audit trail */
    BR_ACT_VERIFY,     /* verify chains and the ledger */
    BR_ACT_USERS,      /* manage users */
    BR_ACT_COUNT
};

const char *br_role_name(int role);
/* BR_ROLE_NONE for an unknown name. */
int br_role_parse(const char *name);
const char *br_action_name(int action);

/* Whether the role may take the action at all. */
int br_role_allows(int role, int action);

/* Whether u may take action on recording m. private_mark: the recording was marked private after
 * it was sealed (sql-free-store keeps that beside the sealed metadata). cfg gives the profiles'
 * access groups. */
int br_access_recording(const br_user_t *u, int action, const br_rec_meta_t *m, int private_mark,
                        const br_config_t *cfg);
/* Whether the recording is u's own: its near-end DN (digits compared) or device is one of u's. */
int br_access_own(const br_user_t *u, const br_rec_meta_t *m);

#endif
