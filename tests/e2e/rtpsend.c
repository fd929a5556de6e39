/*
 * rtpsend: sends one leg's RTP the way a phone does, for tests that need
 * more than SIPp's rtp_stream: a PCMU tone in 20 ms packets with real
 * timing, and RFC 4733 telephone-events at chosen moments (start packet,
 * updates every 50 ms, three end packets with the same timestamp).
 *
 *   rtpsend HOST PORT SECONDS [--tone HZ] [--dtmf DIGIT@SECONDS]... [--bind PORT]
 *           [--rx-tone HZ] [--silent]
 *
 * With --bind it sends from that local port and also receives on it; with
 * --rx-tone it then reports what came back (the other side's RTP, PCMU):
 * "rx packets=N pt=P tone_share=S", S being the share of the received
 * signal's energy at HZ (Goertzel, per 20 ms packet). --silent sends only
 * the telephone-events, no audio packets.
 *
 * Exit status: 0 sent, 1 socket error, 64 bad usage.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PT_PCMU 0
#define PT_EVENT 101
#define MAX_DTMF 8

static uint8_t ulaw(int16_t pcm)
{
    /* G.711 µ-law (bias 33, segment search), as in ITU-T G.711. */
    static const int ends[8] = { 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff };
    int v = pcm >> 2, mask = 0xff, seg = 0;
    if (v < 0) {
        v = -v;
        mask = 0x7f;
    }
    if (v > 8159)
        v = 8159;
    v += 0x21;
    while (seg < 8 && v > ends[seg])
        seg++;
    if (seg >= 8)
        return (uint8_t)(0x7f ^ mask);
    return (uint8_t)(((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask);
}

static int16_t ulaw_decode(uint8_t u)
{
    int t;
    u = (uint8_t)~u;
    t = ((u & 0x0f) << 3) + 0x84;
    t <<= (u & 0x70) >> 4;
    return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

struct rx {
    long packets;
    int pt;
    double tone, total; /* energies */
    double hz;
};

/* Takes every datagram waiting on fd (non-blocking). */
static void receive(int fd, struct rx *rx)
{
    uint8_t buf[1500];
    ssize_t n;

    while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 12) {
        double coeff = 2 * cos(2 * M_PI * rx->hz / 8000.0), s1 = 0, s2 = 0, energy = 0;
        size_t cc = (size_t)(buf[0] & 0x0f), off = 12 + 4 * cc;
        rx->packets++;
        rx->pt = buf[1] & 0x7f;
        if (rx->pt != PT_PCMU || (size_t)n <= off)
            continue;
        for (size_t i = off; i < (size_t)n; i++) {
            double x = ulaw_decode(buf[i]), s0 = x + coeff * s1 - s2;
            s2 = s1, s1 = s0;
            energy += x * x;
        }
        /* Goertzel power, scaled to the same units as the sum of squares. */
        rx->tone += (s1 * s1 + s2 * s2 - coeff * s1 * s2) * 2.0 / (double)((size_t)n - off);
        rx->total += energy;
    }
}

static void header(uint8_t *p, int marker, int pt, uint16_t seq, uint32_t ts)
{
    p[0] = 0x80;
    p[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
    p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8), p[7] = (uint8_t)ts;
    p[8] = 0x0b, p[9] = 0x1b, p[10] = 0xec, p[11] = 0x01;
}

static void sleep_until(const struct timespec *t0, long ms)
{
    struct timespec t = *t0;
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
}

int main(int argc, char **argv)
{
    struct sockaddr_in to = { .sin_family = AF_INET };
    double hz = 1000, secs;
    struct { int digit; long at_ms; } dtmf[MAX_DTMF];
    int ndtmf = 0, fd;
    struct timespec t0;
    uint16_t seq = 1000;
    uint32_t ts = 160000;
    long packets;
    int bind_port = 0, silent = 0;
    struct rx rx = { 0 };

    if (argc < 4 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
        fprintf(stderr, "usage: rtpsend HOST PORT SECONDS [--tone HZ] [--dtmf DIGIT@SECONDS]...\n");
        return 64;
    }
    to.sin_port = htons((uint16_t)atoi(argv[2]));
    secs = atof(argv[3]);
    for (int i = 4; i < argc; i += 2) {
        if (strcmp(argv[i], "--silent") == 0) {
            silent = 1;
            i--;
        } else if (i + 1 >= argc) {
            return 64;
        } else if (strcmp(argv[i], "--bind") == 0) {
            bind_port = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--rx-tone") == 0) {
            rx.hz = atof(argv[i + 1]);
        } else if (strcmp(argv[i], "--tone") == 0) {
            hz = atof(argv[i + 1]);
        } else if (strcmp(argv[i], "--dtmf") == 0 && ndtmf < MAX_DTMF) {
            const char *d = argv[i + 1], *digits = "0123456789*#";
            const char *pos = strchr(digits, d[0]);
            if (!pos || d[1] != '@')
                return 64;
            dtmf[ndtmf].digit = (int)(pos - digits);
            dtmf[ndtmf++].at_ms = (long)(atof(d + 2) * 1000);
        } else {
            return 64;
        }
    }
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return 1;
    if (bind_port) {
        struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)bind_port) };
        me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
            perror("rtpsend: bind");
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    packets = (long)(secs * 50);
    for (long k = 0; k < packets; k++) {
        uint8_t pkt[12 + 160];
        long now_ms = k * 20;
        int in_event = 0;
        for (int e = 0; e < ndtmf; e++) {
            long start = dtmf[e].at_ms, len = 160; /* a 160 ms key press */
            if (now_ms >= start && now_ms < start + len + 60) {
                /* RFC 4733: the event's timestamp is its start; duration grows. */
                uint32_t ets = (uint32_t)(160000 + start * 8);
                uint32_t dur = (uint32_t)((now_ms - start + 20) * 8);
                int end = now_ms >= start + len;
                int repeats = end ? 3 : 1;
                if (end && now_ms >= start + len + 20)
                    repeats = 0; /* the end packets were sent already */
                for (int r = 0; r < repeats; r++) {
                    header(pkt, now_ms == start, PT_EVENT, seq++, ets);
                    pkt[12] = (uint8_t)dtmf[e].digit;
                    pkt[13] = (uint8_t)((end ? 0x80 : 0) | 10);
                    if (end)
                        dur = (uint32_t)(len * 8);
                    pkt[14] = (uint8_t)(dur >> 8), pkt[15] = (uint8_t)dur;
                    sendto(fd, pkt, 16, 0, (struct sockaddr *)&to, sizeof to);
                }
                in_event = 1;
            }
        }
        if (!in_event && !silent) {
            header(pkt, 0, PT_PCMU, seq++, ts);
            for (int i = 0; i < 160; i++)
                pkt[12 + i] = ulaw((int16_t)(8000 * sin(2 * M_PI * hz * (double)(ts + (uint32_t)i) / 8000.0)));
            sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to);
        }
        ts += 160;
        sleep_until(&t0, (k + 1) * 20);
        if (rx.hz > 0)
            receive(fd, &rx);
    }
    if (rx.hz > 0)
        printf("rx packets=%ld pt=%d tone_share=%.2f\n", rx.packets, rx.pt,
               rx.total > 0 ? rx.tone / rx.total : 0.0);
    close(fd);
    return 0;
}
