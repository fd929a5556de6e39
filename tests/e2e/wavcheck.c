/*
 * wavcheck: proves that an exported recording holds what the end-to-end tests sent.
 *
 * The e2e tests play a 440 Hz tone as the near end and a 1000 Hz tone as the far end of a recorded
 * call, export the recording with `bibrec export` and run this program on the WAV file. It parses
 * the RIFF/WAVE container strictly (every chunk is bounds-checked, so a daemon bug that writes a bad
 * header is reported instead of being read past), prints the format, the duration and, per
 * channel, the dominant frequency and the RMS level, and can check them against expectations.
 *
 * The dominant frequency is found with the Goertzel algorithm in two steps: a coarse scan from 50
 * to 3900 Hz in 5 Hz steps over short frames (whose wide main lobe cannot fall between two scan
 * points), then a scan in 0.1 Hz steps around the winner over one long window, finished by a
 * parabolic fit. Both use a Hann window so that a strong tone does not leak into far-away bins.
 * Only libc and libm are needed.
 *
 * Exit status: 0 all good, 1 unreadable or malformed file, 2 an expectation was not met,
 * 64 bad usage.
 */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define EXIT_BAD_FILE 1
#define EXIT_EXPECTATION 2
#define EXIT_USAGE 64

/* A recording of a few hours is far below this; the cap only guards against reading a huge
 * unrelated file into memory by mistake. */
#define MAX_FILE_BYTES (1024L * 1024L * 1024L)
#define MAX_CHANNELS 16

#define SCAN_MIN_HZ 50.0
#define SCAN_MAX_HZ 3900.0
#define SCAN_STEP_HZ 5.0
#define REFINE_SPAN_HZ 7.5
#define REFINE_STEP_HZ 0.1
#define MAX_COARSE_FRAMES 50
/* Longer analysis windows only cost time: ten seconds already give a main lobe far narrower than
 * the 0.1 Hz refine step can resolve. */
#define MAX_ANALYSIS_SECONDS 10.0

/* A 20 ms block is called silent when its RMS is below this absolute floor (about -60 dBFS) or
 * 20 dB below the loudest block, which strips the silence a recorder pads around the tones. */
#define SILENCE_FLOOR 32.0
#define SILENCE_RELATIVE 0.1

#define FREQ_TOLERANCE_HZ 10.0
#define MIN_ISOLATION_DB 20.0
#define DEFAULT_DURATION_TOLERANCE 0.3

typedef struct wav {
    unsigned channels;
    unsigned rate;
    size_t frames;
    double *samples; /* deinterleaved: channel c starts at samples + c * frames */
} wav_t;

typedef struct channel_stats {
    double freq; /* 0 when the channel is silent */
    double rms;
} channel_stats_t;

typedef struct options {
    const char *path;
    /* Each expectation is negative when its option was not given. */
    double expect_left;
    double expect_right;
    double expect_duration;
    double duration_tolerance;
    long expect_rate;
} options_t;

static const char *progname = "wavcheck";

