/*
 * The daemon's counters, readable with `bibrec stats`. One struct owned by
 * the daemon's main and updated on the loop thread only, so no atomics.
 */
#ifndef BR_STATS_H
#define BR_STATS_H

#include <stdint.h>

#include "buf.h"

typedef struct br_stats {
    /* recordings and legs */
    uint64_t calls_total;        /* recordings started */
    uint64_t legs_total;         /* INVITEs accepted as recording legs */
    uint64_t recordings_sealed;
    uint64_t recordings_discarded; /* cancelled or failed before anything was recorded */
    uint64_t failed_attempts;    /* e.g. no common codec (BYE with Q.850 cause 47) */
    uint64_t single_leg;         /* partner leg never came */
    uint64_t no_media;
    uint64_t stitched;           /* recordings that joined an earlier call (hold/resume) */
    uint64_t linked;             /* recordings linked to the other party's recording */
    uint64_t far_end_changes;    /* UPDATEs with new far-end parameters */
    uint64_t storage_errors;
    unsigned active_calls;
    unsigned active_legs;
    /* SIP */
    uint64_t options;
    uint64_t refused_not_recording;
    uint64_t refused_bad_from;
    uint64_t refused_untrusted;
    uint64_t refused_capacity;
    uint64_t refused_draining;
    uint64_t refused_codec;
    uint64_t refused_store;
    uint64_t refused_policy;     /* the line is covered by no recording profile */
    uint64_t cancelled;
    uint64_t sip_errors;         /* nua error events and unparseable bodies */
} br_stats_t;

/* Appends "name value" lines. */
void br_stats_format(const br_stats_t *s, br_buf_t *out);

#endif
