/*
 * RTP reception for one leg. The receive buffer is embedded in the stream,
 * so the per-packet path allocates nothing: libuv reads into it, we parse in
 * place and copy the payload into the timeline ring.
 */
#include "stream.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "g711.h"

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

void br_stream_packet(br_stream_t *s, const uint8_t *pkt, size_t len, const struct sockaddr *from,
                      int64_t now_mono_us)
{
    br_rtp_hdr_t h;

    if (br_rtp_parse(pkt, len, &h) < 0) {
        s->dropped++;
        return;
    }
    if (from) {
        /* Latch on the first source (the forking phone); the SDP answer's
         * address is where CUCM says media comes from, but NAT and gateways
         * make the first packet the better witness. */
        if (!s->latched) {
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
    /* Events, comfort noise and audio share one sequence space (RFC 4733
     * §2.1), so every packet of the source counts towards loss. */
    br_rtp_seq_update(&s->seq, h.seq);
    if (h.payload_type == s->dtmf_pt && s->dtmf_pt != BR_PT_NONE) {
        s->dtmf_packets++;
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
    if (s->pt == BR_PT_NONE)
        br_stream_set_pt(s, h.payload_type);
    s->packets++;
    if (s->mix && h.payload_len > 0 && !s->error) {
        int64_t arrival = (now_mono_us - s->t0_mono_us) * (int64_t)s->rate / 1000000;
        int rc = br_mix_put_rtp(s->mix, s->channel, arrival, h.ssrc, h.timestamp, h.payload,
                                h.payload_len);
        if (rc < 0)
            s->error = rc;
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

int br_stream_open(br_stream_t *s, uv_loop_t *loop, const char *addr, uint16_t port, int channel)
{
    struct sockaddr_storage sa;
    int rc;

    memset(s, 0, offsetof(br_stream_t, buf));
    s->pt = BR_PT_NONE;
    s->dtmf_pt = BR_PT_NONE;
    s->channel = channel;
    s->port = port;
    if (uv_ip4_addr(addr, port, (struct sockaddr_in *)&sa) != 0 &&
        uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&sa) != 0)
        return -EINVAL;
    rc = uv_udp_init(loop, &s->udp);
    if (rc < 0)
        return rc;
    s->udp.data = s;
    s->open = 1;
    rc = uv_udp_bind(&s->udp, (const struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_udp_recv_start(&s->udp, alloc_cb, recv_cb);
    return rc;
}

void br_stream_offer(br_stream_t *s, const uint8_t *pts, int n, uint8_t dtmf_pt)
{
    if (n > (int)sizeof s->pt_offered)
        n = (int)sizeof s->pt_offered;
    memcpy(s->pt_offered, pts, (size_t)n);
    s->npt_offered = n;
    s->dtmf_pt = dtmf_pt;
}

void br_stream_set_pt(br_stream_t *s, uint8_t pt)
{
    s->pt = pt;
    if (s->mix)
        br_mix_set_silence(s->mix, s->channel, pt == 8 ? BR_ALAW_SILENCE : BR_ULAW_SILENCE);
}

void br_stream_attach(br_stream_t *s, br_mix_t *mix, int64_t t0_mono_us, uint32_t rate)
{
    s->mix = mix;
    s->t0_mono_us = t0_mono_us;
    s->rate = rate;
    if (s->pt != BR_PT_NONE)
        br_mix_set_silence(mix, s->channel, s->pt == 8 ? BR_ALAW_SILENCE : BR_ULAW_SILENCE);
}

void br_stream_detach(br_stream_t *s)
{
    s->mix = NULL;
}

static void closed_cb(uv_handle_t *h)
{
    br_stream_t *s = h->data;
    s->open = 0;
    if (s->close_cb)
        s->close_cb(s, s->close_ctx);
}

void br_stream_close(br_stream_t *s, br_stream_close_cb cb, void *ctx)
{
    s->mix = NULL;
    s->close_cb = cb;
    s->close_ctx = ctx;
    if (s->open && !uv_is_closing((uv_handle_t *)&s->udp)) {
        uv_udp_recv_stop(&s->udp);
        uv_close((uv_handle_t *)&s->udp, closed_cb);
    } else if (!s->open && cb) {
        cb(s, ctx);
    }
}
