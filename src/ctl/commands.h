/*
 * The administrator's and auditor's commands (list, export, verify, ...). They
 * run against an open store and write their output into buffers, so the
 * same code serves the CLI when it opens the store itself and the daemon
 * when the CLI asks it over the control socket.
 */
#ifndef BR_COMMANDS_H
#define BR_COMMANDS_H

#include "common/buf.h"
#include "crypto/sign.h"
#include "sql-free-store/store.h"

/* Who runs a command, against what. */
typedef struct br_cmd_env {
    br_store_t *st;
    br_signer_t *signer; /* the checkpoint key, NULL if not available */
    const char *actor;   /* user name as the system knows it */
    const char *source;  /* "control-socket uid=N" or "local uid=N" */
    const char *master_key_path; /* for key rotation; NULL if not available */
} br_cmd_env_t;

/* Runs argv[0] with its arguments and appends an audit event to the ledger
 * naming the actor, the command, its targets and the outcome. Returns the
 * exit status (0 success, 1 failure such as a broken chain, 2 usage). out
 * gets the command's output (for export: the WAV file's bytes), err its
 * messages. */
int br_cmd_run(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err);

/* Checks a proof written by `bibrec prove` against an Ed25519 public key
 * (PEM), with no store at all: what an auditor runs. */
int br_cmd_check_proof(const char *proof, const char *pubkey_pem, br_buf_t *out, br_buf_t *err);

/* Whether the command's output is a file's content rather than text. */
int br_cmd_output_is_file(const char *cmd);

#endif
