/*
 * Fuzzes br_http_range_parse() (src/http/http.c), which reads the Range
 * header of every audio request from the network. The first 4 bytes of an
 * input give the representation's length, the rest is the header. Whatever
 * the header, the parser must say 0 (a range inside the file), -ERANGE or
 * -EINVAL, and a range it accepts must lie inside the file, first <= last,
 * so that the response never reads past the WAV it slices.
 */
#include <errno.h>

#include "fuzz.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t total, first = 0, last = 0;
    char *hdr;
    int rc;

    if (size < 4)
        return 0;
    total = (uint64_t)data[0] | (uint64_t)data[1] << 8 | (uint64_t)data[2] << 16 | (uint64_t)data[3] << 24;
    hdr = malloc(size - 4 + 1);
    if (!hdr)
        abort();
    memcpy(hdr, data + 4, size - 4);
    hdr[size - 4] = 0;
    rc = br_http_range_parse(hdr, total, &first, &last);
    FUZZ_CHECK(rc == 0 || rc == -ERANGE || rc == -EINVAL);
    if (rc == 0) {
        FUZZ_CHECK(total > 0);
        FUZZ_CHECK(first <= last);
        FUZZ_CHECK(last < total);
    }
    free(hdr);
    return 0;
}
