/*
 * Phone service handlers. Every object is built with libxml2's tree API (so
 * text is escaped) and every URL is absolute, as phones require, built from
 * the Host header the phone used. A request names the device (the service
 * URL carries #DEVICENAME#, which the phone replaces); the device name alone
 * is not trusted: the source must be in <http phone-networks>, and with
 * <http phone-pin="yes"> the user must also enter a PIN of a <phone-user>
 * allowed on that device, which then holds for phone-pin-minutes for that
 * device at that address. Wrong PINs lock the device for five minutes after
 * five attempts, doubling with each lockout.
 */
#include "phone.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <fnmatch.h>

#include "common/log.h"
#include "common/util.h"
#include "push.h"
#include "sql-free-store/pin.h"

#define MAX_CALLS 4

static xmlNodePtr object(xmlDocPtr *doc, const char *type, const char *title, const char *prompt)
{
    xmlNodePtr root;
    *doc = xmlNewDoc(BAD_CAST "1.0");
    root = xmlNewNode(NULL, BAD_CAST type);
    xmlDocSetRootElement(*doc, root);
    if (title)
        xmlNewTextChild(root, NULL, BAD_CAST "Title", BAD_CAST title);
    if (prompt)
        xmlNewTextChild(root, NULL, BAD_CAST "Prompt", BAD_CAST prompt);
    return root;
}

static void softkey(xmlNodePtr root, const char *name, const char *url, int pos)
{
    char p[8];
    xmlNodePtr k = xmlNewChild(root, NULL, BAD_CAST "SoftKeyItem", NULL);
    snprintf(p, sizeof p, "%d", pos);
    xmlNewTextChild(k, NULL, BAD_CAST "Name", BAD_CAST name);
    xmlNewTextChild(k, NULL, BAD_CAST "URL", BAD_CAST url);
    xmlNewTextChild(k, NULL, BAD_CAST "Position", BAD_CAST p);
}

static void finish(xmlDocPtr doc, br_http_resp_t *resp, int status)
{
    xmlChar *mem = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
    br_buf_append(&resp->body, mem, (size_t)len);
    xmlFree(mem);
    xmlFreeDoc(doc);
    resp->status = status;
    br_strlcpy(resp->content_type, "text/xml; charset=utf-8", sizeof resp->content_type);
}

static void text(br_http_resp_t *resp, const char *title, const char *msg, const char *back)
{
    xmlDocPtr doc;
    xmlNodePtr root = object(&doc, "CiscoIPPhoneText", title, NULL);
    xmlNewTextChild(root, NULL, BAD_CAST "Text", BAD_CAST msg);
    if (back)
        softkey(root, "Back", back, 1);
    softkey(root, "Exit", "SoftKey:Exit", back ? 3 : 1);
    finish(doc, resp, 200);
}

static void error(br_http_resp_t *resp, int number, int status)
{
    xmlDocPtr doc;
    char n[8];
    xmlNodePtr root = object(&doc, "CiscoIPPhoneError", NULL, NULL);
    snprintf(n, sizeof n, "%d", number);
    xmlNewProp(root, BAD_CAST "Number", BAD_CAST n);
    finish(doc, resp, status);
}

static int valid_device(const char *d)
{
    size_t n = d ? strlen(d) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)d[i]) && d[i] != '_' && d[i] != '-')
            return 0;
    return 1;
}

static void base_url(const br_phone_service_t *p, br_http_req_t *req, char *out, size_t outsz)
{
    const char *host = br_http_header(req, "Host");
    int ok = host && *host && strlen(host) < 100;
    for (const char *c = host; ok && *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr(".-:[]", *c))
            ok = 0;
    if (ok)
        snprintf(out, outsz, "http://%s", host);
    else
        br_strlcpy(out, p->base_url, outsz);
}

static void action_url(char *out, size_t outsz, const char *base, const char *action,
                       const char *device, const char *rec)
{
    snprintf(out, outsz, "%s/phone%s%s?device=%s%s%s", base, action[0] ? "/" : "", action, device,
             rec ? "&rec=" : "", rec ? rec : "");
}

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void peer_ip(br_http_req_t *req, char *out, size_t outsz)
{
    const struct sockaddr *sa = br_http_peer(req);
    out[0] = 0;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outsz);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outsz);
}

