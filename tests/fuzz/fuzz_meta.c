/*
 * Fuzzes br_meta_decode() (sql-free-store/meta.c), the reader of recording
 * metadata as stored on disk once decrypted. Decryption authenticates the
 * bytes, so this is about a store written by an older or buggy bibrec, or a
 * key shared with a hostile writer: whatever the bytes, decode must either
 * refuse them or give a well-formed record.
 *
 * A record that decodes must survive encode and decode unchanged, field by
 * field (decode clears the struct first, so comparing the structs' bytes is
 * exact), and since the format has exactly one encoding for each record,
 * the encoding must be the input itself when the input is of the current
 * version (an older version is re-encoded as the current one). The flag names the CLI prints from
 * a record must fit any buffer, however small.
 */
#include <errno.h>

#include "fuzz.h"
#include "sql-free-store/meta.h"

static void check_party(const br_rec_party_t *p)
{
    FUZZ_CHECK(FUZZ_TERMINATED(p->refci));
    FUZZ_CHECK(FUZZ_TERMINATED(p->device));
    FUZZ_CHECK(FUZZ_TERMINATED(p->addr));
    FUZZ_CHECK(FUZZ_TERMINATED(p->cluster));
    FUZZ_CHECK(FUZZ_TERMINATED(p->guid));
}

static void check_flags_str(uint32_t flags)
{
    static const size_t sizes[] = { 1, 2, 11, 12, 64 };

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *out = malloc(sizes[i]);
        if (!out)
            abort();
        br_meta_flags_str(flags, out, sizes[i]);
        FUZZ_CHECK(memchr(out, 0, sizes[i]) != NULL);
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *blob = fuzz_dup(data, size);
    br_rec_meta_t *m = malloc(sizeof *m), *m2 = malloc(sizeof *m2);
    br_buf_t enc;
    int rc;

    if (!m || !m2)
        abort();
    br_buf_init(&enc);
    rc = br_meta_decode(blob, size, m);
    FUZZ_CHECK(rc == 0 || rc == -EPROTO);
    if (rc < 0)
        goto out;

    FUZZ_CHECK(FUZZ_TERMINATED(m->id));
    FUZZ_CHECK(FUZZ_TERMINATED(m->session_id));
    FUZZ_CHECK(FUZZ_TERMINATED(m->call_id));
    FUZZ_CHECK(FUZZ_TERMINATED(m->peer_call_id));
    FUZZ_CHECK(FUZZ_TERMINATED(m->profile));
    FUZZ_CHECK(FUZZ_TERMINATED(m->consent_id));
    /* Every state the reader accepts is one the CLI can name. */
    FUZZ_CHECK(strcmp(br_rec_state_name(m->state), "unknown") != 0);
    FUZZ_CHECK(m->sample_rate > 0 && m->sample_rate <= 48000);
    (void)br_meta_duration_ms(m);
    check_party(&m->near);
    check_party(&m->far);
    FUZZ_CHECK(m->nevents <= BR_META_MAX_EVENTS);
    for (uint32_t i = 0; i < m->nevents; i++) {
        FUZZ_CHECK(FUZZ_TERMINATED(m->events[i].refci));
        FUZZ_CHECK(FUZZ_TERMINATED(m->events[i].device));
        FUZZ_CHECK(FUZZ_TERMINATED(m->events[i].addr));
    }
    check_flags_str(m->flags);

    FUZZ_CHECK(br_meta_encode(m, &enc) == 0);
    rc = br_meta_decode(enc.data, enc.len, m2);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(memcmp(m, m2, sizeof *m) == 0);
    if (data[0] == enc.data[0])
        FUZZ_CHECK(enc.len == size && memcmp(enc.data, data, size) == 0);
out:
    br_buf_free(&enc);
    free(m2);
    free(m);
    free(blob);
    return 0;
}
