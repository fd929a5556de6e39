/*
 * The recording's timeline: two channels (near end left, far end right) on
 * one sample clock that starts when the recording starts. RTP payloads are
 * placed at the position their timestamps give, anchored to the wall clock
 * at a leg's first packet, so a leg that starts late or stalls leaves
 * silence and the channels stay aligned. Positions older than the flush
 * point are final; the flush point trails the wall clock by the jitter
 * allowance and everything before it is emitted as interleaved stereo
 * segments to a callback (which encrypts and stores them).
 *
 * Samples are kept in each leg's own G.711 code (one byte a sample); the
 * stored frame is two bytes, near then far.
 */
#ifndef BR_MIX_H
#define BR_MIX_H

#include <stddef.h>
#include <stdint.h>

#define BR_MIX_RING 8192 /* default samples per channel: 1.024 s at 8 kHz */

enum { BR_CH_NEAR = 0, BR_CH_FAR = 1 };

/* Called with each full segment (and with the last, partial one from
 * br_mix_finish). frames stereo frames of 2 bytes. Returns 0 or an error,
 * which br_mix_* passes back to their caller. */
typedef int (*br_mix_segment_cb)(const uint8_t *frames, size_t nframes, void *ctx);

typedef struct br_mix_chan {
    uint8_t *ring;         /* ring_size samples, in br_mix_t's one allocation */
    uint8_t silence;
    uint8_t anchored;
    uint32_t ssrc;
    uint32_t anchor_ts;
    int64_t anchor_pos;
    uint64_t late_samples; /* arrived after their position was flushed */
    uint64_t reanchors;    /* SSRC changes and timestamp jumps */
    /* Clock drift: per second, the largest (RTP position - arrival), i.e.
     * the least delayed packet, shows where the sender's clock is; when it
     * moves a step from the first second's, the anchor follows. */
    int have_base;
    int64_t base_offset;
    int64_t win_best; /* the window's largest offset */
    unsigned win_n;
    uint64_t drift_corrections;
} br_mix_chan_t;

typedef struct br_mix {
    br_mix_chan_t ch[2];
    size_t ring_size;      /* samples per channel, a power of two */
    int64_t flushed; /* every position before this was emitted */
    int64_t reanchor_limit; /* samples of disagreement between RTP time and arrival */
    uint8_t *seg;
    size_t seg_frames;
    size_t seg_fill;
    br_mix_segment_cb cb;
    void *ctx;
} br_mix_t;

/* segment_frames: frames per emitted segment. silence_near/far: the code of
 * silence in each channel's law. Returns 0 or -ENOMEM. The window is
 * BR_MIX_RING samples per channel. */
int br_mix_init(br_mix_t *m, size_t segment_frames, uint8_t silence_near, uint8_t silence_far,
                br_mix_segment_cb cb, void *ctx);
/* The same with a window of at least window samples per channel (rounded
 * up to a power of two): it must hold the jitter allowance, the flush
 * interval and how far ahead of the wall clock a packet may be placed;
 * what arrives further ahead makes the window flush early. */
int br_mix_init_window(br_mix_t *m, size_t window, size_t segment_frames, uint8_t silence_near,
                       uint8_t silence_far, br_mix_segment_cb cb, void *ctx);
/* The window needed for a delay allowance and a flush interval (ms). The
 * allowance is the jitter allowance plus how long a packet may wait in its
 * socket before it is read: the flush point trails the clock by both. */
size_t br_mix_window_for(unsigned jitter_ms, unsigned tick_ms, unsigned rate);
void br_mix_free(br_mix_t *m);
void br_mix_set_silence(br_mix_t *m, int ch, uint8_t silence);

/* Writes n samples at absolute position pos of channel ch. */
int br_mix_put(br_mix_t *m, int ch, int64_t pos, const uint8_t *samples, size_t n);

/* Places an RTP payload: arrival_pos is where the wall clock says "now" is on
 * the timeline; the RTP timestamp decides the exact position relative to the
 * leg's anchor. Re-anchors on a new SSRC or when the two disagree by more
 * than reanchor_limit (a transfer, a re-INVITE, a clock that jumped), and
 * follows a sender clock that runs fast or slow (drift) in 10 ms steps, so
 * the two channels stay within a packet of each other however long the
 * call. */
int br_mix_put_rtp(br_mix_t *m, int ch, int64_t arrival_pos, uint32_t ssrc, uint32_t ts,
                   const uint8_t *samples, size_t n);

/* Emits everything before position upto (positions not written are silence). */
int br_mix_flush(br_mix_t *m, int64_t upto);
/* Flushes up to end and emits the last partial segment. */
int br_mix_finish(br_mix_t *m, int64_t end);

#endif
