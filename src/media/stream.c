/*
 * RTP reception for one leg. The receive and decode buffers are embedded
 * in the stream, so the per-packet path allocates nothing: libuv reads into
 * the stream, we parse in place, decode into the tick buffer and copy into
 * the timeline ring.
 */
#include "stream.h"

#include <errno.h>
#include <sys/socket.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define PT_CN 13 /* RFC 3389 comfort noise */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    br_stream_t *s = h->data;
    (void)suggested;
    buf->base = (char *)s->buf;
    buf->len = sizeof s->buf;
}

static int same_source(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return 0;
    if (b->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (b->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return 0;
}

static int pt_acceptable(const br_stream_t *s, uint8_t pt)
{
    if (s->pt != BR_PT_NONE)
        return pt == s->pt;
    for (int i = 0; i < s->npt_offered; i++)
        if (s->pt_offered[i] == pt)
            return 1;
    return 0;
}

static int64_t arrival_pos(const br_stream_t *s, int64_t now_mono_us)
{
    return (now_mono_us - s->t0_mono_us) * (int64_t)s->rate / 1000000;
}

/* RFC 4733 §2.3: one event per timestamp; the end bit marks its last
 * packets (sent three times). Report each event once, at its end. */
static void telephone_event(br_stream_t *s, const br_rtp_hdr_t *h, int64_t now_mono_us)
{
    static const char digits[] = "0123456789*#ABCD";
    const uint8_t *p = h->payload;
    uint32_t duration;
    int64_t at;

    if (h->payload_len < 4 || !(p[1] & 0x80))
        return;
    if (s->dtmf_reported && h->timestamp == s->dtmf_ts)
        return;
    s->dtmf_reported = 1;
    s->dtmf_ts = h->timestamp;
    duration = (uint32_t)p[2] << 8 | p[3];
    if (!s->dtmf_cb || !s->mix)
        return;
    /* The event started at its timestamp: place it like audio would be. */
    at = arrival_pos(s, now_mono_us) - duration;
    if (s->mix->ch[s->channel].anchored)
        at = s->mix->ch[s->channel].anchor_pos +
             (int32_t)(h->timestamp - s->mix->ch[s->channel].anchor_ts);
    s->dtmf_cb(s, p[0] < 16 ? digits[p[0]] : '?', at, duration * 1000 / s->rate, s->dtmf_ctx);
}

void br_stream_packet(br_stream_t *s, const uint8_t *pkt, size_t len, const struct sockaddr *from,
                      int64_t now_mono_us)
{
    br_rtp_hdr_t h;
    int dup, n;

    if (br_rtp_parse(pkt, len, &h) < 0) {
        s->dropped++;
        return;
    }
    if (from) {
        /* Latch on the first source (the forking phone); the SDP answer's
         * address is where CUCM says media comes from, but NAT and gateways
         * make the first packet the better witness. */
        if (!s->latched && s->avoid_old && same_source(&s->old_source, from)) {
            s->dropped++; /* the old source trailing after the move */
            return;
        }
        if (!s->latched) {
            if (s->avoid_old && s->seq.initialised) { /* a new source: a new sequence */
                s->prior_lost += br_rtp_seq_lost(&s->seq);
                s->prior_received += s->seq.received;
                s->prior_duplicates += s->seq.duplicates;
                memset(&s->seq, 0, sizeof s->seq);
            }
            s->avoid_old = 0;
            memset(&s->source, 0, sizeof s->source);
            memcpy(&s->source, from,
                   from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in));
            s->latched = 1;
        } else if (!same_source(&s->source, from)) {
            s->dropped++;
            return;
        }
    }
    /* Each SSRC has its own sequence numbers (a transfer or a re-INVITE
     * starts a new one): keep what the old one lost, count the new afresh. */
    if (s->seq.initialised && h.ssrc != s->ssrc) {
        s->prior_lost += br_rtp_seq_lost(&s->seq);
        s->prior_received += s->seq.received;
        s->prior_duplicates += s->seq.duplicates;
        memset(&s->seq, 0, sizeof s->seq);
    }
    s->ssrc = h.ssrc;
    /* Events, comfort noise and audio share one sequence space (RFC 4733
     * §2.1), so every packet of the source counts towards loss. */
    br_rtp_seq_update(&s->seq, h.seq, &dup);
    if (dup)
        return; /* counted in seq.duplicates */
    if (h.payload_type == s->dtmf_pt && s->dtmf_pt != BR_PT_NONE) {
        s->dtmf_packets++;
        telephone_event(s, &h, now_mono_us);
        return;
    }
    if (h.payload_type == PT_CN) {
        s->cn_packets++; /* silence: the timeline is silent where nothing is written */
        return;
    }
    if (!pt_acceptable(s, h.payload_type)) {
        s->dropped++;
        return;
    }
    if (s->pt == BR_PT_NONE && br_stream_set_pt(s, h.payload_type) < 0) {
        s->dropped++;
        return;
    }
    n = s->codec ? br_rx_codec_decode(s->codec, h.payload, h.payload_len, s->ticks, sizeof s->ticks)
                 : -EPROTO;
    if (n < 0) {
        s->dropped++;
        return;
    }
    s->packets++;
    if (s->mix && n > 0) {
        int rc = br_mix_put_rtp(s->mix, s->channel, arrival_pos(s, now_mono_us), h.ssrc, h.timestamp,
                                s->ticks, (size_t)n);
        (void)rc; /* storage errors are the segment callback's to report */
    }
}

static void recv_cb(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags)
{
    br_stream_t *s = u->data;
    (void)buf;
    if (n < 0) {
        br_debug("rtp port %u: receive error: %s", s->port, uv_strerror((int)n));
        return;
    }
    if (n == 0 || !from)
        return;
    if (flags & UV_UDP_PARTIAL) {
        s->dropped++;
        return;
    }
    br_stream_packet(s, s->buf, (size_t)n, from, (int64_t)uv_hrtime() / 1000);
}

static void rtcp_cb(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags)
{
    br_stream_t *s = u->data;
    (void)buf, (void)flags;
    if (n > 0 && from)
        s->rtcp_packets++; /* read only to be counted: a recorder needs no reports */
}

static int bind_udp(uv_loop_t *loop, uv_udp_t *u, br_stream_t *s, const char *addr, uint16_t port,
                    uv_udp_recv_cb cb)
{
    struct sockaddr_storage sa;
    int rc;

    if (uv_ip4_addr(addr, port, (struct sockaddr_in *)&sa) != 0 &&
        uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&sa) != 0)
        return -EINVAL;
    rc = uv_udp_init(loop, u);
    if (rc < 0)
        return rc;
    u->data = s;
    s->open++;
    rc = uv_udp_bind(u, (const struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_udp_recv_start(u, alloc_cb, cb);
    return rc;
}

int br_stream_open(br_stream_t *s, uv_loop_t *loop, const char *addr, uint16_t port, int channel)
{
    int rc;

    memset(s, 0, offsetof(br_stream_t, buf));
    s->pt = BR_PT_NONE;
    s->dtmf_pt = BR_PT_NONE;
    s->channel = channel;
    s->port = port;
    rc = bind_udp(loop, &s->udp, s, addr, port, recv_cb);
    if (rc < 0)
        return rc;
    /* RTCP is optional: if the odd port is taken, record without it. */
    if (bind_udp(loop, &s->rtcp, s, addr, (uint16_t)(port + 1), rtcp_cb) == 0)
        s->rtcp_open = 1;
    else if (s->open == 2)
        br_debug("rtcp port %u unavailable; RTCP not counted", port + 1);
    return 0;
}

void br_stream_offer(br_stream_t *s, const uint8_t *pts, int n, uint8_t dtmf_pt)
{
    if (n > (int)sizeof s->pt_offered)
        n = (int)sizeof s->pt_offered;
    memcpy(s->pt_offered, pts, (size_t)n);
    s->npt_offered = n;
    s->dtmf_pt = dtmf_pt;
}

int br_stream_set_pt(br_stream_t *s, uint8_t pt)
{
    br_rx_codec_t *c;
    int rc = br_rx_codec_new(&c, pt);

    if (rc < 0)
        return rc;
    br_rx_codec_free(s->codec);
    s->codec = c;
    s->pt = pt;
    if (s->mix)
        br_mix_set_silence(s->mix, s->channel, br_codec_silence(br_codec_store_pt(pt)));
    return 0;
}

void br_stream_relatch(br_stream_t *s)
{
    if (s->latched) {
        s->old_source = s->source;
        s->avoid_old = 1;
    }
    s->latched = 0;
}

void br_stream_attach(br_stream_t *s, br_mix_t *mix, int64_t t0_mono_us, uint32_t rate)
{
    s->mix = mix;
    s->t0_mono_us = t0_mono_us;
    s->rate = rate;
    if (s->pt != BR_PT_NONE)
        br_mix_set_silence(mix, s->channel, br_codec_silence(br_codec_store_pt(s->pt)));
}

void br_stream_drain(br_stream_t *s, int64_t now_mono_us)
{
    uv_os_fd_t fd;

    if (!s->open || uv_fileno((uv_handle_t *)&s->udp, &fd) != 0)
        return;
    /* Bounded: a flood must not keep us here. */
    for (int i = 0; i < 256; i++) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, s->buf, sizeof s->buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
        if (n <= 0)
            break;
        br_stream_packet(s, s->buf, (size_t)n, (struct sockaddr *)&from, now_mono_us);
    }
}

static void closed_cb(uv_handle_t *h)
{
    br_stream_t *s = h->data;
    if (--s->open == 0 && s->close_cb)
        s->close_cb(s, s->close_ctx);
}

void br_stream_close(br_stream_t *s, br_stream_close_cb cb, void *ctx)
{
    uv_handle_t *hs[2] = { (uv_handle_t *)&s->udp, (uv_handle_t *)&s->rtcp };
    int n = s->open;

    s->mix = NULL;
    s->close_cb = cb;
    s->close_ctx = ctx;
    if (n == 0) {
        if (cb)
            cb(s, ctx);
        return;
    }
    for (int i = 0; i < n; i++)
        if (!uv_is_closing(hs[i])) {
            if (i == 0)
                uv_udp_recv_stop(&s->udp);
            else
                uv_udp_recv_stop(&s->rtcp);
            uv_close(hs[i], closed_cb);
        }
}

void br_stream_free(br_stream_t *s)
{
    br_rx_codec_free(s->codec);
    s->codec = NULL;
}
