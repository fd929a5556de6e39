/*
 * File-system helpers for start-up: making the folders that hold the store,
 * the key and the control socket.
 */
#ifndef BR_FSUTIL_H
#define BR_FSUTIL_H

/* Creates every missing folder on the way to path's parent (mode 0700). */
int br_mkdir_parents(const char *path);
/* Creates the folder path itself and its parents (mode 0700). */
int br_mkdir_p(const char *path);

#endif
