/*
 * Pairing, timeline, stitching and sealing of recordings; see session.h.
 *
 * A call here is one recording: the near and far legs of one recorded
 * party, answered together. Its life:
 *
 *   first INVITE ─▶ PENDING ─(partner INVITE, or answer-wait-ms)─▶ RECORDING
 *        └─(CANCEL)─▶ dropped, nothing stored        │
 *                        (last leg ends, or shutdown)─▶ finished: sealed, or
 *                        discarded when nothing was ever received and CUCM
 *                        said why (no common codec)
 *
 * The store record is created only when the call starts recording, so a
 * cancelled attempt leaves nothing behind. The call owns its legs' memory:
 * the SIP layer's leg pointers stay valid until the leg is reported ended,
 * and the call is freed when it is finished and every socket has closed.
 *
 * One 100 ms timer, running only while there are calls, flushes the
 * timelines (audio older than the jitter allowance becomes segments), and
 * applies the answer-wait, pair-wait, stitch-window and drain deadlines.
 */
#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/util.h"
#include "media/codec.h"
#include "media/g711.h"
#include "media/mix.h"
#include "media/ports.h"
#include "media/stream.h"
#include "policy/policy.h"
#include "sql-free-store/consent.h"
#include "writer.h"

#define RATE 8000
#define TICK_MS 100
#define DTMF_PT 101
#define BIND_ATTEMPTS 16
#define Q850_INCOMPATIBLE_DESTINATION 47

typedef struct br_call br_call_t;

enum leg_state { LEG_NONE = 0, LEG_PENDING, LEG_ANSWERED, LEG_ENDED };

struct br_leg {
    br_call_t *call;
    int channel;
    enum leg_state state;
    void *sip_ctx;        /* NULL once the SIP layer or we have let go */
    char call_id[128];
    int have_remote;      /* an SDP answer (or early offer) was seen */
    br_sdp_media_t remote;
    br_sdp_media_t local;
    int q850;             /* cause from the BYE's Reason header */
    br_stream_t stream;
};

struct br_call {
    br_sessions_t *s;
    br_call_t *prev, *next; /* list of calls not yet finished */
    br_leg_t legs[2];
    int recording;        /* started: store record exists, legs answered */
    int pairing_closed;   /* pair-wait passed: no partner will join */
    int64_t created_us;   /* monotonic */
    br_mix_t mix;
    br_wrec_t *writer;    /* NULL before the recording starts and once it is sealed */
    br_rec_info_t meta;   /* all but the timeline events, which are in events */
    br_rec_events_t events;
    int64_t t0_mono_us;
    char cluster[BR_META_STR];
    const br_profile_t *profile; /* NULL when no profile is configured */
    char erase_by[64];           /* stopped and deleted from the phone by this actor */
    int stop_requested;          /* finish at the next tick (consent withdrawn) */
    int finished;
    int pending_closes;
};

/* What a finished call leaves for the next segment of the same call. */
struct recent {
    struct recent *next;
    char refci[24];
    char cluster[BR_META_STR];
    char far_refci[24];
    char call_id[BR_ID_LEN + 1];
    char peer_call_id[BR_ID_LEN + 1];
    uint32_t next_seq;
    int64_t ended_us;
};

struct br_sessions {
    uv_loop_t *loop;
    br_store_t *st;
    const br_config_t *cfg;
    const br_session_ops_t *ops;
    br_stats_t *stats;
    br_ports_t *ports;
    br_stream_rx_t rx;    /* receive buffers every RTP socket shares */
    br_writer_t *writer;  /* the store writes of recordings in progress */
    int writer_closing;
    uv_timer_t timer;     /* the flush tick; it never flushes past rx's last read pass */
    int timer_running;
    int timer_open;
    br_call_t *calls;
    struct recent *recent;
    unsigned closing_calls;
    int stopping;
    int storage_failed;   /* a write failed; handled at the next tick */
    int storage_down;     /* refusing calls until a probe write succeeds */
    void (*notify)(void *ctx, const char *device, const char *text);
    void *notify_ctx;
    int storage_ticks;
    int storage_warned;
    int64_t drain_deadline_us;
    void (*stop_cb)(void *ctx);
    void *stop_ctx;
};

/* What the 200 OK offers, in order of preference (cucm-sip.md §2). */
static const uint8_t offered_pts[] = { BR_PT_PCMU, BR_PT_PCMA, BR_PT_G722, BR_PT_G729 };

static int64_t mono_us(void)
{
    return (int64_t)(uv_hrtime() / 1000);
}

static int64_t timeline_pos(const br_call_t *c, int64_t now_us)
{
    int64_t d = now_us - c->t0_mono_us;
    return d > 0 ? d * RATE / 1000000 : 0;
}

static void tick_cb(uv_timer_t *t);

static void timer_want(br_sessions_t *s, int want)
{
    if (!s->timer_open || uv_is_closing((uv_handle_t *)&s->timer) || want == s->timer_running)
        return;
    if (want)
        uv_timer_start(&s->timer, tick_cb, TICK_MS, TICK_MS);
    else
        uv_timer_stop(&s->timer); /* an idle recorder wakes for nothing */
    s->timer_running = want;
}

static void report_stopped(br_sessions_t *s)
{
    if (s->timer_open || s->writer_closing || s->closing_calls > 0 || !s->stop_cb)
        return;
    {
        void (*cb)(void *) = s->stop_cb;
        s->stop_cb = NULL;
        cb(s->stop_ctx);
    }
}

static void timer_closed(uv_handle_t *h)
{
    br_sessions_t *s = h->data;
    s->timer_open = 0;
    report_stopped(s);
}

static void writer_closed(void *ctx)
{
    br_sessions_t *s = ctx;
    s->writer_closing = 0;
    report_stopped(s);
}

/* Once stopping and everything is sealed and closed, wait for the writer
 * to have written it all, then close the timer and the writer; their close
 * callbacks report the stop. */
