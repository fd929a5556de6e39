/*
 * RTP reception for one leg. The per-packet path allocates nothing: one
 * recvmmsg fills the loop's shared receive buffers, each datagram is parsed
 * in place, decoded into a buffer on the stack and copied into the
 * timeline ring.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* recvmmsg */
#endif
#include "stream.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define PT_CN 13 /* RFC 3389 comfort noise */
#define TICKS_MAX 1600 /* decoded timeline bytes of one packet: 200 ms */
/* Batches read per wake-up: bounded, so that one flooded socket cannot
 * starve the others; the rest waits for the next loop iteration. */
#define MAX_BATCHES 4

#define RX_EVENTS 256
#define RTCP_TAG ((uintptr_t)1) /* in an event's pointer: the stream's RTCP socket */

static void rx_pass(uv_timer_t *t);

int br_stream_rx_init(br_stream_rx_t *rx, unsigned read_ms)
{
    memset(rx, 0, sizeof *rx);
    for (int i = 0; i < BR_STREAM_BATCH; i++) {
        rx->iov[i].iov_base = rx->buf[i];
        rx->iov[i].iov_len = sizeof rx->buf[i];
        rx->msgs[i].msg_hdr.msg_iov = &rx->iov[i];
        rx->msgs[i].msg_hdr.msg_iovlen = 1;
        rx->msgs[i].msg_hdr.msg_name = &rx->from[i];
    }
    rx->used = BR_STREAM_BATCH; /* the first read sets every length */
    rx->read_ms = read_ms ? read_ms : 40;
    rx->epfd = epoll_create1(EPOLL_CLOEXEC);
    return rx->epfd < 0 ? -errno : 0;
}

void br_stream_rx_start(br_stream_rx_t *rx, uv_loop_t *loop)
{
    uv_timer_init(loop, &rx->timer); /* cannot fail on Linux */
    rx->timer.data = rx;
    rx->timer_open = 1;
}

void br_stream_rx_close(br_stream_rx_t *rx, uv_close_cb cb)
{
    if (rx->epfd >= 0) {
        close(rx->epfd);
        rx->epfd = -1;
    }
    if (rx->timer_open && !uv_is_closing((uv_handle_t *)&rx->timer))
        uv_close((uv_handle_t *)&rx->timer, cb);
}

/* A batch's arrival time is taken when recvmmsg has returned, so it is never
 * earlier than any of its packets really arrived: a pass that started long
 * before (the thread was held up halfway through it) must not date the
 * packets that came meanwhile to its start, or they would look early, the
 * drift follower would move the anchor back by the hold-up, and the next
 * packets would land behind what the timeline already wrote out. */
static int64_t read_stamp(void)
{
    return (int64_t)(uv_hrtime() / 1000);
}

int64_t br_stream_rx_read_upto(const br_stream_rx_t *rx, int64_t now_us)
{
    return rx->nstreams && rx->read_us < now_us ? rx->read_us : now_us;
}

static void rx_count(br_stream_rx_t *rx, int delta)
{
    rx->nstreams += delta;
    if (!rx->timer_open)
        return;
    if (rx->nstreams > 0 && !rx->timer_running) {
        /* What arrived before the first pass counts as not yet read. */
        rx->read_us = read_stamp();
        uv_timer_start(&rx->timer, rx_pass, rx->read_ms, rx->read_ms);
        rx->timer_running = 1;
    } else if (rx->nstreams == 0 && rx->timer_running) {
        uv_timer_stop(&rx->timer); /* an idle recorder wakes for nothing */
        rx->timer_running = 0;
    }
}

