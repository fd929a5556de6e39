/*
 * Fuzzes the RTP receive path: br_rtp_parse() and the sequence bookkeeping
 * (src/media/rtp.c) on every datagram, and the same datagrams through
 * br_stream_packet() (src/media/stream.c), the codecs (src/media/codec.c)
 * and telephone-events into a recording timeline (src/media/mix.c): all
 * that a hostile or broken phone reaches.
 *
 * One input is a short call on both legs. Byte 0 chooses the set-up: bits
 * 0-1 the segment size (160, 1600, 8000 or 7 frames), bit 2 a payload type
 * fixed before any packet, as an early offer does (bits 3-4 pick PCMU, PCMA,
 * G.722 or G.729), bit 5 a storage error at segment 1 + bits 6-7. Then come
 * records
 *
 *   u8 clock step | u16 big-endian: bit 15 far leg, bits 0..14 length | datagram
 *
 * (a short last record uses what is left). The clock step moves a fake
 * monotonic clock forward, mostly by milliseconds, sometimes by seconds so
 * that the timeline's ring wraps and legs re-anchor; a 100 ms flush "timer"
 * runs off the same clock, as in src/session/session.c. At the end the
 * timeline is finished and everything freed, so LeakSanitizer sees the
 * whole life cycle.
 */
#include <errno.h>

#include "fuzz.h"
#include "media/codec.h"
#include "media/mix.h"
#include "media/rtp.h"
#include "media/stream.h"

#define RATE 8000
#define JITTER_SAMPLES (RATE * 60 / 1000) /* the default 60 ms reorder window */
#define FLUSH_EVERY_US 100000
#define T0_US 1000000
#define DTMF_PT 101

/* What the segment callback saw; it checks each call against the mix. */
struct sink {
    const br_mix_t *mix;
    uint64_t frames;
    unsigned segments;
    unsigned fail_at; /* 1-based segment that reports a storage error; 0 never */
    int failed;
};

static int segment_cb(const uint8_t *frames, size_t nframes, void *ctx)
{
    struct sink *k = ctx;
    volatile uint8_t sum = 0;

    FUZZ_CHECK(frames == k->mix->seg);
    FUZZ_CHECK(nframes >= 1 && nframes <= k->mix->seg_frames);
    /* Touch every byte so ASan checks the whole range handed over. */
    for (size_t i = 0; i < 2 * nframes; i++)
        sum ^= frames[i];
    (void)sum;
    k->frames += nframes;
    if (++k->segments == k->fail_at) {
        k->failed = 1;
        return -EIO;
    }
    return 0;
}

static void dtmf_cb(br_stream_t *s, char digit, int64_t at, uint32_t ms, void *ctx)
{
    unsigned *events = ctx;

    FUZZ_CHECK(digit != 0 && strchr("0123456789*#ABCD?", digit) != NULL);
    (void)s;
    (void)at;
    (void)ms;
    ++*events;
}

static int64_t timeline_pos(int64_t now_us)
{
    return (now_us - T0_US) * RATE / 1000000;
}

/* The parser's own contract, checked on every datagram before the stream
 * sees it, plus RFC 3550 A.1 bookkeeping over the ones that parse. */