static void maybe_stopped(br_sessions_t *s)
{
    if (!s->stopping || s->calls || s->closing_calls > 0 || !s->timer_open)
        return;
    if (uv_is_closing((uv_handle_t *)&s->timer))
        return;
    if (s->writer) {
        s->writer_closing = 1;
        br_writer_close(s->writer, writer_closed, s); /* waits for the last seals */
    }
    br_stream_rx_close(&s->rx, NULL);
    uv_close((uv_handle_t *)&s->timer, timer_closed);
}

/* ---- call memory ---------------------------------------------------------- */

static void call_free_if_done(br_call_t *c)
{
    br_sessions_t *s = c->s;
    if (!c->finished || c->pending_closes > 0)
        return;
    br_stream_free(&c->legs[0].stream);
    br_stream_free(&c->legs[1].stream);
    br_mix_free(&c->mix);
    br_meta_events_free(&c->events);
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

static void unlink_call(br_call_t *c)
{
    br_sessions_t *s = c->s;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->finished = 1;
    s->stats->active_calls--;
    s->closing_calls++;
    if (!s->calls && !s->storage_down)
        timer_want(s, 0);
}

/* ---- store ------------------------------------------------------------------- */

static int segment_cb(const uint8_t *frames, size_t nframes, void *ctx)
{
    br_call_t *c = ctx;
    int rc;

    if (!c->writer || (c->meta.flags & BR_FLAG_STORAGE_ERROR))
        return 0; /* already reported; keep the timeline moving */
    rc = br_writer_segment(c->s->writer, c->writer, frames, nframes * 2);
    if (rc < 0) {
        c->meta.flags |= BR_FLAG_STORAGE_ERROR;
        c->s->stats->storage_errors++;
        c->s->storage_failed = 1;
        br_err("recording %s: cannot write audio: %s", c->meta.id, br_strerror(rc));
    }
    return 0;
}

static br_rec_party_t *party_of(br_call_t *c, int channel)
{
    return channel == BR_CH_NEAR ? &c->meta.near : &c->meta.far;
}

static void collect_leg_stats(br_call_t *c, br_leg_t *leg)
{
    br_rec_party_t *p = party_of(c, leg->channel);
    const br_stream_t *st = &leg->stream;

    p->packets = st->packets;
    p->lost = st->prior_lost + br_rtp_seq_lost(&st->seq);
    p->dropped = st->dropped + st->prior_duplicates + st->seq.duplicates +
                 c->mix.ch[leg->channel].late_samples / 160;
    if (st->pt != BR_PT_NONE)
        p->payload_type = st->pt;
}

/* Ends one leg locally: stats, socket closed. Does not finish the call. */
static void close_leg(br_call_t *c, br_leg_t *leg)
{
    enum leg_state was = leg->state;

    leg->state = LEG_ENDED;
    if (was == LEG_NONE || was == LEG_ENDED)
        return;
    /* The last packets before the BYE may still wait in the socket. */
    br_stream_drain(&leg->stream);
    collect_leg_stats(c, leg);
    c->s->stats->active_legs--;
    c->pending_closes++;
    br_stream_close(&leg->stream, leg_closed, leg);
}

static int live_legs(const br_call_t *c)
{
    int n = 0;
    for (int i = 0; i < 2; i++)
        n += c->legs[i].state == LEG_PENDING || c->legs[i].state == LEG_ANSWERED;
    return n;
}

/* The tick that expires old entries stops while no call is up, so the
 * window is checked here too. */
static struct recent *find_recent(br_sessions_t *s, const char *refci, const char *cluster)
{
    int64_t oldest = mono_us() - (int64_t)s->cfg->stitch_window_s * 1000000;
    for (struct recent *r = s->recent; r; r = r->next)
        if (strcmp(r->refci, refci) == 0 && strcmp(r->cluster, cluster) == 0)
            return r->ended_us >= oldest ? r : NULL;
    return NULL;
}

static void remember_call(br_call_t *c)
{
    br_sessions_t *s = c->s;
    struct recent *r;

    if (s->cfg->stitch_window_s == 0 || !c->meta.call_id[0])
        return;
    r = find_recent(s, c->meta.near.refci, c->cluster);
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return;
        br_strlcpy(r->refci, c->meta.near.refci, sizeof r->refci);
        br_strlcpy(r->cluster, c->cluster, sizeof r->cluster);
        r->next = s->recent;
        s->recent = r;
    }
    br_strlcpy(r->far_refci, c->meta.far.refci, sizeof r->far_refci);
    br_strlcpy(r->call_id, c->meta.call_id, sizeof r->call_id);
    br_strlcpy(r->peer_call_id, c->meta.peer_call_id, sizeof r->peer_call_id);
    r->next_seq = c->meta.call_seq + 1;
    r->ended_us = mono_us();
}

static void expire_recent(br_sessions_t *s, int64_t now)
{
    int64_t window = (int64_t)s->cfg->stitch_window_s * 1000000;
    struct recent **pp = &s->recent;
    while (*pp) {
        struct recent *r = *pp;
        if (now - r->ended_us > window) {
            *pp = r->next;
            free(r);
        } else {
            pp = &r->next;
        }
    }
}

static int any_media(const br_call_t *c)
{
    return c->meta.near.packets + c->meta.far.packets > 0;
}

/* Why nothing came, if CUCM told us: an ACK without SDP answer or a BYE
 * with Q.850 cause 47 means no common codec (cucm-sip.md §2). */
static int failed_attempt(const br_call_t *c)
{
    for (int i = 0; i < 2; i++) {
        const br_leg_t *l = &c->legs[i];
        if (l->state == LEG_NONE)
            continue;
        if (l->q850 == Q850_INCOMPATIBLE_DESTINATION || !l->have_remote)
            return 1;
    }
    return 0;
}

