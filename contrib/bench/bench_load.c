/*
 * bench_load: the load generator of the media benchmark (media-bench.sh).
 *
 * It plays CUCM and the forking phones for N concurrent recorded calls, in
 * one thread on plain epoll and a 1 ms timerfd, so that the whole recorder
 * is measured and not the media path alone:
 *
 *   SIP    each call has its own UDP socket and places the two BiB dialogs
 *          (cucm-bib.md §1-§3): a delayed-offer INVITE per leg with the
 *          metadata in the From URI (x-nearend / x-farend; x-refci=...), the
 *          200 OK's SDP offer is read (c= and m=audio), the ACK carries the
 *          answer (PCMU, a=sendonly); retransmitted 200s are ACKed again;
 *          after the duration both legs get a BYE and we wait for the 200s.
 *          Calls are started at --rate pairs per second, so that setting up
 *          4000 calls is not a burst test of the SIP stack.
 *   RTP    each leg sends 20 ms PCMU packets (160 bytes) at 50 packets/s
 *          with real timing: packet n of a stream is due at
 *          t0 + n * 20 ms (stretched by --drift), each stream has its own
 *          phase (when its call was answered), and the packets due in one
 *          1 ms tick are sent with sendmmsg, one batch per source socket.
 *          The payload comes from precomputed µ-law tone tables: every call
 *          has its own pair of frequencies (near, far), so an exported
 *          sample can be checked with tests/e2e/wavcheck.
 *
 * Impairments, all optional: --loss P drops P % of the packets (sequence
 * number used, packet never sent), --reorder P sends P % of the packets
 * after their successor, --jitter MS delays every packet by a uniform
 * 0..MS ms, --drift PPM runs the senders' sample clocks fast (or slow,
 * negative).
 *
 * A call's media stops after --duration seconds and its BYEs follow
 * --bye-delay ms later (default 100): with 0, the last packets race the BYE,
 * and a recorder that closes its socket at once loses what is still queued.
 *
 * --no-sip sends the same media without SIP to the ports listed in a file
 * (two per call), e.g. to the bare receiver bench_rx or to rtpengine.
 *
 * The generator measures itself: the lag of every packet behind its due
 * time. If the sender falls behind (lag p99 above --max-lag, by default one
 * packet interval, 20 ms) it says so at the end; the recorder's figures are
 * then not valid.
 *
 * Everything is bounded: the run ends when every call has been hung up, or
 * at the latest ramp + duration + --grace seconds after the start.
 *
 *   usage: bench_load --calls N --duration S [--rate R] [--target IP:PORT]
 *            [--loss P] [--reorder P] [--jitter MS] [--drift PPM]
 *            [--no-sip --ports FILE] [--local-base-port B] [--src per-call|
 *            per-stream|N] [--tones fixed|per-call] [--calls-out FILE]
 *            [--seed X] [--grace S] [--sndbuf BYTES] [--bye-delay MS]
 *            [--max-lag MS] [--quiet]
 *
 * Output: progress on stderr; a summary on stdout whose last line is
 * "RESULT key=value ...", read by media-bench.sh. --calls-out writes one
 * line per call (ports, tones, packets sent per leg).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define PTIME_NS 20000000LL
#define SAMPLES 160
#define RTP_HDR 12
#define RTP_LEN (RTP_HDR + SAMPLES)
#define TONE_LEN 8000           /* one second: any whole frequency in Hz repeats */
#define WHEEL 1024              /* 1 ms buckets: the farthest event is < 1.024 s ahead */
#define BATCH 1024              /* packets per sendmmsg */
#define LAG_BINS 2000           /* 0.1 ms bins: 0 .. 200 ms */
#define MAX_JITTER_MS 500
#define SIP_T1_MS 500
#define SIP_GIVEUP_MS 16000
#define RETX_SCAN_MS 20
#define SIP_BUF 8192

/* ---- options ---------------------------------------------------------- */

enum src_mode { SRC_PER_CALL, SRC_PER_STREAM, SRC_SHARED };

static struct {
    unsigned calls;
    double duration_s;
    double rate;
    struct sockaddr_in target;
    double loss, reorder;
    unsigned jitter_ms;
    double drift_ppm;
    int no_sip;
    const char *ports_file;
    unsigned base_port;
    enum src_mode src_mode;
    unsigned src_shared;        /* number of sockets in SRC_SHARED */
    int tones_fixed;
    const char *calls_out;
    uint64_t seed;
    double grace_s;
    int sndbuf;
    int quiet;
    unsigned bye_delay_ms;
    double max_lag_ms;
} opt = {
    .max_lag_ms = 20,
    .bye_delay_ms = 100,
    .calls = 10,
    .duration_s = 30,
    .rate = 200,
    .base_port = 46000,
    .src_mode = SRC_PER_CALL,
    .seed = 1,
    .grace_s = 40,
};

/* ---- state ------------------------------------------------------------ */

enum leg_state { LEG_IDLE, LEG_INVITING, LEG_UP, LEG_BYEING, LEG_DONE, LEG_FAILED };

typedef struct stream {
    int fd;                     /* source socket (shared among streams in some modes) */
    struct sockaddr_in dst;
    const uint8_t *tone;
    unsigned hz;
    uint32_t ssrc;
    uint16_t seq0;
    uint32_t ts0;
    uint32_t n;                 /* next packet index */
    int64_t t0;                 /* due time of packet 0, ns (monotonic) */
    int active;
    int has_held;
    uint32_t held_n;            /* reorder: packet kept back until its successor went */
    uint64_t sent, generated, lost_injected, reordered, send_errors;
} stream_t;

typedef struct leg {
    enum leg_state state;
    char call_id[64];
    char from_tag[32];
    char to_tag[96];
    char branch[48];
    char contact[192];
    int have_sdp;
    int acked;
    unsigned retx;              /* retransmissions of the current request */
    int64_t next_retx, deadline; /* ms */
    int64_t t_invite, t_answer; /* ms */
    uint64_t retx_200;          /* 200s received again after our ACK */
    stream_t st;
} leg_t;

typedef struct call {
    unsigned idx;
    int sip_fd;
    uint16_t sip_port;
    uint16_t src_port;          /* announced in the ACK's SDP */
    unsigned long refci;
    int64_t t_start, t_end;     /* ms */
    int started, media_stopped, ending, done, failed, bye_by_peer;
    leg_t leg[2];
} call_t;

/* Wheel events: one per stream (its next due packet), plus a pool of
 * delayed packets for --jitter. */
typedef struct ev {
    int32_t next;
    uint32_t stream;            /* index into the stream table */
    uint32_t n;                 /* packet index for a delayed packet */
    int64_t due;                /* ns */
    uint8_t delayed;
} ev_t;

