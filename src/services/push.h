/*
 * Pushing a notice to a Cisco IP phone: HTTP POST to http://PHONE/CGI/Execute
 * with the form field XML=<CiscoIPPhoneText…>, authenticated with HTTP Basic
 * as a CUCM user associated with the phone (the phone asks CUCM's
 * authentication URL whether that user may push to it). libcurl does the
 * request on a libuv worker thread with a short timeout; the outcome is
 * logged. A push that fails changes nothing else.
 */
#ifndef BR_PUSH_H
#define BR_PUSH_H

#include <uv.h>

#include "config/settings.h"

/* Once, before the loop runs and before any other thread exists (libcurl's global set-up). */
int br_push_init(void);
/* Whether pushing is configured (<phone-push user>). */
int br_push_enabled(const br_config_t *cfg);
/* Queues a push of title/text to the phone at ip (the address it reached
 * the phone service from). */
int br_push_text(uv_loop_t *loop, const br_config_t *cfg, const char *device, const char *ip,
                 const char *title, const char *text);

#endif
