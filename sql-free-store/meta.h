/*
 * Recording metadata: what bibrec knows about one recorded call leg pair.
 * It is personal data (phone numbers, device names), so it is only ever
 * stored encrypted under the recording's data key; this module turns it into
 * bytes and back, and checks everything it reads from disk.
 */
#ifndef BR_META_H
#define BR_META_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define BR_ID_LEN 20 /* hex chars: 12 of creation time in ms, 8 random */
#define BR_META_STR 96

enum br_rec_state { BR_REC_RECORDING = 0, BR_REC_SEALED = 1, BR_REC_RECOVERED = 2, BR_REC_ERASED = 3 };

/* One side of the call as CUCM described it, plus what its RTP looked like. */
typedef struct br_rec_party {
    char refci[24];
    char device[BR_META_STR];
    char addr[BR_META_STR]; /* DN for the near end, number for the far end */
    char cluster[BR_META_STR];
    char guid[40];
    uint8_t payload_type;   /* RTP payload type in use (0 PCMU, 8 PCMA) */
    uint8_t present;        /* a leg for this side was seen */
    uint64_t packets;       /* RTP packets accepted */
    uint64_t lost;          /* from sequence numbers (RFC 3550 A.3) */
    uint64_t dropped;       /* malformed, wrong payload type, too late */
} br_rec_party_t;

/* Flags: what a reader of the recording must know about how it was made. */
enum {
    BR_FLAG_SINGLE_LEG = 1 << 0, /* the partner leg never came: one channel only */
    BR_FLAG_NO_MEDIA = 1 << 1,   /* legs were answered but no RTP ever arrived */
    BR_FLAG_SHUTDOWN = 1 << 2,   /* sealed because the recorder stopped, not by BYE */
    BR_FLAG_STORAGE_ERROR = 1 << 3, /* some audio could not be written */
    BR_FLAG_PRIVATE = 1 << 4,       /* only the recorded user and privacy officers may access it */
    BR_FLAG_KEPT = 1 << 5,          /* the user chose Keep (on-demand) */
};

/* Something that happened during the recording, on its timeline. */
enum br_event_kind {
    BR_EVENT_FAR_CHANGED = 1,
    BR_EVENT_MEDIA_CHANGED = 2,
    BR_EVENT_DTMF = 3,
    BR_EVENT_TAG = 4, /* a tag set from the phone: its text is in addr */
    BR_EVENT_CONSENT = 5, /* the other party's decision at an announcement: id in addr */
};

#define BR_META_MAX_EVENTS 64

typedef struct br_rec_event {
    uint32_t at_ms;   /* from the start of the recording */
    uint8_t kind;     /* enum br_event_kind */
    uint8_t channel;  /* which leg it concerns (0 near, 1 far) */
    char refci[24];
    char device[64];
    char addr[64];
    char digit;           /* DTMF: the key pressed */
    uint32_t duration_ms; /* DTMF: how long */
} br_rec_event_t;

/*
 * A recording's metadata apart from its timeline. The field list is written
 * once, here, and used twice: as br_rec_info_t, which a recording in
 * progress keeps (its events grow in a br_rec_events_t, since most calls have
 * none or a few and fixed room would cost every call 11 KB while it lasts),
 * and inside br_rec_meta_t below.
 */
#define BR_REC_INFO_FIELDS                                                                    \
    char id[BR_ID_LEN + 1];                                                                   \
    uint8_t state;           /* enum br_rec_state */                                          \
    int64_t start_us;        /* wall clock, µs since the epoch */                             \
    int64_t end_us;                                                                           \
    uint32_t sample_rate;    /* of the stored audio */                                        \
    uint64_t frames;         /* stereo frames stored: duration = frames / rate */             \
    uint32_t segments;                                                                        \
    char session_id[40];                                                                      \
    uint32_t flags;                                                                           \
    /* The recording profile it was made under, and its GDPR Art. 6(1) basis. */            \
    char profile[64];                                                                         \
    uint8_t basis;           /* enum br_basis (config.h) */                                   \
    uint8_t mode;            /* enum br_mode */                                               \
    int64_t retain_until_us; /* erased by the retention sweep after this; 0: no limit */      \
    int64_t keep_deadline_us; /* on-demand: erased unless kept before this; 0: none */        \
    /* A call: the recordings of one recorded call leg, which CUCM splits at                  \
     * every hold or transfer (same x-refci); call_seq orders them. */                        \
    char call_id[BR_ID_LEN + 1];                                                              \
    uint32_t call_seq;                                                                        \
    /* When both parties of a conversation are recorded: the other one's call. */           \
    char peer_call_id[BR_ID_LEN + 1];                                                         \
    br_rec_party_t near, far;                                                                 \
    /* The consent decision this recording was made under (consent.h), if any. */           \
    char consent_id[BR_ID_LEN + 1];                                                           \
    uint8_t consent; /* enum br_consent (config/settings.h) */

typedef struct br_rec_info {
    BR_REC_INFO_FIELDS
} br_rec_info_t;

/*
 * A recording's metadata as it is stored: self-contained, with fixed room for
 * the timeline, so that it can be decoded into a local and copied by value
 * (the store and the writer thread do both) without anything to free. Its
 * fields are read directly (m->id); m->info is the same bytes as one
 * br_rec_info_t.
 */
typedef struct br_rec_meta {
    union {
        br_rec_info_t info;
        struct {
            BR_REC_INFO_FIELDS
        };
    };
    uint32_t nevents;
    br_rec_event_t events[BR_META_MAX_EVENTS];
} br_rec_meta_t;

/* Zero-initialised means empty; v is NULL until the first event. */
typedef struct br_rec_events {
    br_rec_event_t *v; /* n used of cap allocated */
    uint32_t n, cap;
} br_rec_events_t;

int br_meta_encode(const br_rec_meta_t *m, br_buf_t *out);
/* Returns 0 or -EPROTO on anything malformed (wrong version, short, strings
 * too long). */
int br_meta_decode(const uint8_t *data, size_t len, br_rec_meta_t *m);

const char *br_rec_state_name(uint8_t state);
/* Writes the flags as a comma-separated list ("-" for none). */
void br_meta_flags_str(uint32_t flags, char *out, size_t outsz);
/* Appends an event, growing the array as needed: 0, -ENOSPC once
 * BR_META_MAX_EVENTS are held (the oldest are kept, ev is dropped), or
 * -ENOMEM (ev is dropped, the events held stay). */
int br_meta_events_add(br_rec_events_t *t, const br_rec_event_t *ev);
/* Frees the array and leaves t empty; t may be empty already. */
void br_meta_events_free(br_rec_events_t *t);
/* Makes the stored form of a recording in progress: info and a copy of its
 * events. m owns nothing afterwards; info and t stay the caller's. */
void br_meta_assemble(br_rec_meta_t *m, const br_rec_info_t *info, const br_rec_events_t *t);
/* Duration in milliseconds from the stored frame count. */
uint64_t br_meta_duration_ms(const br_rec_meta_t *m);

#endif
