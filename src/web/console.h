/*
 * The web console's static files (the .html, .js and .css in src/web/), compiled into
 * the daemon by src/web/embed.sh and served under /console/ with a strict
 * Content-Security-Policy: scripts and styles only from our own files, no
 * inline code, no framing. Everything the pages show comes from the JSON
 * API, which decides by role; the pages only hide what a role may not do.
 */
#ifndef BR_WEB_CONSOLE_H
#define BR_WEB_CONSOLE_H

#include <stddef.h>

#include "http/http.h"

typedef struct br_web_asset {
    const char *name;
    const char *content_type;
    const unsigned char *data;
    size_t len;
} br_web_asset_t;

extern const br_web_asset_t br_web_assets[]; /* ends with a NULL name */

/* The handler for /console and /console/<file> (a loop route: it only copies memory). */
int br_console_handle(void *ctx, br_http_req_t *req, br_http_resp_t *resp);
/* "/" redirects to the console. */
int br_console_root(void *ctx, br_http_req_t *req, br_http_resp_t *resp);

#endif
