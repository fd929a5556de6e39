/*
 * Pairing, timeline and sealing of recordings; see session.h.
 *
 * A call (one recording) owns both of its legs' memory, so the SIP layer's
 * leg pointers stay valid until it is told the leg ended, and the call is
 * freed only when it is finished and every leg's socket has closed. One
 * 100 ms timer flushes all timelines: audio older than the jitter allowance
 * becomes stereo segments, which go to the store as they fill.
 */
#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "media/g711.h"
#include "media/mix.h"
#include "media/ports.h"
#include "media/stream.h"

#define RATE 8000
#define FLUSH_INTERVAL_MS 100
#define DTMF_PT 101
#define BIND_ATTEMPTS 16

typedef struct br_call br_call_t;

struct br_leg {
    br_call_t *call;
    int channel;
    int present;
    int ended;
    char call_id[128];
    br_stream_t stream;
};

struct br_call {
    br_sessions_t *s;
    br_call_t *prev, *next; /* list of calls not yet finished */
    br_leg_t legs[2];
    br_mix_t mix;
    br_rec_writer_t *writer;
    br_rec_meta_t meta;
    int64_t t0_mono_us;
    int finished;
    int pending_closes;
    int storage_error;
};

struct br_sessions {
    uv_loop_t *loop;
    br_store_t *st;
    const br_config_t *cfg;
    br_ports_t *ports;
    uv_timer_t flush_timer;
    br_call_t *calls;
    unsigned closing_calls;
    int stopping;
    int timer_open;
    void (*stop_cb)(void *ctx);
    void *stop_ctx;
    br_sessions_stats_t stats;
};

static const uint8_t offered_pts[] = { 0, 8 };

static int64_t mono_us(void)
{
    return (int64_t)(uv_hrtime() / 1000);
}

static int64_t timeline_pos(const br_call_t *c, int64_t now_us)
{
    int64_t d = now_us - c->t0_mono_us;
    return d > 0 ? d * RATE / 1000000 : 0;
}

static void maybe_stopped(br_sessions_t *s)
{
    if (s->stopping && s->closing_calls == 0 && !s->calls && !s->timer_open && s->stop_cb) {
        void (*cb)(void *) = s->stop_cb;
        s->stop_cb = NULL;
        cb(s->stop_ctx);
    }
}

static void call_free_if_done(br_call_t *c)
{
    br_sessions_t *s = c->s;
    if (!c->finished || c->pending_closes > 0)
        return;
    br_mix_free(&c->mix);
    free(c);
    s->closing_calls--;
    maybe_stopped(s);
}

static void leg_closed(br_stream_t *st, void *ctx)
{
    br_leg_t *leg = ctx;
    br_call_t *c = leg->call;
    (void)st;
    br_ports_release(c->s->ports, leg->stream.port);
    c->pending_closes--;
    call_free_if_done(c);
}

static int segment_cb(const uint8_t *frames, size_t nframes, void *ctx)
{
    br_call_t *c = ctx;
    int rc;

    if (c->storage_error)
        return 0; /* already reported; keep the timeline moving */
    rc = br_rec_write_segment(c->writer, frames, nframes * 2);
    if (rc < 0) {
        c->storage_error = rc;
        c->s->stats.storage_errors++;
        br_err("recording %s: cannot write audio: %s", c->meta.id, br_strerror(rc));
    }
    return 0;
}

static void collect_leg_stats(br_call_t *c, br_leg_t *leg)
{
    br_rec_party_t *p = leg->channel == BR_CH_NEAR ? &c->meta.near : &c->meta.far;
    const br_stream_t *st = &leg->stream;

    p->packets = st->packets;
    p->lost = br_rtp_seq_lost(&st->seq);
    p->dropped = st->dropped + c->mix.ch[leg->channel].late_samples / 160;
    if (st->pt != BR_PT_NONE)
        p->payload_type = st->pt;
}

static void close_leg(br_call_t *c, br_leg_t *leg)
{
    collect_leg_stats(c, leg);
    c->s->stats.active_legs--;
    c->pending_closes++;
    br_stream_close(&leg->stream, leg_closed, leg);
}