/* Reads up to one batch; returns the datagrams read (0 when empty). */
static int read_batch(br_stream_rx_t *rx, int fd)
{
    int n;

    /* Only what the last read changed: the kernel writes the address
     * length and flags of the entries it fills, nothing else. */
    for (int i = 0; i < rx->used; i++) {
        rx->msgs[i].msg_hdr.msg_namelen = sizeof rx->from[i];
        rx->msgs[i].msg_hdr.msg_flags = 0;
    }
    /* The system call itself: glibc's recvmmsg() is a cancellation point,
     * which in a process with threads costs two extra atomic updates per
     * call (1.6 % of the daemon's CPU at 1000 calls), and no thread here
     * is ever cancelled. */
    do
        n = (int)syscall(SYS_recvmmsg, fd, rx->msgs, BR_STREAM_BATCH, MSG_DONTWAIT, NULL);
    while (n < 0 && errno == EINTR);
    rx->used = n > 0 ? n : 0;
    if (n < 0)
        return 0;
    rx->datagrams += (uint64_t)n;
    return n;
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
    uint8_t ticks[TICKS_MAX];
    const uint8_t *audio;
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
    if (s->passthrough) {
        audio = h.payload; /* G.711 and G.722 go on the timeline as they came */
        n = (int)(h.payload_len < sizeof ticks ? h.payload_len : sizeof ticks);
    } else {
        audio = ticks;
        n = s->codec ? br_rx_codec_decode(s->codec, h.payload, h.payload_len, ticks, sizeof ticks)
                     : -EPROTO;
    }
    if (n < 0) {
        s->dropped++;
        return;
    }
    s->packets++;
    /* A time before the timeline began (only a caller's own stamp can be)
     * has no place on it: counted, not kept. */
    if (s->mix && n > 0 && now_mono_us >= s->t0_mono_us) {
        int rc = br_mix_put_rtp(s->mix, s->channel, arrival_pos(s, now_mono_us), h.ssrc, h.timestamp,
                                audio, (size_t)n);
        (void)rc; /* storage errors are the segment callback's to report */
    }
}

/* Hands a batch to the stream; a datagram that did not fit is dropped. */
static void deliver(br_stream_t *s, int n, int64_t now_us)
{
    br_stream_rx_t *rx = s->rx;

    for (int i = 0; i < n && s->fd >= 0; i++) {
        struct msghdr *m = &rx->msgs[i].msg_hdr;
        if (m->msg_flags & MSG_TRUNC) {
            s->dropped++;
            continue;
        }
        br_stream_packet(s, rx->buf[i], rx->msgs[i].msg_len,
                         m->msg_namelen ? (const struct sockaddr *)&rx->from[i] : NULL, now_us);
    }
}

static void read_rtp(br_stream_t *s)
{
    s->rx->wakeups++;
    for (int b = 0; b < MAX_BATCHES; b++) {
        int n = read_batch(s->rx, s->fd);
        if (n <= 0)
            break;
        deliver(s, n, read_stamp());
        if (n < BR_STREAM_BATCH || s->closing)
            break; /* emptied: no probe for EAGAIN */
    }
}

static void read_rtcp(br_stream_t *s)
{
    /* Read only to be counted: a recorder needs no reports. */
    for (int b = 0; b < MAX_BATCHES; b++) {
        int n = read_batch(s->rx, s->rtcp_fd);
        s->rtcp_packets += (uint64_t)(n > 0 ? n : 0);
        if (n < BR_STREAM_BATCH)
            break;
    }
}

/* Reads every socket of the set that has data. A stream closed by what a
 * packet caused (a stop digit) is skipped: its memory lives until its
 * handles' close callbacks, which run after this pass. */
static void rx_pass(uv_timer_t *t)
{
    br_stream_rx_t *rx = t->data;
    struct epoll_event evs[RX_EVENTS];
    int64_t start_us = read_stamp();
    int n;

    /* Bounded: a flood on more sockets than this is read next time. */
    for (int round = 0; round < 64; round++) {
        n = epoll_wait(rx->epfd, evs, RX_EVENTS, 0);
        for (int i = 0; i < n; i++) {
            uintptr_t tag = (uintptr_t)evs[i].data.ptr;
            br_stream_t *s = (br_stream_t *)(tag & ~RTCP_TAG);
            if (s->closing)
                continue;
            if (tag & RTCP_TAG)
                read_rtcp(s);
            else
                read_rtp(s);
        }
        if (n < RX_EVENTS)
            break;
    }
    /* Whatever this pass left in a socket arrived after it started, and
     * will be stamped later still. */
    rx->read_us = start_us;
}

static int bind_socket(const char *addr, uint16_t port)
{
    struct sockaddr_storage sa;
    socklen_t salen;
    int fd, rc;

    memset(&sa, 0, sizeof sa);
    if (uv_ip4_addr(addr, port, (struct sockaddr_in *)&sa) == 0)
        salen = sizeof(struct sockaddr_in);
    else if (uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&sa) == 0)
        salen = sizeof(struct sockaddr_in6);
    else
        return -EINVAL;
    fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sa, salen) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* Takes ownership of fd: it is closed with the handle (which is never
 * started: the set is what is read). */
