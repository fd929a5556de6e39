/*
 * File-system helpers for start-up: making the folders that hold the store,
 * the key and the control socket, and reading small files whole.
 */
#ifndef BR_FSUTIL_H
#define BR_FSUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Creates every missing folder on the way to path's parent (mode 0700). */
int br_mkdir_parents(const char *path);
/* Creates the folder path itself and its parents (mode 0700). */
int br_mkdir_p(const char *path);
/* Reads a whole file of at most max bytes into a malloc'd buffer (one zero
 * byte past the end). -EFBIG beyond max. */
int br_read_file(const char *path, size_t max, uint8_t **data, size_t *len);

#endif