static void finish_call(br_call_t *c)
{
    br_sessions_t *s = c->s;
    int64_t end = timeline_pos(c, mono_us());
    int rc;

    for (int i = 0; i < 2; i++) {
        br_leg_t *leg = &c->legs[i];
        if (leg->present && !leg->ended) {
            leg->ended = 1;
            close_leg(c, leg);
        }
    }
    br_mix_finish(&c->mix, end);
    c->meta.frames = (uint64_t)end;
    c->meta.end_us = br_now_us();
    rc = br_rec_seal(c->writer, &c->meta, BR_REC_SEALED);
    c->writer = NULL;
    if (rc < 0) {
        s->stats.storage_errors++;
        br_err("recording %s: cannot seal: %s (it will be sealed as recovered at next start)",
               c->meta.id, br_strerror(rc));
    } else {
        s->stats.recordings_sealed++;
        br_info("recording %s sealed: %.2f s, %" PRIu32 " segments, near %" PRIu64
                " packets (%" PRIu64 " lost), far %" PRIu64 " packets (%" PRIu64 " lost)",
                c->meta.id, (double)end / RATE, c->meta.segments, c->meta.near.packets,
                c->meta.near.lost, c->meta.far.packets, c->meta.far.lost);
    }
    /* Off the active list, onto "closing" until the sockets are gone. */
    if (c->prev)
        c->prev->next = c->next;
    else
        s->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->finished = 1;
    s->stats.active_calls--;
    s->closing_calls++;
    if (!s->calls && s->timer_open && !uv_is_closing((uv_handle_t *)&s->flush_timer))
        uv_timer_stop(&s->flush_timer); /* an idle recorder wakes for nothing */
    call_free_if_done(c);
}

static void flush_cb(uv_timer_t *t)
{
    br_sessions_t *s = t->data;
    int64_t now = mono_us();
    int64_t delay = (int64_t)s->cfg->jitter_ms * RATE / 1000;

    for (br_call_t *c = s->calls; c; c = c->next)
        br_mix_flush(&c->mix, timeline_pos(c, now) - delay);
}

int br_sessions_new(br_sessions_t **out, uv_loop_t *loop, br_store_t *st, const br_config_t *cfg)
{
    br_sessions_t *s = calloc(1, sizeof *s);
    int rc;

    *out = NULL;
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    s->st = st;
    s->cfg = cfg;
    rc = br_ports_new(&s->ports, cfg->rtp_port_min, cfg->rtp_port_max);
    if (rc < 0) {
        free(s);
        return rc;
    }
    uv_timer_init(loop, &s->flush_timer);
    s->flush_timer.data = s;
    s->timer_open = 1;
    *out = s;
    return 0;
}

static void timer_closed(uv_handle_t *h)
{
    br_sessions_t *s = h->data;
    s->timer_open = 0;
    maybe_stopped(s);
}

void br_sessions_stop(br_sessions_t *s, void (*cb)(void *ctx), void *ctx)
{
    s->stopping = 1;
    s->stop_cb = cb;
    s->stop_ctx = ctx;
    while (s->calls) {
        br_info("recording %s: sealing on shutdown", s->calls->meta.id);
        finish_call(s->calls);
    }
    if (s->timer_open && !uv_is_closing((uv_handle_t *)&s->flush_timer))
        uv_close((uv_handle_t *)&s->flush_timer, timer_closed);
    maybe_stopped(s);
}

void br_sessions_free(br_sessions_t *s)
{
    if (!s)
        return;
    br_ports_free(s->ports);
    free(s);
}

void br_sessions_get_stats(const br_sessions_t *s, br_sessions_stats_t *out)
{
    *out = s->stats;
}

static void fill_party(br_rec_party_t *p, const char *refci, const char *device, const char *addr,
                       const char *cluster, const char *guid)
{
    /* Both INVITEs of a pair carry the same fields; keep what is known. */
    if (refci[0])
        br_strlcpy(p->refci, refci, sizeof p->refci);
    if (device[0])
        br_strlcpy(p->device, device, sizeof p->device);
    if (addr[0])
        br_strlcpy(p->addr, addr, sizeof p->addr);
    if (cluster[0])
        br_strlcpy(p->cluster, cluster, sizeof p->cluster);
    if (guid[0])
        br_strlcpy(p->guid, guid, sizeof p->guid);
}

