/*
 * RTP header parsing (RFC 3550 §5.1) and sequence bookkeeping (Appendix A.1).
 */
#include <errno.h>

#include "media/rtp.h"
#include "tap.h"

static size_t make(uint8_t *p, uint8_t b0, uint8_t b1, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
    p[0] = b0;
    p[1] = b1;
    p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8), p[7] = (uint8_t)ts;
    p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16), p[10] = (uint8_t)(ssrc >> 8),
    p[11] = (uint8_t)ssrc;
    return 12;
}

static void parsing(void)
{
    uint8_t p[256];
    br_rtp_hdr_t h;
    size_t n = make(p, 0x80, 0x80 | 8, 0xabcd, 0x01020304, 0xdeadbeef);

    memset(p + n, 0x55, 160);
    is_int(br_rtp_parse(p, n + 160, &h), 0, "plain RTP packet parses");
    is_int(h.payload_type, 8, "payload type");
    is_int(h.marker, 1, "marker bit");
    is_int(h.seq, 0xabcd, "sequence number");
    ok(h.timestamp == 0x01020304u, "timestamp");
    ok(h.ssrc == 0xdeadbeefu, "ssrc");
    is_int(h.payload_len, 160, "payload length");
    ok(h.payload == p + 12, "payload starts after the fixed header");

    p[0] = 0x82; /* two CSRCs */
    is_int(br_rtp_parse(p, n + 160, &h), 0, "CSRC list");
    is_int(h.payload_len, 152, "payload after 2 CSRCs");
    is_int(br_rtp_parse(p, 16, &h), -EPROTO, "CSRC list beyond the packet");

    p[0] = 0x90; /* extension: profile 0xbede, 1 word */
    p[12] = 0xbe, p[13] = 0xde, p[14] = 0, p[15] = 1;
    is_int(br_rtp_parse(p, n + 160, &h), 0, "header extension");
    is_int(h.payload_len, 152, "payload after extension header and one word");
    p[15] = 200;
    is_int(br_rtp_parse(p, n + 160, &h), -EPROTO, "extension longer than the packet");

    p[0] = 0xa0; /* padding */
    p[n + 159] = 4;
    is_int(br_rtp_parse(p, n + 160, &h), 0, "padding");
    is_int(h.payload_len, 156, "padding removed");
    p[n + 159] = 0;
    is_int(br_rtp_parse(p, n + 160, &h), -EPROTO, "zero padding count");
    p[n + 159] = 250;
    is_int(br_rtp_parse(p, n + 160, &h), -EPROTO, "padding longer than payload");

    p[0] = 0x40;
    is_int(br_rtp_parse(p, n + 160, &h), -EPROTO, "version 1 refused");
    is_int(br_rtp_parse(p, 11, &h), -EPROTO, "short packet refused");
    make(p, 0x80, 200, 0, 0, 0);
    is_int(br_rtp_parse(p, 12, &h), -EPROTO, "RTCP sender report is not RTP");
}

/* Table-driven: each row feeds sequence numbers and checks the counters. */
struct seq_case {
    const char *name;
    int n;
    uint16_t seqs[16];
    uint64_t expected, lost, duplicates, late;
};

static const struct seq_case seq_cases[] = {
    { "in order", 5, { 10, 11, 12, 13, 14 }, 5, 0, 0, 0 },
    { "a gap of two", 4, { 100, 101, 104, 105 }, 6, 2, 0, 0 },
    { "a late packet fills its hole", 5, { 100, 101, 103, 102, 104 }, 5, 0, 0, 1 },
    { "duplicates are dropped, not received", 6, { 7, 8, 8, 9, 7, 9 }, 3, 0, 3, 0 },
    { "wrap-around", 6, { 65533, 65534, 65535, 0, 1, 2 }, 6, 0, 0, 0 },
    { "loss across the wrap", 4, { 65534, 65535, 2, 3 }, 6, 2, 0, 0 },
    { "reordered across the wrap", 5, { 65534, 0, 65535, 1, 2 }, 5, 0, 0, 1 },
    { "duplicate across the wrap", 5, { 65535, 0, 65535, 0, 1 }, 3, 0, 2, 0 },
};

static void sequences(void)
{
    for (size_t i = 0; i < sizeof seq_cases / sizeof seq_cases[0]; i++) {
        const struct seq_case *c = &seq_cases[i];
        br_rtp_seq_t s;
        int dup, dups = 0;
        memset(&s, 0, sizeof s);
        for (int k = 0; k < c->n; k++) {
            br_rtp_seq_update(&s, c->seqs[k], &dup);
            dups += dup;
        }
        ok(br_rtp_seq_expected(&s) == c->expected && br_rtp_seq_lost(&s) == c->lost &&
               s.duplicates == c->duplicates && (uint64_t)dups == c->duplicates && s.late == c->late,
           "%s: expected %llu lost %llu dup %llu late %llu", c->name,
           (unsigned long long)br_rtp_seq_expected(&s), (unsigned long long)br_rtp_seq_lost(&s),
           (unsigned long long)s.duplicates, (unsigned long long)s.late);
    }
    {
        br_rtp_seq_t s;
        int dup;
        uint64_t ext;
        memset(&s, 0, sizeof s);
        br_rtp_seq_update(&s, 65535, &dup);
        br_rtp_seq_update(&s, 1, &dup);
        ext = br_rtp_seq_update(&s, 0, &dup);
        is_int(ext, 0x10000, "late packet after a wrap lands in the new cycle");
        ext = br_rtp_seq_update(&s, 65534, &dup);
        is_int(ext, 65534, "late packet from before the wrap lands in the old cycle");
        for (uint32_t k = 2; k < 200000; k++)
            br_rtp_seq_update(&s, (uint16_t)k, &dup);
        is_int(s.cycles, 4 * 0x10000, "four wraps: the first one and three over 200,000 packets");
        is_int(br_rtp_seq_lost(&s), 0, "nothing lost over them");
    }
}

int main(void)
{
    parsing();
    sequences();
    return tap_done();
}
