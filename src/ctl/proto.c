/*
 * Control protocol encoding; see proto.h.
 */
#include "proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int br_ctl_encode_request(br_buf_t *out, int argc, char **argv)
{
    if (argc < 1 || argc > BR_CTL_MAX_ARGS)
        return -E2BIG;
    br_buf_append(out, "BRC1", 4);
    br_buf_put_u32le(out, (uint32_t)argc);
    for (int i = 0; i < argc; i++) {
        if (strlen(argv[i]) > BR_CTL_MAX_ARG)
            return -E2BIG;
        br_buf_put_str(out, argv[i]);
    }
    return out->failed ? -ENOMEM : 0;
}

void br_ctl_free_args(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        free(argv[i]);
        argv[i] = NULL;
    }
}

int br_ctl_parse_request(const uint8_t *data, size_t len, int *argc, char **argv)
{
    br_reader_t r;
    uint32_t n;
    int got = 0;

    *argc = 0;
    if (len < 8)
        return len >= 4 && memcmp(data, "BRC1", 4) != 0 ? -EPROTO : 0;
    if (memcmp(data, "BRC1", 4) != 0)
        return -EPROTO;
    br_reader_init(&r, data + 4, len - 4);
    n = br_get_u32le(&r);
    if (n < 1 || n > BR_CTL_MAX_ARGS)
        return -EPROTO;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t alen;
        const uint8_t *p;

        if (r.left < 4)
            goto more;
        alen = br_get_u32le(&r);
        if (alen > BR_CTL_MAX_ARG)
            goto bad;
        if (r.left < alen)
            goto more;
        p = br_get_bytes(&r, alen);
        if (memchr(p, 0, alen))
            goto bad; /* arguments are C strings */
        argv[got] = malloc(alen + 1);
        if (!argv[got])
            goto bad;
        memcpy(argv[got], p, alen);
        argv[got][alen] = 0;
        got++;
    }
    *argc = got;
    return (int)(len - r.left);
more:
    br_ctl_free_args(got, argv);
    return 0;
bad:
    br_ctl_free_args(got, argv);
    return -EPROTO;
}

int br_ctl_encode_response(br_buf_t *out, int status, const br_buf_t *output, const br_buf_t *msgs)
{
    br_buf_put_u32le(out, (uint32_t)status);
    br_buf_put_u64le(out, output->len);
    br_buf_append(out, output->data, output->len);
    br_buf_put_u64le(out, msgs->len);
    br_buf_append(out, msgs->data, msgs->len);
    return out->failed ? -ENOMEM : 0;
}