static call_t *calls;
static stream_t **streams;      /* streams[2*i + leg] */
static unsigned nstreams;
static ev_t *evs;
static uint32_t nevs, ev_free = UINT32_MAX;
static int32_t wheel[WHEEL];
static int64_t wheel_ms;        /* the next bucket to process, in ms */
static int in_wheel;            /* inside run_wheel: bucket wheel_ms is being processed */
static int epfd, tfd;
static int64_t t_origin;        /* ns */
static uint8_t *tones[64];
static unsigned tone_hz[64];
static unsigned ntones;
static uint64_t rng;
static volatile sig_atomic_t stop_requested;
static double period_ns;

static struct {
    uint64_t lag_hist[LAG_BINS + 1];
    uint64_t lag_n;
    double lag_sum, lag_max;
    uint64_t sendmmsg_calls, packets_sent, send_errors;
    uint64_t invites, invite_retx, acks, byes, bye_retx, bye_ok, bye_timeouts;
    uint64_t resp_200, resp_200_retx, resp_fail, resp_other, requests_in, parse_errors;
    unsigned calls_up, calls_failed, calls_started, calls_done;
    int64_t t_all_up;           /* ms; 0: not yet */
    int64_t t_first_end;
} S;

/* ---- small helpers ---------------------------------------------------- */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void note(const char *fmt, ...)
{
    va_list ap;
    if (opt.quiet)
        return;
    va_start(ap, fmt);
    fputs("bench_load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t now_ms(void)
{
    return (now_ns() - t_origin) / 1000000;
}

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double rnd01(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* ---- G.711 µ-law and the tone tables ---------------------------------- */

static uint8_t ulaw_encode(int16_t pcm)
{
    const int bias = 0x84, clip = 32635;
    int sign = (pcm >> 8) & 0x80, exponent, mantissa, s = pcm;

    if (sign)
        s = -s;
    if (s > clip)
        s = clip;
    s += bias;
    exponent = 7;
    for (int mask = 0x4000; !(s & mask) && exponent > 0; mask >>= 1)
        exponent--;
    mantissa = (s >> (exponent + 3)) & 0x0f;
    return (uint8_t)~(sign | (exponent << 4) | mantissa);
}

static const uint8_t *tone_table(unsigned hz)
{
    for (unsigned i = 0; i < ntones; i++)
        if (tone_hz[i] == hz)
            return tones[i];
    if (ntones == sizeof tones / sizeof tones[0])
        die("too many tones");
    uint8_t *t = malloc(TONE_LEN);
    if (!t)
        die("out of memory");
    for (int k = 0; k < TONE_LEN; k++) /* -10 dBFS */
        t[k] = ulaw_encode((int16_t)lrint(0.316 * 32767.0 * sin(2.0 * M_PI * hz * k / 8000.0)));
    tones[ntones] = t;
    tone_hz[ntones++] = hz;
    return t;
}

/* Per-call pairs: 6 near tones x 6 far tones, all apart by more than
 * wavcheck's tolerance and far from each other's harmonics' confusion. */
static const unsigned near_set[] = { 440, 520, 600, 680, 760, 840 };
static const unsigned far_set[] = { 1000, 1150, 1300, 1450, 1600, 1750 };

static void call_tones(unsigned i, unsigned *near, unsigned *far)
{
    if (opt.tones_fixed) {
        *near = 440;
        *far = 1000;
        return;
    }
    *near = near_set[i % 6];
    *far = far_set[(i / 6) % 6];
}

/* ---- sockets ---------------------------------------------------------- */

static int udp_bound(uint16_t port, int nonblock)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

    if (fd < 0)
        die("socket: %s (raise ulimit -n: %u calls need about %u descriptors)", strerror(errno),
            opt.calls, opt.calls * 3 + 16);
    sa.sin_addr = opt.target.sin_addr; /* loopback: bind where we send from */
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("bind %s:%u: %s", inet_ntoa(sa.sin_addr), port, strerror(errno));
    if (opt.sndbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &opt.sndbuf, sizeof opt.sndbuf);
    return fd;
}

/* ---- the wheel -------------------------------------------------------- */

static void wheel_put(uint32_t e)
{
    int64_t ms = evs[e].due / 1000000, first = wheel_ms + (in_wheel ? 1 : 0);
    if (ms < first) /* overdue: the next bucket that will still be looked at */
        ms = first;
    evs[e].next = wheel[ms & (WHEEL - 1)];
    wheel[ms & (WHEEL - 1)] = (int32_t)e;
}

static uint32_t ev_alloc(void)
{
    uint32_t e = ev_free;
    if (e != UINT32_MAX)
        ev_free = (uint32_t)evs[e].next;
    return e;
}

static void ev_release(uint32_t e)
{
    evs[e].next = (int32_t)ev_free;
    ev_free = e;
}

/* ---- RTP sending ------------------------------------------------------ */

/* The packets due in one pass of the wheel are queued here and sent at its
 * end, one sendmmsg per source socket: with --src K the streams take turns
 * among K sockets, so sending whenever the socket changed made about two
 * packets per system call, and at 2000 calls the generator's own sending
 * took most of a core. */
static struct mmsghdr msgs[BATCH];
static struct iovec iovs[BATCH];
static uint8_t pkts[BATCH][RTP_LEN];
static stream_t *batch_owner[BATCH];
static unsigned nbatch;

static struct mmsghdr send_msgs[BATCH]; /* msgs, grouped by socket */
static stream_t *send_owner[BATCH];
static unsigned send_order[BATCH];

static int by_socket(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    int fx = batch_owner[x]->fd, fy = batch_owner[y]->fd;

    if (fx != fy)
        return fx < fy ? -1 : 1;
    return x < y ? -1 : x > y; /* a stream's packets keep their order */
}

/* Sends msgs[0, n) from one socket; counts what went and what failed. */
static void send_run(int fd, struct mmsghdr *m, stream_t **owner, unsigned n)
{
    unsigned off = 0;

    while (off < n) {
        int r = sendmmsg(fd, m + off, n - off, MSG_DONTWAIT);
        S.sendmmsg_calls++;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            /* This packet is lost on our side: count it and go on. */
            S.send_errors++;
            owner[off]->send_errors++;
            off++;
            continue;
        }
        for (int k = 0; k < r; k++)
            owner[off + (unsigned)k]->sent++;
        S.packets_sent += (uint64_t)r;
        off += (unsigned)r;
    }
}

static void flush_batch(void)
{
    unsigned start = 0;

    for (unsigned i = 0; i < nbatch; i++)
        send_order[i] = i;
    qsort(send_order, nbatch, sizeof *send_order, by_socket);
    for (unsigned i = 0; i < nbatch; i++) {
        send_msgs[i] = msgs[send_order[i]];
        send_owner[i] = batch_owner[send_order[i]];
    }
    for (unsigned i = 1; i <= nbatch; i++)
        if (i == nbatch || send_owner[i]->fd != send_owner[start]->fd) {
            send_run(send_owner[start]->fd, send_msgs + start, send_owner + start, i - start);
            start = i;
        }
    nbatch = 0;
}

static void queue_packet(stream_t *s, uint32_t n)
{
    uint8_t *p;

    if (nbatch == BATCH)
        flush_batch();
    p = pkts[nbatch];
    p[0] = 0x80;
    p[1] = (uint8_t)(n == 0 ? 0x80 : 0x00); /* marker on the first packet, PT 0 */
    uint16_t seq = (uint16_t)(s->seq0 + n);
    uint32_t ts = s->ts0 + n * SAMPLES;
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    p[4] = (uint8_t)(ts >> 24);
    p[5] = (uint8_t)(ts >> 16);
    p[6] = (uint8_t)(ts >> 8);
    p[7] = (uint8_t)ts;
    p[8] = (uint8_t)(s->ssrc >> 24);
    p[9] = (uint8_t)(s->ssrc >> 16);
    p[10] = (uint8_t)(s->ssrc >> 8);
    p[11] = (uint8_t)s->ssrc;
    memcpy(p + RTP_HDR, s->tone + (size_t)(n % (TONE_LEN / SAMPLES)) * SAMPLES, SAMPLES);
    iovs[nbatch].iov_base = p;
    iovs[nbatch].iov_len = RTP_LEN;
    memset(&msgs[nbatch].msg_hdr, 0, sizeof msgs[nbatch].msg_hdr);
    msgs[nbatch].msg_hdr.msg_name = &s->dst;
    msgs[nbatch].msg_hdr.msg_namelen = sizeof s->dst;
    msgs[nbatch].msg_hdr.msg_iov = &iovs[nbatch];
    msgs[nbatch].msg_hdr.msg_iovlen = 1;
    batch_owner[nbatch] = s;
    nbatch++;
}

/* Sends packet n now, or later when --jitter delays it. */
static void emit(uint32_t si, stream_t *s, uint32_t n, int64_t due)
{
    if (opt.jitter_ms) {
        int64_t d = (int64_t)(rnd01() * opt.jitter_ms * 1e6);
        uint32_t e = d > 500000 ? ev_alloc() : UINT32_MAX;
        if (e != UINT32_MAX) {
            evs[e].stream = si;
            evs[e].n = n;
            evs[e].due = due + d;
            evs[e].delayed = 1;
            wheel_put(e);
            return;
        }
    }
    queue_packet(s, n);
}

static void record_lag(int64_t lag_ns)
{
    double ms = lag_ns > 0 ? lag_ns / 1e6 : 0;
    unsigned bin = (unsigned)(ms * 10);
    S.lag_hist[bin > LAG_BINS ? LAG_BINS : bin]++;
    S.lag_n++;
    S.lag_sum += ms;
    if (ms > S.lag_max)
        S.lag_max = ms;
}

/* The stream's packet n is due: apply the impairments and send it. */
static void stream_due(uint32_t si, int64_t now)
{
    stream_t *s = streams[si];
    uint32_t n = s->n++;
    int64_t due = s->t0 + (int64_t)llround(n * period_ns);

    record_lag(now - due);
    s->generated++;
    if (opt.loss > 0 && rnd01() * 100 < opt.loss) {
        s->lost_injected++;
    } else if (!s->has_held && opt.reorder > 0 && rnd01() * 100 < opt.reorder) {
        s->has_held = 1; /* goes out right after its successor */
        s->held_n = n;
        s->reordered++;
    } else {
        emit(si, s, n, due);
        if (s->has_held) {
            emit(si, s, s->held_n, due);
            s->has_held = 0;
        }
    }
}

static void stream_start(uint32_t si, int64_t t0)
{
    stream_t *s = streams[si];
    s->t0 = t0;
    s->n = 0;
    s->active = 1;
    evs[si].stream = si;
    evs[si].delayed = 0;
    evs[si].due = t0;
    wheel_put(si);
}

static void stream_stop(stream_t *s)
{
    s->active = 0; /* its wheel event is dropped when it comes up */
}

/* Processes the wheel up to now. */
static void run_wheel(int64_t now)
{
    int64_t upto = now / 1000000;

    in_wheel = 1;
    for (; wheel_ms <= upto; wheel_ms++) {
        int32_t e = wheel[wheel_ms & (WHEEL - 1)];
        wheel[wheel_ms & (WHEEL - 1)] = -1;
        while (e >= 0) {
            int32_t next = evs[e].next;
            ev_t *v = &evs[e];
            if (v->due / 1000000 > wheel_ms) { /* a later lap of the wheel */
                v->next = wheel[wheel_ms & (WHEEL - 1)];
                wheel[wheel_ms & (WHEEL - 1)] = e;
            } else if (v->delayed) {
                stream_t *s = streams[v->stream];
                if (s->active)
                    queue_packet(s, v->n);
                ev_release((uint32_t)e);
            } else {
                stream_t *s = streams[v->stream];
                if (s->active) {
                    stream_due(v->stream, now);
                    v->due = s->t0 + (int64_t)llround(s->n * period_ns);
                    wheel_put((uint32_t)e);
                }
            }
            e = next;
        }
    }
    in_wheel = 0;
    if (nbatch)
        flush_batch();
}

/* ---- SIP -------------------------------------------------------------- */

static char sipbuf[SIP_BUF];

static void sip_send(call_t *c, const char *msg, size_t len)
{
    if (sendto(c->sip_fd, msg, len, 0, (struct sockaddr *)&opt.target, sizeof opt.target) < 0)
        note("call %u: SIP send: %s", c->idx, strerror(errno));
}

static const char *leg_flag(int l)
{
    return l == 0 ? "x-nearend" : "x-farend";
}

static int from_header(call_t *c, int l, char *out, size_t sz)
{
    unsigned dn = 4000 + c->idx % 5000, far_dn = 5000 + c->idx % 5000;
    return snprintf(out, sz,
                    "From: \"Bench %u\" <sip:%u@127.0.0.1;%s;x-refci=%lu;"
                    "x-nearendclusterid=StandAloneCluster;x-nearenddevice=SEP00AABB%06X;"
                    "x-nearendaddr=%u;x-farendrefci=%lu;x-farendclusterid=StandAloneCluster;"
                    "x-farenddevice=SEP00CCDD%06X;x-farendaddr=%u>;tag=%s\r\n",
                    dn, dn, leg_flag(l), c->refci, c->idx, dn, c->refci - 1, c->idx, far_dn,
                    c->leg[l].from_tag);
}

static void new_branch(leg_t *g)
{
    snprintf(g->branch, sizeof g->branch, "z9hG4bK%016" PRIx64, rnd());
}

static void send_invite(call_t *c, int l)
{
    leg_t *g = &c->leg[l];
    char from[1024];
    char tgt[32];
    int n;

    from_header(c, l, from, sizeof from);
    inet_ntop(AF_INET, &opt.target.sin_addr, tgt, sizeof tgt);
    n = snprintf(sipbuf, sizeof sipbuf,
                 "INVITE sip:7000@%s:%u SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s;rport\r\n"
                 "%s"
                 "To: <sip:7000@%s>\r\n"
                 "Call-ID: %s\r\n"
                 "CSeq: 101 INVITE\r\n"
                 "Supported: timer,resource-priority,replaces\r\n"
                 "Session-Expires: 1800\r\n"
                 "Min-SE: 1800\r\n"
                 "Expires: 180\r\n"
                 "User-Agent: Cisco-CUCM14.0 (bibrec bench_load)\r\n"
                 "Allow: INVITE, OPTIONS, INFO, BYE, CANCEL, ACK, PRACK, UPDATE, REFER, "
                 "SUBSCRIBE, NOTIFY\r\n"
                 "Cisco-Guid: %u-0000065536-%010u-2130706433\r\n"
                 "Contact: <sip:%u@127.0.0.1:%u;transport=udp>\r\n"
                 "Max-Forwards: 70\r\n"
                 "Content-Length: 0\r\n\r\n",
                 tgt, ntohs(opt.target.sin_port), c->sip_port, g->branch, from, tgt, g->call_id,
                 (unsigned)getpid(), c->idx * 2 + (unsigned)l, 4000 + c->idx % 5000, c->sip_port);
    sip_send(c, sipbuf, (size_t)n);
}

static void send_ack(call_t *c, int l, int with_sdp, const char *branch)
{
    leg_t *g = &c->leg[l];
    char from[1024], body[512];
    int blen = 0, n;

    from_header(c, l, from, sizeof from);
    if (with_sdp)
        blen = snprintf(body, sizeof body,
                        "v=0\r\n"
                        "o=CiscoSystemsCCM-SIP %u 1 IN IP4 127.0.0.1\r\n"
                        "s=SIP Call\r\n"
                        "c=IN IP4 127.0.0.1\r\n"
                        "b=TIAS:64000\r\n"
                        "b=AS:64\r\n"
                        "t=0 0\r\n"
                        "m=audio %u RTP/AVP 0 101\r\n"
                        "a=ptime:20\r\n"
                        "a=rtpmap:0 PCMU/8000\r\n"
                        "a=sendonly\r\n"
                        "a=rtpmap:101 telephone-event/8000\r\n"
                        "a=fmtp:101 0-15\r\n",
                        c->idx, c->src_port + (opt.src_mode == SRC_PER_STREAM ? l : 0));
    n = snprintf(sipbuf, sizeof sipbuf,
                 "ACK %s SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s;rport\r\n"
                 "%s"
                 "To: <sip:7000@127.0.0.1>;tag=%s\r\n"
                 "Call-ID: %s\r\n"
                 "CSeq: 101 ACK\r\n"
                 "Contact: <sip:%u@127.0.0.1:%u;transport=udp>\r\n"
                 "Max-Forwards: 70\r\n"
                 "%s"
                 "Content-Length: %d\r\n\r\n%s",
                 g->contact, c->sip_port, branch, from, g->to_tag, g->call_id,
                 4000 + c->idx % 5000, c->sip_port,
                 with_sdp ? "Content-Type: application/sdp\r\n" : "", blen, with_sdp ? body : "");
    sip_send(c, sipbuf, (size_t)n);
    S.acks++;
}

static void send_bye(call_t *c, int l)
{
    leg_t *g = &c->leg[l];
    char from[1024];
    int n;

    from_header(c, l, from, sizeof from);
    n = snprintf(sipbuf, sizeof sipbuf,
                 "BYE %s SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s;rport\r\n"
                 "%s"
                 "To: <sip:7000@127.0.0.1>;tag=%s\r\n"
                 "Call-ID: %s\r\n"
                 "CSeq: 102 BYE\r\n"
                 "User-Agent: Cisco-CUCM14.0 (bibrec bench_load)\r\n"
                 "Reason: Q.850;cause=16\r\n"
                 "Max-Forwards: 70\r\n"
                 "Content-Length: 0\r\n\r\n",
                 g->contact, c->sip_port, g->branch, from, g->to_tag, g->call_id);
    sip_send(c, sipbuf, (size_t)n);
}

/* Header lookup by full or compact name (RFC 3261 §7.3.3), case-insensitive.
 * Returns the value (leading blanks skipped) and its length up to the end of
 * the line; folded headers are not used by sofia-sip. */
static const char *hdr(const char *msg, const char *end, const char *name, const char *compact,
                       size_t *len)
{
    const char *p = strstr(msg, "\r\n");

    while (p && p + 2 < end) {
        const char *line = p + 2, *eol = strstr(line, "\r\n"), *colon;
        if (!eol || eol == line)
            return NULL; /* end of headers */
        colon = memchr(line, ':', (size_t)(eol - line));
        if (colon) {
            const char *ne = colon;
            while (ne > line && (ne[-1] == ' ' || ne[-1] == '\t'))
                ne--;
            size_t nl = (size_t)(ne - line);
            if ((nl == strlen(name) && strncasecmp(line, name, nl) == 0) ||
                (compact && nl == 1 && tolower((unsigned char)line[0]) == compact[0])) {
                const char *v = colon + 1;
                while (*v == ' ' || *v == '\t')
                    v++;
                *len = (size_t)(eol - v);
                return v;
            }
        }
        p = eol;
    }
    return NULL;
}

static int copy_param(const char *v, size_t len, const char *param, char *out, size_t sz)
{
    size_t pl = strlen(param);
    for (size_t i = 0; i + pl < len; i++)
        if (v[i] == ';' && strncasecmp(v + i + 1, param, pl) == 0 && v[i + 1 + pl] == '=') {
            const char *s = v + i + 2 + pl;
            size_t k = 0;
            while (s < v + len && *s != ';' && *s != ' ' && *s != '>' && *s != ',' && k + 1 < sz)
                out[k++] = *s++;
            out[k] = 0;
            return 0;
        }
    return -1;
}

static int parse_sdp(const char *body, const char *end, struct sockaddr_in *media)
{
    const char *c = NULL, *m = NULL;
    char addr[64];
    unsigned port;

    for (const char *p = body; p && p < end; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (strncmp(p, "c=IN IP4 ", 9) == 0)
            c = p + 9;
        else if (strncmp(p, "m=audio ", 8) == 0)
            m = p + 8;
    }
    if (!c || !m || sscanf(c, "%63[0-9.]", addr) != 1 || sscanf(m, "%u", &port) != 1 ||
        port == 0 || port > 65535)
        return -1;
    memset(media, 0, sizeof *media);
    media->sin_family = AF_INET;
    media->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, addr, &media->sin_addr) == 1 ? 0 : -1;
}

