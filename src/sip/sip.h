/*
 * The SIP side of the recorder: a sofia-sip NUA user agent server driven by
 * the libuv loop in the loop's own thread. It answers CUCM's recording
 * INVITEs (delayed or early offer), hands the legs to the session layer and
 * reports each dialog's end. Only this folder includes sofia-sip headers.
 */
#ifndef BR_SIP_H
#define BR_SIP_H

#include <uv.h>

#include "announce/announce.h"
#include "config/settings.h"
#include "session/session.h"

typedef struct br_sip br_sip_t;

/* Creates the SIP stack and binds the configured listeners. */
/* The session ops (session.h) the SIP layer implements. */
extern const br_session_ops_t br_sip_session_ops;

/* Creates the SIP stack and binds the configured listeners (UDP, TCP, TLS).
 * Call br_sip_attach() before the loop runs. */
int br_sip_start(br_sip_t **out, uv_loop_t *loop, const br_config_t *cfg, br_stats_t *stats);
void br_sip_attach(br_sip_t *s, br_sessions_t *sessions);
/* Calls for announcement numbers go to a (optional). */
void br_sip_attach_announcer(br_sip_t *s, br_announcer_t *a);
/* The announcement endpoint's ops (announce.h) the SIP layer implements. */
const br_ann_ops_t *br_sip_ann_ops(void);
/* Draining: new INVITEs and OPTIONS get 503; dialogs in progress go on. */
void br_sip_drain(br_sip_t *s);
/* Shuts the stack down (BYE for what is left); cb runs when the stack and
 * its libuv handles are closed. Call after the sessions have stopped. */
void br_sip_stop(br_sip_t *s, void (*cb)(void *ctx), void *ctx);
/* Releases the stack; call after the loop has returned. */
void br_sip_free(br_sip_t *s);

#endif
