/*
 * The announcement endpoint's parts that need no network: prompt files
 * (what is accepted, what is refused and why, the rate conversions), the
 * prompt encoders, the choice of prompt by caller number, the consent
 * records (their encoding, and the store: encrypted, found by number within
 * a window, the newest first, audited), and the configuration's checks.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "announce/announce.h"
#include "announce/prompt.h"
#include "common/buf.h"
#include "common/util.h"
#include "config/settings.h"
#include "sql-free-store/consent.h"
#include "tap.h"

/* A WAV image: 16-bit PCM mono at rate, n samples of a sine at hz. */
static size_t make_wav(uint8_t *out, unsigned rate, unsigned bits, unsigned channels, size_t n, double hz)
{
    br_buf_t b;
    size_t len;
    uint8_t *data;

    br_buf_init(&b);
    br_buf_append(&b, "RIFF", 4);
    br_buf_put_u32le(&b, (uint32_t)(36 + 2 * n));
    br_buf_append(&b, "WAVE", 4);
    br_buf_append(&b, "LIST", 4); /* a chunk a reader must skip */
    br_buf_put_u32le(&b, 3);
    br_buf_append(&b, "abc\0", 4); /* odd size: padded */
    br_buf_append(&b, "fmt ", 4);
    br_buf_put_u32le(&b, 16);
    br_buf_put_u16le(&b, 1);
    br_buf_put_u16le(&b, (uint16_t)channels);
    br_buf_put_u32le(&b, rate);
    br_buf_put_u32le(&b, rate * 2 * channels);
    br_buf_put_u16le(&b, (uint16_t)(2 * channels));
    br_buf_put_u16le(&b, (uint16_t)bits);
    br_buf_append(&b, "data", 4);
    br_buf_put_u32le(&b, (uint32_t)(2 * n));
    for (size_t i = 0; i < n; i++)
        br_buf_put_u16le(&b, (uint16_t)(int16_t)(10000 * sin(2 * M_PI * hz * (double)i / rate)));
    data = br_buf_take(&b, &len);
    memcpy(out, data, len);
    free(data);
    return len;
}

static void test_prompt_files(void)
{
    static uint8_t wav[80000];
    br_prompt_audio_t p;
    char why[120];
    size_t len;

    len = make_wav(wav, 8000, 16, 1, 8000, 600);
    is_int(br_prompt_parse(wav, len, &p, why, sizeof why), 0, "an 8 kHz 16-bit mono WAV is a prompt");
    ok(p.n8 == 8000 && p.n16 == 16000, "kept at 8 kHz and made at 16 kHz (%zu, %zu samples)", p.n8, p.n16);
    is_int((int)br_prompt_ms(&p), 1000, "it lasts 1000 ms");
    is_int((int)br_prompt_packets(&p), 50, "50 packets of 20 ms");
    ok(p.pcm16[2] == p.pcm8[1] && abs(p.pcm16[1] - (p.pcm8[0] + p.pcm8[1]) / 2) <= 1,
       "16 kHz samples interpolate the 8 kHz ones");
    br_prompt_free(&p);

    len = make_wav(wav, 16000, 16, 1, 16001, 750);
    is_int(br_prompt_parse(wav, len, &p, why, sizeof why), 0, "a 16 kHz WAV is a prompt too");
    ok(p.n16 == 16000 && p.n8 == 8000, "an odd sample at the end is dropped, 8 kHz made by decimation");
    br_prompt_free(&p);

    len = make_wav(wav, 44100, 16, 1, 100, 750);
    is_int(br_prompt_parse(wav, len, &p, why, sizeof why), -EPROTO, "44.1 kHz is refused");
    is_str(why, "must be sampled at 8000 or 16000 Hz", "saying why");
    len = make_wav(wav, 8000, 16, 2, 100, 750);
    is_int(br_prompt_parse(wav, len, &p, why, sizeof why), -EPROTO, "stereo is refused");
    len = make_wav(wav, 8000, 8, 1, 100, 750);
    is_int(br_prompt_parse(wav, len, &p, why, sizeof why), -EPROTO, "8-bit is refused");
    len = make_wav(wav, 8000, 16, 1, 100, 750);
    is_int(br_prompt_parse(wav, len - 10, &p, why, sizeof why), -EPROTO, "a truncated data chunk is refused");
    is_str(why, "a chunk runs past the end of the file", "saying why");
    is_int(br_prompt_parse((const uint8_t *)"RIFX", 4, &p, why, sizeof why), -EPROTO, "not RIFF is refused");
    is_int(br_prompt_load("/nonexistent/prompt.wav", &p, why, sizeof why), -ENOENT, "a missing file is an error");
}

