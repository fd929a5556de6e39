/*
 * Timeline mixing; see mix.h. Every ring slot in [flushed, flushed + RING)
 * holds either a written sample or silence, because flushing a slot resets
 * it; so writing never needs to clear anything and a missing packet is
 * silence by construction.
 */
#include "mix.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MASK(m) ((m)->ring_size - 1)
#define PTIME_MAX_MS 60 /* the longest packet a placement must fit */

size_t br_mix_window_for(unsigned jitter_ms, unsigned tick_ms, unsigned rate)
{
    /* Flushed trails the clock by up to jitter + tick; a packet may start
     * up to the re-anchoring limit (200 ms) ahead of it and is one packet
     * long. */
    return (size_t)(jitter_ms + tick_ms + 200 + PTIME_MAX_MS) * rate / 1000;
}

int br_mix_init(br_mix_t *m, size_t segment_frames, uint8_t silence_near, uint8_t silence_far,
                br_mix_segment_cb cb, void *ctx)
{
    return br_mix_init_window(m, BR_MIX_RING, segment_frames, silence_near, silence_far, cb, ctx);
}

int br_mix_init_window(br_mix_t *m, size_t window, size_t segment_frames, uint8_t silence_near,
                       uint8_t silence_far, br_mix_segment_cb cb, void *ctx)
{
    size_t ring = 1024;
    uint8_t *mem;

    while (ring < window)
        ring <<= 1;
    memset(m, 0, sizeof *m);
    /* One allocation: both rings, then the segment being filled. */
    mem = malloc(2 * ring + segment_frames * 2);
    if (!mem)
        return -ENOMEM;
    m->ring_size = ring;
    m->ch[0].ring = mem;
    m->ch[1].ring = mem + ring;
    m->seg = mem + 2 * ring;
    m->seg_frames = segment_frames;
    m->cb = cb;
    m->ctx = ctx;
    m->reanchor_limit = 8000 / 5; /* 200 ms at 8 kHz */
    br_mix_set_silence(m, BR_CH_NEAR, silence_near);
    br_mix_set_silence(m, BR_CH_FAR, silence_far);
    return 0;
}

void br_mix_free(br_mix_t *m)
{
    free(m->ch[0].ring);
    m->ch[0].ring = m->ch[1].ring = m->seg = NULL;
}

void br_mix_set_silence(br_mix_t *m, int ch, uint8_t silence)
{
    /* Only unwritten slots change meaning; called before audio arrives. */
    if (m->ch[ch].silence != silence || !m->ch[ch].anchored) {
        m->ch[ch].silence = silence;
        memset(m->ch[ch].ring, silence, m->ring_size);
    }
}

