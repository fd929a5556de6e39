/*
 * fake_axl: a stand-in for CUCM's AXL web service, for t_cucm_profile.sh.
 *
 *   fake_axl DIR [--fault METHOD] [--auth USER:PASSWORD] [--idle SECONDS]
 *
 * Listens on 127.0.0.1 on a port the kernel picks and writes that port to
 * DIR/port once it accepts connections. Each HTTP request is recorded as
 * DIR/NN.request (headers and body as received) and DIR/NN.body (the body
 * alone), NN counting from 01, and answered like AXL: 200 with
 * <METHODResponse><return>{UUID}</return>, the method taken from the
 * SOAPAction header, or, for --fault METHOD, 500 with the SOAP fault AXL
 * sends for a missing route partition. With --auth, a request without that
 * HTTP Basic user and password gets 401, as CUCM answers. The first answer
 * sets a session cookie, as CUCM does, so the test can see it come back.
 *
 * It also stands in for a phone's web server: POST /CGI/Execute (a push,
 * t_phone_pin.sh) is answered 200 with a CiscoIPPhoneResponse, as phones do.
 *
 * One connection at a time, "Connection: close" on every answer. It exits
 * on SIGTERM or after --idle seconds (default 30) without a connection, so
 * it can never hang a test run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_HEAD 65536
#define MAX_BODY (4 * 1024 * 1024)

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void base64(const unsigned char *in, size_t len, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < len ? in[i + 2] : 0);
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        out[o++] = i + 1 < len ? t[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? t[v & 63] : '=';
    }
    out[o] = 0;
}

/* The value of header name in head (a NUL-terminated header block), copied
 * into out; "" when absent. */
static void header(const char *head, const char *name, char *out, size_t outsz)
{
    size_t n = strlen(name);
    out[0] = 0;
    for (const char *l = head; l && *l; l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : NULL) {
        if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
            const char *v = l + n + 1, *e = strstr(v, "\r\n");
            size_t len;
            while (*v == ' ' || *v == '\t')
                v++;
            len = e ? (size_t)(e - v) : strlen(v);
            if (len >= outsz)
                len = outsz - 1;
            memcpy(out, v, len);
            out[len] = 0;
            return;
        }
    }
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int save(const char *dir, unsigned n, const char *ext, const char *a, size_t alen,
                const char *b, size_t blen)
{
    char path[4096];
    FILE *f;
    int ok;
    snprintf(path, sizeof path, "%s/%02u.%s", dir, n, ext);
    if (!(f = fopen(path, "wb")))
        return -1;
    ok = fwrite(a, 1, alen, f) == alen && (!blen || fwrite(b, 1, blen, f) == blen);
    return fclose(f) == 0 && ok ? 0 : -1;
}

static void answer(int fd, int status, const char *reason, const char *extra_headers,
                   const char *ctype, const char *body)
{
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     status, reason, ctype, strlen(body), extra_headers);
    if (write_all(fd, head, (size_t)n) == 0)
        write_all(fd, body, strlen(body));
}