static void call_check_up(call_t *c, int64_t ms)
{
    if (c->leg[0].state == LEG_UP && c->leg[1].state == LEG_UP && !c->started) {
        c->started = 1;
        S.calls_up++;
        if (S.calls_up + S.calls_failed == opt.calls && !S.t_all_up) {
            S.t_all_up = ms;
            printf("ALL_UP t=%.3f up=%u failed=%u\n", ms / 1000.0, S.calls_up, S.calls_failed);
            fflush(stdout);
        }
    }
}

static void call_failed(call_t *c, const char *why)
{
    if (c->failed || c->done)
        return;
    c->failed = 1;
    S.calls_failed++;
    note("call %u (refci %lu) failed: %s", c->idx, c->refci, why);
    for (int l = 0; l < 2; l++)
        stream_stop(&c->leg[l].st);
    if (S.calls_up + S.calls_failed == opt.calls && !S.t_all_up) {
        S.t_all_up = now_ms();
        printf("ALL_UP t=%.3f up=%u failed=%u\n", S.t_all_up / 1000.0, S.calls_up, S.calls_failed);
        fflush(stdout);
    }
}

static void leg_done(call_t *c, int l)
{
    c->leg[l].state = LEG_DONE;
    if (c->leg[1 - l].state == LEG_DONE || c->leg[1 - l].state == LEG_FAILED ||
        c->leg[1 - l].state == LEG_IDLE) {
        if (!c->done) {
            c->done = 1;
            S.calls_done++;
        }
    }
}

