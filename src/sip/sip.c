/*
 * sofia-sip NUA on the libuv loop.
 *
 * sofia has its own reactor (su_root_t). We make it use epoll, keep it in
 * this thread (su_root_threading(root, 0)), find its epoll descriptor and
 * watch that with a uv_poll_t; a uv_timer_t covers sofia's timers. Both run
 * drive(), which steps the reactor until it has no immediate work and
 * re-arms the timer for sofia's next deadline plus 1 ms (both sides round
 * down to milliseconds; re-arming exactly can spin). sofia offers no call
 * that returns its epoll descriptor, so we take the one that appears in
 * /proc/self/fd across su_root_create(); without it we refuse to start
 * rather than fall back to polling.
 *
 * Never call drive() from inside a sofia callback: su_root_step() is not
 * re-entrant.
 */
#include "sip.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>

#include "announce/announce.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/netlist.h"
#include "common/util.h"
#include "cucm_from.h"
#include "sdp.h"

#define DRIVE_STEPS 16
#define SHUTDOWN_GRACE_MS 4000
#define MAX_FDS 1024

typedef struct dialog dialog_t;

struct dialog {
    br_sip_t *sip;
    nua_handle_t *nh;
    br_leg_t *leg; /* NULL once the session layer has let go */
    br_ann_call_t *ann; /* an announcement call instead of a recording leg */
    char peer_host[80]; /* where a transfer's Refer-To points: the peer's Contact */
    dialog_t *prev, *next;
    br_sdp_media_t local;
    int answered;
    int acked;          /* the INVITE's ACK came (later ones are re-INVITEs') */
    uint64_t sdp_version;
    char call_id[128];
};

struct br_sip {
    uv_loop_t *loop;
    const br_config_t *cfg;
    br_sessions_t *sessions;
    br_announcer_t *announcer;
    br_stats_t *stats;
    br_netlist_t trusted;
    su_root_t *root;
    nua_t *nua;
    int epfd;
    uv_poll_t poll;
    uv_timer_t timer;
    uv_timer_t grace; /* bounds the wait for BYE transactions at shutdown */
    int handles_open;
    int draining;
    int nua_down;
    dialog_t *dialogs;
    uint64_t sess_id;
    void (*stop_cb)(void *ctx);
    void *stop_ctx;
};

/* ---- reactor integration ---------------------------------------------- */

static void drive(br_sip_t *s);

static void poll_cb(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    drive(p->data);
}

static void timer_cb(uv_timer_t *t)
{
    drive(t->data);
}

static void drive(br_sip_t *s)
{
    su_duration_t next = 0;

    if (!s->root)
        return;
    for (int i = 0; i < DRIVE_STEPS && next == 0; i++)
        next = su_root_step(s->root, 0);
    if (uv_is_closing((uv_handle_t *)&s->timer))
        return;
    if (next >= 0) {
        uv_update_time(s->loop);
        uv_timer_start(&s->timer, timer_cb, (uint64_t)next + 1, 0);
    } else {
        uv_timer_stop(&s->timer);
    }
}

static int is_epoll_fd(int fd)
{
    char path[64], target[64];
    ssize_t n;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    n = readlink(path, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = 0;
    return strcmp(target, "anon_inode:[eventpoll]") == 0;
}

/* Marks in set[] every epoll descriptor now open. */
static int list_epoll_fds(unsigned char *set)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (!d)
        return -errno;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd >= 0 && fd < MAX_FDS)
            set[fd] = (unsigned char)is_epoll_fd(fd);
    }
    closedir(d);
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

/* Formats the request's source as "addr:port"; *sa points at it (or NULL). */
static void source_of(nua_t *nua, char *out, size_t outsz, const struct sockaddr **sa)
{
    msg_t *m = nua_current_request(nua);
    su_addrinfo_t *ai = m ? msg_addrinfo(m) : NULL;
    char host[64] = "?";
    unsigned port = 0;

    *sa = NULL;
    if (ai && ai->ai_addr) {
        *sa = (const struct sockaddr *)ai->ai_addr;
        if (ai->ai_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)ai->ai_addr;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            port = ntohs(a->sin_port);
        } else if (ai->ai_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)ai->ai_addr;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            port = ntohs(a->sin6_port);
        }
    }
    snprintf(out, outsz, "%s:%u", host, port);
}

