/*
 * The store with real LevelDB on a temporary folder and real GnuTLS: a
 * recording's round trip, chain verification and what tampering does to it,
 * the master key file, the one-process lock and crash recovery.
 */
#include <errno.h>
#include <fcntl.h>
#include <leveldb/c.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "crypto/crypto.h"
#include "sql-free-store/store.h"
#include "tap.h"

static char dir[256];

struct verify_log {
    int calls, fails;
    int64_t bad;
    char id[32];
};

static void vcb(const br_verify_result_t *r, void *ctx)
{
    struct verify_log *v = ctx;
    v->calls++;
    if (!r->ok) {
        v->fails++;
        v->bad = r->bad_segment;
        br_strlcpy(v->id, r->id, sizeof v->id);
    }
}

static size_t audio_bytes;
static int audio_ok;

struct cmp {
    const uint8_t *want;
    size_t at;
    int same;
};

int cmp_cb(const uint8_t *a, size_t n, void *ctx);
int cmp_cb(const uint8_t *a, size_t n, void *ctx)
{
    struct cmp *c = ctx;
    if (memcmp(a, c->want + c->at, n) != 0)
        c->same = 0;
    c->at += n;
    return 0;
}

static int acb(const uint8_t *a, size_t n, void *ctx)
{
    int seg = (int)(audio_bytes / 1600);
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        if (a[i] != (uint8_t)(seg + 1))
            audio_ok = 0;
    audio_bytes += n;
    return 0;
}

/* ---- a recording's audio file, edited as an attacker (or a crash) would.
 * "bibrecA1" (8) + id (20), then records of u32 length + value. */
#define FILE_HDR 28

static void audio_path(const char *id, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s/store/audio/%s/%s", dir, id + strlen(id) - 2, id);
}

static uint8_t *load(const char *id, size_t *len)
{
    char path[400];
    uint8_t *b = NULL;
    FILE *f;
    long n;

    audio_path(id, path, sizeof path);
    f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void save(const char *id, const uint8_t *b, size_t len)
{
    char path[400];
    FILE *f;

    audio_path(id, path, sizeof path);
    f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, len, f);
        fclose(f);
    }
}

/* Offset of record n's length field; len if there is no such record. */
static size_t record_at(const uint8_t *b, size_t len, unsigned n)
{
    size_t off = FILE_HDR;
    while (n-- && off + 4 <= len)
        off += 4 + ((size_t)b[off] | (size_t)b[off + 1] << 8 | (size_t)b[off + 2] << 16 |
                    (size_t)b[off + 3] << 24);
    return off < len ? off : len;
}

/* Flips a byte of record n's value, at offset within it. */
static void tamper_segment(const char *id, unsigned n, size_t offset)
{
    size_t len, off;
    uint8_t *b = load(id, &len);
    if (!b)
        return;
    off = record_at(b, len, n) + 4 + offset;
    if (off < len)
        b[off] ^= 1;
    save(id, b, len);
    free(b);
}

/* Flips one byte of a stored value with LevelDB directly, as an attacker
 * with file access would. */
static void tamper(const char *key, size_t offset)
{
    char path[300], *err = NULL, *v;
    size_t vlen;
    leveldb_options_t *o = leveldb_options_create();
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    leveldb_t *db;

    snprintf(path, sizeof path, "%s/store/db", dir);
    db = leveldb_open(o, path, &err);
    v = leveldb_get(db, ro, key, strlen(key), &vlen, &err);
    if (v && offset == (size_t)-1 && vlen)
        offset = vlen - 1; /* the last byte */
    if (v && offset < vlen) {
        v[offset] ^= 1;
        leveldb_put(db, wo, key, strlen(key), v, vlen, &err);
    }
    leveldb_free(v);
    leveldb_close(db);
    leveldb_options_destroy(o);
    leveldb_readoptions_destroy(ro);
    leveldb_writeoptions_destroy(wo);
}

