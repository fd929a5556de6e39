/*
 * A growable byte buffer, used wherever output of unknown length is built:
 * command replies, WAV exports, serialised metadata. The buffer owns its
 * memory; br_buf_take() hands it to the caller.
 */
#ifndef BR_BUF_H
#define BR_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct br_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    int failed; /* sticky: an allocation failed, the content is incomplete */
} br_buf_t;

void br_buf_init(br_buf_t *b);
void br_buf_free(br_buf_t *b);
void br_buf_reset(br_buf_t *b);
int br_buf_reserve(br_buf_t *b, size_t extra);
int br_buf_append(br_buf_t *b, const void *data, size_t len);
int br_buf_printf(br_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int br_buf_put_u8(br_buf_t *b, uint8_t v);
int br_buf_put_u16le(br_buf_t *b, uint16_t v);
int br_buf_put_u32le(br_buf_t *b, uint32_t v);
int br_buf_put_u64le(br_buf_t *b, uint64_t v);
/* Length-prefixed (u32le) byte string; a NULL string is stored as length 0. */
int br_buf_put_str(br_buf_t *b, const char *s);
/* Appends s as one RFC 4180 field (quoted when it holds a comma, quote or
 * line break), then a comma, or CRLF when it is the last of its row. */
int br_buf_csv_field(br_buf_t *b, const char *s, int last);
/* Takes ownership of the content; the buffer is left empty. */
uint8_t *br_buf_take(br_buf_t *b, size_t *len);

/* A bounds-checked reader over a byte range, the counterpart of the put calls. */
typedef struct br_reader {
    const uint8_t *p;
    size_t left;
    int failed; /* sticky: a read went past the end */
} br_reader_t;

void br_reader_init(br_reader_t *r, const void *data, size_t len);
uint8_t br_get_u8(br_reader_t *r);
uint16_t br_get_u16le(br_reader_t *r);
uint32_t br_get_u32le(br_reader_t *r);
uint64_t br_get_u64le(br_reader_t *r);
const uint8_t *br_get_bytes(br_reader_t *r, size_t n);
/* Copies a length-prefixed string into out (NUL-terminated); too long fails. */
int br_get_str(br_reader_t *r, char *out, size_t outsz);

#endif
