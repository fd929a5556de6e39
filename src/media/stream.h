/*
 * One received RTP stream: the UDP socket of one recorded leg. It parses each
 * packet, keeps the leg's counters and hands the payload to the recording's
 * timeline (mix.h). The libuv handle is embedded; br_stream_close() starts
 * the close and calls close_cb when the handle is gone, and only then may
 * the owner free the memory.
 */
#ifndef BR_STREAM_H
#define BR_STREAM_H

#include <stdint.h>
#include <uv.h>

#include "mix.h"
#include "rtp.h"

#define BR_PT_NONE 0xff

typedef struct br_stream br_stream_t;
typedef void (*br_stream_close_cb)(br_stream_t *s, void *ctx);

struct br_stream {
    uv_udp_t udp;
    uint16_t port;
    int open;
    int channel;            /* BR_CH_NEAR or BR_CH_FAR */
    br_mix_t *mix;          /* not owned; NULL: packets are counted only */
    int64_t t0_mono_us;     /* timeline origin of the recording */
    uint32_t rate;          /* samples per second of the timeline */
    uint8_t pt;             /* negotiated payload type, BR_PT_NONE until known */
    uint8_t pt_offered[4];  /* payload types accepted before the answer */
    int npt_offered;
    uint8_t dtmf_pt;        /* telephone-event, BR_PT_NONE if none */
    struct sockaddr_storage source; /* latched on the first valid packet */
    int latched;
    br_rtp_seq_t seq;
    uint64_t packets;       /* accepted audio packets */
    uint64_t dropped;       /* malformed, other payload type, other source */
    uint64_t dtmf_packets;
    uint64_t cn_packets;
    int error;              /* last error from the timeline (storage), sticky */
    br_stream_close_cb close_cb;
    void *close_ctx;
    uint8_t buf[2048];      /* receive buffer: one datagram at a time */
};

/* Binds a UDP socket on addr:port and starts receiving. */
int br_stream_open(br_stream_t *s, uv_loop_t *loop, const char *addr, uint16_t port, int channel);
/* Accepted payload types before the SDP answer names one. */
void br_stream_offer(br_stream_t *s, const uint8_t *pts, int n, uint8_t dtmf_pt);
/* The answer's payload type: from now on only it is audio. */
void br_stream_set_pt(br_stream_t *s, uint8_t pt);
/* Starts feeding the timeline (packets before this are counted, not kept). */
void br_stream_attach(br_stream_t *s, br_mix_t *mix, int64_t t0_mono_us, uint32_t rate);
void br_stream_detach(br_stream_t *s);
void br_stream_close(br_stream_t *s, br_stream_close_cb cb, void *ctx);

/* Handles one datagram; exposed for tests and fuzzing (no socket needed). */
void br_stream_packet(br_stream_t *s, const uint8_t *pkt, size_t len,
                      const struct sockaddr *from, int64_t now_mono_us);

#endif
