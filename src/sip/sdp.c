/*
 * SDP offer writing and answer reading. Writing is plain snprintf (we only
 * ever write one fixed shape); reading goes through sofia-sip's SDP parser,
 * which has years of interop behind it, and copies what we need out of its
 * memory home before returning.
 */
#include "sdp.h"

#include <errno.h>
#include <inttypes.h>
#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

static const char *codec_name(uint8_t pt)
{
    switch (pt) {
    case 0:
        return "PCMU/8000";
    case 8:
        return "PCMA/8000";
    case 9:
        return "G722/8000";
    case 18:
        return "G729/8000";
    default:
        return NULL;
    }
}

int br_sdp_write(char *out, size_t outsz, const char *addr, uint16_t port, const uint8_t *pts,
                 int npts, uint8_t dtmf_pt, uint64_t sess_id, uint64_t version)
{
    return br_sdp_write_dir(out, outsz, addr, port, pts, npts, dtmf_pt, sess_id, version,
                            "recvonly");
}

int br_sdp_write_dir(char *out, size_t outsz, const char *addr, uint16_t port, const uint8_t *pts,
                     int npts, uint8_t dtmf_pt, uint64_t sess_id, uint64_t version,
                     const char *direction)
{
    const char *ip = strchr(addr, ':') ? "IP6" : "IP4";
    size_t n;
    int w;

    w = snprintf(out, outsz,
                 "v=0\r\n"
                 "o=bibrec %" PRIu64 " %" PRIu64 " IN %s %s\r\n"
                 "s=bibrec\r\n"
                 "c=IN %s %s\r\n"
                 "t=0 0\r\n"
                 "m=audio %u RTP/AVP",
                 sess_id, version, ip, addr, ip, addr, port);
    if (w < 0 || (size_t)w >= outsz)
        return -ENOSPC;
    n = (size_t)w;
    for (int i = 0; i < npts; i++) {
        w = snprintf(out + n, outsz - n, " %u", pts[i]);
        if (w < 0 || (size_t)w >= outsz - n)
            return -ENOSPC;
        n += (size_t)w;
    }
    if (dtmf_pt != 0xff) {
        w = snprintf(out + n, outsz - n, " %u", dtmf_pt);
        if (w < 0 || (size_t)w >= outsz - n)
            return -ENOSPC;
        n += (size_t)w;
    }
    w = snprintf(out + n, outsz - n, "\r\n");
    if (w < 0 || (size_t)w >= outsz - n)
        return -ENOSPC;
    n += (size_t)w;
    for (int i = 0; i < npts; i++) {
        const char *name = codec_name(pts[i]);
        if (!name)
            continue;
        w = snprintf(out + n, outsz - n, "a=rtpmap:%u %s\r\n", pts[i], name);
        if (w < 0 || (size_t)w >= outsz - n)
            return -ENOSPC;
        n += (size_t)w;
    }
    if (dtmf_pt != 0xff) {
        w = snprintf(out + n, outsz - n, "a=rtpmap:%u telephone-event/8000\r\na=fmtp:%u 0-15\r\n",
                     dtmf_pt, dtmf_pt);
        if (w < 0 || (size_t)w >= outsz - n)
            return -ENOSPC;
        n += (size_t)w;
    }
    w = snprintf(out + n, outsz - n, "a=ptime:20\r\na=%s\r\n", direction);
    if (w < 0 || (size_t)w >= outsz - n)
        return -ENOSPC;
    return 0;
}

static const char *mode_name(sdp_mode_t m)
{
    switch (m) {
    case sdp_sendonly:
        return "sendonly";
    case sdp_recvonly:
        return "recvonly";
    case sdp_inactive:
        return "inactive";
    default:
        return "sendrecv";
    }
}

/* "4000" or "4000/2": digits, optionally a slash and more digits. */
static int port_spec(const char *t, size_t n)
{
    size_t i = 0, slashes = 0;
    for (; i < n; i++) {
        if (t[i] == '/' && i > 0 && i + 1 < n && !slashes++)
            continue;
        if (!isdigit((unsigned char)t[i]))
            return 0;
    }
    return n > 0;
}

/* "RTP/AVP", "RTP/SAVPF", "UDP/TLS/RTP/SAVP": alphanumeric words joined by
 * single slashes, one of them RTP. */
