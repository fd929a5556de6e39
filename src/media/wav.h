/*
 * Export of a stored recording as a RIFF/WAVE file: 16-bit linear PCM, two
 * channels (near end left, far end right), which every player opens.
 */
#ifndef BR_WAV_H
#define BR_WAV_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define BR_WAV_HEADER_LEN 44

/* Writes the 44-byte header for frames stereo 16-bit frames at rate. */
void br_wav_header(uint8_t out[BR_WAV_HEADER_LEN], uint32_t rate, uint64_t frames);
/* Decodes interleaved stereo G.711 (near, far) into 16-bit little-endian
 * PCM appended to out; law_near/law_far are RTP payload types 0 or 8. */
int br_wav_append_g711(br_buf_t *out, const uint8_t *frames, size_t nframes, uint8_t pt_near,
                       uint8_t pt_far);

#endif