static void finish_call(br_call_t *c, uint32_t extra_flags)
{
    br_sessions_t *s = c->s;
    br_rec_meta_t sealed; /* what br_writer_seal copies for the writer thread */
    int64_t end = c->recording ? timeline_pos(c, mono_us()) : 0;
    const char *why = c->stop_requested                    ? "consent withdrawn"
                      : c->erase_by[0]                     ? "recording stopped by the user"
                      : extra_flags & BR_FLAG_STORAGE_ERROR ? "recording store unwritable"
                                                            : "recorder stopping";
    int rc;

    for (int i = 0; i < 2; i++) {
        br_leg_t *leg = &c->legs[i];
        if (leg->state == LEG_PENDING && leg->sip_ctx)
            s->ops->refuse(leg->sip_ctx, 503, why);
        else if (leg->state == LEG_ANSWERED && leg->sip_ctx)
            s->ops->hangup(leg->sip_ctx, why);
        leg->sip_ctx = NULL;
        close_leg(c, leg);
    }
    if (!c->recording) {
        s->stats->recordings_discarded++;
        br_info("refci %s: no recording started (cancelled before answer)", c->meta.near.refci);
        unlink_call(c);
        call_free_if_done(c);
        return;
    }
    br_mix_finish(&c->mix, end);
    if (!any_media(c) && failed_attempt(c)) {
        br_writer_discard(s->writer, c->writer);
        c->writer = NULL;
        s->stats->failed_attempts++;
        s->stats->recordings_discarded++;
        br_warn("refci %s: failed recording attempt: no RTP and CUCM reported no common codec "
                "(ACK without SDP or Q.850 cause 47); nothing kept",
                c->meta.near.refci);
        unlink_call(c);
        call_free_if_done(c);
        return;
    }
    c->meta.flags |= extra_flags;
    if (!any_media(c)) {
        c->meta.flags |= BR_FLAG_NO_MEDIA;
        s->stats->no_media++;
    }
    if (!c->meta.near.present || !c->meta.far.present) {
        if (!(c->meta.flags & BR_FLAG_SINGLE_LEG))
            s->stats->single_leg++;
        c->meta.flags |= BR_FLAG_SINGLE_LEG;
    }
    c->meta.frames = (uint64_t)end;
    c->meta.end_us = br_now_us();
    if (c->profile && c->profile->retention_days)
        c->meta.retain_until_us = c->meta.start_us + (int64_t)c->profile->retention_days * 86400 * 1000000;
    if (c->profile && c->profile->mode == BR_MODE_ON_DEMAND && c->profile->keep_confirm_minutes &&
        !(c->meta.flags & BR_FLAG_KEPT))
        c->meta.keep_deadline_us = c->meta.end_us + (int64_t)c->profile->keep_confirm_minutes * 60 * 1000000;
    /* Sealed (and erased, if asked) by the writer thread; the outcome is
     * logged and counted when it comes back (write_done). */
    br_meta_assemble(&sealed, &c->meta, &c->events);
    if (c->erase_by[0])
        rc = br_writer_seal(s->writer, c->writer, &sealed, BR_REC_SEALED, c->erase_by,
                            c->stop_requested ? "rtp" : "phone",
                            c->stop_requested ? "consent withdrawn by the other party (DTMF)"
                                              : "stopped and deleted by the user on the phone");
    else
        rc = br_writer_seal(s->writer, c->writer, &sealed, BR_REC_SEALED, NULL, NULL, NULL);
    c->writer = NULL;
    if (rc < 0) {
        s->stats->storage_errors++;
        br_err("recording %s: cannot seal: %s (it will be sealed as recovered at next start)",
               c->meta.id, br_strerror(rc));
    }
    remember_call(c);
    unlink_call(c);
    call_free_if_done(c);
}

static br_call_t *find_recording(br_sessions_t *s, const char *rec_id);

/* What the writer thread did, where the loop must act or tell. */
static void write_done(const br_write_done_t *d, void *ctx)
{
    br_sessions_t *s = ctx;
    const br_rec_meta_t *m = d->meta;
    br_call_t *c;

    switch (d->op) {
    case BR_WRITE_SEAL:
        if (d->rc < 0) {
            s->stats->storage_errors++;
            br_err("recording %s: cannot seal: %s (it will be sealed as recovered at next start)",
                   d->id, br_strerror(d->rc));
            return;
        }
        {
            char flags[96];
            br_meta_flags_str(m->flags, flags, sizeof flags);
            s->stats->recordings_sealed++;
            br_info("recording %s sealed: call %s #%" PRIu32 ", %.2f s, %" PRIu32
                    " segments, near %" PRIu64 " packets (%" PRIu64 " lost), far %" PRIu64
                    " packets (%" PRIu64 " lost), flags %s",
                    m->id, m->call_id, m->call_seq, (double)m->frames / RATE, m->segments,
                    m->near.packets, m->near.lost, m->far.packets, m->far.lost, flags);
        }
        if (d->erase_asked && d->erase_rc < 0)
            br_err("recording %s: could not erase it as asked: %s", d->id, br_strerror(d->erase_rc));
        else if (d->erase_asked)
            br_info("recording %s stopped and erased from the phone", d->id);
        return;
    case BR_WRITE_DISCARD:
        if (d->rc < 0)
            br_warn("recording %s: a failed attempt could not be removed: %s", d->id,
                    br_strerror(d->rc));
        return;
    default: /* the first metadata or a segment */
        s->stats->storage_errors++;
        br_err("recording %s: cannot write %s: %s", d->id,
               d->op == BR_WRITE_BEGIN ? "its first metadata" : "audio", br_strerror(d->rc));
        c = find_recording(s, d->id);
        if (c)
            c->meta.flags |= BR_FLAG_STORAGE_ERROR;
        /* Seal what is recording as truncated and refuse calls until the
         * store takes writes again (at the next tick). */
        if (!s->storage_down && !s->stopping) {
            s->storage_failed = 1;
            timer_want(s, 1);
        }
        return;
    }
}

/* ---- starting a recording --------------------------------------------------- */

/* Links this recording with the other party's when both are recorded: their
 * x-refci and x-farendrefci cross (cucm-sip.md §1). */
