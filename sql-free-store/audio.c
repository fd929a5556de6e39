/*
 * Audio files: one append-only file per recording holding its segments,
 * so that the audio of many concurrent calls is written once, in order,
 * instead of being interleaved in LevelDB's key space and rewritten by
 * every compaction. FORMAT.md describes the bytes; store.c decides what
 * goes into a segment and when a file must be durable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "store_int.h"

static const char magic[BR_AUDIO_MAGIC_LEN] = { 'b', 'i', 'b', 'r', 'e', 'c', 'A', '1' };

/* A record longer than this is not something bibrec wrote (a segment is at
 * most 10 s of 16 kHz stereo G.722 input, 640 KB). */
#define RECORD_MAX (4u << 20)

void br_audio_setup(br_store_t *st)
{
    struct rlimit rl;
    long cap = 64;

    /* Audio files stay open while their call lasts, next to two RTP and two
     * RTCP sockets per call and whatever else the process holds; past this
     * many, a file is opened for each append instead. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        cap = rl.rlim_cur == RLIM_INFINITY ? 1L << 16 : (long)(rl.rlim_cur / 4);
    st->audio_fd_cap = cap < 16 ? 16 : cap;
    atomic_init(&st->audio_fds, 0);
}

/* <base>/audio/<last two characters of id>/<id>, or only the first
 * depth (1: the audio folder, 2: its subfolder) of it. */
static int path_in(const char *base, const char *id, int depth, char *out, size_t outsz)
{
    size_t n = strlen(id);
    int len;

    if (n < 2)
        return -EINVAL;
    len = depth == 1   ? snprintf(out, outsz, "%s/audio", base)
          : depth == 2 ? snprintf(out, outsz, "%s/audio/%s", base, id + n - 2)
                       : snprintf(out, outsz, "%s/audio/%s/%s", base, id + n - 2, id);
    return len < 0 || (size_t)len >= outsz ? -ENAMETOOLONG : 0;
}

int br_audio_path(const br_store_t *st, const char *id, char *out, size_t outsz)
{
    return path_in(st->path, id, 3, out, outsz);
}

/* Makes dir if missing; a new directory's entry is synced into its parent. */
static int make_dir(const char *dir)
{
    char parent[4096];
    char *slash;
    int fd;

    if (mkdir(dir, 0700) == 0) {
        br_strlcpy(parent, dir, sizeof parent);
        slash = strrchr(parent, '/');
        if (slash) {
            *slash = 0;
            fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd >= 0) {
                fsync(fd);
                close(fd);
            }
        }
        return 0;
    }
    return errno == EEXIST ? 0 : -errno;
}

/* Makes <base>/audio and <base>/audio/<xx> for id, and the file's path. */
static int file_path(const char *base, const char *id, char *out, size_t outsz)
{
    int rc = 0;

    for (int depth = 1; depth <= 2 && rc == 0; depth++) {
        rc = path_in(base, id, depth, out, outsz);
        if (rc == 0)
            rc = make_dir(out);
    }
    return rc < 0 ? rc : path_in(base, id, 3, out, outsz);
}

static int create_file(br_store_t *st, const char *id, br_audio_out_t *f)
{
    char path[4096];
    struct iovec iov[2];
    ssize_t n;
    int rc, fd;

    rc = file_path(st->path, id, path, sizeof path);
    if (rc < 0)
        return rc;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    iov[0].iov_base = (void *)magic;
    iov[0].iov_len = sizeof magic;
    iov[1].iov_base = (void *)id;
    iov[1].iov_len = BR_ID_LEN;
    n = writev(fd, iov, 2);
    if (n != (ssize_t)(sizeof magic + BR_ID_LEN)) {
        rc = n < 0 ? -errno : -ENOSPC;
        close(fd);
        unlink(path);
        return rc;
    }
    f->fd = fd;
    f->size = sizeof magic + BR_ID_LEN;
    f->created = 1;
    atomic_fetch_add(&st->audio_fds, 1);
    return 0;
}

static int reopen_file(br_store_t *st, const char *id, br_audio_out_t *f)
{
    char path[4096];
    int rc = br_audio_path(st, id, path, sizeof path);

    if (rc < 0)
        return rc;
    f->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (f->fd < 0)
        return -errno;
    atomic_fetch_add(&st->audio_fds, 1);
    return 0;
}

static void close_fd(br_store_t *st, br_audio_out_t *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
        atomic_fetch_sub(&st->audio_fds, 1);
    }
}

int br_audio_append(br_store_t *st, const char *id, br_audio_out_t *f, const uint8_t *v, size_t len)
{
    uint8_t hdr[4];
    struct iovec iov[2];
    ssize_t n;
    int rc = 0;

    if (len > RECORD_MAX)
        return -EMSGSIZE;
    if (!f->created)
        rc = create_file(st, id, f);
    else if (f->fd < 0)
        rc = reopen_file(st, id, f);
    if (rc < 0)
        return rc;
    for (int i = 0; i < 4; i++)
        hdr[i] = (uint8_t)(len >> (8 * i));
    iov[0].iov_base = hdr;
    iov[0].iov_len = sizeof hdr;
    iov[1].iov_base = (void *)v;
    iov[1].iov_len = len;
    n = writev(f->fd, iov, 2);
    if (n == (ssize_t)(sizeof hdr + len)) {
        f->size += sizeof hdr + len;
    } else {
        /* A partial record would hide every later one: cut it off. */
        rc = n < 0 ? -errno : -ENOSPC;
        if (n > 0 && ftruncate(f->fd, (off_t)f->size) < 0)
            f->torn = 1;
    }
    if (f->fd >= 0 && atomic_load(&st->audio_fds) > st->audio_fd_cap)
        close_fd(st, f);
    return rc;
}