static void complain(const char *path, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: %s: ", progname, path);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Chunk ids are meant to be printable, but a corrupt file can hold anything; this keeps error
 * messages on one readable line. */
static void fourcc_str(const unsigned char *p, char out[5])
{
    int i;

    for (i = 0; i < 4; i++)
        out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    out[4] = '\0';
}

static int read_file(const char *path, unsigned char **bufp, size_t *lenp)
{
    FILE *f = NULL;
    unsigned char *buf = NULL;
    long size;

    f = fopen(path, "rb");
    if (f == NULL) {
        complain(path, "cannot open: %s", strerror(errno));
        goto fail;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        complain(path, "cannot determine the file size: %s", strerror(errno));
        goto fail;
    }
    if (size > MAX_FILE_BYTES) {
        complain(path, "file is %ld bytes, more than the %ld this tool reads", size, MAX_FILE_BYTES);
        goto fail;
    }
    /* One spare byte so that an empty file still gets a valid pointer. */
    buf = malloc((size_t)size + 1);
    if (buf == NULL) {
        complain(path, "out of memory");
        goto fail;
    }
    if (size > 0 && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        complain(path, "read error");
        goto fail;
    }
    fclose(f);
    *bufp = buf;
    *lenp = (size_t)size;
    return 0;

fail:
    free(buf);
    if (f != NULL)
        fclose(f);
    return -1;
}

/* WAVE_FORMAT_EXTENSIBLE names the real format by GUID; PCM's is
 * 00000001-0000-0010-8000-00aa00389b71, stored little-endian. */
static int is_pcm_subformat(const unsigned char *guid)
{
    static const unsigned char pcm_tail[14] = {
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71
    };

    return le16(guid) == 1 && memcmp(guid + 2, pcm_tail, sizeof(pcm_tail)) == 0;
}

static int parse_fmt(const char *path, const unsigned char *p, uint32_t size, wav_t *w)
{
    unsigned format, channels, rate, byte_rate, block_align, bits;

    if (size < 16) {
        complain(path, "fmt chunk is %u bytes, needs at least 16", (unsigned)size);
        return -1;
    }
    format = le16(p);
    channels = le16(p + 2);
    rate = le32(p + 4);
    byte_rate = le32(p + 8);
    block_align = le16(p + 12);
    bits = le16(p + 14);

    if (format == 0xfffe) {
        if (size < 40 || le16(p + 16) < 22) {
            complain(path, "WAVE_FORMAT_EXTENSIBLE fmt chunk is too short (%u bytes)", (unsigned)size);
            return -1;
        }
        if (!is_pcm_subformat(p + 24)) {
            complain(path, "WAVE_FORMAT_EXTENSIBLE sub-format is not PCM");
            return -1;
        }
    } else if (format != 1) {
        complain(path, "audio format %u is not PCM (1)%s", format,
                 format == 7 ? "; it is G.711 mu-law" : format == 6 ? "; it is G.711 A-law" : "");
        return -1;
    }
    if (channels == 0 || channels > MAX_CHANNELS) {
        complain(path, "%u channels is not a plausible channel count", channels);
        return -1;
    }
    if (rate == 0 || rate > 384000) {
        complain(path, "sample rate %u Hz is not plausible", rate);
        return -1;
    }
    if (bits != 16) {
        complain(path, "%u bits per sample; only 16-bit PCM is supported", bits);
        return -1;
    }
    if (block_align != channels * 2) {
        complain(path, "block align %u does not match %u channels of 16 bits", block_align, channels);
        return -1;
    }
    if (byte_rate != rate * block_align) {
        complain(path, "byte rate %u does not match %u Hz x %u bytes per frame", byte_rate, rate,
                 block_align);
        return -1;
    }
    w->channels = channels;
    w->rate = rate;
    return 0;
}

static int load_samples(const char *path, const unsigned char *p, uint32_t size, wav_t *w)
{
    size_t frame_bytes = (size_t)w->channels * 2;
    size_t i, c;

    if (size % frame_bytes != 0) {
        complain(path, "data chunk size %u is not a multiple of the %zu-byte frame", (unsigned)size,
                 frame_bytes);
        return -1;
    }
    w->frames = size / frame_bytes;
    w->samples = malloc((w->frames * w->channels + 1) * sizeof(*w->samples));
    if (w->samples == NULL) {
        complain(path, "out of memory");
        return -1;
    }
    for (i = 0; i < w->frames; i++)
        for (c = 0; c < w->channels; c++)
            w->samples[c * w->frames + i] = (int16_t)le16(p + i * frame_bytes + c * 2);
    return 0;
}

/* Walks the RIFF chunk list. Unknown chunks (LIST, fact, cue ...) are skipped; fmt must come before
 * data, as RIFF readers and the WAVE spec expect. */
static int wav_parse(const char *path, const unsigned char *buf, size_t len, wav_t *w)
{
    const unsigned char *data = NULL;
    uint32_t data_size = 0;
    int have_fmt = 0;
    size_t end, pos;
    char id[5];

    if (len < 12) {
        complain(path, "%zu bytes is too short for a RIFF header", len);
        return -1;
    }
    if (memcmp(buf, "RIFF", 4) != 0) {
        fourcc_str(buf, id);
        complain(path, "not a RIFF file (starts with '%s')%s", id,
                 memcmp(buf, "RIFX", 4) == 0 || memcmp(buf, "RF64", 4) == 0 ? ", variant not supported" : "");
        return -1;
    }
    if (memcmp(buf + 8, "WAVE", 4) != 0) {
        fourcc_str(buf + 8, id);
        complain(path, "RIFF form type is '%s', not 'WAVE'", id);
        return -1;
    }
    end = (size_t)le32(buf + 4) + 8;
    if (end > len) {
        complain(path, "RIFF header announces %zu bytes but the file has %zu (truncated?)", end, len);
        return -1;
    }

    for (pos = 12; pos + 8 <= end;) {
        uint32_t size = le32(buf + pos + 4);
        const unsigned char *body = buf + pos + 8;

        fourcc_str(buf + pos, id);
        if (size > end - pos - 8) {
            complain(path, "chunk '%s' at offset %zu claims %u bytes, only %zu remain", id, pos,
                     (unsigned)size, end - pos - 8);
            return -1;
        }
        if (memcmp(id, "fmt ", 4) == 0) {
            if (have_fmt) {
                complain(path, "second fmt chunk at offset %zu", pos);
                return -1;
            }
            if (parse_fmt(path, body, size, w) < 0)
                return -1;
            have_fmt = 1;
        } else if (memcmp(id, "data", 4) == 0) {
            if (!have_fmt) {
                complain(path, "data chunk at offset %zu comes before any fmt chunk", pos);
                return -1;
            }
            if (data != NULL) {
                complain(path, "second data chunk at offset %zu", pos);
                return -1;
            }
            data = body;
            data_size = size;
        }
        /* Chunks are padded to even sizes; a missing pad byte on the last chunk is a common
         * writer bug that loses nothing, so it is tolerated. */
        pos += 8 + (size_t)size + (size & 1);
    }
    if (pos < end) {
        complain(path, "%zu stray bytes after the last chunk", end - pos);
        return -1;
    }
    if (!have_fmt) {
        complain(path, "no fmt chunk");
        return -1;
    }
    if (data == NULL) {
        complain(path, "no data chunk");
        return -1;
    }
    return load_samples(path, data, data_size, w);
}

/* Amplitude of the sinusoid at freq in x[0..n), with the Hann window w applied; wsum is the sum of
 * the window, which makes a full-scale sine read as its own peak amplitude. */
static double goertzel_amplitude(const double *x, const double *win, size_t n, double wsum,
                                 double rate, double freq)
{
    double coeff = 2.0 * cos(2.0 * M_PI * freq / rate);
    double s1 = 0.0, s2 = 0.0, power;
    size_t i;

    for (i = 0; i < n; i++) {
        double s0 = x[i] * win[i] + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    if (power < 0.0)
        power = 0.0;
    return 2.0 * sqrt(power) / wsum;
}

static double *hann_new(size_t n, double *sum)
{
    double *w = malloc((n + 1) * sizeof(*w));
    size_t i;

    if (w == NULL)
        return NULL;
    *sum = 0.0;
    for (i = 0; i < n; i++) {
        w[i] = n > 1 ? 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)(n - 1)) : 1.0;
        *sum += w[i];
    }
    if (*sum == 0.0)
        *sum = 1.0;
    return w;
}

