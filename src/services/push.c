/*
 * Phone pushes on the libuv thread pool (libcurl's easy interface blocks).
 */
#include "push.h"

#include <curl/curl.h>
#include <errno.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define PUSH_TIMEOUT_MS 3000

struct push {
    uv_work_t work;
    char url[160];
    char device[65];
    char userpwd[200];
    char *body;
    long status;
    char error[CURL_ERROR_SIZE];
};

int br_push_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
}

int br_push_enabled(const br_config_t *cfg)
{
    return cfg->push_user[0] != 0;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p, (void)ctx;
    return size * n;
}

static void push_work(uv_work_t *w)
{
    struct push *p = w->data;
    CURL *c = curl_easy_init();
    CURLcode rc;

    if (!c) {
        br_strlcpy(p->error, "out of memory", sizeof p->error);
        return;
    }
    curl_easy_setopt(c, CURLOPT_URL, p->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERPWD, p->userpwd);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)PUSH_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, p->error);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &p->status);
    else if (!p->error[0])
        br_strlcpy(p->error, curl_easy_strerror(rc), sizeof p->error);
    curl_easy_cleanup(c);
}

static void push_done(uv_work_t *w, int status)
{
    struct push *p = w->data;

    if (status == 0 && p->status >= 200 && p->status < 300)
        br_info("pushed a notice to %s (%s): HTTP %ld", p->device, p->url, p->status);
    else if (p->status)
        br_warn("push to %s (%s) refused: HTTP %ld%s", p->device, p->url, p->status,
                p->status == 401 ? " (is the push user associated with the phone in CUCM?)" : "");
    else
        br_warn("push to %s (%s) failed: %s", p->device, p->url, p->error[0] ? p->error : "cancelled");
    explicit_bzero(p->userpwd, sizeof p->userpwd);
    free(p->body);
    free(p);
}

/* <CiscoIPPhoneText><Title/><Text/></CiscoIPPhoneText>, form-encoded as XML=… */
static char *form_body(const char *title, const char *text)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "CiscoIPPhoneText");
    xmlChar *mem = NULL;
    int len = 0;
    char *enc, *body = NULL;

    xmlDocSetRootElement(doc, root);
    xmlNewTextChild(root, NULL, BAD_CAST "Title", BAD_CAST title);
    xmlNewTextChild(root, NULL, BAD_CAST "Text", BAD_CAST text);
    xmlDocDumpMemoryEnc(doc, &mem, &len, "UTF-8");
    xmlFreeDoc(doc);
    enc = mem ? curl_easy_escape(NULL, (const char *)mem, len) : NULL;
    xmlFree(mem);
    if (enc) {
        size_t n = strlen(enc) + 5;
        body = malloc(n);
        if (body)
            snprintf(body, n, "XML=%s", enc);
        curl_free(enc);
    }
    return body;
}

int br_push_text(uv_loop_t *loop, const br_config_t *cfg, const char *device, const char *ip,
                 const char *title, const char *text)
{
    const char *password = getenv(cfg->push_password_env);
    struct push *p;
    int rc;

    if (!br_push_enabled(cfg) || !ip || !ip[0])
        return -ENOENT;
    if (!password) {
        br_warn("push to %s skipped: environment variable %s (the push user's password) is not set",
                device, cfg->push_password_env);
        return -ENOKEY;
    }
    p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->work.data = p;
    br_strlcpy(p->device, device, sizeof p->device);
    snprintf(p->url, sizeof p->url, strchr(ip, ':') ? "http://[%s]:%u/CGI/Execute" : "http://%s:%u/CGI/Execute",
             ip, cfg->push_port);
    snprintf(p->userpwd, sizeof p->userpwd, "%s:%s", cfg->push_user, password);
    p->body = form_body(title, text);
    if (!p->body) {
        free(p);
        return -ENOMEM;
    }
    rc = uv_queue_work(loop, &p->work, push_work, push_done);
    if (rc < 0) {
        free(p->body);
        free(p);
    }
    return rc;
}