static void answer_request(call_t *c, const char *msg, const char *end)
{
    size_t vl, fl, tl, cl, sl;
    const char *via = hdr(msg, end, "Via", "v", &vl), *from = hdr(msg, end, "From", "f", &fl),
               *to = hdr(msg, end, "To", "t", &tl), *cid = hdr(msg, end, "Call-ID", "i", &cl),
               *cseq = hdr(msg, end, "CSeq", NULL, &sl);
    int n;

    S.requests_in++;
    if (!via || !from || !to || !cid || !cseq) {
        S.parse_errors++;
        return;
    }
    if (strncmp(msg, "ACK ", 4) == 0)
        return;
    n = snprintf(sipbuf, sizeof sipbuf,
                 "SIP/2.0 200 OK\r\nVia: %.*s\r\nFrom: %.*s\r\nTo: %.*s\r\nCall-ID: %.*s\r\n"
                 "CSeq: %.*s\r\nContent-Length: 0\r\n\r\n",
                 (int)vl, via, (int)fl, from, (int)tl, to, (int)cl, cid, (int)sl, cseq);
    sip_send(c, sipbuf, (size_t)n);
    if (strncmp(msg, "BYE ", 4) == 0) {
        for (int l = 0; l < 2; l++)
            if (strlen(c->leg[l].call_id) == cl && memcmp(c->leg[l].call_id, cid, cl) == 0 &&
                c->leg[l].state != LEG_DONE) {
                stream_stop(&c->leg[l].st);
                c->bye_by_peer = 1;
                note("call %u: the recorder hung up the %s leg", c->idx, l ? "far" : "near");
                leg_done(c, l);
            }
    }
}