static double rms_of(const double *x, size_t n)
{
    double acc = 0.0;
    size_t i;

    for (i = 0; i < n; i++)
        acc += x[i] * x[i];
    return n > 0 ? sqrt(acc / (double)n) : 0.0;
}

/* Finds [*start, *start + *len) spanning the first to the last non-silent 20 ms block. Returns -1
 * when the whole channel is silent. */
static int active_region(const double *x, size_t n, unsigned rate, size_t *start, size_t *len)
{
    size_t block = rate / 50 > 0 ? rate / 50 : 1;
    size_t nblocks = n / block, b, first = 0, last = 0;
    double loudest = 0.0, threshold;
    int found = 0;

    for (b = 0; b < nblocks; b++) {
        double r = rms_of(x + b * block, block);
        if (r > loudest)
            loudest = r;
    }
    threshold = loudest * SILENCE_RELATIVE;
    if (threshold < SILENCE_FLOOR)
        threshold = SILENCE_FLOOR;
    for (b = 0; b < nblocks; b++) {
        if (rms_of(x + b * block, block) >= threshold) {
            if (!found)
                first = b;
            last = b;
            found = 1;
        }
    }
    if (!found)
        return -1;
    *start = first * block;
    *len = (last - first + 1) * block;
    return 0;
}

