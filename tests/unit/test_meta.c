/*
 * Recording metadata: the timeline of a recording in progress grows on
 * demand (br_rec_events_t) and is copied into the self-contained stored form
 * (br_rec_meta_t) whose encoding must not change: tests/fixtures/meta-v3.hex
 * holds the bytes the encoder wrote before timelines were allocated on demand.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sql-free-store/meta.h"
#include "tap.h"

/* Sets every field the two structs share, the same way for both. */
#define FILL_HEAD(x)                                                                        \
    do {                                                                                    \
        strcpy((x).id, "0192f3a4b5c6d7e8f901");                                             \
        (x).state = 1;                                                                      \
        (x).start_us = 1764400000123456;                                                    \
        (x).end_us = 1764400061654321;                                                      \
        (x).sample_rate = 8000;                                                             \
        (x).frames = 491000;                                                                \
        (x).segments = 62;                                                                  \
        strcpy((x).session_id, "5f1c2b3a4d5e6f708192a3b4c5d6e7f8");                         \
        (x).flags = 0x21;                                                                   \
        strcpy((x).profile, "sales-emea");                                                  \
        (x).basis = 3;                                                                      \
        (x).mode = 1;                                                                       \
        (x).retain_until_us = 1795936061654321;                                             \
        (x).keep_deadline_us = 1764403661654321;                                            \
        strcpy((x).call_id, "0192f3a4b5c6d7e8f800");                                        \
        (x).call_seq = 2;                                                                   \
        strcpy((x).peer_call_id, "0192f3a4b5c6d7e8f7aa");                                   \
        strcpy((x).near.refci, "27014961");                                                 \
        strcpy((x).near.device, "SEP00AABBCCDD01");                                         \
        strcpy((x).near.addr, "4001");                                                      \
        strcpy((x).near.cluster, "CL1");                                                    \
        strcpy((x).near.guid, "A1B2C3D4E5F60718293A4B5C6D7E8F90");                          \
        (x).near.payload_type = 0;                                                          \
        (x).near.present = 1;                                                               \
        (x).near.packets = 3070;                                                            \
        (x).near.lost = 2;                                                                  \
        (x).near.dropped = 1;                                                               \
        strcpy((x).far.refci, "27014962");                                                  \
        strcpy((x).far.device, "SEP00AABBCCDD02");                                          \
        strcpy((x).far.addr, "+4930123456");                                                \
        strcpy((x).far.cluster, "CL1");                                                     \
        strcpy((x).far.guid, "0F1E2D3C4B5A69788796A5B4C3D2E1F0");                           \
        (x).far.payload_type = 8;                                                           \
        (x).far.present = 1;                                                                \
        (x).far.packets = 3069;                                                             \
        strcpy((x).consent_id, "0192f3a4b5c6d7e8f6bb");                                     \
        (x).consent = 1;                                                                    \
    } while (0)

/* The three events of the fixture: a consent link, a digit, a far-end change. */
static void fixture_events(br_rec_event_t ev[3])
{
    memset(ev, 0, 3 * sizeof *ev);
    ev[0].kind = BR_EVENT_CONSENT;
    ev[0].channel = 1;
    ev[0].digit = '1';
    strcpy(ev[0].addr, "0192f3a4b5c6d7e8f6bb");
    ev[1].at_ms = 12340;
    ev[1].kind = BR_EVENT_DTMF;
    ev[1].channel = 1;
    ev[1].digit = '5';
    ev[1].duration_ms = 160;
    ev[2].at_ms = 30100;
    ev[2].kind = BR_EVENT_FAR_CHANGED;
    strcpy(ev[2].refci, "27014999");
    strcpy(ev[2].device, "SEP00AABBCCDD03");
    strcpy(ev[2].addr, "+4940987654");
}

static size_t read_hex(const char *rel, uint8_t *out, size_t max)
{
    char path[512];
    FILE *f = fopen(tap_srcpath(rel, path, sizeof path), "r");
    size_t n = 0;
    unsigned v;

    if (!f)
        return 0;
    while (n < max && fscanf(f, " %2x", &v) == 1)
        out[n++] = (uint8_t)v;
    fclose(f);
    return n;
}

static br_rec_event_t numbered(uint32_t i)
{
    br_rec_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.at_ms = i * 1000;
    ev.kind = BR_EVENT_TAG;
    snprintf(ev.addr, sizeof ev.addr, "tag %u", i);
    return ev;
}

