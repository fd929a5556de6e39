/*
 * G.711 companding, written from the segment tables in ITU-T G.711 (11/88)
 * Tables 1 and 2: µ-law uses a bias of 33 (0x84 on the 14-bit scale) and
 * inverts all bits; A-law inverts the even bits (XOR 0x55).
 */
#include "g711.h"

int16_t br_ulaw_decode(uint8_t u)
{
    int t;
    u = (uint8_t)~u;
    t = ((u & 0x0f) << 3) + 0x84;
    t <<= (u & 0x70) >> 4;
    return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

int16_t br_alaw_decode(uint8_t a)
{
    int t, seg;
    a ^= 0x55;
    t = (a & 0x0f) << 4;
    seg = (a & 0x70) >> 4;
    switch (seg) {
    case 0:
        t += 8;
        break;
    case 1:
        t += 0x108;
        break;
    default:
        t += 0x108;
        t <<= seg - 1;
    }
    return (int16_t)((a & 0x80) ? t : -t);
}

static int segment_of(int value, const int *ends, int n)
{
    for (int i = 0; i < n; i++)
        if (value <= ends[i])
            return i;
    return n;
}

uint8_t br_ulaw_encode(int16_t pcm)
{
    static const int ends[8] = { 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff };
    int v = pcm >> 2; /* 14-bit */
    int mask, seg;
    uint8_t u;

    if (v < 0) {
        v = -v;
        mask = 0x7f;
    } else {
        mask = 0xff;
    }
    if (v > 8159)
        v = 8159;
    v += 0x21; /* bias 33 */
    seg = segment_of(v, ends, 8);
    if (seg >= 8)
        return (uint8_t)(0x7f ^ mask);
    u = (uint8_t)((seg << 4) | ((v >> (seg + 1)) & 0x0f));
    return (uint8_t)(u ^ mask);
}

uint8_t br_alaw_encode(int16_t pcm)
{
    static const int ends[8] = { 0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff };
    int v = pcm >> 3; /* 13-bit */
    int mask, seg;
    uint8_t a;

    if (v >= 0) {
        mask = 0xd5;
    } else {
        mask = 0x55;
        v = -v - 1;
    }
    seg = segment_of(v, ends, 8);
    if (seg >= 8)
        return (uint8_t)(0x7f ^ mask);
    a = (uint8_t)(seg << 4);
    a |= seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
    return (uint8_t)(a ^ mask);
}