static void link_peer(br_call_t *c)
{
    br_sessions_t *s = c->s;

    if (!c->meta.far.refci[0])
        return;
    for (br_call_t *o = s->calls; o; o = o->next) {
        if (o == c || !o->recording || strcmp(o->meta.near.refci, c->meta.far.refci) != 0 ||
            strcmp(o->meta.far.refci, c->meta.near.refci) != 0)
            continue;
        br_strlcpy(c->meta.peer_call_id, o->meta.call_id, sizeof c->meta.peer_call_id);
        if (!o->meta.peer_call_id[0]) {
            br_strlcpy(o->meta.peer_call_id, c->meta.call_id, sizeof o->meta.peer_call_id);
            s->stats->linked++;
        }
        s->stats->linked++;
        br_info("recording %s linked with %s: both parties recorded", c->meta.id, o->meta.id);
        return;
    }
    for (struct recent *r = s->recent; r; r = r->next)
        if (strcmp(r->refci, c->meta.far.refci) == 0 && strcmp(r->far_refci, c->meta.near.refci) == 0 &&
            mono_us() - r->ended_us <= (int64_t)s->cfg->stitch_window_s * 1000000) {
            br_strlcpy(c->meta.peer_call_id, r->call_id, sizeof c->meta.peer_call_id);
            s->stats->linked++;
            return;
        }
}

static void dtmf_cb(br_stream_t *st, char digit, int64_t at, uint32_t ms, void *ctx)
{
    br_leg_t *leg = ctx;
    br_call_t *c = leg->call;
    br_rec_event_t ev = { .kind = BR_EVENT_DTMF, .channel = (uint8_t)leg->channel };

    (void)st;
    ev.at_ms = at > 0 ? (uint32_t)(at * 1000 / RATE) : 0;
    ev.digit = digit;
    ev.duration_ms = ms;
    if (br_meta_events_add(&c->events, &ev) == 0)
        br_info("recording %s: DTMF '%c' on the %s leg at %.2f s (%u ms)", c->meta.id, digit,
                leg->channel == BR_CH_NEAR ? "near" : "far", ev.at_ms / 1000.0, ms);
    /* The other party withdraws consent ("press 9 at any time to stop the
     * recording"): the same rule as a refusal before the call, so the
     * recording ends and is erased. Deferred to the tick: we are inside the
     * stream's packet handler here, and finishing closes the stream. */
    if (leg->channel == BR_CH_FAR && c->profile && c->profile->stop_digit[0] == digit &&
        !c->erase_by[0]) {
        br_strlcpy(c->erase_by, "caller (consent withdrawn by DTMF)", sizeof c->erase_by);
        c->stop_requested = 1;
        br_info("recording %s: the other party pressed %c: consent withdrawn, stopping and erasing",
                c->meta.id, digit);
    }
}

static void answer_leg(br_sessions_t *s, br_call_t *c, br_leg_t *leg)
{
    leg->state = LEG_ANSWERED;
    leg->stream.dtmf_cb = dtmf_cb;
    leg->stream.dtmf_ctx = leg;
    br_stream_attach(&leg->stream, &c->mix, c->t0_mono_us, RATE);
    if (leg->sip_ctx)
        s->ops->answer(leg->sip_ctx, &leg->local);
}

static int start_recording(br_call_t *c)
{
    br_sessions_t *s = c->s;
    br_rec_meta_t first; /* what br_writer_begin copies for the writer thread */
    struct recent *r;
    int rc;

    c->meta.start_us = br_now_us();
    br_meta_assemble(&first, &c->meta, &c->events);
    rc = br_writer_begin(s->writer, &first, &c->writer);
    memcpy(c->meta.id, first.id, sizeof c->meta.id); /* made by br_writer_begin */
    if (rc < 0) {
        s->stats->refused_store++;
        s->storage_failed = 1;
        br_err("refci %s: cannot start a recording: %s", c->meta.near.refci, br_strerror(rc));
        for (int i = 0; i < 2; i++) {
            br_leg_t *leg = &c->legs[i];
            if (leg->state == LEG_PENDING && leg->sip_ctx)
                s->ops->refuse(leg->sip_ctx, 503, "recording store unavailable");
            leg->sip_ctx = NULL;
        }
        return rc;
    }
    c->recording = 1;
    c->t0_mono_us = mono_us();
    s->stats->calls_total++;
    r = find_recent(s, c->meta.near.refci, c->cluster);
    if (r) {
        br_strlcpy(c->meta.call_id, r->call_id, sizeof c->meta.call_id);
        br_strlcpy(c->meta.peer_call_id, r->peer_call_id, sizeof c->meta.peer_call_id);
        c->meta.call_seq = r->next_seq;
        s->stats->stitched++;
        br_info("recording %s continues call %s as part %" PRIu32 " (same x-refci %s)", c->meta.id,
                c->meta.call_id, c->meta.call_seq + 1, c->meta.near.refci);
    } else {
        br_strlcpy(c->meta.call_id, c->meta.id, sizeof c->meta.call_id);
    }
    if (!c->meta.peer_call_id[0])
        link_peer(c);
    for (int i = 0; i < 2; i++)
        if (c->legs[i].state == LEG_PENDING)
            answer_leg(s, c, &c->legs[i]);
    return 0;
}

/* ---- the store failing ---------------------------------------------------------- */

#define RESERVE_BYTES (8u << 20)
#define PROBE_TICKS 20 /* every 2 s */

/* A write failed (full disk, read-only file system): seal what is being
 * recorded with what reached the store, using the space held in reserve,
 * and refuse calls until the store takes writes again. */
static void storage_failed(br_sessions_t *s)
{
    unsigned n = s->stats->active_calls;

    s->storage_failed = 0;
    s->storage_down = 1;
    s->storage_ticks = 0;
    s->storage_warned = 0;
    br_store_release_reserve(s->st);
    br_err("the recording store cannot be written (disk full or unwritable): sealing %u recording(s) "
           "in progress as truncated; new calls get 503 until it can be written again",
           n);
    while (s->calls)
        finish_call(s->calls, BR_FLAG_STORAGE_ERROR);
    br_store_audit(s->st, "bibrecd", "storage-error", "-", "-", BR_OUTCOME_FAILED,
                   "store unwritable; recordings in progress sealed as truncated");
    timer_want(s, 1);
}