/* The device's entry (made, or the stalest one reused, if new). */
static struct br_phone_seen *seen(br_phone_service_t *p, const char *device)
{
    struct br_phone_seen *free_slot = NULL, *oldest = &p->seen[0];
    for (int i = 0; i < BR_PHONE_SEEN_MAX; i++) {
        struct br_phone_seen *e = &p->seen[i];
        if (strcmp(e->device, device) == 0)
            return e;
        if (!e->device[0] && !free_slot)
            free_slot = e;
        if (e->locked_until_ms < now_ms() && e->pin_until_ms < oldest->pin_until_ms)
            oldest = e;
    }
    if (!free_slot) {
        free_slot = oldest;
        memset(free_slot, 0, sizeof *free_slot);
    }
    br_strlcpy(free_slot->device, device, sizeof free_slot->device);
    return free_slot;
}

static int device_allowed(const br_phone_user_t *u, const char *device)
{
    char list[sizeof u->devices], *save = NULL;
    br_strlcpy(list, u->devices, sizeof list);
    for (char *g = strtok_r(list, " ,", &save); g; g = strtok_r(NULL, " ,", &save))
        if (fnmatch(g, device, FNM_CASEFOLD) == 0)
            return 1;
    return 0;
}

/* A CiscoIPPhoneInput with one field, answered to /phone/ACTION. */
static void input(br_phone_service_t *p, br_http_req_t *req, br_http_resp_t *resp,
                  const char *title, const char *prompt, const char *action, const char *device,
                  const char *rec, const char *field, const char *param, const char *flags)
{
    char base[160], url[400];
    xmlDocPtr doc;
    xmlNodePtr root, item;

    base_url(p, req, base, sizeof base);
    root = object(&doc, "CiscoIPPhoneInput", title, prompt);
    action_url(url, sizeof url, base, action, device, rec);
    xmlNewTextChild(root, NULL, BAD_CAST "URL", BAD_CAST url);
    item = xmlNewChild(root, NULL, BAD_CAST "InputItem", NULL);
    xmlNewTextChild(item, NULL, BAD_CAST "DisplayName", BAD_CAST field);
    xmlNewTextChild(item, NULL, BAD_CAST "QueryStringParam", BAD_CAST param);
    xmlNewTextChild(item, NULL, BAD_CAST "DefaultValue", BAD_CAST "");
    xmlNewTextChild(item, NULL, BAD_CAST "InputFlags", BAD_CAST flags);
    finish(doc, resp, 200);
}

/* The PIN prompt: numeric and masked (InputFlags N and P). */
static void pin_input(br_phone_service_t *p, br_http_req_t *req, br_http_resp_t *resp,
                      const char *device, const char *prompt)
{
    input(p, req, resp, "Recording", prompt, "login", device, NULL, "PIN", "pin", "NP");
}

/* The user whose PIN holds for this device at this address, or NULL. */
static const char *pin_user(br_phone_service_t *p, const char *device, const char *ip)
{
    struct br_phone_seen *e = seen(p, device);
    if (e->user[0] && e->pin_until_ms <= now_ms())
        e->user[0] = 0; /* expired */
    /* The same name from another address is asked, and changes nothing here. */
    return e->user[0] && strcmp(e->ip, ip) == 0 ? e->user : NULL;
}

static void menu(br_phone_service_t *p, br_http_req_t *req, br_http_resp_t *resp, const char *device);

/* /phone/login?device=D&pin=N: the PIN input's answer. */
static void login(br_phone_service_t *p, br_http_req_t *req, br_http_resp_t *resp,
                  const char *device, const char *ip, const char *peer)
{
    struct br_phone_seen *e = seen(p, device);
    const char *pin = br_http_query(req, "pin");
    uint64_t now = now_ms();
    char actor[96], detail[96];

    snprintf(actor, sizeof actor, "phone %s", device);
    if (e->locked_until_ms > now) {
        snprintf(detail, sizeof detail, "PIN refused: device locked for %" PRIu64 " s more",
                 (e->locked_until_ms - now + 999) / 1000);
        br_store_audit(p->st, actor, "phone-login", "-", peer, BR_OUTCOME_REFUSED, detail);
        br_warn("phone service: %s from %s: %s", device, peer, detail);
        text(resp, "Recording", "Too many wrong PINs. Try again later.", NULL);
        return;
    }
    for (int i = 0; pin && i < p->cfg->nphone_users; i++) {
        const br_phone_user_t *u = &p->cfg->phone_users[i];
        if (!device_allowed(u, device) || br_pin_check(p->st, u->pin, pin) != 1)
            continue;
        br_strlcpy(e->user, u->name, sizeof e->user);
        br_strlcpy(e->ip, ip, sizeof e->ip);
        e->pin_until_ms = now + (uint64_t)p->cfg->phone_pin_minutes * 60000;
        e->failures = 0;
        e->lockouts = 0;
        snprintf(detail, sizeof detail, "PIN accepted for %s", u->name);
        br_store_audit(p->st, actor, "phone-login", "-", peer, BR_OUTCOME_OK, detail);
        br_info("phone service: %s from %s: %s", device, peer, detail);
        menu(p, req, resp, device);
        return;
    }
    e->failures++;
    if (e->failures >= BR_PIN_MAX_FAILURES) {
        e->locked_until_ms = now + ((uint64_t)BR_PIN_LOCK_MS << (e->lockouts < 8 ? e->lockouts : 8));
        e->lockouts++;
        e->failures = 0;
        snprintf(detail, sizeof detail, "wrong PIN; device locked for %" PRIu64 " s",
                 (e->locked_until_ms - now) / 1000);
    } else {
        snprintf(detail, sizeof detail, "wrong PIN (%u of %d)", e->failures, BR_PIN_MAX_FAILURES);
    }
    br_store_audit(p->st, actor, "phone-login", "-", peer, BR_OUTCOME_REFUSED, detail);
    br_warn("phone service: %s from %s: %s", device, peer, detail);
    if (e->locked_until_ms > now)
        text(resp, "Recording", "Too many wrong PINs. Try again later.", NULL);
    else
        pin_input(p, req, resp, device, "Wrong PIN. Enter your PIN");
}

