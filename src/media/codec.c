/*
 * Codec glue; see codec.h. The G.722 silence byte is computed once by
 * encoding silence, so that gaps in a G.722 channel decode to silence too.
 */
#include "codec.h"

#include <bcg729/decoder.h>
#include <bcg729/encoder.h>
#include <errno.h>
#include <pthread.h>
#include <spandsp.h>
#include <stdlib.h>
#include <string.h>

#include "g711.h"

#define G729_FRAME 10   /* bytes per 10 ms frame */
#define G729_SID 2      /* bytes of a comfort-noise (SID) frame, Annex B */
#define G729_SAMPLES 80

static uint8_t g722_silence = 0;
static pthread_once_t g722_once = PTHREAD_ONCE_INIT;

static void compute_g722_silence(void)
{
    int16_t zeros[320] = { 0 };
    uint8_t code[160];
    g722_encode_state_t *e = g722_encode_init(NULL, 64000, 0);
    if (!e)
        return;
    g722_encode(e, code, zeros, 320);
    g722_silence = code[159]; /* the encoder has settled by then */
    g722_encode_free(e);
}

int br_codec_supported(uint8_t pt)
{
    return pt == BR_PT_PCMU || pt == BR_PT_PCMA || pt == BR_PT_G722 || pt == BR_PT_G729;
}

uint8_t br_codec_store_pt(uint8_t pt)
{
    return pt == BR_PT_G729 ? BR_PT_PCMU : pt;
}

uint8_t br_codec_silence(uint8_t store_pt)
{
    switch (store_pt) {
    case BR_PT_PCMA:
        return BR_ALAW_SILENCE;
    case BR_PT_G722:
        pthread_once(&g722_once, compute_g722_silence);
        return g722_silence;
    default:
        return BR_ULAW_SILENCE;
    }
}

unsigned br_codec_rate(uint8_t store_pt)
{
    return store_pt == BR_PT_G722 ? 16000 : 8000;
}

const char *br_codec_name(uint8_t pt)
{
    switch (pt) {
    case BR_PT_PCMU:
        return "PCMU";
    case BR_PT_PCMA:
        return "PCMA";
    case BR_PT_G722:
        return "G722";
    case BR_PT_G729:
        return "G729";
    default:
        return "-";
    }
}

/* ---- receive ------------------------------------------------------------------ */

struct br_rx_codec {
    uint8_t pt;
    bcg729DecoderChannelContextStruct *g729;
};

int br_rx_codec_new(br_rx_codec_t **out, uint8_t pt)
{
    br_rx_codec_t *c;

    *out = NULL;
    if (!br_codec_supported(pt))
        return -ENOTSUP;
    c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->pt = pt;
    if (pt == BR_PT_G729) {
        c->g729 = initBcg729DecoderChannel();
        if (!c->g729) {
            free(c);
            return -ENOMEM;
        }
    }
    *out = c;
    return 0;
}

void br_rx_codec_free(br_rx_codec_t *c)
{
    if (!c)
        return;
    if (c->g729)
        closeBcg729DecoderChannel(c->g729);
    free(c);
}

int br_rx_codec_is_passthrough(const br_rx_codec_t *c)
{
    return c->pt != BR_PT_G729;
}

int br_rx_codec_decode(br_rx_codec_t *c, const uint8_t *payload, size_t len, uint8_t *out,
                       size_t outsz)
{
    size_t n = 0;

    if (c->pt != BR_PT_G729) {
        if (len > outsz)
            len = outsz;
        memcpy(out, payload, len);
        return (int)len;
    }
    /* RFC 3551 §4.5.6: whole 10-byte frames, optionally one 2-byte SID last. */
    while (len >= G729_FRAME || len == G729_SID) {
        int16_t pcm[G729_SAMPLES];
        int sid = len == G729_SID;
        if (n + G729_SAMPLES > outsz)
            break;
        bcg729Decoder(c->g729, payload, (uint8_t)(sid ? G729_SID : G729_FRAME), 0, (uint8_t)sid, 0, pcm);
        for (int i = 0; i < G729_SAMPLES; i++)
            out[n + (size_t)i] = br_ulaw_encode(pcm[i]);
        n += G729_SAMPLES;
        payload += sid ? G729_SID : G729_FRAME;
        len -= sid ? G729_SID : G729_FRAME;
    }
    return len == 0 ? (int)n : -EPROTO;
}

/* ---- export --------------------------------------------------------------------- */

struct br_export_codec {
    uint8_t pt[2];
    unsigned rate; /* output rate: the higher channel's */
    g722_decode_state_t *g722[2];
    int16_t last[2]; /* previous 8 kHz sample, for interpolation to 16 kHz */
};

