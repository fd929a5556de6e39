/*
 * Metadata encoding: a version byte, then fixed-order fields written with
 * br_buf_put_*. New fields are appended in a new version; a reader refuses
 * versions it does not know rather than guessing.
 */
#include "meta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2: profile, basis, retention, call grouping, timeline events. */
#define META_VERSION 3 /* 3: consent decision; 2 is still read */

static void put_party(br_buf_t *b, const br_rec_party_t *p)
{
    br_buf_put_str(b, p->refci);
    br_buf_put_str(b, p->device);
    br_buf_put_str(b, p->addr);
    br_buf_put_str(b, p->cluster);
    br_buf_put_str(b, p->guid);
    br_buf_put_u8(b, p->payload_type);
    br_buf_put_u8(b, p->present);
    br_buf_put_u64le(b, p->packets);
    br_buf_put_u64le(b, p->lost);
    br_buf_put_u64le(b, p->dropped);
}

static void get_party(br_reader_t *r, br_rec_party_t *p)
{
    br_get_str(r, p->refci, sizeof p->refci);
    br_get_str(r, p->device, sizeof p->device);
    br_get_str(r, p->addr, sizeof p->addr);
    br_get_str(r, p->cluster, sizeof p->cluster);
    br_get_str(r, p->guid, sizeof p->guid);
    p->payload_type = br_get_u8(r);
    p->present = br_get_u8(r);
    p->packets = br_get_u64le(r);
    p->lost = br_get_u64le(r);
    p->dropped = br_get_u64le(r);
}

int br_meta_encode(const br_rec_meta_t *m, br_buf_t *b)
{
    br_buf_put_u8(b, META_VERSION);
    br_buf_put_str(b, m->id);
    br_buf_put_u8(b, m->state);
    br_buf_put_u64le(b, (uint64_t)m->start_us);
    br_buf_put_u64le(b, (uint64_t)m->end_us);
    br_buf_put_u32le(b, m->sample_rate);
    br_buf_put_u64le(b, m->frames);
    br_buf_put_u32le(b, m->segments);
    br_buf_put_str(b, m->session_id);
    br_buf_put_u32le(b, m->flags);
    br_buf_put_str(b, m->profile);
    br_buf_put_u8(b, m->basis);
    br_buf_put_u8(b, m->mode);
    br_buf_put_u64le(b, (uint64_t)m->retain_until_us);
    br_buf_put_u64le(b, (uint64_t)m->keep_deadline_us);
    br_buf_put_str(b, m->call_id);
    br_buf_put_u32le(b, m->call_seq);
    br_buf_put_str(b, m->peer_call_id);
    put_party(b, &m->near);
    put_party(b, &m->far);
    br_buf_put_u32le(b, m->nevents);
    for (uint32_t i = 0; i < m->nevents && i < BR_META_MAX_EVENTS; i++) {
        const br_rec_event_t *e = &m->events[i];
        br_buf_put_u32le(b, e->at_ms);
        br_buf_put_u8(b, e->kind);
        br_buf_put_u8(b, e->channel);
        br_buf_put_str(b, e->refci);
        br_buf_put_str(b, e->device);
        br_buf_put_str(b, e->addr);
        br_buf_put_u8(b, (uint8_t)e->digit);
        br_buf_put_u32le(b, e->duration_ms);
    }
    br_buf_put_str(b, m->consent_id);
    br_buf_put_u8(b, m->consent);
    return b->failed ? -ENOMEM : 0;
}