void br_phone_notify(void *ctx, const char *device, const char *msg)
{
    br_phone_service_t *p = ctx;
    for (int i = 0; p && device && device[0] && i < BR_PHONE_SEEN_MAX; i++)
        if (strcmp(p->seen[i].device, device) == 0 && p->seen[i].ip[0]) {
            br_push_text(p->loop, p->cfg, device, p->seen[i].ip, "Recording", msg);
            return;
        }
    if (p && br_push_enabled(p->cfg))
        br_info("no push to %s: the phone has not used the phone service yet, so its address is "
                "unknown", device ? device : "-");
}

static void menu(br_phone_service_t *p, br_http_req_t *req, br_http_resp_t *resp, const char *device)
{
    br_call_info_t calls[MAX_CALLS];
    char base[160], url[400], prompt[160], since[16];
    int n = br_sessions_by_device(p->sessions, device, calls, MAX_CALLS);
    const br_call_info_t *c;
    xmlDocPtr doc;
    xmlNodePtr root;

    base_url(p, req, base, sizeof base);
    if (n == 0) {
        text(resp, "Recording", "No call is being recorded on this phone.", NULL);
        return;
    }
    c = &calls[0]; /* the newest recording of the device's calls */
    {
        time_t t = (time_t)(c->start_us / 1000000);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(since, sizeof since, "%H:%M:%S", &tm);
    }
    snprintf(prompt, sizeof prompt, "Recording since %s (%s)", since, c->profile);
    root = object(&doc, "CiscoIPPhoneMenu", "Recording", prompt);
#define ITEM(name, action)                                                    \
    do {                                                                      \
        xmlNodePtr it = xmlNewChild(root, NULL, BAD_CAST "MenuItem", NULL);   \
        action_url(url, sizeof url, base, action, device, c->rec_id);         \
        xmlNewTextChild(it, NULL, BAD_CAST "Name", BAD_CAST name);            \
        xmlNewTextChild(it, NULL, BAD_CAST "URL", BAD_CAST url);              \
    } while (0)
    if (c->mode == BR_MODE_ON_DEMAND && c->keep_confirm_minutes)
        ITEM("Keep recording", "keep");
    ITEM("Tag...", "tag");
    ITEM("Mark private", "private");
    if (c->mode == BR_MODE_ON_DEMAND)
        ITEM("Stop and delete", "stop");
    ITEM("Status", "status");
#undef ITEM
    softkey(root, "Select", "SoftKey:Select", 1);
    softkey(root, "Exit", "SoftKey:Exit", 3);
    finish(doc, resp, 200);
}

static void tag_input(br_phone_service_t *p, br_http_req_t *req, br_http_resp_t *resp,
                      const char *device, const char *rec)
{
    input(p, req, resp, "Tag the recording", "Enter a tag", "tag", device, rec, "Tag", "tag", "A");
}