static void on_sip(call_t *c)
{
    char buf[SIP_BUF];
    ssize_t r;

    while ((r = recv(c->sip_fd, buf, sizeof buf - 1, MSG_DONTWAIT)) > 0) {
        const char *end = buf + r, *v;
        size_t len;
        unsigned code;
        char method[16];
        int l = -1;
        int64_t ms = now_ms();

        buf[r] = 0;
        if (strncmp(buf, "SIP/2.0 ", 8) != 0) {
            answer_request(c, buf, end);
            continue;
        }
        if (sscanf(buf + 8, "%u", &code) != 1) {
            S.parse_errors++;
            continue;
        }
        v = hdr(buf, end, "Call-ID", "i", &len);
        for (int k = 0; v && k < 2; k++)
            if (strlen(c->leg[k].call_id) == len && memcmp(c->leg[k].call_id, v, len) == 0)
                l = k;
        v = hdr(buf, end, "CSeq", NULL, &len);
        if (l < 0 || !v || sscanf(v, "%*u %15s", method) != 1) {
            S.parse_errors++;
            continue;
        }
        leg_t *g = &c->leg[l];
        if (strcmp(method, "INVITE") == 0) {
            if (code < 200) {
                if (g->state == LEG_INVITING)
                    g->next_retx = INT64_MAX; /* proceeding: no more retransmissions */
                continue;
            }
            if (code >= 300) {
                /* The ACK of a failure is hop-by-hop: same branch (§17.1.1.3). */
                v = hdr(buf, end, "To", "t", &len);
                if (v)
                    copy_param(v, len, "tag", g->to_tag, sizeof g->to_tag);
                snprintf(g->contact, sizeof g->contact, "sip:7000@127.0.0.1");
                send_ack(c, l, 0, g->branch);
                if (g->state == LEG_INVITING) {
                    char why[32];
                    snprintf(why, sizeof why, "%s leg answered %u", l ? "far" : "near", code);
                    S.resp_fail++;
                    g->state = LEG_FAILED;
                    call_failed(c, why);
                    /* Hang up the other leg if it was answered. */
                    leg_t *o = &c->leg[1 - l];
                    if (o->state == LEG_UP) {
                        stream_stop(&o->st);
                        o->state = LEG_BYEING;
                        new_branch(o);
                        o->retx = 0;
                        o->next_retx = ms + SIP_T1_MS;
                        o->deadline = ms + SIP_GIVEUP_MS;
                        send_bye(c, 1 - l);
                        S.byes++;
                    }
                }
                continue;
            }
            /* 2xx */
            if (g->acked) { /* our ACK was lost or late: ACK again */
                S.resp_200_retx++;
                g->retx_200++;
                send_ack(c, l, 1, g->branch);
                continue;
            }
            S.resp_200++;
            v = hdr(buf, end, "To", "t", &len);
            if (!v || copy_param(v, len, "tag", g->to_tag, sizeof g->to_tag) < 0) {
                S.parse_errors++;
                continue;
            }
            v = hdr(buf, end, "Contact", "m", &len);
            if (v) {
                const char *lt = memchr(v, '<', len);
                const char *gt = lt ? memchr(lt, '>', len - (size_t)(lt - v)) : NULL;
                if (lt && gt)
                    snprintf(g->contact, sizeof g->contact, "%.*s", (int)(gt - lt - 1), lt + 1);
                else
                    snprintf(g->contact, sizeof g->contact, "%.*s", (int)len, v);
            } else {
                snprintf(g->contact, sizeof g->contact, "sip:7000@127.0.0.1");
            }
            const char *body = strstr(buf, "\r\n\r\n");
            if (!body || parse_sdp(body + 4, end, &g->st.dst) < 0) {
                S.parse_errors++;
                note("call %u: 200 OK without a usable SDP offer", c->idx);
                continue;
            }
            g->acked = 1;
            new_branch(g); /* the ACK of a 2xx is a new transaction */
            send_ack(c, l, 1, g->branch);
            if (g->state != LEG_INVITING)
                continue; /* failed meanwhile (e.g. timed out) */
            g->state = LEG_UP;
            g->t_answer = ms;
            g->next_retx = INT64_MAX;
            stream_start((uint32_t)(c->idx * 2 + (unsigned)l), now_ns() - t_origin);
            call_check_up(c, ms);
        } else if (strcmp(method, "BYE") == 0) {
            if (code < 200 || g->state != LEG_BYEING)
                continue;
            if (code < 300)
                S.bye_ok++;
            leg_done(c, l);
        }
    }
}

