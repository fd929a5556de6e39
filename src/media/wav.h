/*
 * The RIFF/WAVE header of an export: 16-bit linear PCM, two channels (near
 * end left, far end right), which every player opens. codec.h makes the
 * samples.
 */
#ifndef BR_WAV_H
#define BR_WAV_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define BR_WAV_HEADER_LEN 44

/* Writes the 44-byte header for frames stereo 16-bit frames at rate. */
void br_wav_header(uint8_t out[BR_WAV_HEADER_LEN], uint32_t rate, uint64_t frames);

#endif