int main(void)
{
    char keypath[300], storepath[300], segkey[80];
    br_master_key_t mk, mk2;
    br_store_t *st = NULL, *st2 = NULL;
    br_rec_writer_t *w;
    br_rec_meta_t m, back;
    struct verify_log v;
    uint8_t audio[1600];
    struct stat sb;
    int created;

    snprintf(dir, sizeof dir, "%s/bibrec-test-store-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    snprintf(keypath, sizeof keypath, "%s/master.key", dir);
    snprintf(storepath, sizeof storepath, "%s/store", dir);

    is_int(br_master_key_load(&mk, keypath, 0, NULL), -ENOENT, "missing key is an error without create");
    is_int(br_master_key_load(&mk, keypath, 1, &created), 0, "master key created");
    ok(created, "reported as created");
    ok(stat(keypath, &sb) == 0 && (sb.st_mode & 0777) == 0600, "key file mode 0600");
    is_int(br_master_key_load(&mk2, keypath, 1, &created), 0, "master key loads again");
    ok(!created && memcmp(mk.key, mk2.key, BR_KEY_LEN) == 0, "same key read back");
    chmod(keypath, 0644);
    is_int(br_master_key_load(&mk2, keypath, 0, NULL), -EACCES, "world-readable key refused");
    chmod(keypath, 0600);

    is_int(br_store_open(&st, storepath, &mk), 0, "store opens");
    br_store_set_compress(st, 0); /* whole-size records: the offsets below rely on them */
    is_int(br_store_open(&st2, storepath, &mk), -EBUSY, "second open of the same store: busy");

    memset(&m, 0, sizeof m);
    m.sample_rate = 8000;
    m.start_us = br_now_us();
    br_strlcpy(m.near.addr, "4001", sizeof m.near.addr);
    br_strlcpy(m.near.device, "SEP00AABBCCDD01", sizeof m.near.device);
    br_strlcpy(m.far.addr, "+4930123456", sizeof m.far.addr);
    m.near.payload_type = 0;
    m.far.payload_type = 8;
    is_int(br_rec_create(st, &m, &w), 0, "recording created");
    is_int(strlen(m.id), BR_ID_LEN, "id has 20 characters");
    for (int s = 0; s < 3; s++) {
        memset(audio, s + 1, sizeof audio);
        is_int(br_rec_write_segment(w, audio, sizeof audio), 0, "segment %d written", s);
    }
    memset(&v, 0, sizeof v);
    is_int(br_store_verify(st, NULL, vcb, &v), 0, "open recording verifies (chain so far)");
    m.frames = 2400;
    is_int(br_rec_seal(w, &m, BR_REC_SEALED), 0, "sealed");
    is_int(m.segments, 3, "segment count recorded");

    is_int(br_store_read_meta(st, m.id, &back), 0, "metadata reads back");
    is_str(back.near.addr, "4001", "near DN decrypted");
    is_str(back.far.addr, "+4930123456", "far number decrypted");
    is_int(back.state, BR_REC_SEALED, "state sealed");
    is_int(back.frames, 2400, "frames");
    audio_ok = 1;
    is_int(br_store_read_audio(st, m.id, acb, NULL), 0, "audio decrypts");
    ok(audio_ok && audio_bytes == 4800, "audio identical, all 3 segments in order");
    memset(&v, 0, sizeof v);
    is_int(br_store_verify(st, m.id, vcb, &v), 0, "sealed recording verifies");
    is_int(br_store_verify(st, "00000000000000000000", vcb, &v), -ENOENT, "unknown id: ENOENT");

    /* A failed append (here: the file size limit, as a full disk would)
     * leaves the file as it was, and the chain goes on from what was
     * really written, so there is no gap in it. */
    {
        br_rec_meta_t m2 = m;
        br_rec_writer_t *w2;
        struct rlimit old_lim, lim;
        struct stat fsb;
        char path[400];
        is_int(br_rec_create(st, &m2, &w2), 0, "second recording created");
        for (int s = 0; s < 2; s++) {
            memset(audio, s + 1, sizeof audio);
            is_int(br_rec_write_segment(w2, audio, sizeof audio), 0, "segment %d appended", s);
        }
        audio_path(m2.id, path, sizeof path);
        ok(stat(path, &fsb) == 0 && (fsb.st_mode & 0777) == 0600, "the audio file exists, mode 0600");
        getrlimit(RLIMIT_FSIZE, &old_lim);
        lim = old_lim;
        lim.rlim_cur = (rlim_t)fsb.st_size + 100; /* room for part of the next record only */
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &lim);
        memset(audio, 0x55, sizeof audio);
        ok(br_rec_write_segment(w2, audio, sizeof audio) < 0, "an append past the size limit fails");
        setrlimit(RLIMIT_FSIZE, &old_lim);
        {
            struct stat after;
            ok(stat(path, &after) == 0 && after.st_size == fsb.st_size,
               "and its partial record is cut off (%lld bytes, as before)", (long long)after.st_size);
        }
        memset(audio, 3, sizeof audio);
        is_int(br_rec_write_segment(w2, audio, sizeof audio), 0, "the next segment appended");
        m2.frames = 2400;
        is_int(br_rec_seal(w2, &m2, BR_REC_SEALED), 0, "sealed");
        is_int(m2.segments, 3, "three segments: the failed one is not counted");
        audio_ok = 1;
        audio_bytes = 0;
        is_int(br_store_read_audio(st, m2.id, acb, NULL), 0, "its audio decrypts");
        ok(audio_ok && audio_bytes == 4800, "segments 1, 2, 3 in order, nothing of the failed one");
        memset(&v, 0, sizeof v);
        is_int(br_store_verify(st, m2.id, vcb, &v), 0, "and its chain verifies");
    }
    /* Audio of a recording made before audio files (segments in LevelDB
     * under rec/<id>/seg/<n>) is still read and verified. */
    {
        br_rec_meta_t m3 = m;
        br_rec_writer_t *w3;
        size_t len;
        uint8_t *b;
        char path[400];
        is_int(br_rec_create(st, &m3, &w3), 0, "third recording created");
        for (int s = 0; s < 2; s++) {
            memset(audio, s + 1, sizeof audio);
            br_rec_write_segment(w3, audio, sizeof audio);
        }
        m3.frames = 1600;
        is_int(br_rec_seal(w3, &m3, BR_REC_SEALED), 0, "sealed");
        br_store_close(st);
        b = load(m3.id, &len);
        ok(b != NULL, "its audio file reads");
        for (unsigned n = 0; b && n < 2; n++) {
            size_t off = record_at(b, len, n), next = record_at(b, len, n + 1);
            char key[80], *err = NULL;
            leveldb_options_t *o = leveldb_options_create();
            leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
            leveldb_t *db;
            snprintf(path, sizeof path, "%s/store/db", dir);
            db = leveldb_open(o, path, &err);
            snprintf(key, sizeof key, "rec/%s/seg/%08u", m3.id, n);
            leveldb_put(db, wo, key, strlen(key), (const char *)b + off + 4, next - off - 4, &err);
            leveldb_close(db);
            leveldb_options_destroy(o);
            leveldb_writeoptions_destroy(wo);
        }
        free(b);
        audio_path(m3.id, path, sizeof path);
        unlink(path);
        br_store_open(&st, storepath, &mk);
        audio_ok = 1;
        audio_bytes = 0;
        /* The same ciphertext, so the chain and the AEAD hold; the plaintext
         * of a file segment starts with its encoding byte, which a LevelDB
         * segment of an earlier version does not have, so each comes back
         * one byte longer here. */
        is_int(br_store_read_audio(st, m3.id, acb, NULL), 0, "segments kept in LevelDB decrypt");
        ok(audio_bytes == 2 * 1601, "both, read as segments without an encoding byte (%zu bytes)",
           audio_bytes);
        memset(&v, 0, sizeof v);
        is_int(br_store_verify(st, m3.id, vcb, &v), 0, "and verify");
    }
    /* A recording discarded before it held anything worth keeping leaves
     * no audio file behind. */
    {
        br_rec_meta_t m4 = m;
        br_rec_writer_t *w4;
        char path[400];
        struct stat fsb;
        br_rec_create(st, &m4, &w4);
        br_rec_write_segment(w4, audio, sizeof audio);
        audio_path(m4.id, path, sizeof path);
        ok(stat(path, &fsb) == 0, "a recording's audio file appears with its first segment");
        is_int(br_rec_discard(w4), 0, "discarded");
        ok(stat(path, &fsb) < 0 && errno == ENOENT, "and its audio file is gone");
    }
    br_store_close(st);

    /* Personal data is never in the files in clear. */
    {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "grep -rqa -e 4930123456 -e SEP00AABBCCDD01 '%s/store'", dir);
        ok(system(cmd) != 0, "no number or device name in clear in the store files");
    }

    /* Verification needs no key; tampering names the recording and segment. */
    is_int(br_store_open(&st, storepath, NULL), 0, "store opens without a key");
    br_store_close(st);
    tamper_segment(m.id, 1, 100);
    br_store_open(&st, storepath, NULL);
    memset(&v, 0, sizeof v);
    is_int(br_store_verify(st, NULL, vcb, &v), 1, "one recording fails after a flipped byte");
    is_str(v.id, m.id, "failure names the recording");
    is_int(v.bad, 1, "failure names segment 1");
    br_store_close(st);
    tamper_segment(m.id, 1, 100); /* put it back */
    snprintf(segkey, sizeof segkey, "rec/%s/meta", m.id);
    tamper(segkey, 20);
    br_store_open(&st, storepath, &mk);
    memset(&v, 0, sizeof v);
    is_int(br_store_verify(st, NULL, vcb, &v), 1, "altered metadata detected");
    is_int(v.bad, -1, "reported against the metadata, not a segment");
    ok(br_store_read_meta(st, m.id, &back) == -EBADMSG, "altered metadata does not decrypt");
    br_store_close(st);
    tamper(segkey, 20);

    /* The tamper suite: each change to the stored bytes is found and named. */
    {
        size_t len, r0, r1, r2;
        uint8_t *b = load(m.id, &len), *swapped = malloc(len + 1);

        r0 = record_at(b, len, 0);
        r1 = record_at(b, len, 1);
        r2 = record_at(b, len, 2);
        memcpy(swapped, b, r0);
        memcpy(swapped + r0, b + r1, r2 - r1);
        memcpy(swapped + r0 + (r2 - r1), b + r0, r1 - r0);
        memcpy(swapped + r2, b + r2, len - r2);
        save(m.id, swapped, len);
        br_store_open(&st, storepath, NULL);
        memset(&v, 0, sizeof v);
        ok(br_store_verify(st, m.id, vcb, &v) == 1 && v.bad == 0, "two segments swapped: caught at segment 0");
        br_store_close(st);
        save(m.id, b, len);

        /* Bytes appended after the sealed segments: a file that ends
         * inside a record, then one more whole record. */
        memcpy(swapped, b, len);
        swapped[len] = 7;
        save(m.id, swapped, len + 1);
        br_store_open(&st, storepath, NULL);
        memset(&v, 0, sizeof v);
        ok(br_store_verify(st, m.id, vcb, &v) == 1 && v.bad == 3, "a byte appended to a sealed file: caught after segment 2");
        br_store_close(st);
        free(swapped);
        swapped = malloc(len + (r2 - r1));
        memcpy(swapped, b, len);
        memcpy(swapped + len, b + r1, r2 - r1);
        save(m.id, swapped, len + (r2 - r1));
        br_store_open(&st, storepath, NULL);
        memset(&v, 0, sizeof v);
        ok(br_store_verify(st, m.id, vcb, &v) == 1 && v.bad == 3, "a segment appended to a sealed file: caught at segment 3");
        br_store_close(st);
        save(m.id, b, len);
        free(swapped);
        free(b);

        snprintf(segkey, sizeof segkey, "key/%s", m.id);
        tamper(segkey, 30);
        br_store_open(&st, storepath, &mk);
        memset(&v, 0, sizeof v);
        ok(br_store_verify(st, m.id, vcb, &v) == 1 && strcmp(v.id, m.id) == 0,
           "a flipped byte in the wrapped key: caught when a master key is at hand");
        br_store_close(st);
        tamper(segkey, 30);
    }
    /* A crash: a recording with segments but no seal is sealed as recovered. */
    br_store_open(&st, storepath, &mk);
    br_store_set_compress(st, 0); /* whole-size records: the offsets below rely on them */
    memset(&m, 0, sizeof m);
    m.sample_rate = 8000;
    m.start_us = br_now_us();
    br_rec_create(st, &m, &w);
    memset(audio, 1, sizeof audio);
    br_rec_write_segment(w, audio, sizeof audio);
    br_rec_write_segment(w, audio, sizeof audio);
    br_rec_write_segment(w, audio, sizeof audio);
    br_rec_writer_abandon(w); /* as a crash would leave it */
    br_store_close(st);
    {
        /* The crash cut the third segment's write short. */
        size_t len;
        uint8_t *b = load(m.id, &len);
        ok(b && record_at(b, len, 3) == len, "three whole segments in the file");
        save(m.id, b, record_at(b, len, 2) + 700);
        free(b);
    }
    br_store_open(&st, storepath, &mk);
    is_int(br_store_recover(st), 1, "one recording recovered");
    is_int(br_store_read_meta(st, m.id, &back), 0, "recovered metadata readable");
    is_int(back.state, BR_REC_RECOVERED, "state recovered");
    is_int(back.frames, 1600, "duration from the segments on disk (0.2 s)");
    memset(&v, 0, sizeof v);
    is_int(br_store_verify(st, NULL, vcb, &v), 0, "everything verifies after recovery");
    is_int(v.calls, 4, "four recordings checked (with the failed append's and the LevelDB one's)");
    {
        size_t len;
        uint8_t *b = load(m.id, &len);
        ok(b && record_at(b, len, 2) == len, "recovery cut the torn segment off the file");
        free(b);
    }
    is_int(br_store_recover(st), 0, "nothing left to recover");

    /* Erasure, keep and the retention sweep. */
    {
        br_rec_meta_t e1, e2, e3, back2;
        br_rec_writer_t *w2;
        unsigned erased;
        int64_t until;
        uint8_t why;
        int64_t due;
        memset(&e1, 0, sizeof e1);
        e1.sample_rate = 8000;
        e1.start_us = br_now_us();
        e1.retain_until_us = br_now_us() - 1000000; /* already due */
        br_rec_create(st, &e1, &w2);
        br_rec_write_segment(w2, audio, sizeof audio);
        br_rec_seal(w2, &e1, BR_REC_SEALED);
        memset(&e2, 0, sizeof e2);
        e2.sample_rate = 8000;
        e2.start_us = br_now_us();
        e2.keep_deadline_us = br_now_us() - 1000000;         /* not kept in time... */
        e2.retain_until_us = br_now_us() + 86400LL * 1000000; /* ...but kept now: a day */
        br_rec_create(st, &e2, &w2);
        br_rec_write_segment(w2, audio, sizeof audio);
        br_rec_seal(w2, &e2, BR_REC_SEALED);
        memset(&e3, 0, sizeof e3);
        e3.sample_rate = 8000;
        e3.start_us = br_now_us();
        e3.keep_deadline_us = br_now_us() - 1000000; /* never kept */
        br_rec_create(st, &e3, &w2);
        br_rec_write_segment(w2, audio, sizeof audio);
        br_rec_seal(w2, &e3, BR_REC_SEALED);

        ok(br_store_expiry(st, e2.id, &why, &due) == 0 && why == BR_EXPIRY_NOT_KEPT,
           "an on-demand recording waits to be kept");
        is_int(br_store_keep(st, e2.id, &until), 0, "keep");
        ok(until == e2.retain_until_us, "kept: the profile's retention applies");
        ok(br_store_expiry(st, e2.id, &why, &due) == 0 && why == BR_EXPIRY_RETENTION,
           "now due only at the end of its retention");
        is_int(br_store_keep(st, e2.id, &until), -EALREADY, "keeping twice is refused");

        is_int(br_store_sweep(st, br_now_us(), 64, "retention", &erased), 0, "sweep runs");
        is_int(erased, 2, "the expired and the not-kept recordings are erased, the kept one is not");
        is_int(br_store_read_meta(st, e1.id, &back2), 0, "an erased recording still lists");
        is_int(back2.state, BR_REC_ERASED, "as erased");
        is_int(br_store_read_audio(st, e1.id, acb, NULL), -ENOKEY, "its audio can never be decrypted");
        is_int(br_store_read_meta(st, e2.id, &back2), 0, "the kept one reads");
        is_int(back2.state, BR_REC_SEALED, "and is sealed as before");
        is_int(br_store_erase(st, e1.id, "t", "t", "again"), -EALREADY, "erasing twice is refused");
        is_int(br_store_erase(st, "00000000000000000000", "t", "t", "x"), -ENOENT, "unknown id");
        {
            char path[400];
            struct stat fsb;
            audio_path(e1.id, path, sizeof path);
            ok(stat(path, &fsb) < 0 && errno == ENOENT, "an erased recording's audio file is gone");
            audio_path(e2.id, path, sizeof path);
            ok(stat(path, &fsb) == 0, "a kept one's is not");
        }
        memset(&v, 0, sizeof v);
        is_int(br_store_verify(st, NULL, vcb, &v), 0, "every chain still verifies after erasure");
        {
            /* The chain's end kept in the marker is checked against the seal. */
            char key[80];
            snprintf(key, sizeof key, "rec/%s/erased", e1.id);
            br_store_close(st);
            tamper(key, (size_t)-1);
            br_store_open(&st, storepath, &mk);
            memset(&v, 0, sizeof v);
            ok(br_store_verify(st, e1.id, vcb, &v) == 1 && strcmp(v.id, e1.id) == 0,
               "a changed link in an erasure marker: caught");
            br_store_close(st);
            tamper(key, (size_t)-1);
            br_store_open(&st, storepath, &mk);
        }
        is_int(br_store_sweep(st, br_now_us(), 64, "retention", &erased), 0, "a second sweep");
        is_int(erased, 0, "finds nothing left");
    }

    /* A deleted segment and a truncated recording, on recordings of their own. */
    {
        br_rec_meta_t d1, d2;
        br_rec_writer_t *w3;
        br_store_close(st);
        br_store_open(&st, storepath, &mk);
        br_store_set_compress(st, 0); /* whole-size records: the offsets below rely on them */
        for (int k = 0; k < 2; k++) {
            br_rec_meta_t *d = k ? &d2 : &d1;
            memset(d, 0, sizeof *d);
            d->sample_rate = 8000;
            d->start_us = br_now_us();
            br_rec_create(st, d, &w3);
            for (int s = 0; s < 3; s++)
                br_rec_write_segment(w3, audio, sizeof audio);
            br_rec_seal(w3, d, BR_REC_SEALED);
        }
        br_store_close(st);
        {
            size_t len, r1, r2;
            uint8_t *b = load(d1.id, &len);
            r1 = record_at(b, len, 1);
            r2 = record_at(b, len, 2);
            memmove(b + r1, b + r2, len - r2);
            save(d1.id, b, len - (r2 - r1));
            free(b);
            b = load(d2.id, &len);
            save(d2.id, b, record_at(b, len, 2));
            free(b);
        }
        br_store_open(&st, storepath, NULL);
        memset(&v, 0, sizeof v);
        ok(br_store_verify(st, d1.id, vcb, &v) == 1 && v.bad == 1, "a deleted segment: caught at segment 1");
        memset(&v, 0, sizeof v);
        ok(br_store_verify(st, d2.id, vcb, &v) == 1 && v.bad == 2, "a truncated recording: caught (sealed with 3, 2 found)");
        br_store_close(st);
        br_store_open(&st, storepath, &mk); /* as the next section expects it */
    }
    /* Compression: silence shrinks to almost nothing, noise is stored as it
     * is, and both come back exactly; a compressed segment is as tamper-
     * evident as any other. */
    {
        br_rec_meta_t c = m;
        br_rec_writer_t *wc;
        uint8_t noise[16000], quiet[16000];
        size_t len, r1, r2, r3;
        uint8_t *b;
        struct cmp cmpc;

        br_random_key(noise, 32);
        for (size_t i = 32; i < sizeof noise; i++) /* noise from a hash-like mix of the key */
            noise[i] = (uint8_t)(noise[i - 32] * 167u + noise[i - 7] + (uint8_t)i);
        memset(quiet, 0xff, sizeof quiet); /* µ-law silence */
        br_store_set_compress(st, 1);
        c.sample_rate = 8000;
        is_int(br_rec_create(st, &c, &wc), 0, "a recording with compression on");
        is_int(br_rec_write_segment(wc, quiet, sizeof quiet), 0, "a second of silence");
        is_int(br_rec_write_segment(wc, noise, sizeof noise), 0, "a second of noise");
        is_int(br_rec_write_segment(wc, quiet, sizeof quiet), 0, "silence again");
        c.frames = 24000;
        is_int(br_rec_seal(wc, &c, BR_REC_SEALED), 0, "sealed");
        b = load(c.id, &len);
        r1 = record_at(b, len, 1);
        r2 = record_at(b, len, 2);
        r3 = record_at(b, len, 3);
        ok(r1 - FILE_HDR < 200, "the silent second takes %zu bytes", r1 - FILE_HDR);
        ok(r2 - r1 >= sizeof noise + 60 && r2 - r1 <= sizeof noise + 70,
           "the noise is stored whole (%zu bytes for %zu)", r2 - r1, sizeof noise);
        ok(r3 == len, "three records");
        cmpc.want = NULL;
        cmpc.at = 0;
        cmpc.same = 1;
        {
            /* The three seconds in order: silence, noise, silence. */
            static uint8_t all[48000];
            memcpy(all, quiet, 16000);
            memcpy(all + 16000, noise, 16000);
            memcpy(all + 32000, quiet, 16000);
            cmpc.want = all;
            is_int(br_store_read_audio(st, c.id, cmp_cb, &cmpc), 0, "it decrypts and decompresses");
            ok(cmpc.same && cmpc.at == sizeof all, "every byte as written (%zu of %zu)", cmpc.at,
               sizeof all);
        }
        memset(&v, 0, sizeof v);
        is_int(br_store_verify(st, c.id, vcb, &v), 0, "it verifies");
        br_store_close(st);
        tamper_segment(c.id, 0, 50);
        br_store_open(&st, storepath, &mk);
        memset(&v, 0, sizeof v);
        ok(br_store_verify(st, c.id, vcb, &v) == 1 && v.bad == 0, "a flipped byte in a compressed segment: caught at segment 0");
        is_int(br_store_read_audio(st, c.id, cmp_cb, &cmpc), -EBADMSG, "and it is not decompressed");
        br_store_close(st);
        tamper_segment(c.id, 0, 50);
        br_store_open(&st, storepath, &mk);
        free(b);
    }
    /* Wrong master key: wrapped keys are refused, not garbage-decrypted. */
    br_store_close(st);
    br_random_key(mk2.key, BR_KEY_LEN);
    memcpy(mk2.id, mk.id, BR_KEYID_LEN);
    br_store_open(&st, storepath, &mk2);
    is_int(br_store_read_meta(st, m.id, &back), -EKEYREJECTED, "wrong master key rejected");
    br_store_close(st);

    {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            printf("# could not remove %s\n", dir);
    }
    return tap_done();
}
