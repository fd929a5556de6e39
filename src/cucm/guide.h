/*
 * The step-by-step guide of cucm-profiles/README.md, rendered with the
 * values of one profile (the daemon's configuration) as a single XHTML
 * page that a browser opens and libxml2 parses back. Every CUCM field is a
 * table row "field | value | why", and each table has an id named after
 * the object (sip-trunk, route-pattern, ...), so a test or a script can
 * find a value where CUCM Administration shows it.
 */
#ifndef BR_CUCM_GUIDE_H
#define BR_CUCM_GUIDE_H

#include <stddef.h>

#include "cucm/profile.h"

#define BR_CUCM_GUIDE_FILE "guide.html"

/* Renders the guide into a NUL-terminated buffer that the caller frees
 * with free(). Returns 0 or -ENOMEM. */
int br_cucm_guide_render(const br_cucm_profile_t *p, char **out, size_t *len);

/* Writes dir/guide.html. Returns 0 or a negative errno; the reason goes to
 * err. */
int br_cucm_guide_write(const br_cucm_profile_t *p, const char *dir, char *err, size_t errsz);

#endif
