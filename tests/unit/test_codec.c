/*
 * Codecs against reference encoders: G.722 (spandsp) and G.729 (bcg729)
 * tones survive the receive path and the export, mixed-rate recordings
 * export at 16 kHz with the 8 kHz channel interpolated, and malformed
 * payloads are refused.
 */
#include <bcg729/encoder.h>
#include <errno.h>
#include <math.h>
#include <spandsp.h>

#include "media/codec.h"
#include "media/g711.h"
#include "tap.h"

/* Goertzel power of freq in x[0..n) at rate, normalised. */
static double tone_power(const int16_t *x, size_t n, size_t stride, double freq, double rate)
{
    double w = 2 * M_PI * freq / rate, c = 2 * cos(w), s0, s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s0 = x[i * stride] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return (s1 * s1 + s2 * s2 - c * s1 * s2) / ((double)n * n);
}

static int16_t pcm16[32000], pcm8[16000];

int main(void)
{
    br_rx_codec_t *rx;
    br_export_codec_t *ex;
    uint8_t g722[16000], ticks[2000], frames[32000];
    br_buf_t out;
    int n;

    ok(br_codec_supported(0) && br_codec_supported(8) && br_codec_supported(9) && br_codec_supported(18),
       "PCMU, PCMA, G.722 and G.729 are recorded");
    ok(!br_codec_supported(3) && !br_codec_supported(97), "GSM and dynamic types are not");
    is_int(br_codec_store_pt(18), 0, "G.729 is stored as µ-law");
    is_int(br_codec_rate(9), 16000, "G.722 exports at 16 kHz");

    /* G.722: a 1 kHz tone at 16 kHz, 1 s. */
    for (int i = 0; i < 16000; i++)
        pcm16[i] = (int16_t)(8000 * sin(2 * M_PI * 1000 * i / 16000.0));
    {
        g722_encode_state_t *enc = g722_encode_init(NULL, 64000, 0);
        n = g722_encode(enc, g722, pcm16, 16000);
        g722_encode_free(enc);
    }
    is_int(n, 8000, "G.722 encodes 16,000 samples into 8,000 bytes (one per RTP tick)");
    is_int(br_rx_codec_new(&rx, 9), 0, "G.722 receiver");
    is_int(br_rx_codec_decode(rx, g722, 160, ticks, sizeof ticks), 160, "a 20 ms packet is 160 ticks");
    br_rx_codec_free(rx);

    /* Near: G.722 1 kHz; far: µ-law 440 Hz. Export at 16 kHz. */
    for (int i = 0; i < 8000; i++) {
        frames[2 * i] = g722[i];
        frames[2 * i + 1] = br_ulaw_encode((int16_t)(8000 * sin(2 * M_PI * 440 * i / 8000.0)));
    }
    br_export_codec_new(&ex, 9, 0);
    is_int(br_export_codec_rate(ex), 16000, "mixed G.722 and G.711 export at 16 kHz");
    br_buf_init(&out);
    is_int(br_export_codec_run(ex, frames, 8000, &out), 16000, "8,000 ticks give 16,000 frames");
    {
        const int16_t *s = (const int16_t *)out.data;
        double near1k = tone_power(s + 2000, 8000, 2, 1000, 16000), near440 = tone_power(s + 2000, 8000, 2, 440, 16000);
        double far440 = tone_power(s + 2001, 8000, 2, 440, 16000), far1k = tone_power(s + 2001, 8000, 2, 1000, 16000);
        ok(near1k > 100 * near440, "near channel holds the G.722 1 kHz tone");
        ok(far440 > 100 * far1k, "far channel holds the 440 Hz tone, interpolated to 16 kHz");
        /* Interpolation halves the 8 kHz images: 7560 Hz (8000-440) stays far below. */
        ok(tone_power(s + 2001, 8000, 2, 7560, 16000) < far440 / 20, "interpolation suppresses the image");
    }
    br_buf_free(&out);
    br_export_codec_free(ex);

    /* G.729: 440 Hz at 8 kHz through bcg729's encoder and our receiver. */
    {
        bcg729EncoderChannelContextStruct *enc = initBcg729EncoderChannel(0);
        uint8_t bits[1000], len;
        size_t nb = 0;
        for (int i = 0; i < 16000; i++)
            pcm8[i] = (int16_t)(8000 * sin(2 * M_PI * 440 * i / 8000.0));
        for (int f = 0; f < 100; f++) { /* 1 s = 100 frames of 10 ms */
            bcg729Encoder(enc, pcm8 + 80 * f, bits + nb, &len);
            nb += len;
        }
        closeBcg729EncoderChannel(enc);
        is_int(nb, 1000, "G.729 encodes 1 s into 100 frames of 10 bytes");
        is_int(br_rx_codec_new(&rx, 18), 0, "G.729 receiver");
        {
            int total = 0;
            for (size_t off = 0; off < nb; off += 20) { /* 20 ms packets: two frames */
                n = br_rx_codec_decode(rx, bits + off, 20, ticks, sizeof ticks);
                if (n != 160)
                    break;
                for (int i = 0; i < 160; i++)
                    pcm8[total + i] = br_ulaw_decode(ticks[i]);
                total += 160;
            }
            is_int(total, 8000, "every 20 ms packet becomes 160 µ-law ticks");
            ok(tone_power(pcm8 + 2000, 6000, 1, 440, 8000) > 50 * tone_power(pcm8 + 2000, 6000, 1, 1000, 8000),
               "the decoded G.729 holds the 440 Hz tone");
        }
        is_int(br_rx_codec_decode(rx, bits, 2, ticks, sizeof ticks), 80, "a SID frame gives 10 ms");
        is_int(br_rx_codec_decode(rx, bits, 13, ticks, sizeof ticks), -EPROTO, "13 bytes is no G.729 payload");
        br_rx_codec_free(rx);
    }
    is_int(br_rx_codec_new(&rx, 97), -ENOTSUP, "no receiver for an unknown payload type");
    {
        uint8_t sil = br_codec_silence(9);
        int16_t dec[320];
        uint8_t in[160];
        g722_decode_state_t *d = g722_decode_init(NULL, 64000, 0);
        memset(in, sil, sizeof in);
        g722_decode(d, dec, in, 160);
        g722_decode_free(d);
        {
            long peak = 0;
            for (int i = 100; i < 320; i++)
                if (labs(dec[i]) > peak)
                    peak = labs(dec[i]);
            ok(peak < 200, "G.722 silence filler decodes to near silence (peak %ld)", peak);
        }
    }
    return tap_done();
}
