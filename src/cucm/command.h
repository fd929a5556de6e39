/*
 * `bibrec cucm-profile`: renders what a CUCM administrator adds for bibrec
 * (guide.h, profile.h) from the daemon's configuration into a folder, and
 * with --send posts the AXL requests (axl.h), as a dry run unless --yes.
 * It needs only the configuration: no daemon, no store.
 */
#ifndef BR_CUCM_COMMAND_H
#define BR_CUCM_COMMAND_H

#include <stdio.h>

#include "config/settings.h"

/* The environment variable the AXL password is read from. */
#define BR_CUCM_PASSWORD_ENV "BIBREC_AXL_PASSWORD"

/* Runs the command; argv[0] is "cucm-profile". Output goes to stdout,
 * warnings and errors to stderr. Returns the exit status: 0, 1 when
 * something failed (a SOAP fault, a file that cannot be written), 2 for a
 * usage error. */
int br_cucm_command(const br_config_t *cfg, int argc, char **argv);

void br_cucm_command_usage(FILE *f);

#endif
