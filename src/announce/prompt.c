/*
 * Prompt files and their encoding. The WAV reader walks the RIFF chunks
 * with a bounded reader and accepts only what a prompt needs; the rate the
 * file lacks is made once at load (16 -> 8 kHz by a short low-pass and
 * decimation, 8 -> 16 kHz by linear interpolation), so sending a packet is
 * encoding 20 ms and nothing else.
 */
#include "prompt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/fsutil.h"
#include "media/codec.h"

#define MAX_PROMPT_BYTES (16u << 20) /* 8.7 minutes at 16 kHz: more is not a prompt */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static int fail(char *why, size_t whysz, const char *msg)
{
    snprintf(why, whysz, "%s", msg);
    return -EPROTO;
}

/* 16 kHz -> 8 kHz: [1 2 1]/4 smoothing, then every other sample. */
static void down(const int16_t *in, size_t n16, int16_t *out)
{
    for (size_t i = 0; i < n16 / 2; i++) {
        int32_t a = in[2 * i > 0 ? 2 * i - 1 : 0], b = in[2 * i], c = in[2 * i + 1];
        out[i] = (int16_t)((a + 2 * b + c) / 4);
    }
}

/* 8 kHz -> 16 kHz: each sample, then the midpoint to the next. */
static void up(const int16_t *in, size_t n8, int16_t *out)
{
    for (size_t i = 0; i < n8; i++) {
        int32_t next = i + 1 < n8 ? in[i + 1] : in[i];
        out[2 * i] = in[i];
        out[2 * i + 1] = (int16_t)((in[i] + next) / 2);
    }
}

static int take_samples(const uint8_t *d, size_t len, unsigned rate, br_prompt_audio_t *out)
{
    size_t n = len / 2;
    int16_t *pcm;

    if (rate == 16000)
        n &= ~(size_t)1;
    pcm = malloc((n ? n : 1) * sizeof *pcm);
    if (!pcm)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        pcm[i] = (int16_t)le16(d + 2 * i);
    if (rate == 8000) {
        out->pcm8 = pcm, out->n8 = n;
        out->pcm16 = malloc((n ? 2 * n : 1) * sizeof(int16_t));
        out->n16 = 2 * n;
        if (out->pcm16)
            up(pcm, n, out->pcm16);
    } else {
        out->pcm16 = pcm, out->n16 = n;
        out->pcm8 = malloc((n / 2 ? n / 2 : 1) * sizeof(int16_t));
        out->n8 = n / 2;
        if (out->pcm8)
            down(pcm, n, out->pcm8);
    }
    if (!out->pcm8 || !out->pcm16) {
        br_prompt_free(out);
        return -ENOMEM;
    }
    return 0;
}

int br_prompt_parse(const uint8_t *data, size_t len, br_prompt_audio_t *out, char *why,
                    size_t whysz)
{
    unsigned rate = 0;
    int have_fmt = 0;
    size_t pos = 12;

    memset(out, 0, sizeof *out);
    if (len < 12 || memcmp(data, "RIFF", 4) != 0 || memcmp(data + 8, "WAVE", 4) != 0)
        return fail(why, whysz, "not a RIFF/WAVE file");
    while (pos + 8 <= len) {
        const uint8_t *c = data + pos;
        uint32_t size = le32(c + 4);
        if (size > len - pos - 8)
            return fail(why, whysz, "a chunk runs past the end of the file");
        if (memcmp(c, "fmt ", 4) == 0) {
            if (size < 16)
                return fail(why, whysz, "fmt chunk too short");
            if (le16(c + 8) != 1 || le16(c + 10) != 1 || le16(c + 22) != 16)
                return fail(why, whysz, "must be 16-bit PCM, one channel");
            rate = le32(c + 12);
            if (rate != 8000 && rate != 16000)
                return fail(why, whysz, "must be sampled at 8000 or 16000 Hz");
            have_fmt = 1;
        } else if (memcmp(c, "data", 4) == 0) {
            if (!have_fmt)
                return fail(why, whysz, "data chunk before the fmt chunk");
            if (size < 2)
                return fail(why, whysz, "no audio in the data chunk");
            return take_samples(c + 8, size, rate, out) < 0 ? -ENOMEM : 0;
        }
        pos += 8 + (size_t)size + (size & 1);
    }
    return fail(why, whysz, "no data chunk");
}

int br_prompt_load(const char *path, br_prompt_audio_t *out, char *why, size_t whysz)
{
    uint8_t *data;
    size_t len;
    int rc = br_read_file(path, MAX_PROMPT_BYTES, &data, &len);

    if (rc < 0) {
        snprintf(why, whysz, "%s", strerror(-rc));
        return rc;
    }
    rc = br_prompt_parse(data, len, out, why, whysz);
    free(data);
    return rc;
}

void br_prompt_free(br_prompt_audio_t *p)
{
    free(p->pcm8);
    free(p->pcm16);
    memset(p, 0, sizeof *p);
}

uint32_t br_prompt_ms(const br_prompt_audio_t *p)
{
    return (uint32_t)(p->n8 / 8);
}

size_t br_prompt_packets(const br_prompt_audio_t *p)
{
    return (p->n8 + 159) / 160;
}

struct br_prompt_enc {
    br_tx_codec_t *codec;
    unsigned rate;
};

int br_prompt_codec_ok(uint8_t pt)
{
    return br_tx_codec_supported(pt);
}

int br_prompt_enc_new(br_prompt_enc_t **out, uint8_t pt)
{
    br_prompt_enc_t *e;
    int rc;

    *out = NULL;
    e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    rc = br_tx_codec_new(&e->codec, pt);
    if (rc < 0) {
        free(e);
        return rc;
    }
    e->rate = br_tx_codec_rate(pt);
    *out = e;
    return 0;
}

void br_prompt_enc_free(br_prompt_enc_t *e)
{
    if (!e)
        return;
    br_tx_codec_free(e->codec);
    free(e);
}

/* Samples [from, from + n) of pcm, zero-padded past its end. */
static void window(const int16_t *pcm, size_t total, size_t from, size_t n, int16_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = from + i < total ? pcm[from + i] : 0;
}

size_t br_prompt_enc_frame(br_prompt_enc_t *e, const br_prompt_audio_t *p, size_t n, uint8_t *out)
{
    int16_t pcm[320];

    if (e->rate == 16000)
        window(p->pcm16, p->n16, n * 320, 320, pcm);
    else
        window(p->pcm8, p->n8, n * 160, 160, pcm);
    return br_tx_codec_encode(e->codec, pcm, out);
}
