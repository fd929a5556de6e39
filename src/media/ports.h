/*
 * The RTP port range: hands out even ports (RFC 3550 §11: RTP on an even
 * port, RTCP on the next odd one), never the same one to two legs at once.
 */
#ifndef BR_PORTS_H
#define BR_PORTS_H

#include <stdint.h>

typedef struct br_ports br_ports_t;

int br_ports_new(br_ports_t **out, uint16_t min, uint16_t max);
void br_ports_free(br_ports_t *p);
/* Returns the next free even port, marked in use, or -EADDRNOTAVAIL. The
 * caller binds it; if binding fails it releases it and asks again. */
int br_ports_take(br_ports_t *p);
void br_ports_release(br_ports_t *p, uint16_t port);
unsigned br_ports_in_use(const br_ports_t *p);

#endif
