/*
 * Commands implemented outside commands.c, for its dispatch table.
 */
#ifndef BR_COMMANDS_INT_H
#define BR_COMMANDS_INT_H

#include "commands.h"

int br_cmd_verify(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err);
int br_cmd_prove(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err);
int br_cmd_checkpoint(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err);
int br_cmd_keys(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err);
int br_cmd_audit(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err);
int br_cmd_backup(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err);

int br_cmd_search(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err);
int br_cmd_hold(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err);
int br_cmd_user(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err);
int br_cmd_subject(const br_cmd_env_t *env, int argc, char **argv, br_buf_t *out, br_buf_t *err);

/* One ledger entry as a row of the audit CSV (audit export, subject export). */
void br_cmd_audit_csv_row(br_buf_t *out, const br_ledger_entry_t *e);

#endif
