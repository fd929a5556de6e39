/*
 * Fuzzes the reader of a recording's audio file (sql-free-store/audio.c and
 * the segment walk in store.c): a real store on a temporary folder holds one
 * sealed recording of three segments, and each input becomes that
 * recording's file after its header. Verification and decryption must never
 * crash or read out of bounds, and must succeed only for the bytes that
 * were really written: anything else is reported as a failure.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "common/util.h"
#include "crypto/crypto.h"
#include "fuzz.h"
#include "sql-free-store/store.h"

static br_store_t *st;
static char id[BR_ID_LEN + 1], path[512];
static uint8_t *orig;
static size_t orig_len;

static void verify_cb(const br_verify_result_t *r, void *ctx)
{
    *(int *)ctx = r->ok;
}

static int audio_cb(const uint8_t *a, size_t n, void *ctx)
{
    (void)a;
    *(size_t *)ctx += n;
    return 0;
}

static char dir[] = "/tmp/fuzz_audio.XXXXXX";

static void cleanup(void)
{
    char cmd[600];

    br_store_close(st);
    free(orig);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static void setup(void)
{
    char keypath[300], storepath[300];
    uint8_t audio[1600];
    br_master_key_t mk;
    br_rec_writer_t *w;
    br_rec_meta_t m;
    FILE *f;
    long n;
    int created;

    if (!mkdtemp(dir))
        abort();
    snprintf(keypath, sizeof keypath, "%s/master.key", dir);
    snprintf(storepath, sizeof storepath, "%s/store", dir);
    FUZZ_CHECK(br_master_key_load(&mk, keypath, 1, &created) == 0);
    FUZZ_CHECK(br_store_open(&st, storepath, &mk) == 0);
    memset(&m, 0, sizeof m);
    m.sample_rate = 8000;
    m.start_us = br_now_us();
    FUZZ_CHECK(br_rec_create(st, &m, &w) == 0);
    memset(audio, 0xff, sizeof audio); /* compresses */
    FUZZ_CHECK(br_rec_write_segment(w, audio, sizeof audio) == 0);
    for (size_t i = 0; i < sizeof audio; i++) /* does not */
        audio[i] = (uint8_t)(i * 2654435761u >> 13);
    FUZZ_CHECK(br_rec_write_segment(w, audio, sizeof audio) == 0);
    br_store_set_compress(st, 0);
    FUZZ_CHECK(br_rec_write_segment(w, audio, sizeof audio) == 0);
    m.frames = 2400;
    FUZZ_CHECK(br_rec_seal(w, &m, BR_REC_SEALED) == 0);
    memcpy(id, m.id, sizeof id);
    snprintf(path, sizeof path, "%s/audio/%s/%s", storepath, id + BR_ID_LEN - 2, id);
    f = fopen(path, "rb");
    FUZZ_CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    orig = malloc((size_t)n);
    FUZZ_CHECK(orig && fread(orig, 1, (size_t)n, f) == (size_t)n);
    orig_len = (size_t)n;
    fclose(f);
    atexit(cleanup);
}

/* Inputs starting with an odd byte are edits of the real file, so that the
 * fuzzer also reaches the chain, the decryption and the decompression: a
 * u16 length to cut the records to (0xffff: keep all), then triples of u16
 * offset and a byte to XOR in. Others are records written as they are. */
static uint8_t *edited(const uint8_t *data, size_t size, size_t *len)
{
    size_t body = orig_len - 28, cut;
    uint8_t *b = malloc(body ? body : 1);

    FUZZ_CHECK(b != NULL);
    memcpy(b, orig + 28, body);
    cut = size >= 3 ? (size_t)(data[1] | data[2] << 8) : 0xffff;
    for (size_t i = 3; i + 3 <= size; i += 3) {
        size_t at = (size_t)(data[i] | data[i + 1] << 8);
        if (at < body)
            b[at] ^= data[i + 2];
    }
    *len = cut < body ? cut : body;
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const size_t hdr = 28; /* "bibrecA1" and the id: kept, so the records are reached */
    size_t bytes = 0, len = size;
    uint8_t *edit = NULL;
    const uint8_t *body = data;
    int ok = -1, rc, same;
    FILE *f;

    if (!st)
        setup();
    if (size && (data[0] & 1))
        body = edit = edited(data, size, &len);
    f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fwrite(orig, 1, hdr, f) == hdr);
    FUZZ_CHECK(len == 0 || fwrite(body, 1, len, f) == len);
    FUZZ_CHECK(fclose(f) == 0);
    same = len == orig_len - hdr && memcmp(body, orig + hdr, len) == 0;

    rc = br_store_verify(st, id, verify_cb, &ok);
    FUZZ_CHECK(rc >= 0);
    FUZZ_CHECK(ok == same);
    rc = br_store_read_audio(st, id, audio_cb, &bytes);
    FUZZ_CHECK(same ? rc == 0 && bytes == 3 * 1600 : rc <= 0);
    free(edit);
    return 0;
}
