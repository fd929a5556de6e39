/*
 * Blocking control-socket client for the CLI (plain sockets: the CLI has no
 * event loop and does one exchange).
 */
#include "client.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, br_buf_t *b)
{
    for (;;) {
        ssize_t r;
        if (br_buf_reserve(b, 65536) < 0)
            return -ENOMEM;
        r = read(fd, b->data + b->len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return 0;
        b->len += (size_t)r;
    }
}

int br_ctl_call(const char *path, int argc, char **argv, br_buf_t *out, br_buf_t *msgs)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    br_buf_t req, resp;
    br_reader_t r;
    uint32_t status;
    uint64_t n;
    const uint8_t *p;
    int fd, rc;

    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    br_buf_init(&req);
    br_buf_init(&resp);
    rc = br_ctl_encode_request(&req, argc, argv);
    if (rc == 0)
        rc = write_all(fd, req.data, req.len);
    if (rc == 0) {
        shutdown(fd, SHUT_WR);
        rc = read_all(fd, &resp);
    }
    close(fd);
    if (rc < 0)
        goto out;
    br_reader_init(&r, resp.data, resp.len);
    status = br_get_u32le(&r);
    n = br_get_u64le(&r);
    p = br_get_bytes(&r, (size_t)n);
    if (p)
        br_buf_append(out, p, (size_t)n);
    n = br_get_u64le(&r);
    p = br_get_bytes(&r, (size_t)n);
    if (p)
        br_buf_append(msgs, p, (size_t)n);
    rc = r.failed || status > 255 ? -EPROTO : (int)status;
out:
    br_buf_free(&req);
    br_buf_free(&resp);
    return rc;
}