static void fill_meta(br_rec_meta_t *m, const br_cucm_from_t *f)
{
    fill_party(&m->near, f->refci, f->near_device, f->near_addr, f->near_cluster, f->near_guid);
    fill_party(&m->far, f->far_refci, f->far_device, f->far_addr, f->far_cluster, f->far_guid);
    if (f->session_id[0])
        br_strlcpy(m->session_id, f->session_id, sizeof m->session_id);
}

static br_call_t *find_partner(br_sessions_t *s, const br_cucm_from_t *f, int channel)
{
    for (br_call_t *c = s->calls; c; c = c->next) {
        if (c->legs[channel].present)
            continue;
        if (strcmp(c->meta.near.refci, f->refci) != 0)
            continue;
        if (f->near_cluster[0] && c->meta.near.cluster[0] &&
            strcmp(f->near_cluster, c->meta.near.cluster) != 0)
            continue;
        return c;
    }
    return NULL;
}

static int new_call(br_sessions_t *s, const br_cucm_from_t *f, br_call_t **out)
{
    size_t seg_frames = (size_t)RATE * s->cfg->segment_ms / 1000;
    br_call_t *c = calloc(1, sizeof *c);
    int rc;

    *out = NULL;
    if (!c)
        return -ENOMEM;
    c->s = s;
    rc = br_mix_init(&c->mix, seg_frames, BR_ULAW_SILENCE, BR_ULAW_SILENCE, segment_cb, c);
    if (rc < 0) {
        free(c);
        return rc;
    }
    c->mix.reanchor_limit = RATE / 5;
    c->meta.sample_rate = RATE;
    c->meta.start_us = br_now_us();
    c->meta.near.payload_type = BR_PT_NONE;
    c->meta.far.payload_type = BR_PT_NONE;
    fill_meta(&c->meta, f);
    rc = br_rec_create(s->st, &c->meta, &c->writer);
    if (rc < 0) {
        br_mix_free(&c->mix);
        free(c);
        return rc;
    }
    c->t0_mono_us = mono_us();
    if (!s->calls)
        uv_timer_start(&s->flush_timer, flush_cb, FLUSH_INTERVAL_MS, FLUSH_INTERVAL_MS);
    c->next = s->calls;
    if (s->calls)
        s->calls->prev = c;
    s->calls = c;
    s->stats.active_calls++;
    s->stats.calls_total++;
    *out = c;
    return 0;
}

static int choose_pts(const br_sdp_media_t *offer, uint8_t *pts, int *npts, uint8_t *dtmf)
{
    *dtmf = DTMF_PT;
    if (!offer) {
        memcpy(pts, offered_pts, sizeof offered_pts);
        *npts = (int)sizeof offered_pts;
        return 0;
    }
    /* Early offer: answer with the first of CUCM's codecs that we record. */
    *dtmf = offer->dtmf_pt;
    for (int i = 0; i < offer->npts; i++)
        for (size_t j = 0; j < sizeof offered_pts; j++)
            if (offer->pts[i] == offered_pts[j]) {
                pts[0] = offer->pts[i];
                *npts = 1;
                return 0;
            }
    return -ENOTSUP;
}

static int open_stream(br_sessions_t *s, br_leg_t *leg)
{
    for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
        int port = br_ports_take(s->ports);
        int rc;
        if (port < 0)
            return port;
        rc = br_stream_open(&leg->stream, s->loop, s->cfg->rtp_address, (uint16_t)port,
                            leg->channel);
        if (rc == 0)
            return 0;
        /* Taken by someone else on this host: close, skip it, try the next. */
        br_warn("rtp port %d unusable: %s", port, uv_strerror(rc));
        if (leg->stream.open) {
            leg->call->pending_closes++;
            br_stream_close(&leg->stream, leg_closed, leg);
            return rc; /* the port goes back to the pool once closed */
        }
        br_ports_release(s->ports, (uint16_t)port);
    }
    return -EADDRNOTAVAIL;
}

