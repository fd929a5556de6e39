/*
 * Port pool. A rotating cursor rather than "lowest free first", so a port
 * just released (whose late packets may still be in flight) is the last to
 * be reused.
 */
#include "ports.h"

#include <errno.h>
#include <stdlib.h>

struct br_ports {
    uint16_t min;
    unsigned count; /* even ports in the range */
    unsigned cursor;
    unsigned used;
    uint8_t *in_use;
};

int br_ports_new(br_ports_t **out, uint16_t min, uint16_t max)
{
    br_ports_t *p;

    *out = NULL;
    if (min & 1)
        min++;
    if (max < min)
        return -EINVAL;
    p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->min = min;
    p->count = (unsigned)(max - min) / 2 + 1;
    p->in_use = calloc(p->count, 1);
    if (!p->in_use) {
        free(p);
        return -ENOMEM;
    }
    *out = p;
    return 0;
}

void br_ports_free(br_ports_t *p)
{
    if (!p)
        return;
    free(p->in_use);
    free(p);
}

int br_ports_take(br_ports_t *p)
{
    for (unsigned i = 0; i < p->count; i++) {
        unsigned idx = (p->cursor + i) % p->count;
        if (!p->in_use[idx]) {
            p->in_use[idx] = 1;
            p->used++;
            p->cursor = (idx + 1) % p->count;
            return p->min + 2 * (int)idx;
        }
    }
    return -EADDRNOTAVAIL;
}

void br_ports_release(br_ports_t *p, uint16_t port)
{
    unsigned idx;
    if (port < p->min || (port - p->min) & 1)
        return;
    idx = (unsigned)(port - p->min) / 2;
    if (idx < p->count && p->in_use[idx]) {
        p->in_use[idx] = 0;
        p->used--;
    }
}

unsigned br_ports_in_use(const br_ports_t *p)
{
    return p->used;
}
