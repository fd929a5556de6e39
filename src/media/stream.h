/*
 * One received RTP stream: the UDP sockets of one recorded leg (RTP on an
 * even port, RTCP on the next, RFC 3550 §11). It parses each packet, keeps
 * the leg's counters, turns the payload into timeline bytes (codec.h) and
 * places them on the recording's timeline (mix.h); RFC 4733 telephone-events
 * are reported to the owner. The libuv handles are embedded;
 * br_stream_close() starts closing them and calls close_cb when both are
 * gone, and only then may the owner free the memory.
 *
 * The sockets are our own, in an epoll set of the loop's br_stream_rx_t,
 * which a timer reads every read_ms (40 ms by default) rather than on each
 * packet: one epoll_wait for all the sockets with data, then one recvmmsg
 * per socket into receive buffers every stream shares, with no probe for
 * EAGAIN (the set is level-triggered: what is left is found next time).
 * Waking per packet cost an epoll_wait and a loop iteration for every few
 * packets; at 2000 calls the loop thread was out of time. A packet's
 * arrival is when the recvmmsg that read it returned: within read_ms of
 * the truth and never before it, so a pass held up halfway makes packets
 * look late (which the jitter allowance absorbs), never early (which moved
 * anchors back and cut packets). The timeline is flushed only up to the
 * start of the last pass. The kernel's own timestamps (SO_TIMESTAMPNS) were
 * tried and gave nothing over this at the cost of a control message per
 * packet.
 */
#ifndef BR_STREAM_H
#define BR_STREAM_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "codec.h"
#include "mix.h"
#include "rtp.h"

#define BR_PT_NONE 0xff
#define BR_STREAM_BATCH 16   /* datagrams per recvmmsg */
#define BR_STREAM_PKT_MAX 2048

/* Receive buffers shared by every stream of one loop (streams are only
 * read on the loop's thread, one at a time). Owned by whoever opens the
 * streams; must outlive them. */
typedef struct br_stream_rx {
    struct mmsghdr msgs[BR_STREAM_BATCH];
    struct iovec iov[BR_STREAM_BATCH];
    struct sockaddr_storage from[BR_STREAM_BATCH];
    uint8_t buf[BR_STREAM_BATCH][BR_STREAM_PKT_MAX];
    uint64_t wakeups;  /* readable events handled */
    uint64_t datagrams;
    int used;          /* entries the last read filled (their lengths to reset) */
    int epfd;          /* the set of every open stream's sockets */
    uv_timer_t timer;  /* reads the set every read_ms while a stream is open */
    unsigned read_ms;
    int timer_open, timer_running;
    int nstreams;      /* streams in the set */
    int64_t read_us;   /* monotonic µs: what arrived before this has been read */
} br_stream_rx_t;

/* Makes the set (read_ms: how often it is read); br_stream_rx_start gives
 * it its timer on loop (without one, nothing reads the set). */
int br_stream_rx_init(br_stream_rx_t *rx, unsigned read_ms);
void br_stream_rx_start(br_stream_rx_t *rx, uv_loop_t *loop);
/* Closes the timer (cb, may be NULL, when it is closed) and the set; every
 * stream must be closed first. */
void br_stream_rx_close(br_stream_rx_t *rx, uv_close_cb cb);
/* Monotonic µs before which every packet has been read: the last pass, or
 * now_us while no stream is open. */
int64_t br_stream_rx_read_upto(const br_stream_rx_t *rx, int64_t now_us);

typedef struct br_stream br_stream_t;
typedef void (*br_stream_close_cb)(br_stream_t *s, void *ctx);
/* A telephone-event ended: digit ('0'-'9', '*', '#', 'A'-'D', or '?'),
 * where it started on the timeline (samples) and how long it lasted (ms). */
typedef void (*br_stream_dtmf_cb)(br_stream_t *s, char digit, int64_t at, uint32_t ms, void *ctx);

struct br_stream {
    uv_poll_t udp;          /* never started: they make closing asynchronous */
    uv_poll_t rtcp;
    int fd, rtcp_fd;        /* -1 when not open; closed with the handles */
    br_stream_rx_t *rx;     /* not owned */
    uint16_t port;
    int open;               /* handles still open (0, 1 or 2) */
    int in_set;             /* in rx's epoll set: 1 the RTP socket, 2 the RTCP one */
    int closing;
    int rtcp_open;
    int channel;            /* BR_CH_NEAR or BR_CH_FAR */
    br_mix_t *mix;          /* not owned; NULL: packets are counted only */
    int64_t t0_mono_us;     /* timeline origin of the recording */
    uint32_t rate;          /* timeline ticks per second */
    uint8_t pt;             /* negotiated payload type, BR_PT_NONE until known */
    uint8_t pt_offered[8];  /* payload types accepted before the answer */
    int npt_offered;
    uint8_t dtmf_pt;        /* telephone-event, BR_PT_NONE if none */
    br_rx_codec_t *codec;   /* for pt */
    uint8_t passthrough;    /* pt's payload goes on the timeline as it came */
    struct sockaddr_storage source; /* latched on the first valid packet */
    int latched;
    int avoid_old;          /* relatching: ignore the previous source */
    struct sockaddr_storage old_source;
    uint32_t ssrc;          /* of the sequence being counted */
    br_rtp_seq_t seq;       /* per SSRC: a new source starts a new sequence */
    uint64_t prior_lost;    /* what earlier SSRCs received, lost and duplicated */
    uint64_t prior_received;
    uint64_t prior_duplicates;
    uint64_t packets;       /* accepted audio packets */
    uint64_t dropped;       /* malformed, other payload type, other source, undecodable */
    uint64_t dtmf_packets;
    uint64_t cn_packets;
    uint64_t rtcp_packets;
    uint32_t dtmf_ts;       /* timestamp of the last event reported */
    int dtmf_reported;
    br_stream_dtmf_cb dtmf_cb;
    void *dtmf_ctx;
    br_stream_close_cb close_cb;
    void *close_ctx;
};

/* Binds RTP on addr:port (and RTCP on port + 1 if free) and starts
 * receiving into rx's buffers. On error, if s->open > 0, the caller must
 * still br_stream_close() it. */
int br_stream_open(br_stream_t *s, uv_loop_t *loop, br_stream_rx_t *rx, const char *addr,
                   uint16_t port, int channel);
/* Accepted payload types before the SDP answer names one. */
void br_stream_offer(br_stream_t *s, const uint8_t *pts, int n, uint8_t dtmf_pt);
/* The answer's payload type: from now on only it is audio. */
int br_stream_set_pt(br_stream_t *s, uint8_t pt);
/* The media moved (re-INVITE): latch on the next packet from a new source. */
void br_stream_relatch(br_stream_t *s);
/* Starts feeding the timeline (packets before this are counted, not kept). */
void br_stream_attach(br_stream_t *s, br_mix_t *mix, int64_t t0_mono_us, uint32_t rate);
/* Reads what the kernel still holds for the RTP socket (the packets sent
 * just before the BYE) into the timeline; call before closing. */
void br_stream_drain(br_stream_t *s);
void br_stream_close(br_stream_t *s, br_stream_close_cb cb, void *ctx);
/* Releases what br_stream_open/set_pt allocated (after the close callback). */
void br_stream_free(br_stream_t *s);

/* Handles one datagram; exposed for tests and fuzzing (no socket needed). */
void br_stream_packet(br_stream_t *s, const uint8_t *pkt, size_t len,
                      const struct sockaddr *from, int64_t now_mono_us);

#endif