static void test_encoders(void)
{
    static uint8_t wav[40000];
    br_prompt_audio_t p;
    br_prompt_enc_t *e;
    uint8_t out[200];
    char why[120];
    size_t len = make_wav(wav, 8000, 16, 1, 1000, 600);
    const uint8_t pts[] = { 0, 8, 9, 18 };
    const size_t sizes[] = { 160, 160, 160, 20 };

    br_prompt_parse(wav, len, &p, why, sizeof why);
    for (size_t i = 0; i < sizeof pts; i++) {
        is_int(br_prompt_enc_new(&e, pts[i]), 0, "encoder for payload type %u", pts[i]);
        is_int((int)br_prompt_enc_frame(e, &p, 0, out), (int)sizes[i], "20 ms is %zu bytes", sizes[i]);
        /* Past the end: silence, never a read beyond the samples (ASan would say). */
        ok(br_prompt_enc_frame(e, &p, 100, out) == sizes[i], "past the end it encodes silence");
        br_prompt_enc_free(e);
    }
    is_int(br_prompt_enc_new(&e, 3), -ENOTSUP, "GSM is not offered");
    br_prompt_free(&p);
}

static void test_prompt_choice(void)
{
    br_announcement_t a;

    memset(&a, 0, sizeof a);
    a.nprompts = 3;
    strcpy(a.language, "en");
    strcpy(a.prompts[0].language, "fr");
    strcpy(a.prompts[0].callers, "+33 0033");
    strcpy(a.prompts[1].language, "en");
    strcpy(a.prompts[2].language, "de");
    strcpy(a.prompts[2].callers, "+49,0049");
    is_int(br_announcement_prompt_for(&a, "+4930123"), 2, "+49 takes the German prompt");
    is_int(br_announcement_prompt_for(&a, "004930123"), 2, "so does 0049");
    is_int(br_announcement_prompt_for(&a, "0033123"), 0, "0033 the French one");
    is_int(br_announcement_prompt_for(&a, "+44123"), 1, "anyone else the default language");
    is_int(br_announcement_prompt_for(&a, ""), 1, "as does an anonymous caller");
}

static void test_consent_codec(void)
{
    br_consent_rec_t c, d;
    br_buf_t b;

    memset(&c, 0, sizeof c);
    strcpy(c.id, "0123456789abcdef0123");
    c.at_us = 1700000000000000;
    strcpy(c.caller, "+441632960001");
    strcpy(c.called, "8000");
    strcpy(c.language, "en");
    strcpy(c.prompt, "en.wav");
    c.decision = BR_CONSENT_ACCEPTED;
    c.digit = '1';
    c.played_ms = 1200;
    br_buf_init(&b);
    is_int(br_consent_encode(&c, &b), 0, "a decision encodes");
    memset(&d, 0, sizeof d);
    strcpy(d.id, c.id);
    is_int(br_consent_decode(b.data, b.len, &d), 0, "and decodes");
    ok(memcmp(&c, &d, sizeof c) == 0, "to the same record");
    is_int(br_consent_decode(b.data, b.len - 1, &d), -EPROTO, "a short record is refused");
    b.data[b.len - 6] = 9; /* the decision byte */
    is_int(br_consent_decode(b.data, b.len, &d), -EPROTO, "an unknown decision is refused");
    br_buf_free(&b);
}

struct count {
    int n;
};

static int count_cb(const char *id, void *ctx)
{
    (void)id;
    ((struct count *)ctx)->n++;
    return 0;
}

static void test_consent_store(void)
{
    char dir[] = "/tmp/bibrec-test-announce.XXXXXX", path[300];
    br_master_key_t mk;
    br_store_t *st;
    br_consent_rec_t c, got;
    br_ledger_entry_t e;
    struct count n = { 0 };
    int64_t before;
    char first[BR_ID_LEN + 1];

    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/master.key", dir);
    br_master_key_load(&mk, path, 1, NULL);
    snprintf(path, sizeof path, "%s/store", dir);
    is_int(br_store_open(&st, path, &mk), 0, "store opens");
    before = br_now_us();
    memset(&c, 0, sizeof c);
    strcpy(c.caller, "+44 1632 960001");
    strcpy(c.called, "8000");
    strcpy(c.prompt, "en.wav");
    strcpy(c.language, "en");
    c.decision = BR_CONSENT_REFUSED;
    c.digit = '2';
    c.at_us = before;
    is_int(br_consent_put(st, &c, "127.0.0.1:5060"), 0, "a decision is stored");
    strcpy(first, c.id);
    usleep(2000);
    c.decision = BR_CONSENT_ACCEPTED;
    c.digit = '1';
    is_int(br_consent_put(st, &c, "127.0.0.1:5060"), 0, "a second, later decision too");
    ok(strcmp(first, c.id) != 0, "each has its own id");
    is_int(br_consent_by_number(st, "+441632960001", count_cb, &n), 0, "found by number");
    is_int(n.n, 2, "both of them, the number's spacing aside");
    is_int(br_consent_latest(st, "+441632960001", before - 1000000, &got), 1, "the newest within the window");
    is_str(got.id, c.id, "is the second");
    is_int(got.decision, BR_CONSENT_ACCEPTED, "accepted");
    is_str(got.caller, "+44 1632 960001", "with the caller's number as given");
    is_int(br_consent_latest(st, "+441632960001", br_now_us() + 1000000, &got), 0,
           "none after the window");
    is_int(br_consent_latest(st, "+441632960002", before - 1000000, &got), 0, "none for another number");
    is_int(br_ledger_read(st, 1, &e), 0, "the ledger holds the decision");
    is_str(e.action, "consent", "as a consent event");
    is_str(e.target, c.id, "naming it");
    is_str(e.detail, "accepted by digit 1 at announcement 8000, prompt en.wav (en), 0 ms played",
           "with what was decided and how");
    {
        /* No number in the clear anywhere in the database files. */
        char cmd[400];
        snprintf(cmd, sizeof cmd, "grep -rqa 1632960001 %s/store", dir);
        ok(system(cmd) != 0, "the caller's number is stored encrypted only");
    }
    is_int(br_consent_erase(st, first, "privacy", "-", "asked"), 0, "a decision is erased");
    is_int(br_consent_get(st, first, &got), -ENOENT, "and cannot be read any more");
    n.n = 0;
    br_consent_by_number(st, "+441632960001", count_cb, &n);
    is_int(n.n, 1, "nor found by the number");
    is_int(br_consent_erase(st, first, "privacy", "-", "asked"), -ENOENT, "erasing it again says so");
    is_int(br_ledger_read(st, br_ledger_size(st) - 1, &e), 0, "the erasure is in the ledger");
    ok(e.type == BR_LEDGER_ERASED && strcmp(e.action, "erase-consent") == 0 && strcmp(e.target, first) == 0,
       "as a tombstone naming the decision");
    br_store_close(st);
    {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "# could not remove %s\n", dir);
    }
}