int br_audio_finish(br_store_t *st, const char *id, br_audio_out_t *f)
{
    char path[4096];
    int rc = 0, dfd;

    if (!f->created)
        return 0;
    if (f->fd < 0) {
        rc = reopen_file(st, id, f);
        if (rc < 0)
            return rc;
    }
    if (f->torn && ftruncate(f->fd, (off_t)f->size) < 0)
        rc = -errno;
    if (rc == 0 && fdatasync(f->fd) < 0)
        rc = -errno;
    close_fd(st, f);
    /* The file's own entry: ext4 commits it with the data above, POSIX asks
     * for the directory to be synced as well. */
    if (rc == 0 && br_audio_path(st, id, path, sizeof path) == 0) {
        *strrchr(path, '/') = 0;
        dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            if (fsync(dfd) < 0)
                rc = -errno;
            close(dfd);
        }
    }
    return rc;
}

void br_audio_close(br_store_t *st, br_audio_out_t *f)
{
    close_fd(st, f);
}

int br_audio_remove(br_store_t *st, const char *id)
{
    char path[4096];
    int rc = br_audio_path(st, id, path, sizeof path);

    if (rc == 0 && unlink(path) < 0 && errno != ENOENT)
        rc = -errno;
    return rc;
}

/* ---- reading ------------------------------------------------------------ */

int br_audio_open(const br_store_t *st, const char *id, br_audio_in_t *r)
{
    char path[4096], head[BR_AUDIO_MAGIC_LEN + BR_ID_LEN];
    int rc;

    memset(r, 0, sizeof *r);
    rc = br_audio_path(st, id, path, sizeof path);
    if (rc < 0)
        return rc;
    r->fp = fopen(path, "rbe");
    if (!r->fp)
        return -errno;
    if (fread(head, 1, sizeof head, r->fp) != sizeof head || memcmp(head, magic, sizeof magic) != 0 ||
        memcmp(head + sizeof magic, id, BR_ID_LEN) != 0) {
        fclose(r->fp);
        r->fp = NULL;
        return -EBADMSG;
    }
    r->end = sizeof head;
    return 0;
}

int br_audio_next(br_audio_in_t *r, const uint8_t **v, size_t *len, char *reason, size_t reasonsz)
{
    uint8_t hdr[4];
    size_t n, want;

    n = fread(hdr, 1, sizeof hdr, r->fp);
    if (n == 0 && feof(r->fp))
        return 0;
    if (n != sizeof hdr) {
        r->torn = 1;
        snprintf(reason, reasonsz, "audio file ends inside a segment's length");
        return ferror(r->fp) ? -EIO : -EBADMSG;
    }
    want = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 24;
    if (want > RECORD_MAX) {
        snprintf(reason, reasonsz, "segment record malformed (length %zu)", want);
        return -EBADMSG;
    }
    if (want > r->cap) {
        uint8_t *p = realloc(r->buf, want);
        if (!p)
            return -ENOMEM;
        r->buf = p;
        r->cap = want;
    }
    if (fread(r->buf, 1, want, r->fp) != want) {
        r->torn = 1;
        snprintf(reason, reasonsz, "audio file ends inside a segment");
        return ferror(r->fp) ? -EIO : -EBADMSG;
    }
    r->end += sizeof hdr + want;
    *v = r->buf;
    *len = want;
    return 1;
}

void br_audio_in_close(br_audio_in_t *r)
{
    if (r->fp)
        fclose(r->fp);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

int br_audio_truncate(const br_store_t *st, const char *id, uint64_t size)
{
    char path[4096];
    int rc = br_audio_path(st, id, path, sizeof path), fd;

    if (rc < 0)
        return rc;
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (ftruncate(fd, (off_t)size) < 0 || fdatasync(fd) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* ---- backup ------------------------------------------------------------- */

int br_audio_copy(const br_store_t *st, const char *id, const char *dir)
{
    char from[4096], to[4096];
    uint8_t buf[65536];
    int in, out, rc;
    ssize_t n;

    rc = br_audio_path(st, id, from, sizeof from);
    if (rc < 0)
        return rc;
    in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT ? 0 : -errno; /* no audio (or kept in LevelDB by an earlier version) */
    rc = file_path(dir, id, to, sizeof to);
    out = rc < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (rc == 0 && out < 0)
        rc = -errno;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0)
            rc = -errno;
        else if (write(out, buf, (size_t)n) != n)
            rc = -ENOSPC;
    }
    if (rc == 0 && fdatasync(out) < 0)
        rc = -errno;
    if (out >= 0)
        close(out);
    close(in);
    return rc;
}
