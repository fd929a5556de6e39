/*
 * Small helpers shared by every module: hex encoding, time, error strings.
 */
#ifndef BR_UTIL_H
#define BR_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define BR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Writes 2*len hex digits and a NUL into out (which holds 2*len+1 bytes). */
void br_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes exactly 2*len hex digits; returns 0 or -EINVAL. */
int br_hex_decode(const char *in, uint8_t *out, size_t len);

/* Wall-clock time in microseconds since the epoch. */
int64_t br_now_us(void);
/* A telephone number as the blind index compares numbers: digits only, with
 * a leading '+' kept ("+44 1632 960001" and "+441632960001" are the same). */
void br_number_digits(const char *in, char *out, size_t outsz);
/* Monotonic time in microseconds. */
int64_t br_mono_us(void);
/* Formats a wall-clock time (µs since epoch) as ISO 8601 UTC, seconds precision. */
void br_format_time(int64_t us, char *out, size_t outsz);

/* "2026-11-28" or "2026-11-28T10:00:00Z" (UTC) as µs since the epoch; -EINVAL otherwise. */
int br_parse_time(const char *s, int64_t *us);

/* Like strerror() for bibrec's negative errno-style return codes. */
const char *br_strerror(int err);

/* Copies src into dst of size dstsz, always NUL-terminating; -ENOSPC if cut. */
int br_strlcpy(char *dst, const char *src, size_t dstsz);

#endif
