/*
 * Fuzzes the SDP reader br_sdp_parse() (src/sip/sdp.c), which takes the
 * body of CUCM's ACK (or early-offer INVITE or UPDATE) off the network, and
 * then br_sdp_write() with what was read, so that the writer meets every
 * address, port and payload type list the reader can produce.
 *
 * The parse must hand back terminated strings and at most BR_SDP_MAX_PTS
 * payload types. The write must produce the same text into any buffer big
 * enough and -ENOSPC into any smaller one, without writing past it: each
 * attempt gets a heap buffer of exactly the size it is told, and the sizes
 * tried are those around every line end, where truncation is most likely
 * to be miscounted.
 */
#include <errno.h>

#include "fuzz.h"
#include "sip/sdp.h"

static int valid_direction(const char *d)
{
    return strcmp(d, "sendonly") == 0 || strcmp(d, "recvonly") == 0 ||
           strcmp(d, "sendrecv") == 0 || strcmp(d, "inactive") == 0;
}

static void write_into(const br_sdp_media_t *m, const char *full, size_t fulllen, size_t sz)
{
    char *out = malloc(sz);
    int rc;

    if (!out)
        abort();
    rc = br_sdp_write(out, sz, m->addr, m->port, m->pts, m->npts, m->dtmf_pt, 1, 1);
    if (sz > fulllen) {
        FUZZ_CHECK(rc == 0);
        FUZZ_CHECK(memcmp(out, full, fulllen + 1) == 0);
    } else {
        FUZZ_CHECK(rc == -ENOSPC);
    }
    free(out);
}

static void round_trip(const br_sdp_media_t *m)
{
    /* Far more than the longest answer: two 63-character addresses, 17
     * payload types and their rtpmap lines. */
    static char full[4096];
    size_t len;
    int rc;

    rc = br_sdp_write(full, sizeof full, m->addr, m->port, m->pts, m->npts, m->dtmf_pt, 1, 1);
    FUZZ_CHECK(rc == 0);
    len = strlen(full);
    FUZZ_CHECK(len > 0 && len < sizeof full);
    FUZZ_CHECK(strncmp(full, "v=0\r\n", 5) == 0);
    FUZZ_CHECK(full[len - 2] == '\r' && full[len - 1] == '\n');

    write_into(m, full, len, 1);
    for (size_t i = 0; i < len; i++) {
        if (full[i] != '\n')
            continue;
        /* Sizes that cut the line end in half, just before it, right after
         * it, and that leave room for it but not the terminator. */
        for (size_t sz = i > 2 ? i - 2 : 1; sz <= i + 3; sz++)
            write_into(m, full, len, sz);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_dup(data, size);
    br_sdp_media_t m;
    int rc;

    rc = br_sdp_parse(body, size, &m);
    FUZZ_CHECK(rc == 0 || rc == -EPROTO);
    if (rc == 0) {
        FUZZ_CHECK(FUZZ_TERMINATED(m.addr));
        FUZZ_CHECK(FUZZ_TERMINATED(m.direction));
        FUZZ_CHECK(valid_direction(m.direction));
        FUZZ_CHECK(m.npts >= 0 && m.npts <= BR_SDP_MAX_PTS);
        if (m.port != 0 && m.addr[0] != 0)
            round_trip(&m);
    }
    free(body);
    return 0;
}
