/*
 * The daemon's control socket: a Unix stream socket (mode 0600, so only the
 * daemon's user and root may use it) over which the CLI runs commands
 * against the store the daemon holds open. Each request runs on libuv's
 * thread pool, so a long export or verification never stalls calls.
 */
#ifndef BR_SERVER_H
#define BR_SERVER_H

#include <uv.h>

#include "common/stats.h"
#include "crypto/sign.h"
#include "sql-free-store/store.h"

typedef struct br_ctl br_ctl_t;

/* stats (may be NULL) is read on the loop thread for the "stats" command. */
int br_ctl_start(br_ctl_t **out, uv_loop_t *loop, const char *path, br_store_t *st,
                 br_signer_t *signer, const char *master_key_path, const br_stats_t *stats);
/* Stops listening; requests being served finish first. cb runs when all
 * handles are closed; then br_ctl_free() may be called. */
void br_ctl_stop(br_ctl_t *c, void (*cb)(void *ctx), void *ctx);
void br_ctl_free(br_ctl_t *c);

#endif
