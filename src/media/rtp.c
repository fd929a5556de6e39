/*
 * RTP header parsing and sequence tracking. See RFC 3550 §5.1 for the fixed
 * header and Appendix A.1 for the sequence-number algorithm; the recorder
 * differs from A.1 in that it does not wait for a source to be "valid" (a
 * recorder must keep the first packet of a call) and it counts duplicates.
 */
#include "rtp.h"

#include <errno.h>

int br_rtp_parse(const uint8_t *pkt, size_t len, br_rtp_hdr_t *out)
{
    size_t off = 12;
    unsigned cc;
    size_t pad = 0;

    if (len < 12 || (pkt[0] >> 6) != 2)
        return -EPROTO;
    /* RTCP SR/RR/SDES/BYE/APP have packet types 200..204, which read as
     * marker + PT 72..76 here; RFC 5761 §4 reserves those for this reason. */
    if ((pkt[1] & 0x7f) >= 72 && (pkt[1] & 0x7f) <= 76)
        return -EPROTO;
    cc = pkt[0] & 0x0f;
    off += 4 * cc;
    if (off > len)
        return -EPROTO;
    if (pkt[0] & 0x10) { /* header extension: 16-bit profile, 16-bit length in words */
        size_t words;
        if (off + 4 > len)
            return -EPROTO;
        words = (size_t)pkt[off + 2] << 8 | pkt[off + 3];
        off += 4 + 4 * words;
        if (off > len)
            return -EPROTO;
    }
    if (pkt[0] & 0x20) { /* padding: last octet counts the padding octets */
        pad = pkt[len - 1];
        if (pad == 0 || pad > len - off)
            return -EPROTO;
    }
    out->marker = pkt[1] >> 7;
    out->payload_type = pkt[1] & 0x7f;
    out->seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
    out->timestamp = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | (uint32_t)pkt[6] << 8 | pkt[7];
    out->ssrc = (uint32_t)pkt[8] << 24 | (uint32_t)pkt[9] << 16 | (uint32_t)pkt[10] << 8 | pkt[11];
    out->payload = pkt + off;
    out->payload_len = len - off - pad;
    return 0;
}

uint64_t br_rtp_seq_update(br_rtp_seq_t *s, uint16_t seq, int *dup)
{
    uint16_t delta;
    uint64_t ext, back;

    *dup = 0;
    if (!s->initialised) {
        s->initialised = 1;
        s->max_seq = seq;
        s->cycles = 0;
        s->base_seq = seq;
        s->received = 1;
        s->history = 1;
        return seq;
    }
    delta = (uint16_t)(seq - s->max_seq);
    if (delta != 0 && delta < 0x8000) {
        /* In order, possibly with a gap: advance, counting a wrap. */
        if (seq < s->max_seq)
            s->cycles += 0x10000;
        s->max_seq = seq;
        s->history = delta >= 64 ? 1 : (s->history << delta) | 1;
        s->received++;
        return (uint64_t)s->cycles + seq;
    }
    /* Not newer: the same as max_seq, or late. It belongs to the current
     * cycle unless it sits numerically above max_seq (then it is from before
     * the wrap). */
    ext = (uint64_t)s->cycles + seq;
    if (seq > s->max_seq && s->cycles >= 0x10000)
        ext -= 0x10000;
    back = (uint64_t)s->cycles + s->max_seq - ext;
    if (back < 64 && (s->history >> back) & 1) {
        *dup = 1;
        s->duplicates++;
        return ext;
    }
    if (back < 64)
        s->history |= 1ULL << back;
    s->late++;
    s->received++;
    return ext;
}

uint64_t br_rtp_seq_expected(const br_rtp_seq_t *s)
{
    if (!s->initialised)
        return 0;
    return (uint64_t)s->cycles + s->max_seq - s->base_seq + 1;
}

uint64_t br_rtp_seq_lost(const br_rtp_seq_t *s)
{
    /* Duplicates are not counted as received; packets older than the
     * 64-number history still are, so keep the count from going negative. */
    uint64_t expected = br_rtp_seq_expected(s);
    return expected > s->received ? expected - s->received : 0;
}
