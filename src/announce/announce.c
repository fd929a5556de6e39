/*
 * Announcement calls: one UDP socket and one timer each, on the loop.
 *
 * The prompt is paced from the monotonic clock (packet n leaves at start +
 * n * 20 ms; a late timer sends what is due, at most a few packets at once)
 * so timer jitter does not stretch it. Digits are RFC 4733 events on the
 * negotiated telephone-event payload type, taken at their first packet (a
 * new timestamp), so a caller who presses during the prompt cuts it short.
 */
#include "announce.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "crypto/crypto.h"
#include "media/rtp.h"
#include "prompt.h"
#include "sql-free-store/consent.h"

#define PACKET_MS 20
#define MAX_CATCH_UP 5
#define TRANSFER_WAIT_MS 10000
#define DTMF_PT_OFFERED 101

enum ann_state { ANN_ANSWERED, ANN_PLAYING, ANN_WAITING, ANN_TRANSFERRING, ANN_DONE };

struct br_ann_call {
    br_announcer_t *a;
    br_ann_call_t *prev, *next;
    const br_announcement_t *ann;
    const br_prompt_audio_t *audio;
    int prompt;
    void *sip_ctx;  /* NULL once the dialog is gone */
    char call_id[128];
    char caller[BR_META_STR];
    char source[80];
    enum ann_state state;
    int decided;
    uv_udp_t udp;
    uv_timer_t timer;
    int open_handles;
    uint16_t port;
    struct sockaddr_storage remote;
    int have_remote;
    uint8_t pt, dtmf_pt;
    br_prompt_enc_t *enc;
    uint64_t start_ns;
    size_t sent, npackets;
    uint16_t seq;
    uint32_t ts, ssrc;
    int have_event;
    uint32_t event_ts;
    uint8_t rx[1500];
};

struct br_announcer {
    uv_loop_t *loop;
    br_store_t *st;
    const br_config_t *cfg;
    br_ports_t *ports;
    const br_ann_ops_t *ops;
    br_prompt_audio_t audio[BR_MAX_ANNOUNCEMENTS][BR_MAX_PROMPTS];
    br_ann_call_t *calls;
    int stopping;
    void (*stop_cb)(void *ctx);
    void *stop_ctx;
};

static const uint8_t offered_pts[] = { 0, 8, 9, 18 };

/* ---- set-up ---------------------------------------------------------------- */

int br_announcer_new(br_announcer_t **out, uv_loop_t *loop, br_store_t *st, const br_config_t *cfg,
                     br_ports_t *ports, const br_ann_ops_t *ops, char *why, size_t whysz)
{
    br_announcer_t *a = calloc(1, sizeof *a);
    char err[160];

    *out = NULL;
    if (!a)
        return -ENOMEM;
    a->loop = loop, a->st = st, a->cfg = cfg, a->ports = ports, a->ops = ops;
    for (int i = 0; i < cfg->nannouncements; i++)
        for (int j = 0; j < cfg->announcements[i].nprompts; j++) {
            const char *file = cfg->announcements[i].prompts[j].file;
            int rc = br_prompt_load(file, &a->audio[i][j], err, sizeof err);
            if (rc < 0) {
                snprintf(why, whysz, "announcement %s: prompt %s: %s", cfg->announcements[i].number,
                         file, err);
                br_announcer_free(a);
                return rc;
            }
        }
    *out = a;
    return 0;
}

void br_announcer_free(br_announcer_t *a)
{
    if (!a)
        return;
    for (int i = 0; i < BR_MAX_ANNOUNCEMENTS; i++)
        for (int j = 0; j < BR_MAX_PROMPTS; j++)
            br_prompt_free(&a->audio[i][j]);
    free(a);
}

const br_announcement_t *br_announcer_find(const br_announcer_t *a, const char *called)
{
    for (int i = 0; a && called && i < a->cfg->nannouncements; i++)
        if (strcmp(a->cfg->announcements[i].number, called) == 0)
            return &a->cfg->announcements[i];
    return NULL;
}