int br_export_codec_new(br_export_codec_t **out, uint8_t store_near, uint8_t store_far)
{
    br_export_codec_t *e = calloc(1, sizeof *e);

    *out = NULL;
    if (!e)
        return -ENOMEM;
    e->pt[0] = store_near;
    e->pt[1] = store_far;
    e->rate = br_codec_rate(store_near) > br_codec_rate(store_far) ? br_codec_rate(store_near)
                                                                   : br_codec_rate(store_far);
    for (int ch = 0; ch < 2; ch++)
        if (e->pt[ch] == BR_PT_G722 && !(e->g722[ch] = g722_decode_init(NULL, 64000, 0))) {
            br_export_codec_free(e);
            return -ENOMEM;
        }
    *out = e;
    return 0;
}

void br_export_codec_free(br_export_codec_t *e)
{
    if (!e)
        return;
    for (int ch = 0; ch < 2; ch++)
        if (e->g722[ch])
            g722_decode_free(e->g722[ch]);
    free(e);
}

unsigned br_export_codec_rate(const br_export_codec_t *e)
{
    return e->rate;
}

static int16_t g711(uint8_t pt, uint8_t b)
{
    return pt == BR_PT_PCMA ? br_alaw_decode(b) : br_ulaw_decode(b);
}

static void put16(uint8_t *p, int16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)((uint16_t)v >> 8);
}

long br_export_codec_run(br_export_codec_t *e, const uint8_t *frames, size_t nframes, br_buf_t *out)
{
    unsigned up = e->rate / 8000; /* output samples per tick: 1 or 2 */
    uint8_t *p;

    if (br_buf_reserve(out, nframes * up * 4) < 0)
        return -ENOMEM;
    p = out->data + out->len;
    for (size_t i = 0; i < nframes; i++) {
        int16_t s[2][2];
        for (int ch = 0; ch < 2; ch++) {
            uint8_t b = frames[2 * i + (size_t)ch];
            if (e->pt[ch] == BR_PT_G722) {
                g722_decode(e->g722[ch], s[ch], &b, 1);
            } else {
                int16_t cur = g711(e->pt[ch], b);
                /* Linear interpolation to 16 kHz: the half-way point first. */
                s[ch][0] = (int16_t)((e->last[ch] + cur) / 2);
                s[ch][1] = cur;
                if (up == 1)
                    s[ch][0] = cur;
                e->last[ch] = cur;
            }
        }
        for (unsigned k = 0; k < up; k++) {
            put16(p, s[0][k]);
            put16(p + 2, s[1][k]);
            p += 4;
        }
    }
    out->len += nframes * up * 4;
    return (long)(nframes * up);
}

/* ---- encoding ------------------------------------------------------------------ */

struct br_tx_codec {
    uint8_t pt;
    g722_encode_state_t *g722;
    bcg729EncoderChannelContextStruct *g729;
};

int br_tx_codec_supported(uint8_t pt)
{
    return pt == BR_PT_PCMU || pt == BR_PT_PCMA || pt == BR_PT_G722 || pt == BR_PT_G729;
}

unsigned br_tx_codec_rate(uint8_t pt)
{
    return pt == BR_PT_G722 ? 16000 : 8000;
}

int br_tx_codec_new(br_tx_codec_t **out, uint8_t pt)
{
    br_tx_codec_t *c;

    *out = NULL;
    if (!br_tx_codec_supported(pt))
        return -ENOTSUP;
    c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->pt = pt;
    if (pt == BR_PT_G722)
        c->g722 = g722_encode_init(NULL, 64000, 0);
    if (pt == BR_PT_G729)
        c->g729 = initBcg729EncoderChannel(0);
    if ((pt == BR_PT_G722 && !c->g722) || (pt == BR_PT_G729 && !c->g729)) {
        br_tx_codec_free(c);
        return -ENOMEM;
    }
    *out = c;
    return 0;
}

void br_tx_codec_free(br_tx_codec_t *c)
{
    if (!c)
        return;
    if (c->g722)
        g722_encode_free(c->g722);
    if (c->g729)
        closeBcg729EncoderChannel(c->g729);
    free(c);
}

size_t br_tx_codec_encode(br_tx_codec_t *c, const int16_t *pcm, uint8_t *out)
{
    uint8_t len = 0;

    switch (c->pt) {
    case BR_PT_PCMU:
    case BR_PT_PCMA:
        for (int i = 0; i < 160; i++)
            out[i] = c->pt == BR_PT_PCMU ? br_ulaw_encode(pcm[i]) : br_alaw_encode(pcm[i]);
        return 160;
    case BR_PT_G722:
        return (size_t)g722_encode(c->g722, out, pcm, 320);
    case BR_PT_G729:
        bcg729Encoder(c->g729, pcm, out, &len);
        bcg729Encoder(c->g729, pcm + 80, out + len, &len);
        return 20;
    }
    return 0;
}
