/*
 * The read set on real sockets and a real libuv loop: what the timeline may
 * be flushed up to while packets wait in a socket, and when a packet is
 * dated. A packet that arrives while a read pass is held up (the thread
 * descheduled, or busy with an earlier packet) must be dated no earlier than
 * it arrived; dated to the pass's start, it looks early, the drift follower
 * moves its leg's anchor back by the hold-up, and the leg's next packets land
 * behind what was already written out (they are cut as late).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "media/g711.h"
#include "media/stream.h"
#include "tap.h"

#define HOLD_US 100000 /* how long the first event's handler holds the pass up */
#define PT_EVENT 101

static int tx_fd = -1;
static struct sockaddr_in to;
static int events;
static int64_t event_at[2];      /* timeline position of each event's start */
static uint32_t event_ms[2];     /* its duration */
static int64_t second_sent_us;   /* when the second event was sent */

static int64_t mono_us(void)
{
    return (int64_t)(uv_hrtime() / 1000);
}

static int seg_cb(const uint8_t *f, size_t n, void *ctx)
{
    (void)f, (void)n, (void)ctx;
    return 0;
}

/* An RFC 4733 packet for digit 1 at timestamp ts lasting dur ticks. */
static void send_event(uint16_t seq, uint32_t ts, int end, uint16_t dur)
{
    uint8_t p[16] = { 0x80, PT_EVENT };

    p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8);
    p[7] = (uint8_t)ts;
    p[8] = 9, p[9] = 9, p[10] = 9, p[11] = 9;
    p[12] = 1;
    p[13] = end ? 0x8a : 0x0a;
    p[14] = (uint8_t)(dur >> 8), p[15] = (uint8_t)dur;
    if (sendto(tx_fd, p, sizeof p, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)sizeof p)
        printf("# sendto: %s\n", strerror(errno));
}

static void on_event(br_stream_t *s, char digit, int64_t at, uint32_t ms, void *ctx)
{
    struct timespec hold = { 0, HOLD_US * 1000L };

    (void)s, (void)digit, (void)ctx;
    if (events < 2) {
        event_at[events] = at;
        event_ms[events] = ms;
    }
    if (++events == 1) {
        /* The next event comes while this pass is held up. */
        send_event(200, 16000, 1, 160);
        second_sent_us = mono_us();
        nanosleep(&hold, NULL);
    }
}

static int open_on_free_port(br_stream_t *s, uv_loop_t *loop, br_stream_rx_t *rx)
{
    /* Another test may run at the same time: try ports until one binds. */
    for (uint16_t port = (uint16_t)(40000 + (getpid() % 2000) * 2); port < 64000; port += 2)
        if (br_stream_open(s, loop, rx, "127.0.0.1", port, BR_CH_FAR) == 0)
            return port;
        else
            br_stream_close(s, NULL, NULL), br_stream_free(s), uv_run(loop, UV_RUN_NOWAIT);
    return -1;
}

static void stop_cb(uv_timer_t *t)
{
    uv_stop(t->loop);
}

int main(void)
{
    static br_stream_t s;
    static br_stream_rx_t rx;
    static const uint8_t offer[] = { 0 };
    uv_loop_t loop;
    uv_timer_t stop;
    br_mix_t mix;
    int64_t t0, sent_us, before, arrival_us;
    int port;

    uv_loop_init(&loop);
    ok(br_stream_rx_init(&rx, 20) == 0, "read set made");
    br_stream_rx_start(&rx, &loop);
    br_mix_init(&mix, 800, BR_ULAW_SILENCE, BR_ULAW_SILENCE, seg_cb, NULL);
    port = open_on_free_port(&s, &loop, &rx);
    ok(port > 0, "stream on a real socket (port %d)", port);
    br_stream_offer(&s, offer, 1, PT_EVENT);
    t0 = mono_us();
    br_stream_attach(&s, &mix, t0, 8000);
    s.dtmf_cb = on_event;
    tx_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    /* Sixteen packets before the first pass: fifteen of an event still
     * going on, then its end; the batch is full, so the pass reads the
     * socket again after handing them over. */
    for (int i = 0; i < BR_STREAM_BATCH - 1; i++)
        send_event((uint16_t)(100 + i), 8000, 0, (uint16_t)(160 * (i + 1)));
    send_event(115, 8000, 1, 160 * 16);
    sent_us = mono_us();

    /* Nothing read yet: the timeline must not be flushed past what waits. */
    {
        struct timespec wait = { 0, 5 * 1000000L };
        nanosleep(&wait, NULL);
    }
    before = br_stream_rx_read_upto(&rx, mono_us());
    ok(before <= sent_us, "while packets wait unread, the flush limit stays before them (%lld µs)",
       (long long)(before - sent_us));
    is_int(s.packets + s.dtmf_packets, 0, "nothing delivered before the first pass");

    uv_timer_init(&loop, &stop);
    uv_timer_start(&stop, stop_cb, 20 + HOLD_US / 1000 + 200, 0);
    uv_run(&loop, UV_RUN_DEFAULT);

    is_int(s.dtmf_packets, BR_STREAM_BATCH + 1, "every packet read, the late one too");
    is_int(events, 2, "both events reported");
    ok(br_stream_rx_read_upto(&rx, mono_us()) > sent_us, "after a pass, the flush limit moves past what it read");
    /* The position of the event's start plus its duration is where the
     * stream dated its arrival. */
    arrival_us = t0 + (event_at[1] + (int64_t)event_ms[1] * 8) * 1000000 / 8000;
    ok(arrival_us >= second_sent_us - 125,
       "a packet that came while the pass was held up is dated when it was read, not when the "
       "pass began (%lld µs after it was sent)",
       (long long)(arrival_us - second_sent_us));
    ok((event_at[1] + event_ms[1] * 8) - (event_at[0] + event_ms[0] * 8) >= HOLD_US * 8 / 1000,
       "so the two arrivals lie at least the hold-up apart on the timeline (%lld samples)",
       (long long)((event_at[1] + event_ms[1] * 8) - (event_at[0] + event_ms[0] * 8)));

    br_stream_close(&s, NULL, NULL);
    is_int(br_stream_rx_read_upto(&rx, 12345), 12345, "with no stream open, nothing waits: the limit is now");
    br_stream_rx_close(&rx, NULL);
    uv_close((uv_handle_t *)&stop, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    br_stream_free(&s);
    br_mix_free(&mix);
    close(tx_fd);
    uv_loop_close(&loop);
    return tap_done();
}