/* A prefix list such as "+49 0049" matched against the caller's number. */
static int prefix_match(const char *list, const char *caller)
{
    char copy[128], *save = NULL;

    br_strlcpy(copy, list, sizeof copy);
    for (char *t = strtok_r(copy, " ,", &save); t; t = strtok_r(NULL, " ,", &save))
        if (strncmp(caller, t, strlen(t)) == 0)
            return 1;
    return 0;
}

int br_announcement_prompt_for(const br_announcement_t *ann, const char *caller)
{
    for (int i = 0; i < ann->nprompts; i++)
        if (ann->prompts[i].callers[0] && caller && prefix_match(ann->prompts[i].callers, caller))
            return i;
    for (int i = 0; i < ann->nprompts; i++)
        if (strcmp(ann->prompts[i].language, ann->language) == 0)
            return i;
    return 0;
}

/* ---- ending ------------------------------------------------------------------- */

static void call_unlink(br_ann_call_t *c)
{
    br_announcer_t *a = c->a;
    if (c->prev)
        c->prev->next = c->next;
    else if (a->calls == c)
        a->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void handle_closed(uv_handle_t *h)
{
    br_ann_call_t *c = h->data;
    br_announcer_t *a = c->a;

    if (--c->open_handles > 0)
        return;
    br_ports_release(a->ports, c->port);
    br_prompt_enc_free(c->enc);
    call_unlink(c);
    free(c);
    if (a->stopping && !a->calls && a->stop_cb)
        a->stop_cb(a->stop_ctx);
}

/* Closes the media once both sides are done with the call. */
static void release(br_ann_call_t *c)
{
    if (c->state == ANN_DONE)
        return;
    c->state = ANN_DONE;
    uv_udp_recv_stop(&c->udp);
    uv_close((uv_handle_t *)&c->udp, handle_closed);
    uv_close((uv_handle_t *)&c->timer, handle_closed);
}

static void hang_up(br_ann_call_t *c, const char *reason)
{
    if (c->sip_ctx)
        c->a->ops->hangup(c->sip_ctx, reason);
    release(c);
}

/* ---- the decision ------------------------------------------------------------- */

static uint8_t profile_default(const br_announcer_t *a, const br_announcement_t *ann)
{
    for (int i = 0; ann->profile[0] && i < a->cfg->nprofiles; i++)
        if (strcmp(a->cfg->profiles[i].name, ann->profile) == 0)
            return a->cfg->profiles[i].consent_default == BR_CONSENT_ACCEPTED ? BR_CONSENT_ACCEPTED
                                                                               : BR_CONSENT_REFUSED;
    return BR_CONSENT_REFUSED; /* silence is not consent */
}

static void transfer_timeout(uv_timer_t *t)
{
    br_ann_call_t *c = t->data;
    br_warn("announcement %s: no answer to the transfer in %d s; hanging up", c->call_id,
            TRANSFER_WAIT_MS / 1000);
    hang_up(c, "transfer not confirmed");
}

static void decide(br_ann_call_t *c, uint8_t decision, char digit, int timed_out)
{
    const br_announcement_t *ann = c->ann;
    br_consent_rec_t rec;
    const char *file = ann->prompts[c->prompt].file, *base = strrchr(file, '/');
    uint32_t played = (uint32_t)(c->sent * PACKET_MS);
    int rc;

    c->decided = 1;
    uv_timer_stop(&c->timer);
    memset(&rec, 0, sizeof rec);
    rec.at_us = br_now_us();
    br_strlcpy(rec.caller, c->caller, sizeof rec.caller);
    br_strlcpy(rec.called, ann->number, sizeof rec.called);
    br_strlcpy(rec.language, ann->prompts[c->prompt].language, sizeof rec.language);
    br_strlcpy(rec.prompt, base ? base + 1 : file, sizeof rec.prompt);
    rec.decision = decision;
    rec.digit = digit;
    rec.timed_out = (uint8_t)timed_out;
    rec.played_ms = played < br_prompt_ms(c->audio) ? played : br_prompt_ms(c->audio);
    rc = br_consent_put(c->a->st, &rec, c->source);
    if (rc < 0)
        br_err("announcement %s: the consent decision could not be stored: %s", c->call_id,
               br_strerror(rc));
    else
        br_info("announcement %s: consent %s %s%s%s (%u ms of prompt %s played)", c->call_id,
                rec.id, br_consent_name(decision), digit ? " by digit " : "",
                digit ? (char[]){ digit, 0 } : (timed_out ? " (no digit in time)" : ""),
                rec.played_ms, rec.prompt);
    if (ann->mode == BR_ANN_PRE_CONNECT && c->sip_ctx) {
        c->state = ANN_TRANSFERRING;
        c->a->ops->refer(c->sip_ctx, ann->transfer_to);
        uv_timer_start(&c->timer, transfer_timeout, TRANSFER_WAIT_MS, 0);
        return;
    }
    hang_up(c, "announcement played");
}

/* ---- media ------------------------------------------------------------------- */

static void send_packet(br_ann_call_t *c)
{
    uint8_t pkt[12 + 160];
    size_t len = br_prompt_enc_frame(c->enc, c->audio, c->sent, pkt + 12);
    uv_buf_t b;

    pkt[0] = 0x80;
    pkt[1] = (uint8_t)((c->sent == 0 ? 0x80 : 0) | c->pt);
    pkt[2] = (uint8_t)(c->seq >> 8), pkt[3] = (uint8_t)c->seq;
    pkt[4] = (uint8_t)(c->ts >> 24), pkt[5] = (uint8_t)(c->ts >> 16);
    pkt[6] = (uint8_t)(c->ts >> 8), pkt[7] = (uint8_t)c->ts;
    pkt[8] = (uint8_t)(c->ssrc >> 24), pkt[9] = (uint8_t)(c->ssrc >> 16);
    pkt[10] = (uint8_t)(c->ssrc >> 8), pkt[11] = (uint8_t)c->ssrc;
    b = uv_buf_init((char *)pkt, (unsigned)(12 + len));
    uv_udp_try_send(&c->udp, &b, 1, (const struct sockaddr *)&c->remote); /* loss is RTP's lot */
    c->seq++;
    c->ts += BR_PROMPT_TS_STEP;
    c->sent++;
}

static void wait_timeout(uv_timer_t *t)
{
    br_ann_call_t *c = t->data;
    decide(c, profile_default(c->a, c->ann), 0, 1);
}

static void play_tick(uv_timer_t *t)
{
    br_ann_call_t *c = t->data;
    uint64_t elapsed_ms = (uv_hrtime() - c->start_ns) / 1000000;
    size_t due = (size_t)(elapsed_ms / PACKET_MS) + 1, n = 0;
    uint64_t next_ms;

    while (c->sent < due && c->sent < c->npackets && n++ < MAX_CATCH_UP)
        send_packet(c);
    if (c->sent >= c->npackets) {
        if (!c->ann->collect) {
            decide(c, BR_CONSENT_INFORMED, 0, 0);
            return;
        }
        c->state = ANN_WAITING;
        uv_timer_start(&c->timer, wait_timeout, c->ann->wait_ms, 0);
        return;
    }
    next_ms = (uint64_t)c->sent * PACKET_MS;
    uv_timer_start(&c->timer, play_tick, next_ms > elapsed_ms ? next_ms - elapsed_ms : 1, 0);
}

static void start_playing(br_ann_call_t *c)
{
    if (c->state != ANN_ANSWERED || !c->have_remote)
        return;
    if (br_prompt_enc_new(&c->enc, c->pt) < 0) {
        br_warn("announcement %s: cannot encode payload type %u; hanging up", c->call_id, c->pt);
        hang_up(c, "no codec to play the announcement");
        return;
    }
    if (c->ann->collect && c->dtmf_pt == 0xff)
        br_warn("announcement %s: the caller's side offers no telephone-event; "
                "the profile's default will apply", c->call_id);
    c->state = ANN_PLAYING;
    c->start_ns = uv_hrtime();
    play_tick(&c->timer);
}

static void on_digit(br_ann_call_t *c, char digit)
{
    const br_announcement_t *ann = c->ann;

    if (c->decided || (c->state != ANN_PLAYING && c->state != ANN_WAITING))
        return;
    if (!ann->collect) {
        br_debug("announcement %s: digit %c ignored (no consent asked)", c->call_id, digit);
        return;
    }
    if (digit == ann->accept_digit[0])
        decide(c, BR_CONSENT_ACCEPTED, digit, 0);
    else if (digit == ann->refuse_digit[0])
        decide(c, BR_CONSENT_REFUSED, digit, 0);
    else
        br_info("announcement %s: digit %c is neither accept (%c) nor refuse (%c)", c->call_id,
                digit, ann->accept_digit[0], ann->refuse_digit[0]);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    br_ann_call_t *c = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)c->rx, sizeof c->rx);
}