static int rtp_profile(const char *t, size_t n)
{
    int rtp = 0;
    size_t i = 0;
    while (i < n) {
        size_t w = i;
        while (w < n && isalnum((unsigned char)t[w]))
            w++;
        if (w == i)
            return 0;
        rtp |= w - i == 3 && memcmp(t + i, "RTP", 3) == 0;
        if (w < n && (t[w] != '/' || w + 1 == n))
            return 0;
        i = w + 1;
    }
    return rtp;
}

/* Whether t[0..n) is letters, digits and characters of extra; NUL never is
 * (strchr would find it: every string holds its terminator). */
static int all_of(const char *t, size_t n, const char *extra)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)t[i]) && (!t[i] || !strchr(extra, t[i])))
            return 0;
    return 1;
}

/* Debian 12's sofia-sip (1.12.11) loops for ever, allocating, on some
 * malformed m= lines ("m=audio 1 X :", "m=audio 0C RTP//AVP 0"); newer
 * sofia-sip checks. We accept only m= lines of the form media, port[/n],
 * an RTP profile and plain token formats, which is all a recording leg
 * ever carries, and refuse the body before sofia sees it. */
static int media_lines_sane(const char *body, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t end = i, tok = 0;
        const char *p;
        while (end < len && body[end] != '\n' && body[end] != '\r')
            end++;
        p = body + i;
        while (p < body + end && (*p == ' ' || *p == '\t'))
            p++;
        if (body + end - p >= 2 && p[0] == 'm' && p[1] == '=') {
            p += 2;
            while (p < body + end) {
                const char *t = p;
                size_t n;
                while (p < body + end && *p != ' ' && *p != '\t')
                    p++;
                n = (size_t)(p - t);
                if (n) {
                    if ((tok == 0 && !all_of(t, n, "")) ||
                        (tok == 1 && !port_spec(t, n)) ||
                        (tok == 2 && !rtp_profile(t, n)) || (tok >= 3 && !all_of(t, n, "._-")))
                        return 0;
                    tok++;
                }
                while (p < body + end && (*p == ' ' || *p == '\t'))
                    p++;
            }
            if (tok < 4)
                return 0;
        }
        i = end + 1;
    }
    return 1;
}

int br_sdp_parse(const char *body, size_t len, br_sdp_media_t *out)
{
    su_home_t home[1] = { SU_HOME_INIT(home) };
    sdp_parser_t *p;
    sdp_session_t *s;
    sdp_media_t *m;
    sdp_connection_t *c;
    int rc = -EPROTO;

    memset(out, 0, sizeof *out);
    out->dtmf_pt = 0xff;
    /* A NUL has no place in SDP text, and sofia's parser stops seeing
     * lines where our checks still see them ("m=x 1 RTP/X \t\0008" hangs it). */
    if (!body || len == 0 || len > 65536 || memchr(body, 0, len) || !media_lines_sane(body, len))
        return -EPROTO;
    p = sdp_parse(home, body, (issize_t)len, sdp_f_config);
    s = sdp_session(p);
    if (!s)
        goto out;
    for (m = s->sdp_media; m; m = m->m_next)
        if (m->m_type == sdp_media_audio)
            break;
    if (!m)
        goto out;
    c = m->m_connections ? m->m_connections : s->sdp_connection;
    if (c && c->c_address && br_strlcpy(out->addr, c->c_address, sizeof out->addr) < 0)
        goto out;
    out->port = (uint16_t)m->m_port;
    br_strlcpy(out->direction, mode_name(m->m_mode), sizeof out->direction);
    for (sdp_rtpmap_t *r = m->m_rtpmaps; r; r = r->rm_next) {
        if (r->rm_encoding && strcasecmp(r->rm_encoding, "telephone-event") == 0) {
            if (out->dtmf_pt == 0xff)
                out->dtmf_pt = (uint8_t)r->rm_pt;
            continue;
        }
        if (out->npts < BR_SDP_MAX_PTS)
            out->pts[out->npts++] = (uint8_t)r->rm_pt;
    }
    rc = 0;
out:
    sdp_parser_free(p);
    su_home_deinit(home);
    return rc;
}
