/*
 * Growable buffer and bounded reader. Every serialised structure in bibrec
 * (metadata records, control replies) is written with br_buf_put_* and read
 * back with br_get_*, so a corrupted or hostile record can only make a read
 * fail, never run past its end.
 */
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void br_buf_init(br_buf_t *b)
{
    memset(b, 0, sizeof *b);
}

void br_buf_free(br_buf_t *b)
{
    free(b->data);
    br_buf_init(b);
}

void br_buf_reset(br_buf_t *b)
{
    b->len = 0;
    b->failed = 0;
}

int br_buf_reserve(br_buf_t *b, size_t extra)
{
    size_t want, cap;
    uint8_t *p;

    if (b->failed)
        return -ENOMEM;
    if (extra > SIZE_MAX - b->len - 1)
        goto fail;
    want = b->len + extra + 1; /* room for a terminating NUL */
    if (want <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    p = realloc(b->data, cap);
    if (!p)
        goto fail;
    b->data = p;
    b->cap = cap;
    return 0;
fail:
    b->failed = 1;
    return -ENOMEM;
}

int br_buf_append(br_buf_t *b, const void *data, size_t len)
{
    if (br_buf_reserve(b, len) < 0)
        return -ENOMEM;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
    return 0;
}

int br_buf_printf(br_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || br_buf_reserve(b, (size_t)n) < 0)
        return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int br_buf_put_u8(br_buf_t *b, uint8_t v)
{
    return br_buf_append(b, &v, 1);
}

int br_buf_put_u16le(br_buf_t *b, uint16_t v)
{
    uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    return br_buf_append(b, x, 2);
}

int br_buf_put_u32le(br_buf_t *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    return br_buf_append(b, x, 4);
}

int br_buf_put_u64le(br_buf_t *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    return br_buf_append(b, x, 8);
}

int br_buf_put_str(br_buf_t *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > UINT32_MAX)
        return -EINVAL;
    if (br_buf_put_u32le(b, (uint32_t)n) < 0)
        return -ENOMEM;
    return br_buf_append(b, s ? s : "", n);
}

int br_buf_csv_field(br_buf_t *b, const char *s, int last)
{
    if (strpbrk(s, ",\"\r\n")) {
        br_buf_put_u8(b, '"');
        for (; *s; s++) {
            if (*s == '"')
                br_buf_put_u8(b, '"');
            br_buf_put_u8(b, (uint8_t)*s);
        }
        br_buf_put_u8(b, '"');
    } else {
        br_buf_append(b, s, strlen(s));
    }
    return br_buf_append(b, last ? "\r\n" : ",", last ? 2 : 1);
}

uint8_t *br_buf_take(br_buf_t *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len)
        *len = b->len;
    br_buf_init(b);
    return p;
}

void br_reader_init(br_reader_t *r, const void *data, size_t len)
{
    r->p = data;
    r->left = len;
    r->failed = 0;
}

const uint8_t *br_get_bytes(br_reader_t *r, size_t n)
{
    const uint8_t *p;
    if (r->failed || n > r->left) {
        r->failed = 1;
        return NULL;
    }
    p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

uint8_t br_get_u8(br_reader_t *r)
{
    const uint8_t *p = br_get_bytes(r, 1);
    return p ? p[0] : 0;
}

uint16_t br_get_u16le(br_reader_t *r)
{
    const uint8_t *p = br_get_bytes(r, 2);
    return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t br_get_u32le(br_reader_t *r)
{
    const uint8_t *p = br_get_bytes(r, 4);
    uint32_t v = 0;
    if (p)
        for (int i = 3; i >= 0; i--)
            v = v << 8 | p[i];
    return v;
}

uint64_t br_get_u64le(br_reader_t *r)
{
    const uint8_t *p = br_get_bytes(r, 8);
    uint64_t v = 0;
    if (p)
        for (int i = 7; i >= 0; i--)
            v = v << 8 | p[i];
    return v;
}

int br_get_str(br_reader_t *r, char *out, size_t outsz)
{
    uint32_t n = br_get_u32le(r);
    const uint8_t *p;

    if (r->failed || n >= outsz) {
        r->failed = 1;
        if (outsz)
            out[0] = 0;
        return -EPROTO;
    }
    p = br_get_bytes(r, n);
    if (!p || memchr(p, 0, n)) { /* a C string cannot hold a NUL: refuse, do not cut */
        r->failed = 1;
        out[0] = 0;
        return -EPROTO;
    }
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
}
