/*
 * One leg's packet handling without a socket: accepted payload types before
 * and after the SDP answer, malformed and foreign packets counted and
 * dropped, comfort noise and telephone-events kept out of the audio, loss
 * counted from sequence numbers, and the payload placed on the timeline.
 */
#include <arpa/inet.h>

#include "media/g711.h"
#include "media/stream.h"
#include "tap.h"

static size_t frames_out;
static uint8_t last[1600];

static int seg_cb(const uint8_t *f, size_t n, void *ctx)
{
    (void)ctx;
    memcpy(last, f, n * 2 < sizeof last ? n * 2 : sizeof last);
    frames_out += n;
    return 0;
}

static size_t rtp(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts, uint8_t fill, size_t n)
{
    p[0] = 0x80;
    p[1] = pt;
    p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8), p[7] = (uint8_t)ts;
    p[8] = 1, p[9] = 2, p[10] = 3, p[11] = 4;
    memset(p + 12, fill, n);
    return 12 + n;
}

static int dtmf_calls;
static char dtmf_digit;
static uint32_t dtmf_ms;

static void on_dtmf(br_stream_t *st, char digit, int64_t at, uint32_t ms, void *ctx)
{
    (void)st, (void)at, (void)ctx;
    dtmf_calls++;
    dtmf_digit = digit;
    dtmf_ms = ms;
}

/* A leg without a socket, offered PCMU and PCMA, feeding mix from t0. */
static void stream_on(br_stream_t *st, br_mix_t *mix, int channel, int64_t t0)
{
    static const uint8_t offer[] = { 0, 8 };

    br_mix_init(mix, 800, BR_ULAW_SILENCE, BR_ULAW_SILENCE, seg_cb, NULL);
    memset(st, 0, sizeof *st);
    st->pt = BR_PT_NONE;
    st->dtmf_pt = BR_PT_NONE;
    st->channel = channel;
    br_stream_offer(st, offer, 2, 101);
    br_stream_attach(st, mix, t0, 8000);
}

int main(void)
{
    static br_stream_t s;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(4000) };
    struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(4002) };
    br_mix_t mix;
    uint8_t pkt[256];
    size_t n;

    stream_on(&s, &mix, BR_CH_FAR, 0);
    s.dtmf_cb = on_dtmf;

    n = rtp(pkt, 18, 99, 0, 0x33, 20); /* G.729: not offered */
    br_stream_packet(&s, pkt, n, (struct sockaddr *)&a, 0);
    is_int(s.dropped, 1, "payload type not offered: dropped");
    is_int(s.packets, 0, "and not counted as audio");

    br_stream_packet(&s, (const uint8_t *)"\x01\x02garbage", 9, (struct sockaddr *)&a, 0);
    is_int(s.dropped, 2, "malformed packet dropped");

    n = rtp(pkt, 8, 100, 8000, 0x42, 160);
    br_stream_packet(&s, pkt, n, (struct sockaddr *)&a, 0);
    is_int(s.packets, 1, "offered PCMA accepted before the answer");
    is_int(s.pt, 8, "and adopted as the leg's payload type");

    n = rtp(pkt, 0, 101, 8160, 0x42, 160);
    br_stream_packet(&s, pkt, n, (struct sockaddr *)&a, 20000);
    is_int(s.dropped, 3, "once PCMA is in use, PCMU is dropped");

    n = rtp(pkt, 8, 102, 8320, 0x42, 160);
    br_stream_packet(&s, pkt, n, (struct sockaddr *)&b, 40000);
    is_int(s.dropped, 4, "packet from another source than the latched one dropped");

    n = rtp(pkt, 101, 103, 8320, 0, 4);
    br_stream_packet(&s, pkt, n, (struct sockaddr *)&a, 40000);
    is_int(s.dtmf_packets, 1, "telephone-event counted apart");
    n = rtp(pkt, 13, 104, 8320, 0x40, 1);
    br_stream_packet(&s, pkt, n, (struct sockaddr *)&a, 40000);
    is_int(s.cn_packets, 1, "comfort noise counted apart");

    n = rtp(pkt, 8, 106, 8480, 0x42, 160); /* 102..105 never came as audio */
    br_stream_packet(&s, pkt, n, (struct sockaddr *)&a, 60000);
    is_int(s.packets, 2, "two audio packets accepted");
    is_int(br_rtp_seq_lost(&s.seq), 2, "only what never came from the source is lost (102 from elsewhere, 105)");

    /* RFC 4733: digit 5 pressed for 100 ms, the end packet sent three times. */
    {
        uint8_t ev[16];
        n = rtp(pkt, 101, 107, 9000, 0, 4);
        pkt[12] = 5, pkt[13] = 0x0a, pkt[14] = 0, pkt[15] = 160; /* not ended, 20 ms */
        br_stream_packet(&s, pkt, n, (struct sockaddr *)&a, 80000);
        for (int k = 0; k < 3; k++) {
            n = rtp(pkt, 101, (uint16_t)(108 + k), 9000, 0, 4);
            pkt[12] = 5, pkt[13] = 0x8a, pkt[14] = 0x03, pkt[15] = 0x20; /* end, 800 ticks */
            br_stream_packet(&s, pkt, n, (struct sockaddr *)&a, 180000);
        }
        (void)ev;
        is_int(dtmf_calls, 1, "one telephone-event reported once despite three end packets");
        ok(dtmf_digit == '5', "digit 5");
        is_int(dtmf_ms, 100, "lasting 100 ms");
    }
    n = rtp(pkt, 8, 111, 9600, 0x42, 160);
    br_stream_packet(&s, pkt, n, (struct sockaddr *)&a, 200000);
    n = rtp(pkt, 8, 111, 9600, 0x42, 160);
    br_stream_packet(&s, pkt, n, (struct sockaddr *)&a, 200000);
    is_int(s.seq.duplicates, 1, "a duplicated packet is counted");
    is_int(s.packets, 3, "and not accepted twice");

    /* A time before the timeline began has no place on it. */
    {
        static br_stream_t e;
        br_mix_t m2;
        stream_on(&e, &m2, BR_CH_NEAR, 1000000);
        n = rtp(pkt, 0, 1, 0, 0x42, 160);
        br_stream_packet(&e, pkt, n, (struct sockaddr *)&a, 999000);
        is_int(e.packets, 1, "a packet dated before the timeline's start is counted");
        ok(!m2.ch[BR_CH_NEAR].anchored, "but not placed on the timeline");
        n = rtp(pkt, 0, 2, 160, 0x42, 160);
        br_stream_packet(&e, pkt, n, (struct sockaddr *)&a, 1000000);
        ok(m2.ch[BR_CH_NEAR].anchored && m2.ch[BR_CH_NEAR].anchor_pos == 0,
           "the first packet at the start anchors the leg at position 0");
        br_mix_free(&m2);
        br_stream_free(&e);
    }

    br_mix_finish(&mix, 800);
    is_int(frames_out, 800, "timeline emitted");
    ok(last[1] == 0x42 && last[0] == BR_ULAW_SILENCE, "audio landed in the far (right) channel only");
    ok(last[2 * 170 + 1] == BR_ALAW_SILENCE, "gap after the first packet is A-law silence");
    br_mix_free(&mix);
    br_stream_free(&s);
    return tap_done();
}
