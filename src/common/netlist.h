/*
 * A list of addresses and networks ("192.0.2.10 10.1.0.0/16 ::1"), used for
 * the CUCM nodes bibrec accepts SIP from.
 */
#ifndef BR_NETLIST_H
#define BR_NETLIST_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#define BR_NETLIST_MAX 64

typedef struct br_net {
    int family;       /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned prefix;  /* bits that must match */
} br_net_t;

typedef struct br_netlist {
    br_net_t nets[BR_NETLIST_MAX];
    int count;
} br_netlist_t;

/* Parses a space- or comma-separated list. Returns 0, or -EINVAL with the
 * offending item in why. */
int br_netlist_parse(br_netlist_t *l, const char *text, char *why, size_t whysz);
/* Whether sa (IPv4, IPv6 or IPv4-mapped IPv6) is in the list. */
int br_netlist_match(const br_netlist_t *l, const struct sockaddr *sa);

#endif
