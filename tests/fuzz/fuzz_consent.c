/*
 * Fuzzes br_consent_decode() (sql-free-store/consent.c), the reader of a
 * stored consent decision once decrypted: it must refuse malformed bytes
 * or give a well-formed record whose encoding is the input itself (the
 * format has one encoding per record).
 */
#include <errno.h>

#include "config/settings.h"
#include "fuzz.h"
#include "sql-free-store/consent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *blob = fuzz_dup(data, size);
    br_consent_rec_t c;
    br_buf_t enc;
    int rc;

    memset(&c, 0, sizeof c);
    br_buf_init(&enc);
    rc = br_consent_decode(blob, size, &c);
    FUZZ_CHECK(rc == 0 || rc == -EPROTO);
    if (rc == 0) {
        FUZZ_CHECK(FUZZ_TERMINATED(c.caller));
        FUZZ_CHECK(FUZZ_TERMINATED(c.called));
        FUZZ_CHECK(FUZZ_TERMINATED(c.language));
        FUZZ_CHECK(FUZZ_TERMINATED(c.prompt));
        FUZZ_CHECK(strcmp(br_consent_name(c.decision), "none") != 0 || c.decision == 0);
        FUZZ_CHECK(br_consent_encode(&c, &enc) == 0);
        FUZZ_CHECK(enc.len == size && memcmp(enc.data, data, size) == 0);
    }
    br_buf_free(&enc);
    free(blob);
    return 0;
}
