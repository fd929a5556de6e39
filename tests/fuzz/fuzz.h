/*
 * Shared by the libFuzzer harnesses in this folder (built with
 * ./configure CC=clang --enable-fuzzers; run by tests/fuzz/run.sh).
 *
 * libFuzzer only reports crashes, so each harness turns the contract of the
 * parser it drives into FUZZ_CHECK()s: a violated invariant prints what was
 * expected and aborts, and libFuzzer keeps the input that did it.
 */
#ifndef BR_FUZZ_H
#define BR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The entry point libFuzzer calls once per input; declared here because the
 * project builds with -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* A heap copy of exactly size bytes. Parsers that take a length must not
 * read past it, and ASan only sees a read one byte past the end if the end
 * of the input is the end of an allocation. */
static inline void *fuzz_dup(const uint8_t *data, size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        abort();
    if (size)
        memcpy(p, data, size);
    return p;
}

/* True when the fixed-size string field s (sizeof s bytes) is terminated
 * inside its array, as every string a parser hands back must be. */
#define FUZZ_TERMINATED(s) (memchr((s), 0, sizeof(s)) != NULL)

#endif
