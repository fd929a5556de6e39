/*
 * Announcement prompts: a WAV file (16-bit PCM, mono, 8 or 16 kHz) read
 * once at start-up and kept at both rates, and the encoder that turns it
 * into 20 ms RTP payloads in the negotiated codec.
 */
#ifndef BR_PROMPT_H
#define BR_PROMPT_H

#include <stddef.h>
#include <stdint.h>

typedef struct br_prompt_audio {
    int16_t *pcm8;   /* 8 kHz samples */
    size_t n8;
    int16_t *pcm16;  /* 16 kHz samples (n16 == 2 * n8) */
    size_t n16;
} br_prompt_audio_t;

/* Parses a RIFF/WAVE image. -EPROTO with why filled in for anything that
 * is not 16-bit PCM mono at 8 or 16 kHz, or is truncated. */
int br_prompt_parse(const uint8_t *data, size_t len, br_prompt_audio_t *out, char *why,
                    size_t whysz);
int br_prompt_load(const char *path, br_prompt_audio_t *out, char *why, size_t whysz);
void br_prompt_free(br_prompt_audio_t *p);
/* Milliseconds of audio. */
uint32_t br_prompt_ms(const br_prompt_audio_t *p);

/* One encoder per call: 20 ms of the prompt per payload. */
typedef struct br_prompt_enc br_prompt_enc_t;
/* 1 if pt (0 PCMU, 8 PCMA, 9 G.722, 18 G.729) can be sent. */
int br_prompt_codec_ok(uint8_t pt);
int br_prompt_enc_new(br_prompt_enc_t **out, uint8_t pt);
void br_prompt_enc_free(br_prompt_enc_t *e);
/* RTP timestamp units per 20 ms packet (160; G.722's clock is 8 kHz too). */
#define BR_PROMPT_TS_STEP 160
/* Encodes packet number n (20 ms each) into out (>= 160 bytes); past the
 * end of the prompt it encodes silence. Returns the payload length. */
size_t br_prompt_enc_frame(br_prompt_enc_t *e, const br_prompt_audio_t *p, size_t n, uint8_t *out);
/* Packets the prompt lasts. */
size_t br_prompt_packets(const br_prompt_audio_t *p);

#endif
