/*
 * CUCM built-in-bridge recording metadata, as carried in the From URI of each
 * recording INVITE (and of an in-dialog UPDATE when the far end changes).
 *
 *   From: "A" <sip:4001@cucm;x-nearend;x-refci=27110452;x-nearenddevice=SEP..;...>;tag=..
 *
 * The parser takes the whole From header value as text, so it has no
 * dependency on the SIP stack and can be fuzzed on its own. Every field is
 * copied into fixed-size arrays: a value that does not fit is an error, never
 * silently cut (a cut refci would pair the wrong legs).
 */
#ifndef BR_CUCM_FROM_H
#define BR_CUCM_FROM_H

#include <stddef.h>

enum br_from_stream { BR_STREAM_NONE = 0, BR_STREAM_NEAR, BR_STREAM_FAR };

#define BR_REFCI_MAX 24
#define BR_FIELD_MAX 96
#define BR_GUID_MAX 40

/* Bits of br_cucm_from_t.present: which optional parameters were in the URI. */
enum {
    BR_FROM_NEAR_DEVICE = 1 << 0,
    BR_FROM_NEAR_ADDR = 1 << 1,
    BR_FROM_NEAR_CLUSTER = 1 << 2,
    BR_FROM_FAR_REFCI = 1 << 3,
    BR_FROM_FAR_DEVICE = 1 << 4,
    BR_FROM_FAR_ADDR = 1 << 5,
    BR_FROM_FAR_CLUSTER = 1 << 6,
    BR_FROM_FAR_GUID = 1 << 7,
    BR_FROM_NEAR_GUID = 1 << 8,
    BR_FROM_SESSION_ID = 1 << 9,
};

typedef struct br_cucm_from {
    enum br_from_stream stream;
    unsigned present;
    char refci[BR_REFCI_MAX];
    char near_device[BR_FIELD_MAX];
    char near_addr[BR_FIELD_MAX];
    char near_cluster[BR_FIELD_MAX];
    char far_refci[BR_REFCI_MAX];
    char far_device[BR_FIELD_MAX];
    char far_addr[BR_FIELD_MAX];
    char far_cluster[BR_FIELD_MAX];
    char far_guid[BR_GUID_MAX];
    char near_guid[BR_GUID_MAX];
    char session_id[BR_GUID_MAX];
} br_cucm_from_t;

/* Parse errors, returned negated from br_cucm_from_parse(). */
enum br_from_error {
    BR_FROM_OK = 0,
    BR_FROM_ERR_NOT_RECORDING = 1, /* no x-nearend / x-farend flag */
    BR_FROM_ERR_MISSING_REFCI,
    BR_FROM_ERR_INVALID_REFCI,
    BR_FROM_ERR_SYNTAX,        /* unbalanced quotes or brackets, no URI */
    BR_FROM_ERR_TOO_LONG,      /* a value longer than its field */
    BR_FROM_ERR_TOO_MANY,      /* more URI parameters than any CUCM sends */
    BR_FROM_ERR_CONFLICT,      /* both flags, or one parameter twice with different values */
};

/* Parses the From header value hdr (len bytes, need not be NUL-terminated).
 * Returns 0 and fills *out, or a negative enum br_from_error. */
int br_cucm_from_parse(const char *hdr, size_t len, br_cucm_from_t *out);

/* Short machine-readable name of a parse error ("not-a-recording-leg", ...). */
const char *br_cucm_from_strerror(int err);

#endif