/* Whether the current request comes from a trusted CUCM node; logs if not. */
static int trusted(br_sip_t *s, nua_t *nua, const char *method, const sip_t *sip)
{
    const struct sockaddr *sa;
    char src[80];

    source_of(nua, src, sizeof src, &sa);
    if (br_netlist_match(&s->trusted, sa))
        return 1;
    s->stats->refused_untrusted++;
    br_warn("%s from untrusted %s refused with 403 (Call-ID %s); add it to <sip trusted> if it is "
            "a CUCM node",
            method, src, sip && sip->sip_call_id ? sip->sip_call_id->i_id : "?");
    return 0;
}

static void copy_call_id(const sip_t *sip, char *out, size_t outsz)
{
    if (sip && sip->sip_call_id && sip->sip_call_id->i_id)
        br_strlcpy(out, sip->sip_call_id->i_id, outsz);
    else
        br_strlcpy(out, "?", outsz);
}

static void dialog_unlink(dialog_t *d)
{
    br_sip_t *s = d->sip;
    if (d->prev)
        d->prev->next = d->next;
    else if (s->dialogs == d)
        s->dialogs = d->next;
    if (d->next)
        d->next->prev = d->prev;
    d->prev = d->next = NULL;
}

static void dialog_end(dialog_t *d, const char *reason, int q850)
{
    if (d->ann) {
        br_ann_call_t *c = d->ann;
        d->ann = NULL;
        br_ann_call_end(c, reason);
    }
    if (d->leg) {
        br_leg_t *leg = d->leg;
        d->leg = NULL;
        br_session_leg_end(leg, reason, q850);
    }
}

static void respond_sdp(nua_handle_t *nh, dialog_t *d)
{
    char sdp[1024];
    if (br_sdp_write_dir(sdp, sizeof sdp, d->local.addr, d->local.port, d->local.pts,
                         d->local.npts, d->local.dtmf_pt, d->sip->sess_id, d->sdp_version,
                         d->local.direction[0] ? d->local.direction : "recvonly") < 0) {
        nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
        return;
    }
    nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp),
                TAG_END());
}

static void refuse(nua_handle_t *nh, int status, const char *phrase, const char *why)
{
    char warning[240];
    snprintf(warning, sizeof warning, "399 bibrec \"%s\"", why);
    nua_respond(nh, status, phrase, SIPTAG_WARNING_STR(warning),
                TAG_IF(status == 503, SIPTAG_RETRY_AFTER_STR("30")), TAG_END());
}

static const char *phrase_of(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 488:
        return "Not Acceptable Here";
    case 503:
        return "Service Unavailable";
    default:
        return "Request Failed";
    }
}

static int payload_sdp(const sip_t *sip, br_sdp_media_t *out)
{
    if (!sip->sip_payload || !sip->sip_payload->pl_data || sip->sip_payload->pl_len == 0)
        return 0;
    return br_sdp_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, out) == 0 ? 1 : -1;
}

static int parse_from(const sip_t *sip, br_cucm_from_t *from)
{
    su_home_t home[1] = { SU_HOME_INIT(home) };
    char *s = sip->sip_from ? sip_header_as_string(home, (sip_header_t const *)sip->sip_from) : NULL;
    int rc = s ? br_cucm_from_parse(s, strlen(s), from) : -BR_FROM_ERR_SYNTAX;
    su_home_deinit(home);
    return rc;
}

/* The status code in a REFER's NOTIFY body ("SIP/2.0 200 OK"), or 0. */
static int sipfrag_status(const sip_t *sip)
{
    const char *p;
    char line[64];
    int status = 0;

    if (!sip || !sip->sip_payload || !sip->sip_payload->pl_data)
        return 0;
    p = sip->sip_payload->pl_data;
    snprintf(line, sizeof line, "%.*s", (int)(sip->sip_payload->pl_len < 63 ? sip->sip_payload->pl_len : 63), p);
    if (sscanf(line, "SIP/2.0 %3d", &status) != 1 || status < 100 || status > 699)
        return 0;
    return status;
}

static int q850_cause(const sip_t *sip)
{
    for (sip_reason_t *r = sip ? sip->sip_reason : NULL; r; r = r->re_next)
        if (r->re_protocol && strcasecmp(r->re_protocol, "Q.850") == 0 && r->re_cause) {
            const char *c = r->re_cause;
            if (strncasecmp(c, "cause=", 6) == 0)
                c += 6;
            return atoi(c);
        }
    return 0;
}

