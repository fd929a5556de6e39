/*
 * Command implementations shared by the CLI and the daemon's control socket.
 */
#include "commands.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/util.h"
#include "media/wav.h"

static int list_one(const br_rec_meta_t *m, int err, void *ctx)
{
    br_buf_t *out = ctx;
    char start[32];

    if (err < 0) {
        br_buf_printf(out, "%s\t-\t-\t-\t-\tunreadable (%s)\n", m->id, br_strerror(err));
        return 0;
    }
    br_format_time(m->start_us, start, sizeof start);
    br_buf_printf(out, "%s\t%s\t%.2f\t%s\t%s\t%s\n", m->id, start,
                  (double)br_meta_duration_ms(m) / 1000.0, m->near.addr[0] ? m->near.addr : "-",
                  m->far.addr[0] ? m->far.addr : "-", br_rec_state_name(m->state));
    return 0;
}

static int cmd_list(br_store_t *st, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    int rc;
    (void)argv;
    if (argc != 1) {
        br_buf_printf(err, "usage: list\n");
        return 2;
    }
    br_buf_printf(out, "ID\tSTART\tDURATION\tNEAR\tFAR\tSTATE\n");
    rc = br_store_each(st, list_one, out);
    if (rc < 0) {
        br_buf_printf(err, "list: %s\n", br_strerror(rc));
        return 1;
    }
    return 0;
}

struct export_ctx {
    br_buf_t *out;
    uint8_t pt_near, pt_far;
    uint64_t frames;
};

static int export_segment(const uint8_t *audio, size_t len, void *ctx)
{
    struct export_ctx *e = ctx;
    e->frames += len / 2;
    return br_wav_append_g711(e->out, audio, len / 2, e->pt_near, e->pt_far);
}

static int cmd_export(br_store_t *st, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    struct export_ctx e = { out, 0, 0, 0 };
    uint8_t header[BR_WAV_HEADER_LEN];
    br_rec_meta_t m;
    int rc;

    if (argc != 2) {
        br_buf_printf(err, "usage: export ID FILE.wav\n");
        return 2;
    }
    rc = br_store_read_meta(st, argv[1], &m);
    if (rc < 0) {
        br_buf_printf(err, "export: recording %s: %s\n", argv[1],
                      rc == -ENOENT ? "no such recording" : br_strerror(rc));
        return 1;
    }
    e.pt_near = m.near.payload_type;
    e.pt_far = m.far.payload_type;
    br_buf_append(out, header, sizeof header); /* filled in below */
    rc = br_store_read_audio(st, m.id, export_segment, &e);
    if (rc < 0 || out->failed) {
        br_buf_reset(out);
        br_buf_printf(err, "export: recording %s: %s\n", m.id,
                      out->failed ? "out of memory" : br_strerror(rc));
        return 1;
    }
    br_wav_header(out->data, m.sample_rate, e.frames);
    return 0;
}

struct verify_ctx {
    br_buf_t *out;
};

static void verify_report(const br_verify_result_t *r, void *ctx)
{
    struct verify_ctx *v = ctx;
    if (r->ok)
        br_buf_printf(v->out, "ok %s segments=%" PRIu32 "%s\n", r->id, r->segments,
                      r->sealed ? "" : " (not sealed yet)");
    else if (r->bad_segment >= 0)
        br_buf_printf(v->out, "FAIL %s segment %" PRId64 ": %s\n", r->id, r->bad_segment, r->reason);
    else
        br_buf_printf(v->out, "FAIL %s: %s\n", r->id, r->reason);
}

static int cmd_verify(br_store_t *st, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    struct verify_ctx v = { out };
    int rc;

    if (argc > 2) {
        br_buf_printf(err, "usage: verify [ID]\n");
        return 2;
    }
    rc = br_store_verify(st, argc == 2 ? argv[1] : NULL, verify_report, &v);
    if (rc < 0) {
        br_buf_printf(err, "verify: %s\n",
                      rc == -ENOENT ? "no such recording" : br_strerror(rc));
        return 1;
    }
    if (rc > 0) {
        br_buf_printf(err, "verify: %d recording(s) failed\n", rc);
        return 1;
    }
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(br_store_t *, int, char **, br_buf_t *, br_buf_t *);
    int file_output;
} commands[] = {
    { "list", cmd_list, 0 },
    { "export", cmd_export, 1 },
    { "verify", cmd_verify, 0 },
};

int br_cmd_output_is_file(const char *cmd)
{
    for (size_t i = 0; i < BR_ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i].name, cmd) == 0)
            return commands[i].file_output;
    return 0;
}

int br_cmd_run(br_store_t *st, int argc, char **argv, br_buf_t *out, br_buf_t *err)
{
    if (argc < 1) {
        br_buf_printf(err, "no command\n");
        return 2;
    }
    for (size_t i = 0; i < BR_ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i].name, argv[0]) == 0)
            return commands[i].fn(st, argc, argv, out, err);
    br_buf_printf(err, "unknown command '%s'\n", argv[0]);
    return 2;
}