static void serve(int fd, const char *dir, unsigned n, const char *fault, const char *auth_b64)
{
    static int cookie_sent;
    char *buf = malloc(MAX_HEAD + 1), *body = NULL, *end;
    char value[512], expect[600], method[128], resp[2048];
    size_t have = 0, head_len, body_len, got;

    if (!buf)
        return;
    /* Headers. */
    while (!(buf[have] = 0, end = strstr(buf, "\r\n\r\n"))) {
        ssize_t r = have < MAX_HEAD ? read(fd, buf + have, MAX_HEAD - have) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        have += (size_t)r;
    }
    head_len = (size_t)(end - buf) + 4;
    header(buf, "Content-Length", value, sizeof value);
    body_len = strtoul(value, NULL, 10);
    if (body_len > MAX_BODY)
        goto out;
    body = malloc(body_len + 1);
    if (!body)
        goto out;
    got = have - head_len < body_len ? have - head_len : body_len;
    memcpy(body, buf + head_len, got);
    while (got < body_len) {
        ssize_t r = read(fd, body + got, body_len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        got += (size_t)r;
    }
    body[body_len] = 0;
    save(dir, n, "request", buf, head_len, body, body_len);
    save(dir, n, "body", body, body_len, NULL, 0);

    if (auth_b64) {
        header(buf, "Authorization", value, sizeof value);
        snprintf(expect, sizeof expect, "Basic %s", auth_b64);
        if (strcmp(value, expect) != 0) {
            answer(fd, 401, "Unauthorized", "WWW-Authenticate: Basic realm=\"Cisco AXL\"\r\n",
                   "text/html", "<html><body><h1>HTTP Status 401 - Unauthorized</h1></body></html>");
            goto out;
        }
    }
    /* A phone's push URL answers as a phone does when it took the object. */
    if (strncmp(buf, "POST /CGI/Execute ", 18) == 0) {
        answer(fd, 200, "OK", "", "text/xml",
               "<CiscoIPPhoneResponse><ResponseItem Status=\"0\" Data=\"Success\" URL=\"\"/>"
               "</CiscoIPPhoneResponse>");
        goto out;
    }
    /* SOAPAction: "CUCM:DB ver=14.0 addSipTrunk" -> addSipTrunk */
    header(buf, "SOAPAction", value, sizeof value);
    {
        char *sp = strrchr(value, ' '), *q;
        snprintf(method, sizeof method, "%.127s", sp ? sp + 1 : value);
        if ((q = strchr(method, '"')) != NULL)
            *q = 0;
    }
    if (!method[0]) {
        answer(fd, 500, "Internal Server Error", "", "text/xml", "<error>no SOAPAction</error>");
        goto out;
    }
    if (fault && strcmp(method, fault) == 0) {
        snprintf(resp, sizeof resp,
                 "<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope "
                 "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>"
                 "<soapenv:Fault><faultcode>soapenv:Client</faultcode>"
                 "<faultstring>Item not valid: The specified Route Partition was not found</faultstring>"
                 "<detail><axlError><axlcode>5007</axlcode>"
                 "<axlmessage>Item not valid: The specified Route Partition was not found</axlmessage>"
                 "<request>%s</request></axlError></detail></soapenv:Fault>"
                 "</soapenv:Body></soapenv:Envelope>",
                 method);
        answer(fd, 500, "Internal Server Error", "", "text/xml;charset=UTF-8", resp);
        goto out;
    }
    snprintf(resp, sizeof resp,
             "<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope "
             "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>"
             "<ns:%sResponse xmlns:ns=\"http://www.cisco.com/AXL/API/14.0\">"
             "<return>{1B2C3D4E-0000-4000-8000-%012u}</return></ns:%sResponse>"
             "</soapenv:Body></soapenv:Envelope>",
             method, n, method);
    answer(fd, 200, "OK",
           cookie_sent ? "" : "Set-Cookie: JSESSIONIDSSO=FAKEAXLSESSION; Path=/; Secure; HttpOnly\r\n",
           "text/xml;charset=UTF-8", resp);
    cookie_sent = 1;
out:
    free(body);
    free(buf);
}

int main(int argc, char **argv)
{
    const char *dir, *fault = NULL, *auth = NULL;
    char auth_b64[512], path[4096], tmp[4200];
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    int idle_s = 30, lfd, one = 1;
    unsigned n = 0;
    FILE *f;

    if (argc < 2) {
        fprintf(stderr, "usage: fake_axl DIR [--fault METHOD] [--auth USER:PASSWORD] [--idle S]\n");
        return 2;
    }
    dir = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--fault") == 0)
            fault = argv[i + 1];
        else if (strcmp(argv[i], "--auth") == 0)
            auth = argv[i + 1];
        else if (strcmp(argv[i], "--idle") == 0)
            idle_s = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "fake_axl: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (auth && strlen(auth) < 300)
        base64((const unsigned char *)auth, strlen(auth), auth_b64);
    signal(SIGTERM, on_term);
    signal(SIGPIPE, SIG_IGN);

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 16) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) < 0) {
        perror("fake_axl: listen");
        return 1;
    }
    /* Written under another name, then renamed: the test never reads half a port. */
    snprintf(path, sizeof path, "%s/port", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!(f = fopen(tmp, "w")) || fprintf(f, "%u\n", (unsigned)ntohs(a.sin_port)) < 0 ||
        fclose(f) != 0 || rename(tmp, path) != 0) {
        perror("fake_axl: port file");
        return 1;
    }
    while (!stop) {
        struct pollfd p = { .fd = lfd, .events = POLLIN };
        int r = poll(&p, 1, idle_s * 1000), fd;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* idle: the test is over or has gone */
        fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        serve(fd, dir, ++n, fault, auth ? auth_b64 : NULL);
        close(fd);
    }
    close(lfd);
    return 0;
}