int main(void)
{
    static br_rec_meta_t m, back;
    br_rec_info_t info;
    br_rec_events_t t = { 0 };
    br_rec_event_t ev[3];
    uint8_t golden[2048];
    size_t glen;
    br_buf_t b;
    int rc;

    /* On demand: nothing until the first event, then a little at a time. */
    ok(t.v == NULL && t.n == 0 && t.cap == 0, "an empty timeline holds no memory");
    fixture_events(ev);
    is_int(br_meta_events_add(&t, &ev[0]), 0, "first event added");
    ok(t.v != NULL && t.cap > 0 && t.cap < BR_META_MAX_EVENTS, "first event allocates room for a few (%u)",
       t.cap);
    br_meta_events_free(&t);
    ok(t.v == NULL && t.n == 0 && t.cap == 0, "freed: empty again");
    br_meta_events_free(&t);
    ok(1, "freeing an empty timeline is a no-op");

    /* The cap: the oldest 64 are kept, later ones refused. */
    rc = 0;
    for (uint32_t i = 0; i < BR_META_MAX_EVENTS; i++) {
        br_rec_event_t e = numbered(i);
        rc |= br_meta_events_add(&t, &e);
    }
    is_int(rc, 0, "%d events added", BR_META_MAX_EVENTS);
    is_int(t.cap, BR_META_MAX_EVENTS, "the array grew to exactly the cap");
    {
        br_rec_event_t e = numbered(BR_META_MAX_EVENTS);
        is_int(br_meta_events_add(&t, &e), -ENOSPC, "one more: -ENOSPC");
    }
    is_int(t.n, BR_META_MAX_EVENTS, "still %d events", BR_META_MAX_EVENTS);
    is_str(t.v[0].addr, "tag 0", "the first is kept");
    is_str(t.v[BR_META_MAX_EVENTS - 1].addr, "tag 63", "the last kept is the 64th");

    /* Assembled, the stored form holds copies: it survives the timeline. */
    memset(&info, 0, sizeof info);
    FILL_HEAD(info);
    br_meta_assemble(&m, &info, &t);
    br_meta_events_free(&t);
    is_int(m.nevents, BR_META_MAX_EVENTS, "assembled: all 64 events");
    is_str(m.events[0].addr, "tag 0", "first event copied, readable after the timeline is freed");
    is_str(m.events[63].addr, "tag 63", "last event copied");
    br_buf_init(&b);
    is_int(br_meta_encode(&m, &b), 0, "64 events encode");
    is_int(br_meta_decode(b.data, b.len, &back), 0, "and decode");
    is_int(back.nevents, BR_META_MAX_EVENTS, "64 events read back");
    is_str(back.events[63].addr, "tag 63", "in order");
    br_buf_free(&b);

    /* Byte for byte what the encoder wrote before. */
    glen = read_hex("tests/fixtures/meta-v3.hex", golden, sizeof golden);
    ok(glen > 0, "fixture read (%zu bytes)", glen);
    for (int i = 0; i < 3; i++)
        br_meta_events_add(&t, &ev[i]);
    br_meta_assemble(&m, &info, &t);
    br_buf_init(&b);
    is_int(br_meta_encode(&m, &b), 0, "assembled metadata encodes");
    ok(b.len == glen && memcmp(b.data, golden, glen) == 0, "encoding identical to the fixture (%zu bytes)",
       b.len);
    br_buf_free(&b);

    /* Every shared field is carried: the same fields set directly in the
     * stored form encode alike. */
    memset(&back, 0, sizeof back);
    FILL_HEAD(back);
    for (int i = 0; i < 3; i++)
        back.events[back.nevents++] = ev[i];
    {
        br_buf_t b2;
        br_buf_init(&b);
        br_buf_init(&b2);
        br_meta_encode(&m, &b);
        br_meta_encode(&back, &b2);
        ok(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0,
           "assembled from info and events = filled directly");
        br_buf_free(&b);
        br_buf_free(&b2);
    }

    /* The fixture decodes to what it was made from. */
    is_int(br_meta_decode(golden, glen, &back), 0, "fixture decodes");
    is_str(back.far.addr, "+4930123456", "far number");
    is_int(back.nevents, 3, "three events");
    ok(back.events[1].kind == BR_EVENT_DTMF && back.events[1].digit == '5' &&
           back.events[1].duration_ms == 160 && back.events[1].at_ms == 12340,
       "the digit event");
    is_str(back.events[2].device, "SEP00AABBCCDD03", "the far-end change");
    is_str(back.consent_id, "0192f3a4b5c6d7e8f6bb", "consent id");

    /* A copy of the stored form by value shares nothing with the original. */
    {
        br_rec_meta_t *copy = malloc(sizeof *copy);
        *copy = m;
        m.events[0].addr[0] = 'X';
        ok(copy->events[0].addr[0] == '0', "a struct copy has its own events");
        free(copy);
    }
    br_meta_events_free(&t);
    return tap_done();
}
