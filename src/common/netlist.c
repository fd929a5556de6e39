/*
 * Address/prefix matching. IPv4-mapped IPv6 sources (::ffff:a.b.c.d, as a
 * dual-stack socket reports them) are compared as IPv4.
 */
#include "netlist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_one(br_net_t *n, const char *item)
{
    char buf[64];
    char *slash;
    unsigned long prefix;
    char *end;

    if (strlen(item) >= sizeof buf)
        return -EINVAL;
    strcpy(buf, item);
    slash = strchr(buf, '/');
    if (slash)
        *slash = 0;
    if (inet_pton(AF_INET, buf, n->addr) == 1) {
        n->family = AF_INET;
        n->prefix = 32;
    } else if (inet_pton(AF_INET6, buf, n->addr) == 1) {
        n->family = AF_INET6;
        n->prefix = 128;
    } else {
        return -EINVAL;
    }
    if (slash) {
        prefix = strtoul(slash + 1, &end, 10);
        if (!slash[1] || *end || prefix > n->prefix)
            return -EINVAL;
        n->prefix = (unsigned)prefix;
    }
    return 0;
}

int br_netlist_parse(br_netlist_t *l, const char *text, char *why, size_t whysz)
{
    const char *p = text;

    memset(l, 0, sizeof *l);
    while (*p) {
        char item[80];
        size_t n = strcspn(p, " ,\t\n");
        if (n == 0) {
            p++;
            continue;
        }
        if (n >= sizeof item || l->count >= BR_NETLIST_MAX) {
            snprintf(why, whysz, "trusted: too long or more than %d entries", BR_NETLIST_MAX);
            return -EINVAL;
        }
        memcpy(item, p, n);
        item[n] = 0;
        if (parse_one(&l->nets[l->count], item) < 0) {
            snprintf(why, whysz, "trusted: '%s' is not an address or address/prefix", item);
            return -EINVAL;
        }
        l->count++;
        p += n;
    }
    return 0;
}

static int prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, bytes) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest))) == 0;
}

int br_netlist_match(const br_netlist_t *l, const struct sockaddr *sa)
{
    uint8_t v4[4], v6[16];
    int have4 = 0, have6 = 0;

    if (!sa)
        return 0;
    if (sa->sa_family == AF_INET) {
        memcpy(v4, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        have4 = 1;
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        memcpy(v6, a, 16);
        have6 = 1;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            memcpy(v4, v6 + 12, 4);
            have4 = 1;
        }
    }
    for (int i = 0; i < l->count; i++) {
        const br_net_t *n = &l->nets[i];
        if ((n->family == AF_INET && have4 && prefix_equal(n->addr, v4, n->prefix)) ||
            (n->family == AF_INET6 && have6 && prefix_equal(n->addr, v6, n->prefix)))
            return 1;
    }
    return 0;
}
