/*
 * The CLI side of the control socket: send one command, read its reply.
 */
#ifndef BR_CLIENT_H
#define BR_CLIENT_H

#include "common/buf.h"

/* Runs argv on the daemon listening at path. Returns the command's exit
 * status (>= 0) with its output and messages, or a negative errno when no
 * daemon answers there (-ENOENT, -ECONNREFUSED) or the exchange failed. */
int br_ctl_call(const char *path, int argc, char **argv, br_buf_t *out, br_buf_t *msgs);

#endif