/* Centres a window of at most MAX_ANALYSIS_SECONDS inside [start, start + len). */
static void cap_window(unsigned rate, size_t *start, size_t *len)
{
    size_t max = (size_t)(MAX_ANALYSIS_SECONDS * rate);

    if (*len > max) {
        *start += (*len - max) / 2;
        *len = max;
    }
}

/* Sums the power of short frames spread over the region, which gives a smooth spectrum whose peak
 * is at most half a scan step away from the tone. */
static double coarse_peak(const double *x, size_t len, unsigned rate)
{
    size_t flen = rate / 5, nframes, stride, f;
    double wsum, best_hz = 0.0, best = -1.0, hz, top;
    double *win;

    if (flen > len)
        flen = len;
    nframes = len / flen;
    if (nframes > MAX_COARSE_FRAMES)
        nframes = MAX_COARSE_FRAMES;
    stride = nframes > 1 ? (len - flen) / (nframes - 1) : 0;
    win = hann_new(flen, &wsum);
    if (win == NULL)
        return 0.0;

    top = SCAN_MAX_HZ < 0.49 * rate ? SCAN_MAX_HZ : 0.49 * rate;
    for (hz = SCAN_MIN_HZ; hz <= top + 1e-9; hz += SCAN_STEP_HZ) {
        double acc = 0.0;
        for (f = 0; f < nframes; f++) {
            double a = goertzel_amplitude(x + f * stride, win, flen, wsum, rate, hz);
            acc += a * a;
        }
        if (acc > best) {
            best = acc;
            best_hz = hz;
        }
    }
    free(win);
    return best_hz;
}

/* Scans around the coarse peak over the whole (capped) region, then fits a parabola through the
 * best point and its neighbours for a sub-step estimate. */
static double refine_peak(const double *x, size_t len, unsigned rate, double coarse)
{
    size_t steps = (size_t)(2 * REFINE_SPAN_HZ / REFINE_STEP_HZ) + 1, i, best_i = 0;
    double wsum, *win, *amp = NULL, result = coarse;

    win = hann_new(len, &wsum);
    amp = malloc(steps * sizeof(*amp));
    if (win == NULL || amp == NULL)
        goto done;
    for (i = 0; i < steps; i++) {
        double hz = coarse - REFINE_SPAN_HZ + (double)i * REFINE_STEP_HZ;
        amp[i] = hz > 0.0 ? goertzel_amplitude(x, win, len, wsum, rate, hz) : 0.0;
        if (amp[i] > amp[best_i])
            best_i = i;
    }
    result = coarse - REFINE_SPAN_HZ + (double)best_i * REFINE_STEP_HZ;
    if (best_i > 0 && best_i + 1 < steps) {
        double a = amp[best_i - 1], b = amp[best_i], c = amp[best_i + 1];
        double denom = a - 2.0 * b + c;
        if (denom < 0.0)
            result += 0.5 * (a - c) / denom * REFINE_STEP_HZ;
    }
done:
    free(win);
    free(amp);
    return result;
}

