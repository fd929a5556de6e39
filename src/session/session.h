/*
 * Recording sessions: CUCM sends two SIP dialogs per recorded call leg (the
 * near end, the recorded user's voice, and the far end, the other party's),
 * which share x-refci. This module pairs them into one recording whichever
 * comes first, owns each leg's RTP stream and the recording's timeline, and
 * seals the recording in the store when the last leg ends.
 *
 * The SIP layer sees only br_leg_t handles and plain structs: it calls
 * br_session_leg_new() on an INVITE, br_session_leg_answer() when the SDP
 * answer arrives, br_session_leg_end() on BYE/CANCEL/termination. After
 * br_session_leg_end() the SIP layer must forget the leg pointer.
 */
#ifndef BR_SESSION_H
#define BR_SESSION_H

#include <stdint.h>
#include <uv.h>

#include "config/config.h"
#include "sip/cucm_from.h"
#include "sip/sdp.h"
#include "sql-free-store/store.h"

typedef struct br_sessions br_sessions_t;
typedef struct br_leg br_leg_t;

typedef struct br_sessions_stats {
    unsigned active_calls;
    unsigned active_legs;
    uint64_t calls_total;
    uint64_t legs_total;
    uint64_t recordings_sealed;
    uint64_t storage_errors;
} br_sessions_stats_t;

int br_sessions_new(br_sessions_t **out, uv_loop_t *loop, br_store_t *st, const br_config_t *cfg);
/* Seals every recording in progress (as "sealed", with what was received
 * up to now) and stops accepting legs. Streams close asynchronously; cb runs
 * once every handle is closed. */
void br_sessions_stop(br_sessions_t *s, void (*cb)(void *ctx), void *ctx);
/* Frees after br_sessions_stop()'s callback. */
void br_sessions_free(br_sessions_t *s);
void br_sessions_get_stats(const br_sessions_t *s, br_sessions_stats_t *out);

/* A new recording leg. offer is CUCM's SDP offer (early offer) or NULL.
 * On success *leg is set and local (our media address, port and payload
 * types) describes what to put in the 200 OK's SDP. Returns a SIP status
 * code >= 400 on refusal (with a reason in why), 0 on success. */
int br_session_leg_new(br_sessions_t *s, const br_cucm_from_t *from, const char *call_id,
                       const br_sdp_media_t *offer, br_leg_t **leg, br_sdp_media_t *local,
                       char *why, size_t whysz);
/* CUCM's SDP answer (from the ACK) or a re-INVITE's new offer. */
void br_session_leg_answer(br_leg_t *leg, const br_sdp_media_t *remote);
/* The leg's dialog ended (BYE, CANCEL, error). reason is for the log. */
void br_session_leg_end(br_leg_t *leg, const char *reason);

#endif