static void recv_cb(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags)
{
    static const char digits[] = "0123456789*#ABCD";
    br_ann_call_t *c = u->data;
    br_rtp_hdr_t h;

    (void)flags;
    if (n <= 0 || !from || c->dtmf_pt == 0xff ||
        br_rtp_parse((const uint8_t *)buf->base, (size_t)n, &h) < 0)
        return;
    if (h.payload_type != c->dtmf_pt || h.payload_len < 4)
        return;
    if (c->have_event && h.timestamp == c->event_ts)
        return; /* the same key still held, or its end packets */
    c->have_event = 1;
    c->event_ts = h.timestamp;
    if (h.payload[0] < 16)
        on_digit(c, digits[h.payload[0]]);
}

/* ---- SIP side ------------------------------------------------------------------ */

static int set_remote(br_ann_call_t *c, const br_sdp_media_t *m)
{
    int i;

    if (!m || m->port == 0)
        return -EINVAL;
    if (uv_ip4_addr(m->addr, m->port, (struct sockaddr_in *)&c->remote) != 0 &&
        uv_ip6_addr(m->addr, m->port, (struct sockaddr_in6 *)&c->remote) != 0)
        return -EINVAL;
    for (i = 0; i < m->npts && !br_prompt_codec_ok(m->pts[i]); i++)
        ;
    if (i == m->npts)
        return -ENOTSUP;
    c->pt = m->pts[i];
    c->dtmf_pt = m->dtmf_pt;
    c->have_remote = 1;
    return 0;
}