int br_meta_decode(const uint8_t *data, size_t len, br_rec_meta_t *m)
{
    br_reader_t r;
    uint8_t version;

    memset(m, 0, sizeof *m);
    br_reader_init(&r, data, len);
    version = br_get_u8(&r);
    if (version != META_VERSION && version != 2)
        return -EPROTO;
    br_get_str(&r, m->id, sizeof m->id);
    m->state = br_get_u8(&r);
    m->start_us = (int64_t)br_get_u64le(&r);
    m->end_us = (int64_t)br_get_u64le(&r);
    m->sample_rate = br_get_u32le(&r);
    m->frames = br_get_u64le(&r);
    m->segments = br_get_u32le(&r);
    br_get_str(&r, m->session_id, sizeof m->session_id);
    m->flags = br_get_u32le(&r);
    br_get_str(&r, m->profile, sizeof m->profile);
    m->basis = br_get_u8(&r);
    m->mode = br_get_u8(&r);
    m->retain_until_us = (int64_t)br_get_u64le(&r);
    m->keep_deadline_us = (int64_t)br_get_u64le(&r);
    br_get_str(&r, m->call_id, sizeof m->call_id);
    m->call_seq = br_get_u32le(&r);
    br_get_str(&r, m->peer_call_id, sizeof m->peer_call_id);
    get_party(&r, &m->near);
    get_party(&r, &m->far);
    m->nevents = br_get_u32le(&r);
    if (m->nevents > BR_META_MAX_EVENTS)
        return -EPROTO;
    for (uint32_t i = 0; i < m->nevents; i++) {
        br_rec_event_t *e = &m->events[i];
        e->at_ms = br_get_u32le(&r);
        e->kind = br_get_u8(&r);
        e->channel = br_get_u8(&r);
        br_get_str(&r, e->refci, sizeof e->refci);
        br_get_str(&r, e->device, sizeof e->device);
        br_get_str(&r, e->addr, sizeof e->addr);
        e->digit = (char)br_get_u8(&r);
        e->duration_ms = br_get_u32le(&r);
    }
    if (version >= 3) {
        br_get_str(&r, m->consent_id, sizeof m->consent_id);
        m->consent = br_get_u8(&r);
    }
    if (r.failed || r.left != 0 || m->state > BR_REC_ERASED || m->sample_rate == 0 ||
        m->sample_rate > 48000)
        return -EPROTO;
    return 0;
}

const char *br_rec_state_name(uint8_t state)
{
    switch (state) {
    case BR_REC_ERASED:
        return "erased";
    case BR_REC_RECORDING:
        return "recording";
    case BR_REC_SEALED:
        return "sealed";
    case BR_REC_RECOVERED:
        return "recovered";
    default:
        return "unknown";
    }
}

uint64_t br_meta_duration_ms(const br_rec_meta_t *m)
{
    return m->sample_rate ? m->frames * 1000 / m->sample_rate : 0;
}

void br_meta_flags_str(uint32_t flags, char *out, size_t outsz)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        { BR_FLAG_SINGLE_LEG, "single-leg" },
        { BR_FLAG_NO_MEDIA, "no-media" },
        { BR_FLAG_SHUTDOWN, "shutdown" },
        { BR_FLAG_STORAGE_ERROR, "truncated:storage-error" },
        { BR_FLAG_PRIVATE, "private" },
        { BR_FLAG_KEPT, "kept" },
    };
    size_t n = 0;

    out[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(flags & names[i].bit))
            continue;
        int w = snprintf(out + n, outsz - n, "%s%s", n ? "," : "", names[i].name);
        if (w < 0 || (size_t)w >= outsz - n)
            break;
        n += (size_t)w;
    }
    if (n == 0 && outsz > 1)
        snprintf(out, outsz, "-");
}

/* A call's first events (a consent link, a digit or two) fit the first
 * allocation; the array doubles from there up to BR_META_MAX_EVENTS. */
#define EVENTS_FIRST 4

int br_meta_events_add(br_rec_events_t *t, const br_rec_event_t *ev)
{
    if (t->n >= BR_META_MAX_EVENTS)
        return -ENOSPC;
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : EVENTS_FIRST;
        br_rec_event_t *v;

        if (cap > BR_META_MAX_EVENTS)
            cap = BR_META_MAX_EVENTS;
        v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = *ev;
    return 0;
}

void br_meta_events_free(br_rec_events_t *t)
{
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

void br_meta_assemble(br_rec_meta_t *m, const br_rec_info_t *info, const br_rec_events_t *t)
{
    memset(m, 0, sizeof *m);
    m->info = *info;
    m->nevents = t->n < BR_META_MAX_EVENTS ? t->n : BR_META_MAX_EVENTS;
    if (m->nevents)
        memcpy(m->events, t->v, m->nevents * sizeof *t->v);
}
