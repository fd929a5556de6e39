/*
 * Codecs: what each RTP payload type becomes on the recording's timeline,
 * and back into linear PCM on export. The timeline holds one byte per
 * 8 kHz RTP clock tick and channel:
 *
 *   PCMU (0), PCMA (8)  the G.711 byte itself (lossless, decoded on export)
 *   G.722 (9)           the G.722 byte itself: its RTP clock is 8 kHz but
 *                       each byte carries two 16 kHz samples (RFC 3551 §4.5.2),
 *                       so the recording exports at 16 kHz
 *   G.729 (18)          decoded at once (bcg729) and stored as µ-law: 10
 *                       bytes become 80 ticks
 *
 * spandsp (G.722) and bcg729 (G.729) are included only here.
 */
#ifndef BR_CODEC_H
#define BR_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum { BR_PT_PCMU = 0, BR_PT_PCMA = 8, BR_PT_G722 = 9, BR_PT_G729 = 18 };

/* Whether bibrec records this payload type. */
int br_codec_supported(uint8_t pt);
/* The code stored on the timeline for a leg of this payload type. */
uint8_t br_codec_store_pt(uint8_t pt);
/* The byte that means silence in a channel stored as store_pt. */
uint8_t br_codec_silence(uint8_t store_pt);
/* Export sample rate of a channel stored as store_pt: 8000 or 16000. */
unsigned br_codec_rate(uint8_t store_pt);
const char *br_codec_name(uint8_t pt);

/* Receive side: one per leg, allocated once. */
typedef struct br_rx_codec br_rx_codec_t;
int br_rx_codec_new(br_rx_codec_t **out, uint8_t pt);
void br_rx_codec_free(br_rx_codec_t *c);
/* Turns a payload into timeline bytes (at most outsz). Returns the number
 * of ticks, or -EPROTO for a payload of the wrong shape. Allocates nothing. */
int br_rx_codec_decode(br_rx_codec_t *c, const uint8_t *payload, size_t len, uint8_t *out,
                       size_t outsz);
/* 1 when the payload is already timeline bytes (G.711, G.722): the caller
 * may put it on the timeline as it is, without br_rx_codec_decode's copy. */
int br_rx_codec_is_passthrough(const br_rx_codec_t *c);

/* Export side: interleaved (near, far) timeline bytes to 16-bit stereo PCM
 * at the higher of the two channels' rates; the lower is interpolated. */
/* Encoding, for what bibrec sends (the announcement prompts): 20 ms per
 * call; G.722 takes 320 samples at 16 kHz, the others 160 at 8 kHz. */
typedef struct br_tx_codec br_tx_codec_t;
int br_tx_codec_supported(uint8_t pt);
unsigned br_tx_codec_rate(uint8_t pt);
int br_tx_codec_new(br_tx_codec_t **out, uint8_t pt);
void br_tx_codec_free(br_tx_codec_t *c);
/* Returns the payload length (at most 160 bytes). */
size_t br_tx_codec_encode(br_tx_codec_t *c, const int16_t *pcm, uint8_t *out);

typedef struct br_export_codec br_export_codec_t;
int br_export_codec_new(br_export_codec_t **out, uint8_t store_near, uint8_t store_far);
void br_export_codec_free(br_export_codec_t *e);
unsigned br_export_codec_rate(const br_export_codec_t *e);
/* Appends little-endian PCM for nframes timeline frames; returns frames
 * written (nframes, or 2 * nframes at 16 kHz) or a negative error. */
long br_export_codec_run(br_export_codec_t *e, const uint8_t *frames, size_t nframes, br_buf_t *out);

#endif