static int open_media(br_announcer_t *a, br_ann_call_t *c)
{
    struct sockaddr_storage sa;
    int port = br_ports_take(a->ports), rc;

    if (port < 0)
        return port;
    c->port = (uint16_t)port;
    /* Both handles exist from here on, so release() can close them. */
    uv_udp_init(a->loop, &c->udp);
    uv_timer_init(a->loop, &c->timer);
    c->udp.data = c->timer.data = c;
    c->open_handles = 2;
    if (uv_ip4_addr(a->cfg->rtp_address, port, (struct sockaddr_in *)&sa) != 0 &&
        uv_ip6_addr(a->cfg->rtp_address, port, (struct sockaddr_in6 *)&sa) != 0)
        return -EINVAL;
    rc = uv_udp_bind(&c->udp, (const struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_udp_recv_start(&c->udp, alloc_cb, recv_cb);
    return rc;
}

int br_ann_call_new(br_announcer_t *a, const br_announcement_t *ann, const char *caller,
                    const char *call_id, const char *source, const br_sdp_media_t *offer,
                    void *sip_ctx, br_ann_call_t **out, char *why, size_t whysz)
{
    br_sdp_media_t local;
    br_ann_call_t *c;
    uint8_t rnd[4];
    int rc;

    *out = NULL;
    if (a->stopping) {
        snprintf(why, whysz, "shutting down");
        return 503;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(why, whysz, "out of memory");
        return 503;
    }
    c->a = a;
    c->ann = ann;
    c->sip_ctx = sip_ctx;
    br_strlcpy(c->call_id, call_id, sizeof c->call_id);
    br_strlcpy(c->caller, caller ? caller : "", sizeof c->caller);
    br_strlcpy(c->source, source ? source : "-", sizeof c->source);
    c->prompt = br_announcement_prompt_for(ann, caller);
    c->audio = &a->audio[ann - a->cfg->announcements][c->prompt];
    c->npackets = br_prompt_packets(c->audio);
    c->dtmf_pt = 0xff;
    br_random_nonce(rnd, sizeof rnd);
    c->ssrc = (uint32_t)rnd[0] << 24 | (uint32_t)rnd[1] << 16 | (uint32_t)rnd[2] << 8 | rnd[3];
    c->seq = (uint16_t)(c->ssrc >> 7);
    if (offer && (rc = set_remote(c, offer)) < 0) {
        free(c);
        snprintf(why, whysz, rc == -ENOTSUP ? "no common codec to play the announcement in"
                                            : "unusable media address in the offer");
        return rc == -ENOTSUP ? 488 : 400;
    }
    c->next = a->calls;
    if (a->calls)
        a->calls->prev = c;
    a->calls = c;
    rc = open_media(a, c);
    if (rc < 0) {
        snprintf(why, whysz, "no RTP port: %s", br_strerror(rc));
        c->sip_ctx = NULL;
        if (c->open_handles) {
            release(c);
        } else {
            call_unlink(c);
            free(c);
        }
        return 503;
    }
    memset(&local, 0, sizeof local);
    br_strlcpy(local.addr, a->cfg->rtp_address, sizeof local.addr);
    local.port = c->port;
    if (offer) {
        local.pts[0] = c->pt;
        local.npts = 1;
        local.dtmf_pt = c->dtmf_pt;
    } else {
        memcpy(local.pts, offered_pts, sizeof offered_pts);
        local.npts = (int)sizeof offered_pts;
        local.dtmf_pt = DTMF_PT_OFFERED;
    }
    br_strlcpy(local.direction, "sendrecv", sizeof local.direction);
    br_info("announcement %s: answering for %s with prompt %s (%s), rtp port %u", call_id,
            ann->number, ann->prompts[c->prompt].file, ann->prompts[c->prompt].language, c->port);
    *out = c;
    a->ops->answer(sip_ctx, &local);
    return 0;
}

void br_ann_call_ack(br_ann_call_t *c, const br_sdp_media_t *answer)
{
    if (!c || c->state != ANN_ANSWERED)
        return;
    if (answer && set_remote(c, answer) < 0) {
        br_warn("announcement %s: the SDP answer has no codec or address we can send to",
                c->call_id);
        hang_up(c, "no common codec");
        return;
    }
    if (!c->have_remote) {
        br_warn("announcement %s: ACK without an SDP answer to our offer", c->call_id);
        hang_up(c, "no SDP answer");
        return;
    }
    start_playing(c);
}

void br_ann_call_refer_status(br_ann_call_t *c, int status)
{
    if (!c || c->state != ANN_TRANSFERRING || status < 200)
        return;
    if (status >= 300)
        br_warn("announcement %s: transfer to %s failed with %d", c->call_id, c->ann->transfer_to,
                status);
    else if (status == 202)
        return; /* accepted: the NOTIFY will say how it went */
    else
        br_info("announcement %s: caller transferred to %s", c->call_id, c->ann->transfer_to);
    hang_up(c, status < 300 ? "transferred" : "transfer failed");
}

void br_ann_call_end(br_ann_call_t *c, const char *reason)
{
    if (!c)
        return;
    c->sip_ctx = NULL;
    if (!c->decided && c->state != ANN_DONE) {
        char detail[160];
        snprintf(detail, sizeof detail, "caller left before deciding (%s), %zu ms of the prompt played",
                 reason, c->sent * PACKET_MS);
        br_info("announcement %s: %s", c->call_id, detail);
        br_store_audit(c->a->st, "caller", "announcement", c->call_id, c->source, BR_OUTCOME_OK,
                       detail);
    }
    release(c);
}

void br_announcer_stop(br_announcer_t *a, void (*cb)(void *ctx), void *ctx)
{
    a->stopping = 1;
    a->stop_cb = cb;
    a->stop_ctx = ctx;
    if (!a->calls) {
        cb(ctx);
        return;
    }
    for (br_ann_call_t *c = a->calls, *next; c; c = next) {
        next = c->next;
        hang_up(c, "recorder shutting down");
    }
}
