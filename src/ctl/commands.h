/*
 * The administrator's and auditor's commands (list, export, verify). They
 * run against an open store and write their output into buffers, so the
 * same code serves the CLI when it opens the store itself and the daemon
 * when the CLI asks it over the control socket.
 */
#ifndef BR_COMMANDS_H
#define BR_COMMANDS_H

#include "common/buf.h"
#include "sql-free-store/store.h"

/* Runs argv[0] with its arguments. Returns the exit status (0 success, 1
 * failure such as a broken chain, 2 usage). out gets the command's output
 * (for export: the WAV file's bytes), err its messages. */
int br_cmd_run(br_store_t *st, int argc, char **argv, br_buf_t *out, br_buf_t *err);

/* Whether the command's output is a file's content rather than text. */
int br_cmd_output_is_file(const char *cmd);

#endif
