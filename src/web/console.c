/*
 * Serving the console's files. /console answers with index.html (the page
 * is one document; its views are switched by the URL's fragment), files by
 * their base name, anything else 404.
 */
#include "web/console.h"

#include <string.h>

#define CSP                                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "   \
    "media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; "        \
    "frame-ancestors 'none'"

static void security_headers(br_http_resp_t *resp)
{
    br_http_resp_header(resp, "Content-Security-Policy", CSP);
    br_http_resp_header(resp, "X-Content-Type-Options", "nosniff");
    br_http_resp_header(resp, "X-Frame-Options", "DENY");
    br_http_resp_header(resp, "Referrer-Policy", "no-referrer");
    br_http_resp_header(resp, "Cache-Control", "no-cache");
}

int br_console_handle(void *ctx, br_http_req_t *req, br_http_resp_t *resp)
{
    const char *path = br_http_path(req), *name;
    (void)ctx;

    security_headers(resp);
    if (strcmp(path, "/console") == 0 || strcmp(path, "/console/") == 0)
        name = "index.html";
    else
        name = path + strlen("/console/");
    for (const br_web_asset_t *a = br_web_assets; a->name; a++)
        if (strcmp(a->name, name) == 0) {
            resp->status = 200;
            strncpy(resp->content_type, a->content_type, sizeof resp->content_type - 1);
            br_buf_append(&resp->body, a->data, a->len);
            return 0;
        }
    resp->status = 404;
    strncpy(resp->content_type, "text/plain; charset=utf-8", sizeof resp->content_type - 1);
    br_buf_printf(&resp->body, "not found\n");
    return 0;
}

int br_console_root(void *ctx, br_http_req_t *req, br_http_resp_t *resp)
{
    (void)ctx;
    security_headers(resp);
    if (strcmp(br_http_path(req), "/") != 0) {
        resp->status = 404;
        return 0;
    }
    resp->status = 302;
    br_http_resp_header(resp, "Location", "/console/");
    return 0;
}
