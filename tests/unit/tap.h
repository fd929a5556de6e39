/*
 * Minimal TAP producer for the unit tests (read by automake's tap-driver).
 * Each check prints "ok N - what" or "not ok N - what" with the place it
 * failed; the plan is printed at the end.
 */
#ifndef BR_TAP_H
#define BR_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failures;

__attribute__((format(printf, 4, 5))) static int tap_ok(int cond, const char *file, int line,
                                                         const char *fmt, ...)
{
    va_list ap;
    tap_count++;
    printf("%sok %d - ", cond ? "" : "not ", tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!cond) {
        tap_failures++;
        printf("# failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(a, b, ...) \
    (ok((long long)(a) == (long long)(b), __VA_ARGS__) \
         ? 1 : (printf("#   got %lld, want %lld\n", (long long)(a), (long long)(b)), 0))
#define is_str(a, b, ...) \
    (ok(strcmp((a), (b)) == 0, __VA_ARGS__) ? 1 : (printf("#   got '%s', want '%s'\n", (a), (b)), 0))

static inline int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return 0;
}

/* Path of a file in the source tree (tests run from the build tree). */
static inline const char *tap_srcpath(const char *rel, char *buf, size_t bufsz)
{
    const char *top = getenv("top_srcdir");
    snprintf(buf, bufsz, "%s/%s", top && *top ? top : ".", rel);
    return buf;
}

#endif
