/*
 * Phone users' PINs, as `bibrec phone-pin` makes them for <phone-user pin>
 * and the phone service checks them (see pin.c for the construction).
 */
#ifndef BR_PIN_H
#define BR_PIN_H

#include <stddef.h>

#include "store.h"

/* The stored form of pin (4 to 16 digits; -EINVAL otherwise). */
int br_pin_hash(br_store_t *st, const char *pin, char *out, size_t outsz);
/* 1 if pin matches stored, 0 if not, -EINVAL for a malformed stored form,
 * -ENOKEY without the master key. Constant time in the PIN. */
int br_pin_check(br_store_t *st, const char *stored, const char *pin);

#endif