/* ---- the session layer's calls into SIP ----------------------------------- */

/* The session may call us from its own timer, outside any sofia callback:
 * nua queues the response for the reactor, which must then run soon, not
 * at its next internal timer (that cost a lone leg up to 0.8 s of audio). */
static void kick(br_sip_t *s)
{
    if (!uv_is_closing((uv_handle_t *)&s->timer))
        uv_timer_start(&s->timer, timer_cb, 0, 0);
}

static void ops_answer(void *ctx, const br_sdp_media_t *local)
{
    dialog_t *d = ctx;
    d->local = *local;
    d->answered = 1;
    respond_sdp(d->nh, d);
    kick(d->sip);
}

static void ops_refuse(void *ctx, int status, const char *why)
{
    dialog_t *d = ctx;
    d->leg = NULL;
    br_warn("INVITE %s refused with %d: %s", d->call_id, status, why);
    refuse(d->nh, status, phrase_of(status), why);
    kick(d->sip);
}

static void ops_hangup(void *ctx, const char *reason)
{
    dialog_t *d = ctx;
    char hdr[160];

    d->leg = NULL;
    br_info("leg %s: sending BYE (%s)", d->call_id, reason);
    snprintf(hdr, sizeof hdr, "SIP;cause=200;text=\"%s\"", reason);
    nua_bye(d->nh, SIPTAG_REASON_STR(hdr), TAG_END());
    kick(d->sip);
}

const br_session_ops_t br_sip_session_ops = { ops_answer, ops_refuse, ops_hangup };

/* ---- the announcement endpoint's calls into SIP ------------------------------- */

static void ann_hangup(void *ctx, const char *reason)
{
    dialog_t *d = ctx;
    d->ann = NULL;
    ops_hangup(ctx, reason);
}

static void ann_refer(void *ctx, const char *target)
{
    dialog_t *d = ctx;
    char uri[200];

    if (strchr(target, '@') || strncmp(target, "sip:", 4) == 0)
        snprintf(uri, sizeof uri, "<%s%s>", strncmp(target, "sip:", 4) ? "sip:" : "", target);
    else
        snprintf(uri, sizeof uri, "<sip:%s@%s>", target, d->peer_host);
    br_info("announcement %s: REFER to %s", d->call_id, uri);
    nua_refer(d->nh, SIPTAG_REFER_TO_STR(uri), TAG_END());
    kick(d->sip);
}

static const br_ann_ops_t ann_ops = { ops_answer, ann_hangup, ann_refer };

const br_ann_ops_t *br_sip_ann_ops(void)
{
    return &ann_ops;
}

/* ---- events --------------------------------------------------------------- */

static void on_reinvite(nua_handle_t *nh, dialog_t *d, const sip_t *sip)
{
    br_sdp_media_t offer;
    int has = payload_sdp(sip, &offer);

    if (has < 0) {
        d->sip->stats->sip_errors++;
        refuse(nh, SIP_400_BAD_REQUEST, "sdp-unreadable");
        return;
    }
    if (has > 0 && d->leg)
        br_session_leg_answer(d->leg, &offer);
    /* A session refresh or a media move: answer with our unchanged SDP. */
    respond_sdp(nh, d);
}

static dialog_t *dialog_new(br_sip_t *s, nua_handle_t *nh, const char *call_id)
{
    dialog_t *d = calloc(1, sizeof *d);
    if (!d) {
        nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
        return NULL;
    }
    d->sip = s;
    d->nh = nh;
    d->sdp_version = 1;
    br_strlcpy(d->call_id, call_id, sizeof d->call_id);
    d->next = s->dialogs;
    if (s->dialogs)
        s->dialogs->prev = d;
    s->dialogs = d;
    nua_handle_bind(nh, d);
    return d;
}

/* The Request-URI's user part: which number CUCM routed the call to. */
static const char *called_number(const sip_t *sip)
{
    return sip->sip_request ? sip->sip_request->rq_url->url_user : NULL;
}