static int emit_range(br_mix_t *m, int64_t upto)
{
    while (m->flushed < upto) {
        size_t room = m->seg_frames - m->seg_fill;
        size_t n = (size_t)(upto - m->flushed) < room ? (size_t)(upto - m->flushed) : room;
        uint8_t *out = m->seg + 2 * m->seg_fill;

        /* In runs that do not wrap, so the compiler can vectorise. */
        for (size_t done = 0; done < n;) {
            size_t slot = (size_t)(m->flushed + (int64_t)done) & MASK(m);
            size_t run = m->ring_size - slot < n - done ? m->ring_size - slot : n - done;
            const uint8_t *a = m->ch[0].ring + slot, *b = m->ch[1].ring + slot;
            uint8_t *o = out + 2 * done;
            for (size_t i = 0; i < run; i++) {
                o[2 * i] = a[i];
                o[2 * i + 1] = b[i];
            }
            memset(m->ch[0].ring + slot, m->ch[0].silence, run);
            memset(m->ch[1].ring + slot, m->ch[1].silence, run);
            done += run;
        }
        m->seg_fill += n;
        m->flushed += (int64_t)n;
        if (m->seg_fill == m->seg_frames) {
            int rc = m->cb(m->seg, m->seg_fill, m->ctx);
            m->seg_fill = 0;
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int br_mix_flush(br_mix_t *m, int64_t upto)
{
    return upto > m->flushed ? emit_range(m, upto) : 0;
}

int br_mix_finish(br_mix_t *m, int64_t end)
{
    int rc = br_mix_flush(m, end);
    if (rc == 0 && m->seg_fill > 0)
        rc = m->cb(m->seg, m->seg_fill, m->ctx);
    m->seg_fill = 0;
    return rc;
}

int br_mix_put(br_mix_t *m, int ch, int64_t pos, const uint8_t *samples, size_t n)
{
    br_mix_chan_t *c = &m->ch[ch];
    int64_t end = pos + (int64_t)n;
    int rc;

    if (end <= m->flushed) {
        c->late_samples += n;
        return 0;
    }
    if (pos < m->flushed) {
        size_t cut = (size_t)(m->flushed - pos);
        c->late_samples += cut;
        samples += cut;
        n -= cut;
        pos = m->flushed;
    }
    if (n > m->ring_size) { /* larger than the whole window: keep the tail */
        samples += n - m->ring_size;
        pos += (int64_t)(n - m->ring_size);
        n = m->ring_size;
    }
    /* Too far ahead of the flush point: the flush timer is behind, so emit
     * what must leave the window to make room. */
    if (end > m->flushed + (int64_t)m->ring_size) {
        rc = emit_range(m, end - (int64_t)m->ring_size);
        if (rc < 0)
            return rc;
    }
    {
        size_t slot = (size_t)pos & MASK(m);
        size_t first = m->ring_size - slot < n ? m->ring_size - slot : n;
        memcpy(c->ring + slot, samples, first);
        memcpy(c->ring, samples + first, n - first);
    }
    return 0;
}

#define DRIFT_WINDOW 50 /* packets: one second at 20 ms */

static void anchor(br_mix_chan_t *c, int64_t arrival_pos, uint32_t ts)
{
    c->anchor_ts = ts;
    c->anchor_pos = arrival_pos;
    c->have_base = 0;
    c->win_n = 0;
    c->win_best = INT64_MIN;
}

/* See br_mix_chan_t: a step of 10 ms is below what a listener notices as a
 * jump and keeps the channel within half a packet of the wall clock. */
static void follow_drift(br_mix_chan_t *c, int64_t offset, int64_t step)
{
    /* win_best is the largest offset of the window: the packet that was
     * least delayed on its way shows the sender's clock most truly. */
    if (offset > c->win_best)
        c->win_best = offset;
    if (++c->win_n < DRIFT_WINDOW)
        return;
    if (!c->have_base) {
        /* The first packet's own delay set the anchor; the least delayed
         * packet of the first second is the better reference. */
        c->have_base = 1;
        c->anchor_pos -= c->win_best;
        c->base_offset = 0;
    } else if (c->win_best - c->base_offset >= step || c->base_offset - c->win_best >= step) {
        c->anchor_pos -= c->win_best - c->base_offset;
        c->drift_corrections++;
    }
    c->win_n = 0;
    c->win_best = INT64_MIN;
}

int br_mix_put_rtp(br_mix_t *m, int ch, int64_t arrival_pos, uint32_t ssrc, uint32_t ts,
                   const uint8_t *samples, size_t n)
{
    br_mix_chan_t *c = &m->ch[ch];
    int64_t pos;

    if (!c->anchored || c->ssrc != ssrc) {
        if (c->anchored)
            c->reanchors++;
        c->anchored = 1;
        c->ssrc = ssrc;
        anchor(c, arrival_pos, ts);
    }
    pos = c->anchor_pos + (int32_t)(ts - c->anchor_ts);
    if (pos - arrival_pos > m->reanchor_limit || arrival_pos - pos > m->reanchor_limit) {
        c->reanchors++;
        anchor(c, arrival_pos, ts);
        pos = arrival_pos;
    }
    if (!c->have_base && pos > arrival_pos) {
        /* In a call's first second: this packet came sooner after its send
         * time than the one the anchor was set from (read late, when many
         * calls start at once, say). It cannot belong after its own
         * arrival, so the anchor moves back now, while what the late anchor
         * placed is still unflushed, rather than at the end of the second,
         * when the move would put the next packets behind what has been
         * written out. */
        c->anchor_pos -= pos - arrival_pos;
        pos = arrival_pos;
    }
    follow_drift(c, pos - arrival_pos, m->reanchor_limit / 20);
    return br_mix_put(m, ch, pos, samples, n);
}
