/*
 * The recording timeline: alignment of two legs, silence for what never
 * came, late packets, re-anchoring, and exact frame counts.
 */
#include "media/g711.h"
#include "media/mix.h"
#include "tap.h"

#define SEG 800

static uint8_t out[200000];
static size_t out_frames;
static int segments;

static int collect(const uint8_t *frames, size_t n, void *ctx)
{
    (void)ctx;
    if (2 * (out_frames + n) <= sizeof out) /* the hour-long test only counts */
        memcpy(out + 2 * out_frames, frames, 2 * n);
    out_frames += n;
    segments++;
    return 0;
}

static void reset(br_mix_t *m)
{
    br_mix_free(m);
    out_frames = 0;
    segments = 0;
    br_mix_init(m, SEG, BR_ULAW_SILENCE, BR_ALAW_SILENCE, collect, NULL);
}

static int range_is(int ch, size_t from, size_t to, uint8_t v)
{
    for (size_t i = from; i < to; i++)
        if (out[2 * i + ch] != v)
            return 0;
    return 1;
}

int main(void)
{
    br_mix_t m = { 0 };
    uint8_t a[160], b[160];

    memset(a, 0x11, sizeof a);
    memset(b, 0x22, sizeof b);

    reset(&m);
    br_mix_put(&m, BR_CH_NEAR, 0, a, 160);
    br_mix_put(&m, BR_CH_FAR, 160, b, 160);
    br_mix_finish(&m, 400);
    is_int(out_frames, 400, "finish emits exactly up to the end position");
    is_int(segments, 1, "one partial segment");
    ok(range_is(0, 0, 160, 0x11), "near samples at 0..160");
    ok(range_is(0, 160, 400, BR_ULAW_SILENCE), "near silent (µ-law) after its packet");
    ok(range_is(1, 0, 160, BR_ALAW_SILENCE), "far silent (A-law) before its packet");
    ok(range_is(1, 160, 320, 0x22), "far samples at 160..320");

    /* RTP placement: far leg starts 1 s late; near has a 3-packet stall. */
    reset(&m);
    for (uint32_t i = 0; i < 100; i++) {
        if (i < 40 || i >= 43) /* packets 40..42 never arrive */
            br_mix_put_rtp(&m, BR_CH_NEAR, i * 160, 1111, 5000 + i * 160, a, 160);
        if (i >= 50)
            br_mix_put_rtp(&m, BR_CH_FAR, i * 160, 2222, 90000 + (i - 50) * 160, b, 160);
        br_mix_flush(&m, (int64_t)i * 160 - 1600);
    }
    br_mix_finish(&m, 16000);
    is_int(out_frames, 16000, "2 s of timeline");
    is_int(segments, 20, "20 segments of 800 frames");
    ok(range_is(1, 0, 8000, BR_ALAW_SILENCE), "far silent for the first second");
    ok(range_is(1, 8000, 16000, 0x22), "far audio from 1 s on, aligned to arrival");
    ok(range_is(0, 0, 6400, 0x11), "near audio before the stall");
    ok(range_is(0, 6400, 6880, BR_ULAW_SILENCE), "the stall is silence");
    ok(range_is(0, 6880, 16000, 0x11), "near audio after the stall, in place");

    /* Reordering within the window and late packets after the flush point. */
    reset(&m);
    br_mix_put_rtp(&m, BR_CH_NEAR, 0, 7, 0, a, 160);
    br_mix_put_rtp(&m, BR_CH_NEAR, 320, 7, 320, a, 160);
    br_mix_put_rtp(&m, BR_CH_NEAR, 330, 7, 160, b, 160); /* late but in time */
    br_mix_flush(&m, 480);
    br_mix_put_rtp(&m, BR_CH_NEAR, 500, 7, 320, b, 160); /* after flush: too late */
    br_mix_finish(&m, 480);
    ok(range_is(0, 160, 320, 0x22), "reordered packet lands at its timestamp");
    ok(range_is(0, 320, 480, 0x11), "later packet not overwritten by a too-late duplicate");
    is_int(m.ch[0].late_samples, 160, "too-late samples counted");

    /* A new SSRC (transfer) re-anchors at arrival instead of at its timestamp. */
    reset(&m);
    br_mix_put_rtp(&m, BR_CH_FAR, 0, 1, 1000, b, 160);
    br_mix_put_rtp(&m, BR_CH_FAR, 800, 2, 123456, a, 160);
    br_mix_finish(&m, 960);
    ok(range_is(1, 800, 960, 0x11), "new SSRC placed at its arrival");
    is_int(m.ch[1].reanchors, 1, "re-anchor counted");
    /* A timestamp jump far from the wall clock re-anchors too. */
    reset(&m);
    br_mix_put_rtp(&m, BR_CH_FAR, 0, 1, 0, b, 160);
    br_mix_put_rtp(&m, BR_CH_FAR, 160, 1, 4000000, a, 160);
    br_mix_finish(&m, 320);
    ok(range_is(1, 160, 320, 0x11), "timestamp jump placed at arrival");

    /* A leg far ahead of the flush point forces a flush instead of wrapping. */
    reset(&m);
    br_mix_put(&m, BR_CH_NEAR, 0, a, 160);
    br_mix_put(&m, BR_CH_NEAR, BR_MIX_RING + 1000, b, 160);
    ok(m.flushed >= 1160, "window advanced to make room");
    ok(range_is(0, 0, 160, 0x11), "earlier samples emitted intact");
    /* Clock drift: one hour with the far phone's clock 0.1 % fast and up to
     * 20 ms of network jitter; the near leg is exact. Neither channel may
     * end up more than one packet (160 samples) from the wall clock. */
    {
        uint32_t rng = 12345;
        int64_t worst_far = 0, worst_near = 0;
        reset(&m);
        for (uint32_t i = 0; i < 180000; i++) {
            int64_t wall = (int64_t)i * 160;
            int64_t jitter_n, jitter_f;
            rng = rng * 1103515245 + 12345;
            jitter_n = (rng >> 16) % 160;
            rng = rng * 1103515245 + 12345;
            jitter_f = (rng >> 16) % 160;
            /* The fast clock's packet i carries timestamp i*160 but is sent
             * (and arrives) at i*160/1.001 on the wall clock. */
            br_mix_put_rtp(&m, BR_CH_NEAR, wall + jitter_n, 1, (uint32_t)(i * 160), a, 160);
            br_mix_put_rtp(&m, BR_CH_FAR, wall * 1000 / 1001 + jitter_f, 2, (uint32_t)(7 + i * 160), b, 160);
            {
                int64_t pn = m.ch[0].anchor_pos + (int32_t)((uint32_t)(i * 160) - m.ch[0].anchor_ts) - wall;
                int64_t pf = m.ch[1].anchor_pos + (int32_t)((uint32_t)(7 + i * 160) - m.ch[1].anchor_ts) -
                             wall * 1000 / 1001;
                if (i > 500 && llabs(pn) > worst_near)
                    worst_near = llabs(pn);
                if (i > 500 && llabs(pf) > worst_far)
                    worst_far = llabs(pf);
            }
            if (i % 50 == 0)
                br_mix_flush(&m, wall - 4000);
        }
        ok(worst_near <= 160, "exact clock: within one packet of the wall clock for an hour (worst %lld samples)",
           (long long)worst_near);
        ok(worst_far <= 160, "0.1 %% fast clock: within one packet for an hour (worst %lld samples)",
           (long long)worst_far);
        is_int(m.ch[1].reanchors, 0, "drift is followed without re-anchoring");
        ok(m.ch[1].drift_corrections >= 300 && m.ch[1].drift_corrections <= 500,
           "3.6 s of drift followed in 10 ms steps (%llu corrections)",
           (unsigned long long)m.ch[1].drift_corrections);
    }
    /* A call's first packet read 100 ms late (many calls starting at
     * once): the anchor it sets is late, and the next packet, read on
     * time, moves it back at once, before anything is flushed past it;
     * with the flush 60 ms behind the reads, as in the daemon, no packet
     * is cut as late. */
    {
        int64_t t;
        reset(&m);
        br_mix_put_rtp(&m, BR_CH_NEAR, 800 + 800, 1, 0, a, 160);  /* sent at 800, read at 1600 */
        for (t = 1; t < 100; t++) {
            int64_t sent = 800 + t * 160;
            int64_t read = sent + 40;                             /* read promptly from now on */
            br_mix_put_rtp(&m, BR_CH_NEAR, read, 1, (uint32_t)(t * 160), a, 160);
            if (t == 1)
                ok(m.ch[0].anchor_pos <= 800 + 40,
                   "the second packet, read on time, moves the anchor back at once (%lld)",
                   (long long)m.ch[0].anchor_pos);
            if (t % 5 == 0)
                br_mix_flush(&m, read - 480);
        }
        is_int(m.ch[0].late_samples, 0, "a late first packet: nothing cut as late after it");
        ok(m.ch[0].anchor_pos <= 800 + 40, "and it stays at the first packet's send time (%lld)",
           (long long)m.ch[0].anchor_pos);
        is_int(m.ch[0].drift_corrections, 0, "and that is no drift correction");
    }
    br_mix_free(&m);
    return tap_done();
}