/* A call for an announcement number: answered by the announcement endpoint. */
static void on_announcement_invite(br_sip_t *s, nua_handle_t *nh, const br_announcement_t *ann,
                                   const sip_t *sip, const char *call_id, const char *src)
{
    const char *caller = sip->sip_from ? sip->sip_from->a_url->url_user : "";
    br_sdp_media_t offer;
    char why[160];
    dialog_t *d;
    int has_offer = payload_sdp(sip, &offer), rc;

    if (has_offer < 0) {
        s->stats->sip_errors++;
        refuse(nh, 400, "Bad SDP", "sdp-unreadable");
        return;
    }
    d = dialog_new(s, nh, call_id);
    if (!d)
        return;
    if (sip->sip_contact && sip->sip_contact->m_url->url_host)
        snprintf(d->peer_host, sizeof d->peer_host, "%s%s%s", sip->sip_contact->m_url->url_host,
                 sip->sip_contact->m_url->url_port ? ":" : "",
                 sip->sip_contact->m_url->url_port ? sip->sip_contact->m_url->url_port : "");
    else
        br_strlcpy(d->peer_host, src, sizeof d->peer_host);
    rc = br_ann_call_new(s->announcer, ann, caller ? caller : "", call_id, src,
                         has_offer > 0 ? &offer : NULL, d, &d->ann, why, sizeof why);
    if (rc != 0) {
        br_warn("announcement INVITE %s from %s refused with %d: %s", call_id, src, rc, why);
        refuse(nh, rc, phrase_of(rc), why);
    }
}

static void on_invite(br_sip_t *s, nua_t *nua, nua_handle_t *nh, dialog_t *d, const sip_t *sip)
{
    const br_announcement_t *ann;
    char call_id[128], src[80], why[200];
    const struct sockaddr *sa;
    br_sdp_media_t offer;
    br_cucm_from_t from;
    int rc, has_offer;

    if (d) {
        on_reinvite(nh, d, sip);
        return;
    }
    copy_call_id(sip, call_id, sizeof call_id);
    source_of(nua, src, sizeof src, &sa);
    if (!trusted(s, nua, "INVITE", sip)) {
        refuse(nh, SIP_403_FORBIDDEN, "untrusted-peer");
        return;
    }
    if (s->draining) {
        s->stats->refused_draining++;
        br_info("INVITE %s from %s refused: shutting down", call_id, src);
        refuse(nh, SIP_503_SERVICE_UNAVAILABLE, "shutting down");
        return;
    }
    ann = br_announcer_find(s->announcer, called_number(sip));
    if (ann) {
        on_announcement_invite(s, nh, ann, sip, call_id, src);
        return;
    }
    rc = parse_from(sip, &from);
    if (rc < 0) {
        const char *e = br_cucm_from_strerror(rc);
        br_warn("INVITE %s from %s refused: %s (From has no valid CUCM recording parameters)",
                call_id, src, e);
        if (rc == -BR_FROM_ERR_NOT_RECORDING) {
            s->stats->refused_not_recording++;
            refuse(nh, SIP_403_FORBIDDEN, e);
        } else {
            s->stats->refused_bad_from++;
            refuse(nh, SIP_400_BAD_REQUEST, e);
        }
        return;
    }
    has_offer = payload_sdp(sip, &offer);
    if (has_offer < 0) {
        s->stats->sip_errors++;
        br_warn("INVITE %s from %s refused: SDP offer unreadable", call_id, src);
        refuse(nh, 400, "Bad SDP", "sdp-unreadable");
        return;
    }
    d = dialog_new(s, nh, call_id);
    if (!d)
        return;
    /* The session may answer or refuse through the ops before this returns. */
    rc = br_session_leg_new(s->sessions, &from, call_id, has_offer > 0 ? &offer : NULL, d, &d->leg,
                            why, sizeof why);
    if (rc != 0) {
        br_warn("INVITE %s from %s refused with %d: %s", call_id, src, rc, why);
        refuse(nh, rc, phrase_of(rc), why);
    }
}

static void on_ack(dialog_t *d, const sip_t *sip)
{
    br_sdp_media_t answer;
    int has;

    if (!d || !sip)
        return;
    has = payload_sdp(sip, &answer);
    if (d->ann) {
        if (has < 0)
            d->sip->stats->sip_errors++;
        if (!d->acked)
            br_ann_call_ack(d->ann, has > 0 ? &answer : NULL);
        d->acked = 1;
        return;
    }
    if (has < 0) {
        d->sip->stats->sip_errors++;
        br_warn("leg %s: ACK carries an unreadable SDP answer", d->call_id);
    } else if (has == 0) {
        /* Only the first ACK answers our offer; a re-INVITE's ACK is bodiless. */
        if (!d->acked && d->local.npts > 1)
            br_warn("leg %s: ACK without SDP answer (CUCM found no common codec)", d->call_id);
    } else if (d->leg) {
        br_session_leg_answer(d->leg, &answer);
    }
    d->acked = 1;
}

