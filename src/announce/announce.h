/*
 * The announcement endpoint: CUCM routes a call for a configured
 * announcement number to bibrec (a route pattern in front of the real
 * destination, or the Agent Greeting of a recorded phone). bibrec answers,
 * plays the prompt for the caller's language as RTP in the negotiated codec,
 * and, where the announcement asks for consent, reads one RFC 4733 digit
 * (accept or refuse; nothing within wait-ms means the profile's default).
 * The decision is stored and audited (sql-free-store/consent.h); then the
 * call ends (greeting) or the caller is transferred to the destination with
 * REFER (pre-connect). Recordings of that caller that start within the
 * consent window are linked to the decision by the session layer.
 *
 * Like the session layer, this module knows no SIP: it asks the SIP layer to
 * answer, hang up or transfer through br_ann_ops_t.
 */
#ifndef BR_ANNOUNCE_H
#define BR_ANNOUNCE_H

#include <uv.h>

#include "config/settings.h"
#include "media/ports.h"
#include "sip/sdp.h"
#include "sql-free-store/store.h"

typedef struct br_announcer br_announcer_t;
typedef struct br_ann_call br_ann_call_t;

typedef struct br_ann_ops {
    /* 200 OK with local as the SDP (sendrecv): an offer, or the answer to an early offer. */
    void (*answer)(void *sip_ctx, const br_sdp_media_t *local);
    void (*hangup)(void *sip_ctx, const char *reason);
    /* REFER the caller to target (a number or a SIP URI). */
    void (*refer)(void *sip_ctx, const char *target);
} br_ann_ops_t;

/* Loads every configured prompt; a prompt that cannot be read is an error
 * naming it (why). */
int br_announcer_new(br_announcer_t **out, uv_loop_t *loop, br_store_t *st, const br_config_t *cfg,
                     br_ports_t *ports, const br_ann_ops_t *ops, char *why, size_t whysz);
/* Stops: calls in progress are hung up and their sockets closed; cb runs
 * when the last one is closed. */
void br_announcer_stop(br_announcer_t *a, void (*cb)(void *ctx), void *ctx);
void br_announcer_free(br_announcer_t *a);

/* The announcement for a called number, or NULL. */
const br_announcement_t *br_announcer_find(const br_announcer_t *a, const char *called);

/* A new announcement call. Answers through the ops before it returns, or
 * returns the SIP status to refuse with (why filled in). */
int br_ann_call_new(br_announcer_t *a, const br_announcement_t *ann, const char *caller,
                    const char *call_id, const char *source, const br_sdp_media_t *offer,
                    void *sip_ctx, br_ann_call_t **out, char *why, size_t whysz);
/* The ACK came; answer is the SDP answer it carried (NULL: none). */
void br_ann_call_ack(br_ann_call_t *c, const br_sdp_media_t *answer);
/* The outcome of the transfer: the REFER's final response, or the status
 * line in a NOTIFY's sipfrag. */
void br_ann_call_refer_status(br_ann_call_t *c, int status);
/* The dialog is gone (BYE either way, CANCEL, error). No ops after this. */
void br_ann_call_end(br_ann_call_t *c, const char *reason);

/* For tests and the policy document: the prompt chosen for a caller. */
int br_announcement_prompt_for(const br_announcement_t *ann, const char *caller);

#endif
