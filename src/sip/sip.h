/*
 * The SIP side of the recorder: a sofia-sip NUA user agent server driven by
 * the libuv loop in the loop's own thread. It answers CUCM's recording
 * INVITEs (delayed or early offer), hands the legs to the session layer and
 * reports each dialog's end. Only this folder includes sofia-sip headers.
 */
#ifndef BR_SIP_H
#define BR_SIP_H

#include <uv.h>

#include "config/config.h"
#include "session/session.h"

typedef struct br_sip br_sip_t;

/* Creates the SIP stack and binds the configured listeners. */
int br_sip_start(br_sip_t **out, uv_loop_t *loop, const br_config_t *cfg, br_sessions_t *sessions);
/* Stops taking calls: new INVITEs get 503, every dialog is forgotten by the
 * session layer (so it may seal them), BYEs are sent and the stack shuts
 * down; cb runs when the stack and its libuv handles are closed. */
void br_sip_stop(br_sip_t *s, void (*cb)(void *ctx), void *ctx);
/* Releases the stack; call after the loop has returned. */
void br_sip_free(br_sip_t *s);

#endif