static void on_update(br_sip_t *s, nua_t *nua, nua_handle_t *nh, dialog_t *d, const sip_t *sip)
{
    br_cucm_from_t from;
    br_sdp_media_t offer;
    int has;

    if (!trusted(s, nua, "UPDATE", sip)) {
        nua_respond(nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua), TAG_END());
        return;
    }
    if (!d) {
        nua_respond(nh, 481, "Call Does Not Exist", NUTAG_WITH_THIS(nua), TAG_END());
        return;
    }
    /* The From tag stays, the URI parameters change: re-read them. */
    if (d->leg && parse_from(sip, &from) == 0)
        br_session_leg_update(d->leg, &from);
    has = payload_sdp(sip, &offer);
    if (has > 0 && d->leg)
        br_session_leg_answer(d->leg, &offer);
    if (has > 0 && d->answered) {
        char sdp[1024];
        if (br_sdp_write(sdp, sizeof sdp, d->local.addr, d->local.port, d->local.pts, d->local.npts,
                         d->local.dtmf_pt, s->sess_id, d->sdp_version) == 0) {
            nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua),
                        SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp),
                        TAG_END());
            return;
        }
    }
    nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
}

static void on_options(br_sip_t *s, nua_t *nua, nua_handle_t *nh, dialog_t *d, const sip_t *sip)
{
    s->stats->options++;
    if (!trusted(s, nua, "OPTIONS", sip))
        nua_respond(nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua), TAG_END());
    else if (s->draining || !br_sessions_available(s->sessions))
        nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE, NUTAG_WITH_THIS(nua),
                    SIPTAG_RETRY_AFTER_STR("30"), TAG_END());
    else
        nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua),
                    SIPTAG_ALLOW_STR("INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO"),
                    SIPTAG_ACCEPT_STR("application/sdp"), TAG_END());
    if (!d)
        nua_handle_destroy(nh); /* out of dialog: the handle was made for this request */
}

static void on_state(nua_handle_t *nh, dialog_t *d, tagi_t tags[])
{
    int state = nua_callstate_init;

    tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
    if (state != nua_callstate_terminated)
        return;
    if (d) {
        dialog_end(d, "dialog terminated", 0);
        dialog_unlink(d);
        nua_handle_bind(nh, NULL);
        free(d);
    }
    nua_handle_destroy(nh);
}

static void close_handles(br_sip_t *s);

static void nua_cb(nua_event_t event, int status, char const *phrase, nua_t *nua, nua_magic_t *magic,
                   nua_handle_t *nh, nua_hmagic_t *hmagic, sip_t const *sip, tagi_t tags[])
{
    br_sip_t *s = (br_sip_t *)magic;
    dialog_t *d = (dialog_t *)hmagic;

    switch (event) {
    case nua_i_invite:
        on_invite(s, nua, nh, d, sip);
        break;
    case nua_i_ack:
        on_ack(d, sip);
        break;
    case nua_i_bye:
        if (d)
            dialog_end(d, "BYE", q850_cause(sip));
        break;
    case nua_i_cancel:
        if (d)
            dialog_end(d, "CANCEL", 0);
        break;
    case nua_i_update:
        on_update(s, nua, nh, d, sip);
        break;
    case nua_r_refer:
        if (d && d->ann)
            br_ann_call_refer_status(d->ann, status);
        break;
    case nua_i_notify:
        if (d && d->ann)
            br_ann_call_refer_status(d->ann, sipfrag_status(sip));
        break;
    case nua_i_options:
        on_options(s, nua, nh, d, sip);
        break;
    case nua_i_state:
        on_state(nh, d, tags);
        break;
    case nua_i_error:
        s->stats->sip_errors++;
        br_warn("SIP stack error %d %s", status, phrase ? phrase : "");
        break;
    case nua_r_shutdown:
        if (status >= 200) {
            s->nua_down = 1;
            close_handles(s);
        }
        break;
    default:
        if (status >= 300)
            br_debug("SIP event %s: %d %s", nua_event_name(event), status, phrase ? phrase : "");
        break;
    }
}

/* ---- sofia's own log ---------------------------------------------------------- */