/* A silent channel, or one whose analysis ran out of memory, reports frequency 0, which fails any
 * frequency expectation. */
static void analyse_channel(const wav_t *w, unsigned c, channel_stats_t *st)
{
    const double *x = w->samples + (size_t)c * w->frames;
    size_t start, len;
    double coarse;

    st->rms = rms_of(x, w->frames);
    st->freq = 0.0;
    if (active_region(x, w->frames, w->rate, &start, &len) < 0)
        return;
    cap_window(w->rate, &start, &len);
    coarse = coarse_peak(x + start, len, w->rate);
    if (coarse > 0.0)
        st->freq = refine_peak(x + start, len, w->rate, coarse);
}

/* Strongest amplitude of channel c within 1 Hz of freq, over the whole (capped) file, so that two
 * channels are compared over the same samples. */
static double amplitude_near(const wav_t *w, unsigned c, double freq)
{
    const double *x = w->samples + (size_t)c * w->frames;
    size_t start = 0, len = w->frames;
    double wsum, best = 0.0, hz;
    double *win;

    cap_window(w->rate, &start, &len);
    if (len == 0)
        return 0.0;
    win = hann_new(len, &wsum);
    if (win == NULL)
        return 0.0;
    for (hz = freq - 1.0; hz <= freq + 1.0 + 1e-9; hz += 0.25) {
        double a = goertzel_amplitude(x + start, win, len, wsum, w->rate, hz);
        if (a > best)
            best = a;
    }
    free(win);
    return best;
}

static double ratio_db(double num, double den)
{
    if (num <= 0.0)
        return -INFINITY;
    if (den <= 0.0)
        return INFINITY;
    return 20.0 * log10(num / den);
}

/* Proves the channel holding tone "freq" is not also heard in the other channel: the other
 * channel's amplitude at that frequency must be MIN_ISOLATION_DB below the owner's. */
static int check_isolation(const options_t *o, const wav_t *w, unsigned owner, double freq)
{
    unsigned other = owner == 0 ? 1 : 0;
    double own = amplitude_near(w, owner, freq);
    double leak = amplitude_near(w, other, freq);
    double db = ratio_db(leak, own);

    printf("ch%u at %.1f Hz: %.1f dB relative to ch%u\n", other, freq, db, owner);
    if (db > -MIN_ISOLATION_DB) {
        complain(o->path, "ch%u's %.1f Hz tone is also in ch%u at %.1f dB relative to ch%u (must be "
                 "below -%.0f dB): channels mixed or swapped", owner, freq, other, db, owner,
                 MIN_ISOLATION_DB);
        return -1;
    }
    return 0;
}

static int check_freq(const options_t *o, const char *side, unsigned c, double want,
                      const channel_stats_t *st)
{
    if (fabs(st->freq - want) > FREQ_TOLERANCE_HZ) {
        complain(o->path, "%s channel (ch%u) dominant frequency is %.1f Hz, expected %.1f +/- %.0f Hz",
                 side, c, st->freq, want, FREQ_TOLERANCE_HZ);
        return -1;
    }
    return 0;
}

