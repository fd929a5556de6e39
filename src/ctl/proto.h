/*
 * The control socket's wire format, between the CLI and the daemon on one
 * host (a Unix socket whose file mode limits who may connect).
 *
 *   request:  "BRC1" | u32 argc | argc x (u32 len | bytes)
 *   response: u32 status | u64 len | output | u64 len | messages
 *
 * All integers little-endian. Limits keep a hostile local client from
 * making the daemon allocate much: 32 arguments of at most 4 KiB.
 */
#ifndef BR_PROTO_H
#define BR_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define BR_CTL_MAX_ARGS 32
#define BR_CTL_MAX_ARG 4096
#define BR_CTL_MAX_REQUEST (8 + BR_CTL_MAX_ARGS * (4 + BR_CTL_MAX_ARG))

int br_ctl_encode_request(br_buf_t *out, int argc, char **argv);

/* Parses a request from data. Returns the number of bytes it used with argv
 * filled (each argument a malloc'd string; free with br_ctl_free_args), 0 if
 * more bytes are needed, or -EPROTO for a malformed request. */
int br_ctl_parse_request(const uint8_t *data, size_t len, int *argc, char **argv);
void br_ctl_free_args(int argc, char **argv);

int br_ctl_encode_response(br_buf_t *out, int status, const br_buf_t *output, const br_buf_t *msgs);

#endif