int br_phone_handle(void *ctx, br_http_req_t *req, br_http_resp_t *resp)
{
    br_phone_service_t *p = ctx;
    const char *path = br_http_path(req), *action = path[6] == '/' ? path + 7 : "";
    const char *device = br_http_query(req, "device"), *rec = br_http_query(req, "rec");
    char peer[80], actor[160], back[400], base[160], detail[160], ip[64];
    int rc = 0;

    br_http_peer_str(req, peer, sizeof peer);
    if (!br_netlist_match(&p->networks, br_http_peer(req))) {
        br_warn("phone service: request from %s outside <http phone-networks> refused", peer);
        br_store_audit(p->st, "unknown", "phone", "-", peer, BR_OUTCOME_REFUSED, "not a phone network");
        error(resp, 4, 403);
        return 0;
    }
    if (!valid_device(device) || (rec && strlen(rec) != BR_ID_LEN)) {
        br_warn("phone service: malformed request from %s (%s)", peer, path);
        error(resp, 1, 400);
        return 0;
    }
    snprintf(actor, sizeof actor, "phone %s", device);
    peer_ip(req, ip, sizeof ip);
    if (!p->cfg || !p->cfg->phone_pin)
        br_strlcpy(seen(p, device)->ip, ip, sizeof seen(p, device)->ip);
    if (p->cfg && p->cfg->phone_pin) {
        const char *user;
        if (strcmp(action, "login") == 0) {
            login(p, req, resp, device, ip, peer);
            return 0;
        }
        user = pin_user(p, device, ip);
        if (!user) {
            pin_input(p, req, resp, device, "Enter your PIN");
            return 0;
        }
        snprintf(actor, sizeof actor, "%s (phone %s)", user, device);
    }
    base_url(p, req, base, sizeof base);
    action_url(back, sizeof back, base, "", device, NULL);
    if (!action[0]) {
        menu(p, req, resp, device);
        return 0;
    }
    if (!rec) {
        error(resp, 1, 400);
        return 0;
    }
    /* The recording must be one of this device's calls in progress. */
    {
        br_call_info_t calls[MAX_CALLS];
        int n = br_sessions_by_device(p->sessions, device, calls, MAX_CALLS), mine = 0;
        for (int i = 0; i < n; i++)
            mine |= strcmp(calls[i].rec_id, rec) == 0;
        if (!mine) {
            text(resp, "Recording", "That recording is not in progress on this phone.", back);
            br_store_audit(p->st, actor, "phone-action", rec, peer, BR_OUTCOME_REFUSED, action);
            return 0;
        }
    }
    if (strcmp(action, "keep") == 0) {
        rc = br_session_keep(p->sessions, rec);
        if (rc == 0)
            br_phone_notify(p, device, "Recording kept");
        text(resp, "Recording", rc == 0 ? "The recording will be kept." : "This recording is kept anyway.", back);
    } else if (strcmp(action, "tag") == 0) {
        const char *tag = br_http_query(req, "tag");
        if (!tag) {
            tag_input(p, req, resp, device, rec);
            return 0;
        }
        if (!tag[0] || strlen(tag) > 64) {
            text(resp, "Recording", "A tag has 1 to 64 characters.", back);
            return 0;
        }
        rc = br_session_tag(p->sessions, rec, tag);
        text(resp, "Recording", rc == 0 ? "Tag added." : "The recording has too many tags.", back);
    } else if (strcmp(action, "private") == 0) {
        rc = br_session_mark_private(p->sessions, rec);
        text(resp, "Recording", "Marked private: only you and privacy officers may access it.", back);
    } else if (strcmp(action, "stop") == 0) {
        rc = br_session_stop_delete(p->sessions, rec, actor);
        text(resp, "Recording",
             rc == 0 ? "Recording stopped and deleted." : "This recording may not be stopped from the phone.",
             NULL);
    } else if (strcmp(action, "status") == 0) {
        br_call_info_t calls[MAX_CALLS];
        int n = br_sessions_by_device(p->sessions, device, calls, MAX_CALLS);
        char msg[400];
        for (int i = 0; i < n; i++)
            if (strcmp(calls[i].rec_id, rec) == 0) {
                char flags[96];
                br_meta_flags_str(calls[i].flags, flags, sizeof flags);
                snprintf(msg, sizeof msg,
                         "Recording %s\nProfile: %s\nLawful basis: %s\nMode: %s\nFlags: %s",
                         rec, calls[i].profile, br_basis_name(calls[i].basis),
                         br_mode_name(calls[i].mode), flags);
            }
        text(resp, "Recording status", msg, back);
        return 0; /* looking is not an action */
    } else {
        error(resp, 1, 404);
        return 0;
    }
    snprintf(detail, sizeof detail, "phone-%s", action);
    br_store_audit(p->st, actor, detail, rec, peer, rc == 0 ? BR_OUTCOME_OK : BR_OUTCOME_REFUSED,
                   rc == 0 ? "done" : br_strerror(rc));
    br_info("phone service: %s %s on recording %s from %s: %s", device, action, rec, peer,
            rc == 0 ? "done" : br_strerror(rc));
    return 0;
}
