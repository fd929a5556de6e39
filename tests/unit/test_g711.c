/*
 * G.711 against values from the ITU-T G.711 tables, and the round trips the
 * recorder depends on (storing G.711 and decoding on export is lossless).
 */
#include "media/g711.h"
#include "tap.h"

int main(void)
{
    int ok_ulaw = 1, ok_alaw = 1, mono_u = 1, mono_a = 1;

    /* µ-law: 0xff and 0x7f are the two zeros; 0x80 / 0x00 the extremes. */
    is_int(br_ulaw_decode(0xff), 0, "ulaw 0xff is +0");
    is_int(br_ulaw_decode(0x7f), 0, "ulaw 0x7f is -0");
    is_int(br_ulaw_decode(0x80), 32124, "ulaw 0x80 is +32124");
    is_int(br_ulaw_decode(0x00), -32124, "ulaw 0x00 is -32124");
    is_int(br_ulaw_decode(0xf0), 120, "ulaw 0xf0 is 120");
    /* A-law: 0xd5 / 0x55 are the smallest magnitudes; 0xaa / 0x2a the largest. */
    is_int(br_alaw_decode(0xd5), 8, "alaw 0xd5 is +8");
    is_int(br_alaw_decode(0x55), -8, "alaw 0x55 is -8");
    is_int(br_alaw_decode(0xaa), 32256, "alaw 0xaa is +32256");
    is_int(br_alaw_decode(0x2a), -32256, "alaw 0x2a is -32256");

    is_int(br_ulaw_encode(0), 0xff, "ulaw encode 0");
    is_int(br_alaw_encode(0), 0xd5, "alaw encode 0");
    is_int(br_ulaw_encode(32767), 0x80, "ulaw encode clips at full scale");
    is_int(br_ulaw_encode(-32768), 0x00, "ulaw encode negative full scale");
    is_int(br_alaw_encode(32767), 0xaa, "alaw encode full scale");

    for (int c = 0; c < 256; c++) {
        if (c != 0x7f && br_ulaw_encode(br_ulaw_decode((uint8_t)c)) != c)
            ok_ulaw = 0;
        if (br_alaw_encode(br_alaw_decode((uint8_t)c)) != c)
            ok_alaw = 0;
    }
    ok(ok_ulaw, "ulaw decode/encode round trip for all 255 non-negative-zero codes");
    ok(ok_alaw, "alaw decode/encode round trip for all 256 codes");

    for (int v = -32768; v + 7 <= 32767; v += 7) {
        if (br_ulaw_decode(br_ulaw_encode((int16_t)v)) > br_ulaw_decode(br_ulaw_encode((int16_t)(v + 7))))
            mono_u = 0;
        if (br_alaw_decode(br_alaw_encode((int16_t)v)) > br_alaw_decode(br_alaw_encode((int16_t)(v + 7))))
            mono_a = 0;
    }
    ok(mono_u, "ulaw quantisation is monotonic");
    ok(mono_a, "alaw quantisation is monotonic");
    return tap_done();
}
