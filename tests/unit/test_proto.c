/*
 * Control-socket framing: round trip, partial input, hostile input.
 */
#include <errno.h>

#include "ctl/proto.h"
#include "tap.h"

int main(void)
{
    char *argv[] = { "export", "0123456789abcdef0123" };
    char *got[BR_CTL_MAX_ARGS];
    br_buf_t b;
    int argc, used;

    br_buf_init(&b);
    is_int(br_ctl_encode_request(&b, 2, argv), 0, "request encodes");
    used = br_ctl_parse_request(b.data, b.len, &argc, got);
    is_int(used, (int)b.len, "whole request consumed");
    is_int(argc, 2, "two arguments");
    is_str(got[1], argv[1], "argument intact");
    br_ctl_free_args(argc, got);
    for (size_t cut = 0; cut < b.len; cut++)
        if (br_ctl_parse_request(b.data, cut, &argc, got) != 0) {
            ok(0, "a prefix of %zu bytes asks for more", cut);
            break;
        }
    ok(1, "every prefix asks for more bytes");
    is_int(br_ctl_parse_request((const uint8_t *)"GET / HTTP/1.1\r\n", 16, &argc, got), -EPROTO,
           "wrong magic refused");
    {
        uint8_t huge[8] = { 'B', 'R', 'C', '1', 0xff, 0xff, 0xff, 0xff };
        is_int(br_ctl_parse_request(huge, 8, &argc, got), -EPROTO, "absurd argc refused");
    }
    {
        uint8_t big[12] = { 'B', 'R', 'C', '1', 1, 0, 0, 0, 0xff, 0xff, 0, 0 };
        is_int(br_ctl_parse_request(big, 12, &argc, got), -EPROTO, "oversized argument refused");
    }
    {
        uint8_t nul[13] = { 'B', 'R', 'C', '1', 1, 0, 0, 0, 1, 0, 0, 0, 0 };
        is_int(br_ctl_parse_request(nul, 13, &argc, got), -EPROTO, "NUL inside an argument refused");
    }
    br_buf_free(&b);
    {
        /* Stored strings cannot hold a NUL: decoding refuses instead of cutting. */
        uint8_t rec[] = { 3, 0, 0, 0, 'a', 0, 'b' };
        char s[8];
        br_reader_t r;
        br_reader_init(&r, rec, sizeof rec);
        is_int(br_get_str(&r, s, sizeof s), -EPROTO, "a stored string with a NUL inside is refused");
        ok(r.failed, "and the reader stays failed");
    }
    return tap_done();
}
