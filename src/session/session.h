/*
 * Recording sessions: CUCM sends two SIP dialogs per recorded call leg (the
 * near end, the recorded user's voice, and the far end, the other party's),
 * which share x-refci. This module pairs them into one recording whichever
 * comes first, owns each leg's RTP stream and the recording's timeline,
 * seals the recording in the store when the last leg ends, groups the
 * recordings of one call that CUCM splits at hold/resume (same x-refci), and
 * links the two recordings of a conversation whose parties are both recorded.
 *
 * The SIP layer sees only br_leg_t handles and plain structs. It calls
 * br_session_leg_new() on an INVITE; the session answers through the ops
 * (at once when the partner is there, or after answer-wait-ms alone), or
 * refuses. The SIP layer reports the dialog's end with br_session_leg_end()
 * and must then forget the leg; when the session ends a leg itself
 * (shutdown), it calls ops->hangup and forgets the SIP context likewise.
 */
#ifndef BR_SESSION_H
#define BR_SESSION_H

#include <stdint.h>
#include <uv.h>

#include "common/stats.h"
#include "config/settings.h"
#include "media/ports.h"
#include "sip/cucm_from.h"
#include "sip/sdp.h"
#include "sql-free-store/store.h"

typedef struct br_sessions br_sessions_t;
typedef struct br_leg br_leg_t;

typedef struct br_session_ops {
    /* Send 200 OK with local as the SDP (offer, or answer to an early offer). */
    void (*answer)(void *sip_ctx, const br_sdp_media_t *local);
    /* Refuse a leg that was not answered yet. */
    void (*refuse)(void *sip_ctx, int status, const char *why);
    /* The session ended an answered leg on its own: send BYE. */
    void (*hangup)(void *sip_ctx, const char *reason);
} br_session_ops_t;

int br_sessions_new(br_sessions_t **out, uv_loop_t *loop, br_store_t *st, const br_config_t *cfg,
                    const br_session_ops_t *ops, br_stats_t *stats);
/* Stops taking legs (new ones get 503) and lets calls in progress end for up
 * to cfg->drain_ms; then seals what is left. cb runs once every recording is
 * sealed and every handle closed. */
void br_sessions_stop(br_sessions_t *s, void (*cb)(void *ctx), void *ctx);
void br_sessions_free(br_sessions_t *s);
/* Whether a new call could be taken now (for OPTIONS). */
int br_sessions_available(const br_sessions_t *s);
/* Tells the recorded phone something ("Customer declined recording"):
 * fn runs on the loop with the near end's device name. */
void br_sessions_set_notify(br_sessions_t *s, void (*fn)(void *ctx, const char *device, const char *text),
                            void *ctx);
/* The RTP port pool, shared with the announcement endpoint. */
br_ports_t *br_sessions_ports(br_sessions_t *s);

/* What the phone service shows about a call in progress. */
typedef struct br_call_info {
    char rec_id[BR_ID_LEN + 1];
    int64_t start_us;
    char profile[64];
    uint8_t basis, mode;
    uint32_t flags;
    unsigned keep_confirm_minutes; /* of its profile; 0: no confirmation needed */
    char far_addr[BR_META_STR];
} br_call_info_t;

/* Recordings in progress whose recorded (near) device is device; returns
 * how many were written to out (at most max). */
int br_sessions_by_device(br_sessions_t *s, const char *device, br_call_info_t *out, int max);
/* Actions from the phone on a recording in progress: -ENOENT when it is not
 * in progress, -EPERM when its profile does not allow it. */
int br_session_keep(br_sessions_t *s, const char *rec_id);
int br_session_tag(br_sessions_t *s, const char *rec_id, const char *tag);
int br_session_mark_private(br_sessions_t *s, const char *rec_id);
/* On-demand only: ends the recording (BYE) and erases it, naming actor. */
int br_session_stop_delete(br_sessions_t *s, const char *rec_id, const char *actor);

/* A new recording leg. offer is CUCM's SDP offer (early offer) or NULL.
 * Returns 0 (the leg is pending: ops->answer or ops->refuse follows, maybe
 * before this returns) or a SIP status >= 400 with a reason in why. */
int br_session_leg_new(br_sessions_t *s, const br_cucm_from_t *from, const char *call_id,
                       const br_sdp_media_t *offer, void *sip_ctx, br_leg_t **leg, char *why,
                       size_t whysz);
/* CUCM's SDP answer (from the ACK) or a re-INVITE's new offer. */
void br_session_leg_answer(br_leg_t *leg, const br_sdp_media_t *remote);
/* An in-dialog UPDATE carried new From parameters (far end changed). */
void br_session_leg_update(br_leg_t *leg, const br_cucm_from_t *from);
/* The leg's dialog ended (BYE, CANCEL, error). q850 is the Reason header's
 * Q.850 cause, 0 if none. */
void br_session_leg_end(br_leg_t *leg, const char *reason, int q850);

#endif