static int check_expectations(const options_t *o, const wav_t *w, const channel_stats_t *st)
{
    double duration = w->rate > 0 ? (double)w->frames / w->rate : 0.0;
    int failed = 0;

    if (o->expect_rate >= 0 && (long)w->rate != o->expect_rate) {
        complain(o->path, "sample rate is %u Hz, expected %ld Hz", w->rate, o->expect_rate);
        failed = 1;
    }
    if (o->expect_duration >= 0 && fabs(duration - o->expect_duration) > o->duration_tolerance) {
        complain(o->path, "duration is %.2f s, expected %.2f +/- %.2f s", duration,
                 o->expect_duration, o->duration_tolerance);
        failed = 1;
    }
    if (o->expect_left < 0 && o->expect_right < 0)
        return failed ? -1 : 0;
    if (w->channels != 2) {
        complain(o->path, "%u channels; expected a stereo file (left = near end, right = far end)",
                 w->channels);
        return -1;
    }
    /* Isolation is measured at the frequency found, which is more precise than the expected one;
     * a channel whose tone is wrong has already failed and is not measured again. */
    if (o->expect_left >= 0) {
        if (check_freq(o, "left", 0, o->expect_left, &st[0]) < 0 ||
            check_isolation(o, w, 0, st[0].freq) < 0)
            failed = 1;
    }
    if (o->expect_right >= 0) {
        if (check_freq(o, "right", 1, o->expect_right, &st[1]) < 0 ||
            check_isolation(o, w, 1, st[1].freq) < 0)
            failed = 1;
    }
    return failed ? -1 : 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [--expect-left HZ] [--expect-right HZ] [--expect-duration S]\n"
            "       [--tolerance-duration S] [--expect-rate HZ] FILE.wav\n"
            "Prints the format of a 16-bit PCM WAV file and each channel's dominant frequency\n"
            "and RMS. With --expect-* options, exits 2 unless the left/right dominant frequencies\n"
            "are within %.0f Hz, each channel's tone is at least %.0f dB weaker in the other\n"
            "channel, and the duration is within the tolerance (default %.1f s).\n",
            progname, FREQ_TOLERANCE_HZ, MIN_ISOLATION_DB, DEFAULT_DURATION_TOLERANCE);
}

static int parse_number(const char *opt, const char *s, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(*out) || *out < 0.0) {
        fprintf(stderr, "%s: %s needs a non-negative number, not '%s'\n", progname, opt, s);
        return -1;
    }
    return 0;
}

static int parse_options(int argc, char **argv, options_t *o)
{
    int i;

    o->path = NULL;
    o->expect_left = o->expect_right = o->expect_duration = -1.0;
    o->duration_tolerance = DEFAULT_DURATION_TOLERANCE;
    o->expect_rate = -1;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        double *target = NULL;
        double rate;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--expect-left") == 0)
            target = &o->expect_left;
        else if (strcmp(a, "--expect-right") == 0)
            target = &o->expect_right;
        else if (strcmp(a, "--expect-duration") == 0)
            target = &o->expect_duration;
        else if (strcmp(a, "--tolerance-duration") == 0)
            target = &o->duration_tolerance;
        else if (strcmp(a, "--expect-rate") == 0)
            target = &rate;
        else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "%s: unknown option %s\n", progname, a);
            return -1;
        } else if (o->path == NULL) {
            o->path = a;
            continue;
        } else {
            fprintf(stderr, "%s: only one file, please\n", progname);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: %s needs a value\n", progname, a);
            return -1;
        }
        if (parse_number(a, argv[++i], target) < 0)
            return -1;
        if (target == &rate)
            o->expect_rate = (long)rate;
    }
    if (o->path == NULL) {
        usage(stderr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned char *buf = NULL;
    channel_stats_t st[MAX_CHANNELS];
    wav_t w = { 0, 0, 0, NULL };
    options_t o;
    size_t len;
    unsigned c;
    int rc = EXIT_BAD_FILE;

    if (parse_options(argc, argv, &o) < 0)
        return EXIT_USAGE;
    if (read_file(o.path, &buf, &len) < 0)
        goto done;
    if (wav_parse(o.path, buf, len, &w) < 0)
        goto done;

    printf("channels=%u rate=%u frames=%zu duration=%.2f\n", w.channels, w.rate, w.frames,
           (double)w.frames / w.rate);
    for (c = 0; c < w.channels; c++) {
        analyse_channel(&w, c, &st[c]);
        printf("ch%u freq=%.1f rms=%.1f\n", c, st[c].freq, st[c].rms);
    }
    fflush(stdout);
    rc = check_expectations(&o, &w, st) < 0 ? EXIT_EXPECTATION : 0;

done:
    free(buf);
    free(w.samples);
    return rc;
}