/* ---- call control ----------------------------------------------------- */

static void call_start(call_t *c, int64_t ms)
{
    S.calls_started++;
    c->t_start = ms;
    c->t_end = ms + (int64_t)(opt.duration_s * 1000);
    if (opt.no_sip) {
        int64_t t = now_ns() - t_origin;
        for (int l = 0; l < 2; l++) {
            c->leg[l].state = LEG_UP;
            stream_start(c->idx * 2 + (unsigned)l, t);
        }
        c->started = 1;
        S.calls_up++;
        if (S.calls_up == opt.calls) {
            S.t_all_up = ms;
            printf("ALL_UP t=%.3f up=%u failed=0\n", ms / 1000.0, S.calls_up);
            fflush(stdout);
        }
        return;
    }
    for (int l = 0; l < 2; l++) {
        leg_t *g = &c->leg[l];
        g->state = LEG_INVITING;
        g->t_invite = ms;
        g->retx = 0;
        g->next_retx = ms + SIP_T1_MS;
        g->deadline = ms + SIP_GIVEUP_MS;
        new_branch(g);
        send_invite(c, l);
        S.invites++;
    }
}

static void call_end(call_t *c, int64_t ms)
{
    c->ending = 1;
    if (!S.t_first_end) {
        S.t_first_end = ms;
        printf("FIRST_END t=%.3f\n", ms / 1000.0);
        fflush(stdout);
    }
    for (int l = 0; l < 2; l++) {
        leg_t *g = &c->leg[l];
        stream_stop(&g->st);
        if (opt.no_sip) {
            leg_done(c, l);
            continue;
        }
        if (g->state == LEG_INVITING) {
            /* No answer yet: give up on it (a CANCEL is not worth it here). */
            g->state = LEG_FAILED;
            call_failed(c, "no answer before the end of the call");
            leg_done(c, l);
        } else if (g->state == LEG_UP) {
            g->state = LEG_BYEING;
            new_branch(g);
            g->retx = 0;
            g->next_retx = ms + SIP_T1_MS;
            g->deadline = ms + SIP_GIVEUP_MS;
            send_bye(c, l);
            S.byes++;
        }
    }
    if (c->leg[0].state != LEG_BYEING && c->leg[1].state != LEG_BYEING && !c->done) {
        c->done = 1;
        S.calls_done++;
    }
}

static void retransmit(int64_t ms)
{
    for (unsigned i = 0; i < opt.calls; i++) {
        call_t *c = &calls[i];
        if (c->done || c->leg[0].state == LEG_IDLE)
            continue;
        for (int l = 0; l < 2; l++) {
            leg_t *g = &c->leg[l];
            if (g->state != LEG_INVITING && g->state != LEG_BYEING)
                continue;
            if (ms >= g->deadline) {
                if (g->state == LEG_INVITING) {
                    g->state = LEG_FAILED;
                    call_failed(c, "INVITE timed out");
                    leg_done(c, l);
                } else {
                    S.bye_timeouts++;
                    note("call %u: no answer to the BYE of the %s leg", c->idx, l ? "far" : "near");
                    leg_done(c, l);
                }
                continue;
            }
            if (ms < g->next_retx)
                continue;
            g->retx++;
            g->next_retx = ms + ((int64_t)SIP_T1_MS << (g->retx < 3 ? g->retx : 3));
            if (g->state == LEG_INVITING) {
                S.invite_retx++;
                send_invite(c, l);
            } else {
                S.bye_retx++;
                send_bye(c, l);
            }
        }
    }
}

/* ---- set-up and the loop ---------------------------------------------- */

static void load_ports(void)
{
    FILE *f = fopen(opt.ports_file, "r");
    char line[256];
    unsigned i = 0;

    if (!f)
        die("%s: %s", opt.ports_file, strerror(errno));
    while (i < opt.calls && fgets(line, sizeof line, f)) {
        unsigned a, b;
        if (line[0] == '#' || sscanf(line, "%u %u", &a, &b) != 2)
            continue;
        for (int l = 0; l < 2; l++) {
            stream_t *s = &calls[i].leg[l].st;
            s->dst = opt.target;
            s->dst.sin_port = htons((uint16_t)(l ? b : a));
        }
        i++;
    }
    fclose(f);
    if (i < opt.calls)
        die("%s lists %u calls (two ports a line), %u needed", opt.ports_file, i, opt.calls);
}

static void setup(void)
{
    struct rlimit rl;
    unsigned nsrc, need;

    nsrc = opt.src_mode == SRC_PER_CALL ? opt.calls
           : opt.src_mode == SRC_PER_STREAM ? 2 * opt.calls
                                            : opt.src_shared;
    need = nsrc + (opt.no_sip ? 0 : opt.calls) + 32;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < need)
            die("%u descriptors needed, the limit is %lu (ulimit -n)", need,
                (unsigned long)rl.rlim_cur);
    }
    if (opt.base_port + nsrc + opt.calls > 65535)
        die("--local-base-port %u leaves too few ports for %u calls", opt.base_port, opt.calls);

    period_ns = PTIME_NS / (1.0 + opt.drift_ppm * 1e-6);
    calls = calloc(opt.calls, sizeof *calls);
    streams = calloc(2 * (size_t)opt.calls, sizeof *streams);
    nstreams = 2 * opt.calls;
    nevs = nstreams + (opt.jitter_ms ? nstreams * (opt.jitter_ms / 20 + 2) : 0);
    evs = calloc(nevs, sizeof *evs);
    if (!calls || !streams || !evs)
        die("out of memory");
    for (uint32_t e = nevs; e-- > nstreams;)
        ev_release(e);
    for (int k = 0; k < WHEEL; k++)
        wheel[k] = -1;

    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1: %s", strerror(errno));

    int shared[1024];
    if (opt.src_mode == SRC_SHARED) {
        if (opt.src_shared == 0 || opt.src_shared > 1024)
            die("--src N: 1 to 1024 sockets");
        for (unsigned k = 0; k < opt.src_shared; k++)
            shared[k] = udp_bound((uint16_t)(opt.base_port + opt.calls + k), 0);
    }
    for (unsigned i = 0; i < opt.calls; i++) {
        call_t *c = &calls[i];
        unsigned nh, fh;
        c->idx = i;
        c->refci = 30000000UL + 2UL * i + 1;
        call_tones(i, &nh, &fh);
        if (!opt.no_sip) {
            c->sip_port = (uint16_t)(opt.base_port + i);
            c->sip_fd = udp_bound(c->sip_port, 1);
            struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->sip_fd, &ev) < 0)
                die("epoll_ctl: %s", strerror(errno));
        } else {
            c->sip_fd = -1;
        }
        for (int l = 0; l < 2; l++) {
            leg_t *g = &c->leg[l];
            stream_t *s = &g->st;
            streams[2 * i + (unsigned)l] = s;
            snprintf(g->call_id, sizeof g->call_id, "%08" PRIx64 "-%u-%d@127.0.0.1",
                     rnd() & 0xffffffffu, i, l);
            snprintf(g->from_tag, sizeof g->from_tag, "%u~%" PRIx64, i, rnd() & 0xffffffffffu);
            s->hz = l ? fh : nh;
            s->tone = tone_table(s->hz);
            s->ssrc = (uint32_t)rnd();
            s->seq0 = (uint16_t)rnd();
            s->ts0 = (uint32_t)rnd();
            s->dst = opt.target;
            switch (opt.src_mode) {
            case SRC_PER_CALL:
                if (l == 0) {
                    c->src_port = (uint16_t)(opt.base_port + opt.calls + i);
                    s->fd = udp_bound(c->src_port, 0);
                } else {
                    s->fd = c->leg[0].st.fd;
                }
                break;
            case SRC_PER_STREAM:
                if (l == 0)
                    c->src_port = (uint16_t)(opt.base_port + opt.calls + 2 * i);
                s->fd = udp_bound((uint16_t)(c->src_port + l), 0);
                break;
            case SRC_SHARED:
                s->fd = shared[i % opt.src_shared];
                c->src_port = (uint16_t)(opt.base_port + opt.calls + i % opt.src_shared);
                break;
            }
        }
    }
    if (opt.no_sip)
        load_ports();

    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = { .it_interval = { 0, 1000000 }, .it_value = { 0, 1000000 } };
    if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0)
        die("timerfd: %s", strerror(errno));
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
    epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
}

