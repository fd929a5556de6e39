/*
 * RTP packet header parsing (RFC 3550 §5.1) and sequence-number bookkeeping
 * (RFC 3550 Appendix A.1). Pure functions over bytes: the receive path calls
 * them once per packet and they never allocate.
 */
#ifndef BR_RTP_H
#define BR_RTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct br_rtp_hdr {
    uint8_t payload_type;
    uint8_t marker;
    uint16_t seq;
    uint32_t timestamp;
    uint32_t ssrc;
    const uint8_t *payload; /* points into the packet */
    size_t payload_len;
} br_rtp_hdr_t;

/* Parses an RTP packet: version 2, CSRC list, header extension and padding
 * handled. Returns 0, or -EPROTO for anything that is not a valid RTP packet
 * (including RTCP, whose packet types 200..204 collide with PT 72..76). */
int br_rtp_parse(const uint8_t *pkt, size_t len, br_rtp_hdr_t *out);

/* Per-source sequence state, RFC 3550 A.1 simplified to what a recorder needs:
 * extended highest sequence number (wrap-around counted in cycles), packets
 * received, and the base, so that expected - received = lost. */
typedef struct br_rtp_seq {
    int initialised;
    uint16_t max_seq;
    uint32_t cycles; /* count of wraps, shifted by 16 */
    uint32_t base_seq;
    uint64_t received;    /* distinct packets */
    uint64_t late;        /* arrived after a higher sequence number */
    uint64_t duplicates;  /* seen before (within the last 64 numbers), not counted as received */
    uint64_t history;     /* bit i: max_seq - i was seen */
} br_rtp_seq_t;

/* Feeds one sequence number. Returns the extended sequence number (cycles +
 * seq) that this packet belongs to; packets before the highest seen (late or
 * duplicate) are mapped into the right cycle too. *dup is set when the same
 * number was already seen (the packet should be dropped). */
uint64_t br_rtp_seq_update(br_rtp_seq_t *s, uint16_t seq, int *dup);
/* Packets expected so far from the sequence numbers, and lost (never < 0). */
uint64_t br_rtp_seq_expected(const br_rtp_seq_t *s);
uint64_t br_rtp_seq_lost(const br_rtp_seq_t *s);

#endif
