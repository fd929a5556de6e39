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

#include "common/netlist.h"
#include "http/http.h"
#include "session/session.h"
#include "sql-free-store/store.h"

typedef struct br_phone_service {
    br_sessions_t *sessions;
    br_store_t *st;
    br_netlist_t networks;
    char base_url[160]; /* used when a phone sends no Host header */
} br_phone_service_t;

/* The handler for /phone and /phone/<action>; ctx is a br_phone_service_t. */
int br_phone_handle(void *ctx, br_http_req_t *req, br_http_resp_t *resp);

#endif