static double lag_pct(double q)
{
    uint64_t want = (uint64_t)ceil(q * (double)S.lag_n), acc = 0;
    if (!S.lag_n)
        return 0;
    for (unsigned b = 0; b <= LAG_BINS; b++) {
        acc += S.lag_hist[b];
        if (acc >= want)
            return (b + 1) / 10.0;
    }
    return LAG_BINS / 10.0;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_load --calls N --duration S [--rate R] [--target IP:PORT]\n"
            "         [--loss P] [--reorder P] [--jitter MS] [--drift PPM]\n"
            "         [--no-sip --ports FILE] [--local-base-port B]\n"
            "         [--src per-call|per-stream|N] [--tones per-call|fixed]\n"
            "         [--calls-out FILE] [--seed X] [--grace S] [--sndbuf BYTES]\n"
            "         [--bye-delay MS] [--max-lag MS] [--quiet]\n");
}

static void parse_target(const char *s)
{
    char host[64];
    unsigned port;
    if (sscanf(s, "%63[^:]:%u", host, &port) != 2 || port == 0 || port > 65535)
        die("--target wants IP:PORT, got '%s'", s);
    memset(&opt.target, 0, sizeof opt.target);
    opt.target.sin_family = AF_INET;
    opt.target.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &opt.target.sin_addr) != 1)
        die("--target: '%s' is not an IPv4 address", host);
    if ((ntohl(opt.target.sin_addr.s_addr) >> 24) != 127)
        die("--target must be a loopback address (127.0.0.0/8)");
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "calls", 1, 0, 'n' },     { "duration", 1, 0, 'd' },  { "rate", 1, 0, 'r' },
        { "target", 1, 0, 't' },    { "loss", 1, 0, 'l' },      { "reorder", 1, 0, 'o' },
        { "jitter", 1, 0, 'j' },    { "drift", 1, 0, 'D' },     { "no-sip", 0, 0, 'N' },
        { "ports", 1, 0, 'p' },     { "local-base-port", 1, 0, 'b' },
        { "src", 1, 0, 's' },       { "tones", 1, 0, 'T' },     { "calls-out", 1, 0, 'c' },
        { "seed", 1, 0, 'S' },      { "grace", 1, 0, 'g' },     { "sndbuf", 1, 0, 'B' },
        { "bye-delay", 1, 0, 'Y' }, { "max-lag", 1, 0, 'L' },   { "quiet", 0, 0, 'q' },
        { "help", 0, 0, 'h' },      { 0, 0, 0, 0 },
    };
    int ch, seed_given = 0;

    parse_target("127.0.0.1:5060");
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'n': opt.calls = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'd': opt.duration_s = atof(optarg); break;
        case 'r': opt.rate = atof(optarg); break;
        case 't': parse_target(optarg); break;
        case 'l': opt.loss = atof(optarg); break;
        case 'o': opt.reorder = atof(optarg); break;
        case 'j': opt.jitter_ms = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'D': opt.drift_ppm = atof(optarg); break;
        case 'N': opt.no_sip = 1; break;
        case 'p': opt.ports_file = optarg; break;
        case 'b': opt.base_port = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's':
            if (strcmp(optarg, "per-call") == 0)
                opt.src_mode = SRC_PER_CALL;
            else if (strcmp(optarg, "per-stream") == 0)
                opt.src_mode = SRC_PER_STREAM;
            else {
                opt.src_mode = SRC_SHARED;
                opt.src_shared = (unsigned)strtoul(optarg, NULL, 10);
            }
            break;
        case 'T': opt.tones_fixed = strcmp(optarg, "fixed") == 0; break;
        case 'c': opt.calls_out = optarg; break;
        case 'S': opt.seed = strtoull(optarg, NULL, 0); seed_given = 1; break;
        case 'g': opt.grace_s = atof(optarg); break;
        case 'B': opt.sndbuf = atoi(optarg); break;
        case 'q': opt.quiet = 1; break;
        case 'L': opt.max_lag_ms = atof(optarg); break;
        case 'Y': opt.bye_delay_ms = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
    }
    if (optind != argc || opt.calls == 0 || opt.calls > 20000 || opt.duration_s <= 0 ||
        opt.rate <= 0 || opt.loss < 0 || opt.loss >= 100 || opt.reorder < 0 ||
        opt.reorder >= 100 || opt.jitter_ms > MAX_JITTER_MS || fabs(opt.drift_ppm) > 100000 ||
        (opt.no_sip && !opt.ports_file)) {
        usage(stderr);
        return 64;
    }
    if (!seed_given) /* fresh Call-IDs and tags on every run */
        opt.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    rng = opt.seed * 0x9E3779B97F4A7C15ULL + 1;
    t_origin = now_ns();
    setup();
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    note("%u calls of %.0f s, %.0f call set-ups/s, %s, %u RTP streams to %s", opt.calls,
         opt.duration_s, opt.rate, opt.no_sip ? "media only" : "SIP and media", nstreams,
         inet_ntoa(opt.target.sin_addr));

    /* Everything is measured from here. */
    t_origin = now_ns();
    wheel_ms = 0;
    int64_t hard_stop = (int64_t)((opt.calls / opt.rate + opt.duration_s + opt.grace_s) * 1000);
    int64_t last_scan = 0, last_report = 0;
    unsigned next_call = 0;
    struct epoll_event evbuf[256];
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);

    while (S.calls_done < opt.calls) {
        int n = epoll_wait(epfd, evbuf, 256, 100);
        int64_t tn = now_ns() - t_origin, ms = tn / 1000000;

        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int k = 0; k < n; k++) {
            if (evbuf[k].data.u32 == UINT32_MAX) {
                uint64_t x;
                if (read(tfd, &x, sizeof x) < 0 && errno != EAGAIN)
                    die("timerfd read: %s", strerror(errno));
            } else {
                on_sip(&calls[evbuf[k].data.u32]);
            }
        }
        /* Ramp: call i starts at i / rate seconds. */
        while (next_call < opt.calls && !stop_requested &&
               ms >= (int64_t)(next_call * 1000.0 / opt.rate))
            call_start(&calls[next_call++], ms);
        /* Media first: it is the part with deadlines. */
        run_wheel(now_ns() - t_origin);
        for (unsigned i = 0; i < next_call; i++) {
            call_t *c = &calls[i];
            if (c->done || c->ending)
                continue;
            if (!c->media_stopped && (ms >= c->t_end || stop_requested)) {
                /* The phone stops sending; CUCM's BYE follows a little later
                 * (--bye-delay), as the two travel different paths. */
                c->media_stopped = 1;
                for (int l = 0; l < 2; l++)
                    stream_stop(&c->leg[l].st);
            }
            if (c->media_stopped && (ms >= c->t_end + opt.bye_delay_ms || stop_requested))
                call_end(c, ms);
        }
        if (stop_requested && next_call < opt.calls) {
            for (; next_call < opt.calls; next_call++) {
                calls[next_call].done = 1;
                S.calls_done++;
            }
        }
        if (!opt.no_sip && ms - last_scan >= RETX_SCAN_MS) {
            retransmit(ms);
            last_scan = ms;
        }
        if (!opt.quiet && ms - last_report >= 5000) {
            last_report = ms;
            note("t=%3.0f s: %u started, %u up, %u failed, %u done; %" PRIu64
                 " packets sent; lag max %.1f ms",
                 ms / 1000.0, S.calls_started, S.calls_up, S.calls_failed, S.calls_done,
                 S.packets_sent, S.lag_max);
        }
        if (ms > hard_stop) {
            note("hard stop after %.0f s: %u calls not finished", ms / 1000.0,
                 opt.calls - S.calls_done);
            break;
        }
    }
    getrusage(RUSAGE_SELF, &ru1);

    /* ---- summary ---- */
    uint64_t gen = 0, sent = 0, lost_inj = 0, reord = 0, retx200 = 0;
    unsigned hung_up = 0;
    FILE *co = opt.calls_out ? fopen(opt.calls_out, "w") : NULL;
    if (opt.calls_out && !co)
        die("%s: %s", opt.calls_out, strerror(errno));
    if (co)
        fprintf(co, "# idx refci near_call_id far_call_id near_port far_port near_hz far_hz "
                    "near_sent far_sent state (port 0: no SDP offer received)\n");
    for (unsigned i = 0; i < opt.calls; i++) {
        call_t *c = &calls[i];
        for (int l = 0; l < 2; l++) {
            stream_t *s = &c->leg[l].st;
            gen += s->generated;
            sent += s->sent;
            lost_inj += s->lost_injected;
            reord += s->reordered;
            retx200 += c->leg[l].retx_200;
        }
        hung_up += (unsigned)c->bye_by_peer;
        if (co)
            fprintf(co, "%u %lu %s %s %u %u %u %u %" PRIu64 " %" PRIu64 " %s\n", i, c->refci,
                    c->leg[0].call_id, c->leg[1].call_id,
                    opt.no_sip || c->leg[0].acked ? ntohs(c->leg[0].st.dst.sin_port) : 0,
                    opt.no_sip || c->leg[1].acked ? ntohs(c->leg[1].st.dst.sin_port) : 0,
                    c->leg[0].st.hz, c->leg[1].st.hz,
                    c->leg[0].st.sent, c->leg[1].st.sent,
                    c->failed ? "failed" : c->bye_by_peer ? "hungup-by-recorder" : "ok");
    }
    if (co)
        fclose(co);
    double cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                 (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                 (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    double p99 = lag_pct(0.99), p999 = lag_pct(0.999);
    int valid = p99 <= opt.max_lag_ms;

    printf("calls: %u set up, %u failed (of %u)\n", S.calls_up, S.calls_failed, opt.calls);
    if (!opt.no_sip)
        printf("sip: %" PRIu64 " INVITEs (%" PRIu64 " retransmitted), %" PRIu64 " 200s (%" PRIu64
               " again after our ACK), %" PRIu64 " failures, %" PRIu64 " BYEs (%" PRIu64
               " retransmitted, %" PRIu64 " answered, %" PRIu64 " unanswered), %" PRIu64
               " requests from the recorder, %" PRIu64 " unparseable\n",
               S.invites, S.invite_retx, S.resp_200, S.resp_200_retx, S.resp_fail, S.byes,
               S.bye_retx, S.bye_ok, S.bye_timeouts, S.requests_in, S.parse_errors);
    printf("rtp: %" PRIu64 " packets due, %" PRIu64 " sent, %" PRIu64 " dropped on purpose, %"
           PRIu64 " reordered, %" PRIu64 " send errors, %" PRIu64 " sendmmsg calls\n",
           gen, sent, lost_inj, reord, S.send_errors, S.sendmmsg_calls);
    printf("sender lag behind the due time: mean %.3f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms"
           " (1 ms timer granularity)\n",
           S.lag_n ? S.lag_sum / (double)S.lag_n : 0, p99, p999, S.lag_max);
    if (!valid)
        printf("WARNING: the generator could not keep up (lag p99 %.1f ms > %.0f ms): the "
               "figures of this run are not valid\n", p99, opt.max_lag_ms);
    printf("generator CPU: %.2f s\n", cpu);
    printf("RESULT calls=%u up=%u failed=%u due=%" PRIu64 " sent=%" PRIu64 " injected_loss=%"
           PRIu64 " send_errors=%" PRIu64 " lag_mean_ms=%.3f lag_p99_ms=%.1f lag_max_ms=%.1f"
           " gen_cpu_s=%.2f valid=%d bye_by_recorder=%u retx_200=%" PRIu64 "\n",
           opt.calls, S.calls_up, S.calls_failed, gen, sent, lost_inj, S.send_errors,
           S.lag_n ? S.lag_sum / (double)S.lag_n : 0, p99, S.lag_max, cpu, valid,
           hung_up, retx200);
    return S.calls_failed ? 2 : 0;
}