static void storage_probe(br_sessions_t *s)
{
    int rc;

    if (++s->storage_ticks < PROBE_TICKS)
        return;
    s->storage_ticks = 0;
    if (br_store_reserve(s->st, RESERVE_BYTES) < 0)
        return; /* still no room */
    rc = br_store_probe(s->st);
    if (rc < 0) {
        br_store_release_reserve(s->st);
        if (!s->storage_warned)
            br_err("there is room again but the store still refuses writes (%s); restart bibrecd",
                   br_strerror(rc));
        s->storage_warned = 1;
        return;
    }
    s->storage_down = 0;
    br_info("the recording store takes writes again: accepting calls");
    br_store_audit(s->st, "bibrecd", "storage-recovered", "-", "-", BR_OUTCOME_OK,
                   "store writable again");
    if (!s->calls)
        timer_want(s, 0);
}

/* ---- the tick ----------------------------------------------------------------- */

static void tick_cb(uv_timer_t *t)
{
    br_sessions_t *s = t->data;
    int64_t now = mono_us();
    int64_t read_upto = br_stream_rx_read_upto(&s->rx, now);
    int64_t delay = (int64_t)s->cfg->jitter_ms * RATE / 1000;
    int64_t answer_wait = (int64_t)s->cfg->answer_wait_ms * 1000;
    int64_t pair_wait = (int64_t)s->cfg->pair_wait_ms * 1000;
    br_call_t *c, *next;

    for (c = s->calls; c; c = next) {
        next = c->next;
        if (!c->recording) {
            if (now - c->created_us >= answer_wait && start_recording(c) < 0)
                finish_call(c, 0);
            continue;
        }
        if (c->stop_requested) {
            finish_call(c, 0);
            continue;
        }
        br_mix_flush(&c->mix, timeline_pos(c, read_upto) - delay);
        if (!c->pairing_closed && now - c->created_us >= pair_wait) {
            c->pairing_closed = 1;
            if (!c->meta.near.present || !c->meta.far.present) {
                c->meta.flags |= BR_FLAG_SINGLE_LEG;
                s->stats->single_leg++;
                br_warn("recording %s: the %s leg of refci %s never came; recording one channel",
                        c->meta.id, c->meta.near.present ? "far" : "near", c->meta.near.refci);
            }
        }
    }
    if (s->stopping && s->calls && now >= s->drain_deadline_us) {
        br_info("drain time over: sealing %u recording(s) in progress", s->stats->active_calls);
        while (s->calls)
            finish_call(s->calls, BR_FLAG_SHUTDOWN);
    }
    if (s->storage_failed && !s->stopping)
        storage_failed(s);
    else if (s->storage_down && !s->stopping)
        storage_probe(s);
    expire_recent(s, now);
    maybe_stopped(s);
}

/* ---- public --------------------------------------------------------------------- */

int br_sessions_new(br_sessions_t **out, uv_loop_t *loop, br_store_t *st, const br_config_t *cfg,
                    const br_session_ops_t *ops, br_stats_t *stats)
{
    br_sessions_t *s = calloc(1, sizeof *s);
    int rc;

    *out = NULL;
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    s->st = st;
    s->cfg = cfg;
    s->ops = ops;
    s->stats = stats;
    rc = br_stream_rx_init(&s->rx, cfg->rtp_read_ms);
    if (rc < 0) {
        free(s);
        return rc;
    }
    rc = br_ports_new(&s->ports, cfg->rtp_port_min, cfg->rtp_port_max);
    if (rc < 0) {
        br_stream_rx_close(&s->rx, NULL);
        free(s);
        return rc;
    }
    rc = br_writer_new(&s->writer, loop, st, (size_t)cfg->write_queue_mb << 20, write_done, s);
    if (rc < 0) {
        br_ports_free(s->ports);
        br_stream_rx_close(&s->rx, NULL);
        free(s);
        return rc;
    }
    br_stream_rx_start(&s->rx, loop);
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    s->timer_open = 1;
    *out = s;
    return 0;
}

void br_sessions_stop(br_sessions_t *s, void (*cb)(void *ctx), void *ctx)
{
    s->stopping = 1;
    s->stop_cb = cb;
    s->stop_ctx = ctx;
    s->drain_deadline_us = mono_us() + (int64_t)s->cfg->drain_ms * 1000;
    if (s->calls && s->cfg->drain_ms)
        br_info("stopping: %u recording(s) in progress may run up to %u ms", s->stats->active_calls,
                s->cfg->drain_ms);
    /* Calls not yet answered are refused now; the rest may drain. */
    for (br_call_t *c = s->calls, *next; c; c = next) {
        next = c->next;
        if (!c->recording || s->cfg->drain_ms == 0)
            finish_call(c, c->recording ? BR_FLAG_SHUTDOWN : 0);
    }
    maybe_stopped(s);
}

void br_sessions_free(br_sessions_t *s)
{
    if (!s)
        return;
    while (s->recent) {
        struct recent *r = s->recent;
        s->recent = r->next;
        free(r);
    }
    br_writer_free(s->writer);
    br_ports_free(s->ports);
    free(s);
}

void br_sessions_set_notify(br_sessions_t *s, void (*fn)(void *ctx, const char *device, const char *text),
                            void *ctx)
{
    s->notify = fn;
    s->notify_ctx = ctx;
}

br_ports_t *br_sessions_ports(br_sessions_t *s)
{
    return s->ports;
}

