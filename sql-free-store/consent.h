/*
 * Consent decisions: what a caller chose at an announcement (accept,
 * refuse, nothing in time, or only told). Each decision is stored like a
 * recording's metadata: encrypted under its own data key (wrapped by the
 * master key, so erasing the key shreds it), findable by the caller's
 * number through the blind index (kind 'c'), and written in one synced
 * batch with the ledger entry that records it.
 */
#ifndef BR_CONSENT_H
#define BR_CONSENT_H

#include <stdint.h>

#include "store.h"

typedef struct br_consent_rec {
    char id[BR_ID_LEN + 1];
    int64_t at_us;          /* when the decision was taken */
    char caller[BR_META_STR];
    char called[32];        /* the announcement number */
    char language[8];
    char prompt[128];       /* the prompt file played (base name) */
    uint8_t decision;       /* enum br_consent (config/settings.h) */
    char digit;             /* the key pressed; 0 for none */
    uint8_t timed_out;      /* no digit came: the profile's default applied */
    uint32_t played_ms;     /* how much of the prompt was played */
} br_consent_rec_t;

/* Stores c (its id is made here) and appends its audit entry. */
int br_consent_put(br_store_t *st, br_consent_rec_t *c, const char *source);
int br_consent_get(br_store_t *st, const char *id, br_consent_rec_t *c);
/* Calls cb with the id of every decision taken by the caller number. */
int br_consent_by_number(br_store_t *st, const char *number, br_store_id_cb cb, void *ctx);

/* The newest decision by number taken at or after since_us: 1 and *out
 * filled, 0 if there is none, or a negative errno. */
int br_consent_latest(br_store_t *st, const char *number, int64_t since_us, br_consent_rec_t *out);

/* Erases a decision (its key, record and index entry) with a tombstone in
 * the ledger; -EALREADY if it was erased before. */
int br_consent_erase(br_store_t *st, const char *id, const char *actor, const char *source,
                     const char *reason);

int br_consent_encode(const br_consent_rec_t *c, br_buf_t *out);
int br_consent_decode(const uint8_t *data, size_t len, br_consent_rec_t *c);

#endif
