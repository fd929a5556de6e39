/*
 * bibrec: the command-line tool for administrators and auditors. It asks
 * the running daemon over its control socket, or, when no daemon runs,
 * opens the store itself; the commands and their output are the same
 * either way (ctl/commands.c serves both).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "ctl/client.h"
#include "ctl/commands.h"
#include "cucm/command.h"
#include "sql-free-store/store.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: bibrec [-c CONFIG] COMMAND [ARGS]\n"
               "commands:\n"
               "  list                  recordings: id, start, duration, near DN, far address, state,\n"
               "                        call, flags\n"
               "  calls                 calls: the parts CUCM split at hold/resume, with the gaps\n"
               "  show ID               everything known about one recording, with its timeline\n"
               "  export ID FILE.wav    decrypt a recording to a stereo WAV (left near, right far)\n"
               "  export-call CALL FILE.wav   all parts of a call in order, in one WAV\n"
               "  verify [ID]           check hash chains without decrypting; exit 1 on any failure\n"
               "  stats                 the running daemon's counters\n"
               "  cucm-profile [OPTIONS] [OUT/]\n"
               "                        CUCM guide and AXL requests made from this configuration;\n"
               "                        --send URL posts them (bibrec cucm-profile --help)\n");
}

static int write_file(const char *path, const br_buf_t *b)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t off = 0;
    if (fd < 0)
        return -errno;
    while (off < b->len) {
        ssize_t w = write(fd, b->data + off, b->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -EIO;
        }
        off += (size_t)w;
    }
    return close(fd) == 0 ? 0 : -errno;
}

/* Runs the command against the store directly (no daemon running). */
static int run_local(const br_config_t *cfg, int argc, char **argv, br_buf_t *out, br_buf_t *msgs)
{
    br_master_key_t mk;
    br_store_t *st = NULL;
    int have_key, rc;

    have_key = br_master_key_load(&mk, cfg->master_key, 0, NULL) == 0;
    if (access(cfg->store_path, F_OK) != 0) {
        br_buf_printf(msgs, "no store at %s (and no daemon at %s)\n", cfg->store_path,
                      cfg->control_socket);
        return 1;
    }
    rc = br_store_open(&st, cfg->store_path, have_key ? &mk : NULL);
    br_master_key_wipe(&mk);
    if (rc < 0) {
        br_buf_printf(msgs, "store %s: %s\n", cfg->store_path,
                      rc == -EBUSY ? "in use by a daemon whose control socket does not answer"
                                   : br_strerror(rc));
        return 1;
    }
    rc = br_cmd_run(st, argc, argv, out, msgs);
    br_store_close(st);
    return rc;
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    char err[512];
    br_config_t cfg;
    br_buf_t out, msgs;
    char *cmd_argv[8];
    int cmd_argc, opt, rc;

    while ((opt = getopt(argc, argv, "+c:h")) != -1) {
        switch (opt) {
        case 'c':
            file = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    br_config_defaults(&cfg);
    if (file && br_config_load(&cfg, file, err, sizeof err) < 0) {
        fprintf(stderr, "bibrec: configuration refused: %s\n", err);
        return 2;
    }
    /* cucm-profile needs only the configuration: no daemon, no store. */
    if (strcmp(argv[optind], "cucm-profile") == 0)
        return br_cucm_command(&cfg, argc - optind, argv + optind);
    /* export's FILE stays here: the daemon sends the bytes, we write them. */
    cmd_argc = argc - optind;
    if (br_cmd_output_is_file(argv[optind])) {
        if (cmd_argc != 3) {
            usage(stderr);
            return 2;
        }
        cmd_argc = 2;
    }
    if (cmd_argc > (int)BR_ARRAY_SIZE(cmd_argv)) {
        usage(stderr);
        return 2;
    }
    for (int i = 0; i < cmd_argc; i++)
        cmd_argv[i] = argv[optind + i];

    br_buf_init(&out);
    br_buf_init(&msgs);
    rc = br_ctl_call(cfg.control_socket, cmd_argc, cmd_argv, &out, &msgs);
    if (rc == -ENOENT || rc == -ECONNREFUSED)
        rc = run_local(&cfg, cmd_argc, cmd_argv, &out, &msgs);
    else if (rc < 0) {
        fprintf(stderr, "bibrec: daemon at %s: %s\n", cfg.control_socket, br_strerror(rc));
        rc = 1;
    }
    if (rc == 0 && br_cmd_output_is_file(cmd_argv[0])) {
        int wrc = write_file(argv[optind + 2], &out);
        if (wrc < 0) {
            fprintf(stderr, "bibrec: %s: %s\n", argv[optind + 2], br_strerror(wrc));
            rc = 1;
        }
    } else if (out.len) {
        fwrite(out.data, 1, out.len, stdout);
    }
    if (msgs.len)
        fwrite(msgs.data, 1, msgs.len, stderr);
    br_buf_free(&out);
    br_buf_free(&msgs);
    return rc;
}