int br_sessions_available(const br_sessions_t *s)
{
    return !s->stopping && !s->storage_down && s->stats->active_calls < s->cfg->max_calls;
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

static void fill_meta(br_rec_info_t *m, const br_cucm_from_t *f)
{
    fill_party(&m->near, f->refci, f->near_device, f->near_addr, f->near_cluster, f->near_guid);
    fill_party(&m->far, f->far_refci, f->far_device, f->far_addr, f->far_cluster, f->far_guid);
    if (f->session_id[0])
        br_strlcpy(m->session_id, f->session_id, sizeof m->session_id);
}

/* The call a new leg belongs to: same refci and cluster, its channel free.
 * Past pair-wait, only a call still recording with its other leg up: a
 * partner whose INVITE was lost and retransmitted (CUCM's timer A doubles
 * from 0.5 s, so a third loss makes it 7.5 s late) joins its recording
 * instead of starting a second one with the other channel missing. */
static br_call_t *find_partner(br_sessions_t *s, const br_cucm_from_t *f, int channel)
{
    for (br_call_t *c = s->calls; c; c = c->next) {
        if (c->legs[channel].state != LEG_NONE)
            continue;
        if (c->pairing_closed && !(c->recording && live_legs(c) > 0))
            continue;
        if (strcmp(c->meta.near.refci, f->refci) != 0 || strcmp(c->cluster, f->near_cluster) != 0)
            continue;
        return c;
    }
    return NULL;
}

static br_call_t *new_call(br_sessions_t *s, const br_cucm_from_t *f)
{
    size_t seg_frames = (size_t)RATE * s->cfg->segment_ms / 1000;
    size_t window = br_mix_window_for(s->cfg->jitter_ms + s->cfg->rtp_read_ms, TICK_MS, RATE);
    br_call_t *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    c->s = s;
    if (br_mix_init_window(&c->mix, window, seg_frames, BR_ULAW_SILENCE, BR_ULAW_SILENCE,
                           segment_cb, c) < 0) {
        free(c);
        return NULL;
    }
    c->mix.reanchor_limit = RATE / 5;
    c->created_us = mono_us();
    c->meta.sample_rate = RATE;
    c->meta.near.payload_type = BR_PT_NONE;
    c->meta.far.payload_type = BR_PT_NONE;
    br_strlcpy(c->cluster, f->near_cluster, sizeof c->cluster);
    fill_meta(&c->meta, f);
    {
        const br_profile_t *p = br_policy_match(s->cfg, f->near_addr, f->near_device);
        c->profile = p;
        if (p) {
            br_strlcpy(c->meta.profile, p->name, sizeof c->meta.profile);
            c->meta.basis = p->basis;
            c->meta.mode = p->mode;
        } else {
            br_strlcpy(c->meta.profile, "(none configured)", sizeof c->meta.profile);
            c->meta.mode = BR_MODE_ALWAYS;
        }
    }
    if (!s->calls)
        timer_want(s, 1);
    c->next = s->calls;
    if (s->calls)
        s->calls->prev = c;
    s->calls = c;
    s->stats->active_calls++;
    return c;
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
        if (br_codec_supported(offer->pts[i])) {
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
        rc = br_stream_open(&leg->stream, s->loop, &s->rx, s->cfg->rtp_address, (uint16_t)port,
                            leg->channel);
        if (rc == 0)
            return 0;
        /* Taken by another program on this host: skip it. */
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

static void format_pts(const br_sdp_media_t *m, char *out, size_t outsz)
{
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < m->npts && n + 8 < outsz; i++)
        n += (size_t)snprintf(out + n, outsz - n, "%s%u", i ? " " : "", m->pts[i]);
    if (!m->npts)
        snprintf(out, outsz, "none");
}

/* The other party's decision at an announcement (the newest for the far
 * end's number within the consent window): a refusal refuses the INVITEs,
 * so that nothing of the call is ever recorded; a profile that requires
 * consent refuses calls without an accepted decision. Returns 0 or the SIP
 * status to refuse with. */
static int consent_check(br_sessions_t *s, const br_cucm_from_t *f, const br_profile_t *p,
                         br_consent_rec_t *rec, int *found, char *why, size_t whysz)
{
    int64_t since = br_now_us() - (int64_t)s->cfg->consent_window_s * 1000000;
    int rc = br_consent_latest(s->st, f->far_addr, since, rec);
    const char *id = rc > 0 ? rec->id : "-";

    *found = rc > 0;
    if (rc < 0)
        br_warn("refci %s: looking up a consent decision failed: %s", f->refci, br_strerror(rc));
    if (rc > 0 && rec->decision == BR_CONSENT_REFUSED)
        snprintf(why, whysz, "the other party refused recording (consent decision %s)", rec->id);
    else if (p && p->require_consent && (rc <= 0 || rec->decision != BR_CONSENT_ACCEPTED))
        snprintf(why, whysz, "profile %s records only with the other party's consent, and none "
                 "was given in the last %u s", p->name, s->cfg->consent_window_s);
    else
        return 0;
    s->stats->refused_policy++;
    br_store_audit(s->st, "bibrecd", "refuse-recording", id, "sip", BR_OUTCOME_REFUSED, why);
    /* Both legs are refused; the phone hears of it once. */
    if (s->notify && f->stream == BR_STREAM_NEAR)
        s->notify(s->notify_ctx, f->near_device,
                  rc > 0 && rec->decision == BR_CONSENT_REFUSED ? "Customer declined recording"
                                                                : "Call not recorded: no consent");
    return 403;
}

/* The recording carries the decision it was made under, in its metadata
 * and on its timeline. */
static void link_consent(br_call_t *c, const br_consent_rec_t *rec)
{
    br_rec_event_t ev;

    br_strlcpy(c->meta.consent_id, rec->id, sizeof c->meta.consent_id);
    c->meta.consent = rec->decision;
    memset(&ev, 0, sizeof ev);
    ev.kind = BR_EVENT_CONSENT;
    ev.channel = BR_CH_FAR;
    br_strlcpy(ev.addr, rec->id, sizeof ev.addr);
    ev.digit = rec->digit;
    br_meta_events_add(&c->events, &ev);
    br_info("refci %s: linked to consent decision %s (%s)", c->meta.near.refci, rec->id,
            br_consent_name(rec->decision));
}

int br_session_leg_new(br_sessions_t *s, const br_cucm_from_t *f, const char *call_id,
                       const br_sdp_media_t *offer, void *sip_ctx, br_leg_t **out, char *why,
                       size_t whysz)
{
    int channel = f->stream == BR_STREAM_NEAR ? BR_CH_NEAR : BR_CH_FAR;
    uint8_t pts[BR_SDP_MAX_PTS], dtmf;
    int npts, rc, fresh = 0, have_consent = 0;
    br_consent_rec_t consent;
    br_call_t *c;
    br_leg_t *leg;

    *out = NULL;
    if (s->stopping) {
        s->stats->refused_draining++;
        snprintf(why, whysz, "shutting down");
        return 503;
    }
    if (s->storage_down) {
        s->stats->refused_store++;
        snprintf(why, whysz, "recording store unavailable (disk full or unwritable)");
        return 503;
    }
    if (choose_pts(offer, pts, &npts, &dtmf) < 0) {
        char list[64];
        format_pts(offer, list, sizeof list);
        s->stats->refused_codec++;
        snprintf(why, whysz,
                 "no common codec: offered payload types %s, we record 0 (PCMU), 8 (PCMA), "
                 "9 (G.722), 18 (G.729)",
                 list);
        return 488;
    }
    c = find_partner(s, f, channel);
    if (!c && br_policy_enforced(s->cfg) && !br_policy_match(s->cfg, f->near_addr, f->near_device)) {
        s->stats->refused_policy++;
        snprintf(why, whysz, "no recording profile covers line %s (device %s)",
                 f->near_addr[0] ? f->near_addr : "-", f->near_device[0] ? f->near_device : "-");
        return 403;
    }
    if (!c) {
        rc = consent_check(s, f, br_policy_match(s->cfg, f->near_addr, f->near_device), &consent,
                           &have_consent, why, whysz);
        if (rc)
            return rc;
    }
    if (!c) {
        if (s->stats->active_calls >= s->cfg->max_calls) {
            s->stats->refused_capacity++;
            snprintf(why, whysz, "at capacity (%u concurrent recordings)", s->cfg->max_calls);
            return 503;
        }
        c = new_call(s, f);
        if (!c) {
            snprintf(why, whysz, "out of memory");
            return 503;
        }
        fresh = 1;
        if (have_consent)
            link_consent(c, &consent);
    }
    leg = &c->legs[channel];
    memset(leg, 0, offsetof(br_leg_t, stream));
    leg->call = c;
    leg->channel = channel;
    br_strlcpy(leg->call_id, call_id, sizeof leg->call_id);
    rc = open_stream(s, leg);
    if (rc < 0) {
        snprintf(why, whysz, "no RTP port: %s", br_strerror(rc));
        if (fresh) {
            leg->state = LEG_NONE;
            finish_call(c, 0);
        }
        return 503;
    }
    leg->state = LEG_PENDING;
    leg->sip_ctx = sip_ctx;
    s->stats->active_legs++;
    s->stats->legs_total++;
    if (!fresh)
        fill_meta(&c->meta, f);
    if (!fresh && c->pairing_closed && (c->meta.flags & BR_FLAG_SINGLE_LEG)) {
        c->meta.flags &= ~(uint32_t)BR_FLAG_SINGLE_LEG;
        s->stats->single_leg--;
        br_warn("recording %s: the %s leg of refci %s came %.1f s after its partner; it joins "
                "the recording (its channel is silent until now)",
                c->meta.id, channel == BR_CH_NEAR ? "near" : "far", f->refci,
                (double)(mono_us() - c->created_us) / 1e6);
    }
    party_of(c, channel)->present = 1;
    br_stream_offer(&leg->stream, pts, npts, dtmf);
    if (offer) {
        leg->have_remote = 1;
        leg->remote = *offer;
        if (npts == 1 && br_stream_set_pt(&leg->stream, pts[0]) < 0)
            br_warn("leg %s: no decoder for payload type %u", call_id, pts[0]);
    }
    br_strlcpy(leg->local.addr, s->cfg->rtp_address, sizeof leg->local.addr);
    leg->local.port = leg->stream.port;
    memcpy(leg->local.pts, pts, (size_t)npts);
    leg->local.npts = npts;
    leg->local.dtmf_pt = dtmf;
    br_strlcpy(leg->local.direction, "recvonly", sizeof leg->local.direction);
    *out = leg;
    br_info("leg %s: %s end of refci %s%s, rtp port %u", call_id,
            channel == BR_CH_NEAR ? "near" : "far", f->refci,
            fresh ? " (first of its pair)" : " (paired)", leg->stream.port);
    /* Answer now if the call is complete or already recording; a lone first
     * leg waits up to answer-wait-ms for its partner (tick_cb). */
    if (c->recording)
        answer_leg(s, c, leg);
    else if ((live_legs(c) == 2 || s->cfg->answer_wait_ms == 0) && start_recording(c) < 0)
        finish_call(c, 0);
    return 0;
}

static int same_media(const br_sdp_media_t *a, const br_sdp_media_t *b)
{
    return strcmp(a->addr, b->addr) == 0 && a->port == b->port;
}

void br_session_leg_answer(br_leg_t *leg, const br_sdp_media_t *remote)
{
    br_call_t *c = leg->call;
    int moved = leg->have_remote && !same_media(&leg->remote, remote);

    if (moved && c->recording) {
        br_rec_event_t ev = { .kind = BR_EVENT_MEDIA_CHANGED, .channel = (uint8_t)leg->channel };
        ev.at_ms = (uint32_t)(timeline_pos(c, mono_us()) * 1000 / RATE);
        snprintf(ev.addr, sizeof ev.addr, "%.48s:%u", remote->addr, remote->port);
        br_meta_events_add(&c->events, &ev);
        /* The media now comes from elsewhere: latch anew on the next packet
         * that does not come from the old source (it may trail for a while). */
        br_stream_relatch(&leg->stream);
        br_info("leg %s: media moved to %s:%u", leg->call_id, remote->addr, remote->port);
    }
    leg->have_remote = 1;
    leg->remote = *remote;
    for (int i = 0; i < remote->npts; i++)
        if (br_codec_supported(remote->pts[i])) {
            if (leg->stream.pt != remote->pts[i] && br_stream_set_pt(&leg->stream, remote->pts[i]) < 0)
                continue;
            if (remote->dtmf_pt != 0xff)
                leg->stream.dtmf_pt = remote->dtmf_pt;
            br_debug("leg %s: payload type %u (%s), media from %s:%u", leg->call_id, remote->pts[i],
                     br_codec_name(remote->pts[i]), remote->addr, remote->port);
            return;
        }
    br_warn("leg %s: SDP answer has no codec we offered; keeping what RTP brings", leg->call_id);
}

void br_session_leg_update(br_leg_t *leg, const br_cucm_from_t *f)
{
    br_call_t *c = leg->call;
    br_rec_event_t ev = { .kind = BR_EVENT_FAR_CHANGED, .channel = (uint8_t)leg->channel };
    const char *cur_addr = c->meta.far.addr, *cur_dev = c->meta.far.device, *cur_refci = c->meta.far.refci;

    /* The far end now is the last change's, or the original one (which the
     * metadata keeps as it was). Both legs send the same UPDATE: the second
     * finds nothing new. */
    for (uint32_t i = c->events.n; i-- > 0;)
        if (c->events.v[i].kind == BR_EVENT_FAR_CHANGED) {
            cur_addr = c->events.v[i].addr;
            cur_dev = c->events.v[i].device;
            cur_refci = c->events.v[i].refci;
            break;
        }
    if (strncmp(f->far_addr, cur_addr, sizeof ev.addr - 1) == 0 &&
        strncmp(f->far_device, cur_dev, sizeof ev.device - 1) == 0 && strcmp(f->far_refci, cur_refci) == 0)
        return; /* a refresh, or the other leg's copy of the same change */
    ev.at_ms = c->recording ? (uint32_t)(timeline_pos(c, mono_us()) * 1000 / RATE) : 0;
    br_strlcpy(ev.refci, f->far_refci, sizeof ev.refci);
    br_strlcpy(ev.device, f->far_device, sizeof ev.device);
    br_strlcpy(ev.addr, f->far_addr, sizeof ev.addr);
    if (br_meta_events_add(&c->events, &ev) == 0) {
        c->s->stats->far_end_changes++;
        br_info("recording %s: far end changed at %.1f s (UPDATE from leg %s)", c->meta.id,
                ev.at_ms / 1000.0, leg->call_id);
    }
}

void br_session_leg_end(br_leg_t *leg, const char *reason, int q850)
{
    br_call_t *c = leg->call;

    if (leg->state != LEG_PENDING && leg->state != LEG_ANSWERED)
        return;
    if (leg->state == LEG_PENDING)
        c->s->stats->cancelled++;
    leg->q850 = q850;
    leg->sip_ctx = NULL;
    br_info("leg %s: ended (%s%s) after %" PRIu64 " packets", leg->call_id, reason,
            q850 == Q850_INCOMPATIBLE_DESTINATION ? ", Q.850 cause 47: no common codec" : "",
            leg->stream.packets);
    close_leg(c, leg);
    if (live_legs(c) == 0)
        finish_call(c, 0);
}

/* ---- the phone service's view ------------------------------------------------------ */

static br_call_t *find_recording(br_sessions_t *s, const char *rec_id)
{
    for (br_call_t *c = s->calls; c; c = c->next)
        if (c->recording && strcmp(c->meta.id, rec_id) == 0)
            return c;
    return NULL;
}

int br_sessions_by_device(br_sessions_t *s, const char *device, br_call_info_t *out, int max)
{
    int n = 0;
    for (br_call_t *c = s->calls; c && n < max; c = c->next) {
        br_call_info_t *i;
        if (!c->recording || strcasecmp(c->meta.near.device, device) != 0)
            continue;
        i = &out[n++];
        memset(i, 0, sizeof *i);
        br_strlcpy(i->rec_id, c->meta.id, sizeof i->rec_id);
        i->start_us = c->meta.start_us;
        br_strlcpy(i->profile, c->meta.profile, sizeof i->profile);
        i->basis = c->meta.basis;
        i->mode = c->meta.mode;
        i->flags = c->meta.flags;
        i->keep_confirm_minutes = c->profile ? c->profile->keep_confirm_minutes : 0;
        br_strlcpy(i->far_addr, c->meta.far.addr, sizeof i->far_addr);
    }
    return n;
}

int br_session_keep(br_sessions_t *s, const char *rec_id)
{
    br_call_t *c = find_recording(s, rec_id);
    if (!c)
        return -ENOENT;
    if (c->meta.mode != BR_MODE_ON_DEMAND)
        return -EPERM; /* always-on recordings are kept by their profile anyway */
    c->meta.flags |= BR_FLAG_KEPT;
    return 0;
}

int br_session_tag(br_sessions_t *s, const char *rec_id, const char *tag)
{
    br_call_t *c = find_recording(s, rec_id);
    br_rec_event_t ev = { .kind = BR_EVENT_TAG, .channel = BR_CH_NEAR };

    if (!c)
        return -ENOENT;
    ev.at_ms = (uint32_t)(timeline_pos(c, mono_us()) * 1000 / RATE);
    br_strlcpy(ev.addr, tag, sizeof ev.addr);
    return br_meta_events_add(&c->events, &ev);
}

int br_session_mark_private(br_sessions_t *s, const char *rec_id)
{
    br_call_t *c = find_recording(s, rec_id);
    if (!c)
        return -ENOENT;
    c->meta.flags |= BR_FLAG_PRIVATE;
    return 0;
}

int br_session_stop_delete(br_sessions_t *s, const char *rec_id, const char *actor)
{
    br_call_t *c = find_recording(s, rec_id);
    if (!c)
        return -ENOENT;
    if (c->meta.mode != BR_MODE_ON_DEMAND)
        return -EPERM;
    br_strlcpy(c->erase_by, actor, sizeof c->erase_by);
    finish_call(c, 0);
    return 0;
}
