/*
 * Fuzzes the control socket's request framing, br_ctl_parse_request()
 * (src/ctl/proto.c). The daemon runs it on whatever a local client has sent
 * so far, so it must tell "complete", "need more" and "malformed" apart on
 * any prefix of a stream, within its allocation limits.
 *
 * On a complete request the harness encodes the arguments again: the
 * encoding is canonical, so it must be byte for byte the part of the input
 * that was used, and parsing it must give the same arguments. Every proper
 * prefix of a complete request must then read as "need more", because a
 * client's request can arrive in pieces of any size.
 */
#include <errno.h>

#include "ctl/proto.h"
#include "fuzz.h"

static int parse_copy(const uint8_t *data, size_t len, int *argc, char **argv)
{
    uint8_t *copy = fuzz_dup(data, len);
    int rc = br_ctl_parse_request(copy, len, argc, argv);
    free(copy);
    return rc;
}

static void check_prefix(const uint8_t *data, size_t len)
{
    char *argv[BR_CTL_MAX_ARGS];
    int argc = -1;
    int rc = parse_copy(data, len, &argc, argv);

    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(argc == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[BR_CTL_MAX_ARGS], *argv2[BR_CTL_MAX_ARGS];
    int argc = -1, argc2 = -1;
    br_buf_t enc;
    int rc, rc2;

    rc = parse_copy(data, size, &argc, argv);
    FUZZ_CHECK(rc == -EPROTO || rc >= 0);
    if (rc <= 0) {
        FUZZ_CHECK(argc == 0);
        return 0;
    }
    FUZZ_CHECK((size_t)rc <= size);
    FUZZ_CHECK(argc >= 1 && argc <= BR_CTL_MAX_ARGS);
    for (int i = 0; i < argc; i++)
        FUZZ_CHECK(argv[i] != NULL && strlen(argv[i]) <= BR_CTL_MAX_ARG);

    br_buf_init(&enc);
    FUZZ_CHECK(br_ctl_encode_request(&enc, argc, argv) == 0);
    FUZZ_CHECK(enc.len == (size_t)rc);
    FUZZ_CHECK(memcmp(enc.data, data, enc.len) == 0);

    rc2 = parse_copy(enc.data, enc.len, &argc2, argv2);
    FUZZ_CHECK(rc2 == rc);
    FUZZ_CHECK(argc2 == argc);
    for (int i = 0; i < argc; i++)
        FUZZ_CHECK(strcmp(argv[i], argv2[i]) == 0);
    br_ctl_free_args(argc2, argv2);

    /* A few cut points rather than all of them keeps each run linear. */
    {
        size_t cuts[] = { 0, 3, 4, 7, 8, 11, 12, (size_t)rc / 2, (size_t)rc - 1 };
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
            if (cuts[i] < (size_t)rc)
                check_prefix(enc.data, cuts[i]);
    }

    br_buf_free(&enc);
    br_ctl_free_args(argc, argv);
    return 0;
}
