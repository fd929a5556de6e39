/*
 * Counter formatting for `bibrec stats`: one "name value" line each, easy
 * for people and for a monitoring script alike.
 */
#include "stats.h"

#include <inttypes.h>

#define LINE(name) br_buf_printf(out, "%-24s %" PRIu64 "\n", #name, (uint64_t)s->name)

void br_stats_format(const br_stats_t *s, br_buf_t *out)
{
    LINE(active_calls);
    LINE(active_legs);
    LINE(calls_total);
    LINE(legs_total);
    LINE(recordings_sealed);
    LINE(recordings_discarded);
    LINE(failed_attempts);
    LINE(single_leg);
    LINE(no_media);
    LINE(stitched);
    LINE(linked);
    LINE(far_end_changes);
    LINE(storage_errors);
    LINE(options);
    LINE(refused_not_recording);
    LINE(refused_bad_from);
    LINE(refused_untrusted);
    LINE(refused_capacity);
    LINE(refused_draining);
    LINE(refused_codec);
    LINE(refused_store);
    LINE(refused_policy);
    LINE(cancelled);
    LINE(sip_errors);
}
