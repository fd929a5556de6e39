/*
 * Helpers with no better home. Everything here is pure or reads a clock.
 */
#include "util.h"

#include <errno.h>
#include <string.h>
#include <time.h>

void br_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int br_hex_decode(const char *in, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int hi = hex_value(in[2 * i]);
        int lo = hi < 0 ? -1 : hex_value(in[2 * i + 1]);
        if (lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return in[2 * len] == 0 ? 0 : -EINVAL;
}

int64_t br_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t br_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void br_format_time(int64_t us, char *out, size_t outsz)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *br_strerror(int err)
{
    switch (err) {
    case -EPROTO:
        return "malformed data";
    case -EBADMSG:
        return "integrity check failed";
    case -ENOKEY:
        return "key not available";
    case -EKEYREJECTED:
        return "key rejected (wrong key or damaged key file)";
    case -EBUSY:
        return "store is in use by another process";
    default:
        return strerror(err < 0 ? -err : err);
    }
}

int br_strlcpy(char *dst, const char *src, size_t dstsz)
{
    size_t n = strlen(src);
    if (dstsz == 0)
        return -ENOSPC;
    if (n >= dstsz) {
        memcpy(dst, src, dstsz - 1);
        dst[dstsz - 1] = 0;
        return -ENOSPC;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

/* "2026-11-28" or "2026-11-28T10:00:00Z" as µs since the epoch. */
int br_parse_time(const char *s, int64_t *us)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof tm);
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) {
        memset(&tm, 0, sizeof tm);
        end = strptime(s, "%Y-%m-%d", &tm);
    }
    if (!end || (*end && strcmp(end, "Z") != 0))
        return -EINVAL;
    *us = (int64_t)timegm(&tm) * 1000000;
    return 0;
}

void br_number_digits(const char *in, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; in[i] && o + 1 < outsz; i++)
        if ((in[i] >= '0' && in[i] <= '9') || (in[i] == '+' && o == 0))
            out[o++] = in[i];
    out[o] = 0;
}
