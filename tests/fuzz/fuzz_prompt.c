/*
 * Fuzzes br_prompt_parse() (src/announce/prompt.c), the reader of the
 * announcement prompt files an administrator configures: whatever the
 * bytes, it must refuse them with a reason or give audio of a consistent
 * shape, and every codec must then encode any packet of it (and past its
 * end) within its fixed payload size.
 */
#include <errno.h>

#include "announce/prompt.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t pts[] = { 0, 8, 9, 18 };
    uint8_t *blob = fuzz_dup(data, size), out[200];
    br_prompt_audio_t p;
    char why[100];
    int rc = br_prompt_parse(blob, size, &p, why, sizeof why);

    FUZZ_CHECK(rc == 0 || rc == -EPROTO || rc == -ENOMEM);
    if (rc == -EPROTO)
        FUZZ_CHECK(why[0] != 0 && memchr(why, 0, sizeof why));
    if (rc == 0) {
        size_t n = br_prompt_packets(&p);
        FUZZ_CHECK(p.n16 == 2 * p.n8 && p.pcm8 && p.pcm16);
        FUZZ_CHECK(n * 160 >= p.n8 && n <= p.n8 / 160 + 1);
        for (size_t i = 0; i < sizeof pts; i++) {
            br_prompt_enc_t *e;
            FUZZ_CHECK(br_prompt_enc_new(&e, pts[i]) == 0);
            for (size_t k = 0; k < n + 1 && k < 4; k++)
                FUZZ_CHECK(br_prompt_enc_frame(e, &p, k, out) <= 160);
            FUZZ_CHECK(br_prompt_enc_frame(e, &p, n, out) <= 160);
            br_prompt_enc_free(e);
        }
        br_prompt_free(&p);
    }
    free(blob);
    return 0;
}