static void check_parse(const uint8_t *pkt, size_t len, br_rtp_seq_t *seq, uint64_t *parsed)
{
    br_rtp_hdr_t h;
    volatile uint8_t sum = 0;
    uint64_t ext, before;
    int dup = -1;

    if (br_rtp_parse(pkt, len, &h) < 0)
        return;
    ++*parsed;
    FUZZ_CHECK(len >= 12);
    FUZZ_CHECK(h.payload >= pkt + 12 && h.payload <= pkt + len);
    FUZZ_CHECK(h.payload_len <= (size_t)(pkt + len - h.payload));
    FUZZ_CHECK(h.payload_type < 128 && h.marker <= 1);
    for (size_t i = 0; i < h.payload_len; i++)
        sum ^= h.payload[i];
    (void)sum;

    before = seq->received + seq->duplicates;
    ext = br_rtp_seq_update(seq, h.seq, &dup);
    FUZZ_CHECK(dup == 0 || dup == 1);
    FUZZ_CHECK((uint16_t)ext == h.seq);
    FUZZ_CHECK(seq->received + seq->duplicates == before + 1);
    FUZZ_CHECK(seq->late < seq->received);
    FUZZ_CHECK(br_rtp_seq_lost(seq) <= br_rtp_seq_expected(seq));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t seg_choices[4] = { 160, 1600, 8000, 7 };
    /* What the recorder offers in its 200 OK (src/session/session.c). */
    static const uint8_t offered[4] = { BR_PT_PCMU, BR_PT_PCMA, BR_PT_G722, BR_PT_G729 };
    br_mix_t *mix = calloc(1, sizeof *mix);
    br_stream_t *st = calloc(2, sizeof *st);
    br_rtp_seq_t seq[2] = { { 0 }, { 0 } };
    uint64_t fed[2] = { 0, 0 }, parsed[2] = { 0, 0 };
    unsigned dtmf_events = 0;
    struct sink sink = { 0 };
    int64_t now = T0_US, last_flush = T0_US;
    uint8_t setup;
    int rc;

    if (!mix || !st)
        abort();
    if (size < 1)
        goto out;
    setup = data[0];
    data++;
    size--;

    sink.mix = mix;
    sink.fail_at = (setup & 0x20) ? 1 + (setup >> 6) : 0;
    rc = br_mix_init(mix, seg_choices[setup & 3], br_codec_silence(BR_PT_PCMU),
                     br_codec_silence(BR_PT_PCMU), segment_cb, &sink);
    FUZZ_CHECK(rc == 0);

    /* What br_stream_open() does, minus the sockets. */
    for (int ch = 0; ch < 2; ch++) {
        st[ch].pt = BR_PT_NONE;
        st[ch].dtmf_pt = BR_PT_NONE;
        st[ch].channel = ch == 0 ? BR_CH_NEAR : BR_CH_FAR;
        st[ch].dtmf_cb = dtmf_cb;
        st[ch].dtmf_ctx = &dtmf_events;
        br_stream_offer(&st[ch], offered, 4, DTMF_PT);
        /* An early offer with one codec fixes the payload type up front. */
        if (setup & 0x04)
            FUZZ_CHECK(br_stream_set_pt(&st[ch], offered[(setup >> 3) & 3]) == 0);
        br_stream_attach(&st[ch], mix, T0_US, RATE);
    }

    while (size >= 3) {
        uint8_t step = data[0];
        int ch = data[1] >> 7;
        size_t len = (size_t)(data[1] & 0x7f) << 8 | data[2];
        uint8_t *pkt;

        data += 3;
        size -= 3;
        if (len > size)
            len = size;

        /* Steps up to 199 are milliseconds of normal pacing and jitter; the
         * rest are stalls of 50 ms to 2.8 s, past the re-anchor limit and
         * the ring's 2.048 s. Longer ones would only cost time: the
         * timeline emits a stall sample by sample. */
        now += step < 200 ? (int64_t)step * 1000 : (int64_t)(step - 199) * 50000;

        pkt = fuzz_dup(data, len);
        check_parse(pkt, len, &seq[ch], &parsed[ch]);
        br_stream_packet(&st[ch], pkt, len, NULL, now);
        fed[ch]++;
        free(pkt);
        data += len;
        size -= len;

        if (now - last_flush >= FLUSH_EVERY_US) {
            rc = br_mix_flush(mix, timeline_pos(now) - JITTER_SAMPLES);
            FUZZ_CHECK(rc == 0 || rc == -EIO);
            last_flush = now;
        }
    }

    for (int ch = 0; ch < 2; ch++) {
        const br_stream_t *s = &st[ch];
        /* Every datagram lands in exactly one counter. */
        /* (Each SSRC counts its own sequence; earlier ones are in prior_*.) */
        uint64_t received = s->prior_received + s->seq.received;
        uint64_t duplicates = s->prior_duplicates + s->seq.duplicates;
        FUZZ_CHECK(s->packets + s->dropped + s->dtmf_packets + s->cn_packets + duplicates == fed[ch]);
        /* Only datagrams that parse reach the sequence numbers. */
        FUZZ_CHECK(received + duplicates == parsed[ch]);
        FUZZ_CHECK(received >= s->packets);
        FUZZ_CHECK(s->pt == BR_PT_NONE || memchr(offered, s->pt, sizeof offered) != NULL);
        FUZZ_CHECK((s->pt == BR_PT_NONE) == (s->codec == NULL));
    }
    FUZZ_CHECK(dtmf_events <= st[0].dtmf_packets + st[1].dtmf_packets);

    rc = br_mix_finish(mix, timeline_pos(now));
    FUZZ_CHECK(rc == 0 || rc == -EIO);
    FUZZ_CHECK(mix->seg_fill == 0);
    /* Every position up to the end reached the callback exactly once,
     * unless a storage error cut a segment short. */
    if (!sink.failed) {
        FUZZ_CHECK(rc == 0);
        FUZZ_CHECK(mix->flushed >= timeline_pos(now));
        FUZZ_CHECK(sink.frames == (uint64_t)mix->flushed);
    }
    br_mix_free(mix);
    br_stream_free(&st[0]);
    br_stream_free(&st[1]);
out:
    free(st);
    free(mix);
    return 0;
}
