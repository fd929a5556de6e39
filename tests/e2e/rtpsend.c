/*
 * rtpsend: sends one leg's RTP the way a phone does, for tests that need
 * more than SIPp's rtp_stream: a PCMU tone in 20 ms packets with real
 * timing, and RFC 4733 telephone-events at chosen moments (start packet,
 * updates every 50 ms, three end packets with the same timestamp).
 *
 *   rtpsend HOST PORT SECONDS [--tone HZ] [--dtmf DIGIT@SECONDS]...
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

    if (argc < 4 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
        fprintf(stderr, "usage: rtpsend HOST PORT SECONDS [--tone HZ] [--dtmf DIGIT@SECONDS]...\n");
        return 64;
    }
    to.sin_port = htons((uint16_t)atoi(argv[2]));
    secs = atof(argv[3]);
    for (int i = 4; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--tone") == 0) {
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
        if (!in_event) {
            header(pkt, 0, PT_PCMU, seq++, ts);
            for (int i = 0; i < 160; i++)
                pkt[12 + i] = ulaw((int16_t)(8000 * sin(2 * M_PI * hz * (double)(ts + (uint32_t)i) / 8000.0)));
            sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to);
        }
        ts += 160;
        sleep_until(&t0, (k + 1) * 20);
    }
    close(fd);
    return 0;
}