static int watch(uv_loop_t *loop, uv_poll_t *p, br_stream_t *s, int fd, int rtcp)
{
    struct epoll_event ev = { .events = EPOLLIN };
    int rc = uv_poll_init_socket(loop, p, fd);

    if (rc < 0) {
        close(fd);
        return rc;
    }
    p->data = s;
    s->open++;
    ev.data.ptr = (void *)((uintptr_t)s | (rtcp ? RTCP_TAG : 0));
    if (epoll_ctl(s->rx->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    s->in_set |= rtcp ? 2 : 1;
    if (!rtcp)
        rx_count(s->rx, 1);
    return 0;
}

int br_stream_open(br_stream_t *s, uv_loop_t *loop, br_stream_rx_t *rx, const char *addr,
                   uint16_t port, int channel)
{
    int fd, rc;

    memset(s, 0, sizeof *s);
    s->fd = s->rtcp_fd = -1;
    s->rx = rx;
    s->pt = BR_PT_NONE;
    s->dtmf_pt = BR_PT_NONE;
    s->channel = channel;
    s->port = port;
    fd = bind_socket(addr, port);
    if (fd < 0)
        return fd;
    rc = watch(loop, &s->udp, s, fd, 0);
    if (s->open)
        s->fd = fd;
    if (rc < 0)
        return rc;
    /* RTCP is optional: if the odd port is taken, record without it. */
    fd = bind_socket(addr, (uint16_t)(port + 1));
    if (fd >= 0 && watch(loop, &s->rtcp, s, fd, 1) == 0) {
        s->rtcp_fd = fd;
        s->rtcp_open = 1;
    } else {
        if (s->open == 2) { /* watched but not started: close it with the rest */
            s->rtcp_fd = fd;
            s->rtcp_open = 1;
        }
        br_debug("rtcp port %u unavailable; RTCP not counted", port + 1);
    }
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
    /* Kept in the stream, which the packet path has in cache already: asking
     * the codec, a separate allocation, cost a cache miss per packet (5 % of
     * the daemon's CPU at 1000 calls, by perf). */
    s->passthrough = (uint8_t)br_rx_codec_is_passthrough(c);
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

void br_stream_drain(br_stream_t *s)
{
    if (s->fd < 0 || !s->rx)
        return;
    /* Bounded: a flood must not keep us here. */
    for (int b = 0; b < 256 / BR_STREAM_BATCH; b++) {
        int n = read_batch(s->rx, s->fd);
        if (n <= 0)
            break;
        deliver(s, n, read_stamp());
        if (n < BR_STREAM_BATCH)
            break;
    }
}

static void closed_cb(uv_handle_t *h)
{
    br_stream_t *s = h->data;
    if (h == (uv_handle_t *)&s->udp) {
        close(s->fd);
        s->fd = -1;
    } else {
        close(s->rtcp_fd);
        s->rtcp_fd = -1;
    }
    if (--s->open == 0 && s->close_cb)
        s->close_cb(s, s->close_ctx);
}

void br_stream_close(br_stream_t *s, br_stream_close_cb cb, void *ctx)
{
    uv_handle_t *hs[2] = { (uv_handle_t *)&s->udp, (uv_handle_t *)&s->rtcp };
    int n = s->open;

    /* Out of the set at once: no later pass may read it. */
    if ((s->in_set & 1) && s->rx->epfd >= 0)
        epoll_ctl(s->rx->epfd, EPOLL_CTL_DEL, s->fd, NULL);
    if ((s->in_set & 2) && s->rx->epfd >= 0)
        epoll_ctl(s->rx->epfd, EPOLL_CTL_DEL, s->rtcp_fd, NULL);
    if (s->in_set & 1)
        rx_count(s->rx, -1);
    s->in_set = 0;
    s->closing = 1;
    s->mix = NULL;
    s->close_cb = cb;
    s->close_ctx = ctx;
    if (n == 0) {
        if (cb)
            cb(s, ctx);
        return;
    }
    for (int i = 0; i < n; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], closed_cb);
}

void br_stream_free(br_stream_t *s)
{
    br_rx_codec_free(s->codec);
    s->codec = NULL;
    s->passthrough = 0;
}