/* sofia reports malformed messages and transport trouble through su_log;
 * those lines go into our log so an operator sees why a peer was ignored. */
static void sofia_log(void *stream, char const *fmt, va_list ap)
{
    char line[512];
    size_t n;
    (void)stream;
    vsnprintf(line, sizeof line, fmt, ap);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    if (n)
        br_warn("sofia-sip: %s", line);
}

/* ---- lifecycle ------------------------------------------------------------ */

static void handle_closed(uv_handle_t *h)
{
    br_sip_t *s = h->data;
    if (--s->handles_open == 0 && s->stop_cb) {
        void (*cb)(void *) = s->stop_cb;
        s->stop_cb = NULL;
        cb(s->stop_ctx);
    }
}

static void close_handles(br_sip_t *s)
{
    uv_handle_t *hs[] = { (uv_handle_t *)&s->poll, (uv_handle_t *)&s->timer,
                          (uv_handle_t *)&s->grace };
    for (size_t i = 0; i < BR_ARRAY_SIZE(hs); i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], handle_closed);
}

static void grace_cb(uv_timer_t *t)
{
    br_sip_t *s = t->data;
    br_warn("SIP shutdown did not finish within %d ms; closing anyway", SHUTDOWN_GRACE_MS);
    close_handles(s);
}

static int host_url(const char *scheme, const char *addr, unsigned port, const char *params,
                    char *out, size_t outsz)
{
    int v6 = strchr(addr, ':') != NULL;
    int n = snprintf(out, outsz, "%s:%s%s%s:%u%s", scheme, v6 ? "[" : "", addr, v6 ? "]" : "", port,
                     params);
    return n > 0 && (size_t)n < outsz ? 0 : -ENAMETOOLONG;
}

static int append_file(FILE *out, const char *path)
{
    char buf[4096];
    size_t n;
    FILE *in = fopen(path, "r");
    if (!in)
        return -errno;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    return 0;
}

/* sofia wants a folder with agent.pem (key and certificate) and cafile.pem;
 * we build it from the configured files in a private folder of the store. */