static void test_config(void)
{
    br_config_t cfg;
    char err[300];
    const char *good =
        "<bibrec><profile name='s' basis='consent' require-consent='yes' consent-default='accept'>"
        "<match dn='4070'/></profile>"
        "<announcement number='8000' mode='pre-connect' transfer-to='4070' profile='s'>"
        "<prompt file='/p/en.wav'/><prompt language='de' file='/p/de.wav' callers='+49'/>"
        "</announcement></bibrec>";
    struct {
        const char *xml, *err;
    } bad[] = {
        { "<bibrec><announcement number='8000'/></bibrec>", "needs a number and at least one <prompt>" },
        { "<bibrec><announcement number='8000' mode='pre-connect'><prompt file='/a.wav'/></announcement></bibrec>",
          "pre-connect announcement needs transfer-to" },
        { "<bibrec><announcement number='8000' mode='later'><prompt file='/a.wav'/></announcement></bibrec>",
          "must be one of: greeting, pre-connect" },
        { "<bibrec><announcement number='8000' accept-digit='1' refuse-digit='1'><prompt file='/a.wav'/></announcement></bibrec>",
          "two different digits" },
        { "<bibrec><announcement number='8000' accept-digit='x'><prompt file='/a.wav'/></announcement></bibrec>",
          "must be one key" },
        { "<bibrec><announcement number='8000' profile='nope'><prompt file='/a.wav'/></announcement></bibrec>",
          "names profile 'nope', which is not configured" },
        { "<bibrec><announcement number='7000'><prompt file='/a.wav'/></announcement></bibrec>",
          "is also the recording number" },
        { "<bibrec><profile name='s' basis='consent' consent-default='maybe'><match dn='1'/></profile></bibrec>",
          "must be one of: accept, refuse" },
        { "<bibrec><http phone-pin='yes'/></bibrec>", "needs at least one <phone-user>" },
        { "<bibrec><phone-user name='a' devices='SEP*' pin='1234'/></bibrec>", "made by `bibrec phone-pin`" },
    };

    br_config_defaults(&cfg);
    is_int(br_config_load_mem(&cfg, "t.xml", good, strlen(good), err, sizeof err), 0, "announcement config loads: %s", err);
    is_int(cfg.nannouncements, 1, "one announcement");
    is_int(cfg.announcements[0].mode, BR_ANN_PRE_CONNECT, "pre-connect");
    is_str(cfg.announcements[0].accept_digit, "1", "accept digit defaults to 1");
    is_str(cfg.announcements[0].refuse_digit, "2", "refuse digit to 2");
    is_int((int)cfg.announcements[0].wait_ms, 5000, "wait 5 s by default");
    is_str(cfg.announcements[0].prompts[0].language, "en", "a prompt without language takes the default");
    is_int(cfg.profiles[0].consent_default, BR_CONSENT_ACCEPTED, "consent-default accept");
    ok(cfg.profiles[0].require_consent, "require-consent");
    is_str(cfg.cucm.announcement_number, "8000", "the CUCM guide's announcement route follows");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        br_config_defaults(&cfg);
        err[0] = 0;
        ok(br_config_load_mem(&cfg, "t.xml", bad[i].xml, strlen(bad[i].xml), err, sizeof err) < 0 &&
               strstr(err, bad[i].err),
           "refused: %s (%s)", bad[i].err, err);
    }
}

int main(void)
{
    test_prompt_files();
    test_encoders();
    test_prompt_choice();
    test_consent_codec();
    test_consent_store();
    test_config();
    return tap_done();
}