int br_session_leg_new(br_sessions_t *s, const br_cucm_from_t *f, const char *call_id,
                       const br_sdp_media_t *offer, br_leg_t **out, br_sdp_media_t *local,
                       char *why, size_t whysz)
{
    int channel = f->stream == BR_STREAM_NEAR ? BR_CH_NEAR : BR_CH_FAR;
    uint8_t pts[BR_SDP_MAX_PTS], dtmf;
    int npts, rc, fresh = 0;
    br_call_t *c;
    br_leg_t *leg;

    *out = NULL;
    if (s->stopping) {
        snprintf(why, whysz, "shutting down");
        return 503;
    }
    if (choose_pts(offer, pts, &npts, &dtmf) < 0) {
        snprintf(why, whysz, "no common codec in the offer");
        return 488;
    }
    c = find_partner(s, f, channel);
    if (!c) {
        rc = new_call(s, f, &c);
        if (rc < 0) {
            snprintf(why, whysz, "cannot start a recording: %s", br_strerror(rc));
            return 503;
        }
        fresh = 1;
    }
    leg = &c->legs[channel];
    leg->call = c;
    leg->channel = channel;
    br_strlcpy(leg->call_id, call_id, sizeof leg->call_id);
    rc = open_stream(s, leg);
    if (rc < 0) {
        snprintf(why, whysz, "no RTP port: %s", br_strerror(rc));
        if (fresh)
            finish_call(c); /* seals the empty recording: nothing is left half-made */
        return 503;
    }
    leg->present = 1;
    s->stats.active_legs++;
    s->stats.legs_total++;
    if (!fresh)
        fill_meta(&c->meta, f);
    (channel == BR_CH_NEAR ? &c->meta.near : &c->meta.far)->present = 1;
    br_stream_offer(&leg->stream, pts, npts, dtmf);
    if (offer && npts == 1)
        br_stream_set_pt(&leg->stream, pts[0]);
    br_stream_attach(&leg->stream, &c->mix, c->t0_mono_us, RATE);

    memset(local, 0, sizeof *local);
    br_strlcpy(local->addr, s->cfg->rtp_address, sizeof local->addr);
    local->port = leg->stream.port;
    memcpy(local->pts, pts, (size_t)npts);
    local->npts = npts;
    local->dtmf_pt = dtmf;
    br_strlcpy(local->direction, "recvonly", sizeof local->direction);
    br_info("leg %s: %s end of refci %s, recording %s%s, rtp port %u", call_id,
            channel == BR_CH_NEAR ? "near" : "far", f->refci, c->meta.id,
            fresh ? " (new)" : " (paired)", leg->stream.port);
    *out = leg;
    return 0;
}

void br_session_leg_answer(br_leg_t *leg, const br_sdp_media_t *remote)
{
    for (int i = 0; i < remote->npts; i++)
        for (size_t j = 0; j < sizeof offered_pts; j++)
            if (remote->pts[i] == offered_pts[j]) {
                if (leg->stream.pt != remote->pts[i])
                    br_stream_set_pt(&leg->stream, remote->pts[i]);
                if (remote->dtmf_pt != 0xff)
                    leg->stream.dtmf_pt = remote->dtmf_pt;
                br_debug("leg %s: answer chose payload type %u, media from %s:%u", leg->call_id,
                         remote->pts[i], remote->addr, remote->port);
                return;
            }
    br_warn("leg %s: SDP answer has no codec we offered; keeping what RTP brings", leg->call_id);
}

void br_session_leg_end(br_leg_t *leg, const char *reason)
{
    br_call_t *c = leg->call;
    int open = 0;

    if (!leg->present || leg->ended)
        return;
    leg->ended = 1;
    br_info("leg %s: ended (%s) after %" PRIu64 " packets", leg->call_id, reason,
            leg->stream.packets);
    close_leg(c, leg);
    for (int i = 0; i < 2; i++)
        if (c->legs[i].present && !c->legs[i].ended)
            open = 1;
    if (!open)
        finish_call(c);
}
