/*
 * G.711 µ-law and A-law (ITU-T G.711) conversion to and from 16-bit linear
 * PCM. Recordings are stored in the leg's own G.711 code (lossless, half the
 * bytes of linear PCM); linear samples exist only on export.
 */
#ifndef BR_G711_H
#define BR_G711_H

#include <stdint.h>

int16_t br_ulaw_decode(uint8_t u);
int16_t br_alaw_decode(uint8_t a);
uint8_t br_ulaw_encode(int16_t pcm);
uint8_t br_alaw_encode(int16_t pcm);

/* The code of digital silence in each law (what a missing packet becomes). */
#define BR_ULAW_SILENCE 0xff
#define BR_ALAW_SILENCE 0xd5

#endif
