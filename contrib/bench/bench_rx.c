/*
 * bench_rx: the bare receiver, baseline of the media benchmark.
 *
 * It binds the same UDP ports the recorder would (a port list file, or an
 * even-port range), and does the least any receiver must: one epoll loop,
 * recvmmsg on every readable socket until it is empty, count the packets.
 * No parsing, no timeline, no storage. The recorder's CPU per packet is
 * compared with this one's under the same load in the same run
 * (media-bench.sh), so the ratio shows what the recorder adds on top of
 * the kernel's and the event loop's unavoidable cost.
 *
 * At the end (SIGTERM or SIGINT, or --seconds) it prints the packets and
 * bytes received and its own CPU time from getrusage, as one line
 * "RESULT packets=... bytes=... cpu_s=... utime_s=... stime_s=...".
 * SIGUSR1 prints the same line without stopping (for a measurement window).
 *
 *   usage: bench_rx (--ports FILE | --port-min P --count N [--step 2])
 *                   [--address 127.0.0.1] [--rcvbuf BYTES] [--seconds S]
 *                   [--ready FILE]
 * The ports file has one call per line: "NEAR_PORT FAR_PORT" (what
 * bench_load --no-sip reads); lines starting with # are skipped.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define VLEN 16
#define PKT_MAX 2048
#define MAX_EVENTS 1024

static volatile sig_atomic_t stop, report;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

static void on_report(int sig)
{
    (void)sig;
    report = 1;
}

static void die(const char *msg)
{
    fprintf(stderr, "bench_rx: %s: %s\n", msg, strerror(errno));
    exit(1);
}

static uint64_t packets, bytes, syscalls, wakeups;

static void print_result(void)
{
    struct rusage ru;
    double u, s;
    getrusage(RUSAGE_SELF, &ru);
    u = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    s = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("RESULT packets=%" PRIu64 " bytes=%" PRIu64 " cpu_s=%.3f utime_s=%.3f stime_s=%.3f"
           " recvmmsg=%" PRIu64 " wakeups=%" PRIu64 "\n",
           packets, bytes, u + s, u, s, syscalls, wakeups);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "ports", 1, 0, 'p' },  { "port-min", 1, 0, 'm' }, { "count", 1, 0, 'n' },
        { "step", 1, 0, 's' },   { "address", 1, 0, 'a' },  { "rcvbuf", 1, 0, 'r' },
        { "seconds", 1, 0, 'S' }, { "ready", 1, 0, 'R' },   { 0, 0, 0, 0 },
    };
    const char *ports_file = NULL, *address = "127.0.0.1", *ready = NULL;
    unsigned port_min = 0, count = 0, step = 2, nports = 0;
    int rcvbuf = 0, ch;
    double seconds = 0;
    uint16_t *ports = NULL;

    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'p': ports_file = optarg; break;
        case 'm': port_min = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'n': count = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's': step = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'a': address = optarg; break;
        case 'r': rcvbuf = atoi(optarg); break;
        case 'S': seconds = atof(optarg); break;
        case 'R': ready = optarg; break;
        default:
            fprintf(stderr, "usage: bench_rx (--ports FILE | --port-min P --count N [--step 2])\n"
                            "                [--address A] [--rcvbuf BYTES] [--seconds S]\n"
                            "                [--ready FILE]\n");
            return 64;
        }
    }
    if (ports_file) {
        FILE *f = fopen(ports_file, "r");
        char line[256];
        size_t cap = 0;
        if (!f)
            die(ports_file);
        while (fgets(line, sizeof line, f)) {
            unsigned a, b;
            if (line[0] == '#' || sscanf(line, "%u %u", &a, &b) != 2)
                continue;
            if (nports + 2 > cap) {
                cap = cap ? 2 * cap : 1024;
                ports = realloc(ports, cap * sizeof *ports);
                if (!ports)
                    die("realloc");
            }
            ports[nports++] = (uint16_t)a;
            ports[nports++] = (uint16_t)b;
        }
        fclose(f);
    } else if (port_min && count && step) {
        ports = calloc(count, sizeof *ports);
        if (!ports)
            die("calloc");
        for (unsigned i = 0; i < count; i++)
            ports[nports++] = (uint16_t)(port_min + i * step);
    }
    if (!nports) {
        fprintf(stderr, "bench_rx: no ports (give --ports FILE or --port-min and --count)\n");
        return 64;
    }

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < nports + 16) {
        rl.rlim_cur = rl.rlim_max < nports + 16 ? rl.rlim_max : nports + 16;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    for (unsigned i = 0; i < nports; i++) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(ports[i]) };
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            die("socket (raise ulimit -n)");
        if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
            fprintf(stderr, "bench_rx: bad address %s\n", address);
            return 64;
        }
        if (rcvbuf > 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            fprintf(stderr, "bench_rx: bind %s:%u: %s\n", address, ports[i], strerror(errno));
            return 1;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            die("epoll_ctl");
    }
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    signal(SIGUSR1, on_report);
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f) {
            fprintf(f, "%u\n", nports);
            fclose(f);
        }
    }
    fprintf(stderr, "bench_rx: %u ports bound on %s\n", nports, address);

    static uint8_t bufs[VLEN][PKT_MAX];
    struct iovec iov[VLEN];
    struct mmsghdr msgs[VLEN];
    struct epoll_event evs[MAX_EVENTS];
    struct timespec t0, tn;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < VLEN; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = PKT_MAX;
    }
    while (!stop) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, 200);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        if (n > 0)
            wakeups++;
        for (int k = 0; k < n; k++) {
            int r;
            do {
                for (int i = 0; i < VLEN; i++) {
                    memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
                    msgs[i].msg_hdr.msg_iov = &iov[i];
                    msgs[i].msg_hdr.msg_iovlen = 1;
                }
                r = recvmmsg(evs[k].data.fd, msgs, VLEN, MSG_DONTWAIT, NULL);
                syscalls++;
                for (int i = 0; i < r; i++)
                    bytes += msgs[i].msg_len;
                if (r > 0)
                    packets += (uint64_t)r;
            } while (r == VLEN);
        }
        if (report) {
            report = 0;
            print_result();
        }
        if (seconds > 0) {
            clock_gettime(CLOCK_MONOTONIC, &tn);
            if ((tn.tv_sec - t0.tv_sec) + (tn.tv_nsec - t0.tv_nsec) / 1e9 >= seconds)
                break;
        }
    }
    print_result();
    return 0;
}
