/*
 * WAV writing. The header's sizes are 32-bit, so a file is limited to 4 GiB
 * (about 37 hours of 8 kHz stereo); longer exports are cut at that size
 * rather than written with a wrapped, lying header.
 */
#include "wav.h"


static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void br_wav_header(uint8_t h[BR_WAV_HEADER_LEN], uint32_t rate, uint64_t frames)
{
    uint64_t data = frames * 4;
    if (data > UINT32_MAX - 36)
        data = (UINT32_MAX - 36) & ~3ULL;
    h[0] = 'R', h[1] = 'I', h[2] = 'F', h[3] = 'F';
    le32(h + 4, (uint32_t)(36 + data));
    h[8] = 'W', h[9] = 'A', h[10] = 'V', h[11] = 'E';
    h[12] = 'f', h[13] = 'm', h[14] = 't', h[15] = ' ';
    le32(h + 16, 16);
    le16(h + 20, 1); /* PCM */
    le16(h + 22, 2);
    le32(h + 24, rate);
    le32(h + 28, rate * 4);
    le16(h + 32, 4);
    le16(h + 34, 16);
    h[36] = 'd', h[37] = 'a', h[38] = 't', h[39] = 'a';
    le32(h + 40, (uint32_t)data);
}

