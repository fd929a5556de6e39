/*
 * The Cisco IP Phone XML service: what a phone user sees under Services
 * while a call is recorded — keep, tag, mark private, stop and delete (for
 * on-demand recordings), status. Objects as in the Cisco Unified IP Phone
 * Services Application Development Notes: CiscoIPPhoneMenu, -Text, -Input,
 * -Error. Requests are accepted only from the configured phone networks;
 * every action is an audit event.
 */
#ifndef BR_PHONE_H
#define BR_PHONE_H

#include <stdint.h>
#include <uv.h>

#include "common/netlist.h"
#include "config/settings.h"
#include "http/http.h"
#include "session/session.h"
#include "sql-free-store/store.h"

#define BR_PHONE_SEEN_MAX 256

typedef struct br_phone_service {
    br_sessions_t *sessions;
    br_store_t *st;
    const br_config_t *cfg;
    uv_loop_t *loop;
    br_netlist_t networks;
    char base_url[160]; /* used when a phone sends no Host header */
    /* Phones as they were last seen by the service: where a push goes, and
     * (with <http phone-pin>) who entered a PIN there, until when, and the
     * wrong PINs counted against the device. */
    struct br_phone_seen {
        char device[65];
        char ip[64];
        char user[64];           /* empty: no PIN entered (or expired) */
        uint64_t pin_until_ms;
        unsigned failures;       /* wrong PINs since the last right one */
        unsigned lockouts;       /* each lockout doubles the next */
        uint64_t locked_until_ms;
    } seen[BR_PHONE_SEEN_MAX];
} br_phone_service_t;

/* Wrong PINs before a device is locked, and the first lockout. */
#define BR_PIN_MAX_FAILURES 5
#define BR_PIN_LOCK_MS (5 * 60 * 1000)

/* The handler for /phone and /phone/<action>; ctx is a br_phone_service_t. */
int br_phone_handle(void *ctx, br_http_req_t *req, br_http_resp_t *resp);
/* Shows text on the device's screen by a push, if pushing is configured
 * and the device has used the service (that is how its address is known). */
void br_phone_notify(void *ctx, const char *device, const char *text);

#endif