static int prepare_tls_dir(const br_config_t *cfg, char *dir, size_t dirsz)
{
    char path[PATH_MAX + 32];
    FILE *f;
    int rc;

    if ((size_t)snprintf(dir, dirsz, "%s/tls", cfg->store_path) >= dirsz)
        return -ENAMETOOLONG;
    rc = br_mkdir_p(dir);
    if (rc < 0)
        return rc;
    snprintf(path, sizeof path, "%s/agent.pem", dir);
    f = fopen(path, "w");
    if (!f)
        return -errno;
    fchmod(fileno(f), 0600);
    rc = append_file(f, cfg->tls_key);
    if (rc == 0)
        rc = append_file(f, cfg->tls_cert);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    if (rc < 0)
        return rc;
    snprintf(path, sizeof path, "%s/cafile.pem", dir);
    f = fopen(path, "w");
    if (!f)
        return -errno;
    rc = append_file(f, cfg->tls_ca[0] ? cfg->tls_ca : cfg->tls_cert);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

int br_sip_start(br_sip_t **out, uv_loop_t *loop, const br_config_t *cfg, br_stats_t *stats)
{
    unsigned char before[MAX_FDS] = { 0 }, after[MAX_FDS] = { 0 };
    char url[160], sips[160] = "", tlsdir[PATH_MAX] = "", why[160];
    const char *transport = cfg->sip_udp && cfg->sip_tcp ? "" : cfg->sip_udp ? ";transport=udp"
                                                                             : ";transport=tcp";
    br_sip_t *s;
    int rc;

    *out = NULL;
    rc = host_url("sip", cfg->sip_address, cfg->sip_port, transport, url, sizeof url);
    if (rc == 0 && cfg->sip_tls_port)
        rc = host_url("sips", cfg->sip_address, cfg->sip_tls_port, "", sips, sizeof sips);
    if (rc < 0)
        return rc;
    if (cfg->sip_tls_port) {
        rc = prepare_tls_dir(cfg, tlsdir, sizeof tlsdir);
        if (rc < 0) {
            br_err("TLS certificate or key unreadable (%s, %s): %s", cfg->tls_cert, cfg->tls_key,
                   br_strerror(rc));
            return rc;
        }
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    s->cfg = cfg;
    s->stats = stats;
    s->epfd = -1;
    s->sess_id = (uint64_t)br_now_us();
    if (br_netlist_parse(&s->trusted, cfg->trusted, why, sizeof why) < 0) {
        br_err("%s", why);
        free(s);
        return -EINVAL;
    }
    su_init();
    su_log_redirect(NULL, sofia_log, NULL);
    su_port_prefer(su_epoll_port_create, su_epoll_clone_start);
    list_epoll_fds(before);
    s->root = su_root_create(s);
    list_epoll_fds(after);
    if (!s->root) {
        rc = -ENOMEM;
        goto fail;
    }
    for (int fd = 0; fd < MAX_FDS; fd++)
        if (after[fd] && !before[fd])
            s->epfd = fd;
    if (s->epfd < 0) {
        br_err("sofia-sip did not create an epoll reactor; refusing to run on poll()");
        rc = -ENOTSUP;
        goto fail;
    }
    su_root_threading(s->root, 0);
    s->nua = nua_create(s->root, nua_cb, (nua_magic_t *)s, NUTAG_URL(url),
                        TAG_IF(sips[0], NUTAG_SIPS_URL(sips)),
                        TAG_IF(tlsdir[0], TPTAG_CERTIFICATE(tlsdir)),
                        TAG_IF(tlsdir[0], TPTAG_TLS_VERIFY_POLICY(cfg->tls_verify_client
                                                                      ? TPTLS_VERIFY_IN
                                                                      : TPTLS_VERIFY_NONE)),
                        /* sofia answers stray STUN requests by default, and leaks
                         * 12 bytes each time (1.12.11): a recorder needs no STUN. */
                        TPTAG_STUN_SERVER(0),
                        NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0),
                        NUTAG_APPL_METHOD("OPTIONS, UPDATE"),
                        NUTAG_ALLOW("INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO"),
                        NUTAG_SESSION_REFRESHER(nua_remote_refresher),
                        SIPTAG_USER_AGENT_STR("bibrec/" PACKAGE_VERSION), TAG_END());
    if (!s->nua) {
        br_err("cannot listen for SIP on %s%s%s (address in use or not local?)", url,
               sips[0] ? " and " : "", sips);
        rc = -EADDRINUSE;
        goto fail;
    }
    uv_poll_init(loop, &s->poll, s->epfd);
    uv_timer_init(loop, &s->timer);
    uv_timer_init(loop, &s->grace);
    s->poll.data = s->timer.data = s->grace.data = s;
    s->handles_open = 3;
    uv_poll_start(&s->poll, UV_READABLE, poll_cb);
    uv_timer_start(&s->timer, timer_cb, 0, 0);
    br_info("SIP listening on %s%s%s; trusted peers: %s", url, sips[0] ? " and " : "", sips,
            cfg->trusted);
    *out = s;
    return 0;
fail:
    if (s->root)
        su_root_destroy(s->root);
    su_deinit();
    free(s);
    return rc;
}

void br_sip_attach_announcer(br_sip_t *s, br_announcer_t *a)
{
    s->announcer = a;
}

void br_sip_attach(br_sip_t *s, br_sessions_t *sessions)
{
    s->sessions = sessions;
}

void br_sip_drain(br_sip_t *s)
{
    s->draining = 1;
}

void br_sip_stop(br_sip_t *s, void (*cb)(void *ctx), void *ctx)
{
    s->draining = 1;
    s->stop_cb = cb;
    s->stop_ctx = ctx;
    for (dialog_t *d = s->dialogs; d; d = d->next)
        d->leg = NULL; /* the sessions have sealed and let go of every leg */
    nua_shutdown(s->nua);
    uv_timer_start(&s->grace, grace_cb, SHUTDOWN_GRACE_MS, 0);
    /* Let the reactor send the BYEs now rather than at its next timer. */
    uv_timer_start(&s->timer, timer_cb, 0, 0);
}

void br_sip_free(br_sip_t *s)
{
    if (!s)
        return;
    /* If the grace timer ended the wait, finish the shutdown here: the loop
     * is gone, so step the reactor directly (not inside a callback). */
    for (int i = 0; s->nua && !s->nua_down && i < 50; i++)
        su_root_step(s->root, 100);
    if (s->nua)
        nua_destroy(s->nua);
    while (s->dialogs) {
        dialog_t *d = s->dialogs;
        s->dialogs = d->next;
        free(d);
    }
    if (s->root)
        su_root_destroy(s->root);
    su_deinit();
    free(s);
}
