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
#include <pwd.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "config/settings.h"
#include "crypto/crypto.h"
#include "ctl/client.h"
#include "ctl/commands.h"
#include "ctl/proto.h"
#include "cucm/command.h"
#include "policy/policy.h"
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
               "  stats                 the running daemon's counters\n"
               "  erase ID --reason TEXT   crypto-shred a recording (tombstone in the ledger)\n"
               "  keep ID               keep an on-demand recording that waits for confirmation\n"
               "  phone-pin             the <phone-user pin> value for a PIN read from stdin\n"
               "privacy:\n"
               "  search --number N [--number M ...] [--device D]   recordings involving them (CSV)\n"
               "  hold ID --reason TEXT | unhold ID   legal hold: blocks erasure and retention\n"
               "  subject export --number N [--number M ...] OUT.tar   Art. 15/20: audio, CSVs, README\n"
               "  subject erase --number N [...] --reason TEXT   Art. 17, except holds and legal\n"
               "                        obligations still inside their retention\n"
               "  policy [--format md|html]   the recording policy document (GDPR Art. 5(2))\n"
               "  cucm-profile [OPTIONS] [OUT/]\n"
               "                        CUCM guide and AXL requests made from this configuration;\n"
               "                        --send URL posts them (bibrec cucm-profile --help)\n"
               "users (console and API; roles admin, supervisor, auditor, privacy-officer, user):\n"
               "  user add NAME --role ROLE [--group G ...] [--dn N ...] [--password-stdin]\n"
               "                        without --password-stdin a password is generated and shown once\n"
               "  user passwd NAME [--password-stdin] | user role NAME ROLE [--group G ...] [--dn N ...]\n"
               "  user disable NAME | user enable NAME | user list\n"
               "auditing:\n"
               "  verify [ID] [--public-key FILE] [--since CHECKPOINT|FILE] [--store DIR]\n"
               "                        chains, ledger and signed checkpoints; --since: the ledger\n"
               "                        only grew since that checkpoint; --store: a copy (backup)\n"
               "  prove ID              inclusion proof of a recording in the last signed checkpoint\n"
               "  check-proof FILE --public-key FILE   check a proof offline, without any store\n"
               "  checkpoint            sign the ledger's head now\n"
               "  keys export-public    the checkpoint signing key's public half (PEM)\n"
               "  keys list | rotate | retire ID   master keys: rotate re-wraps every data key\n"
               "  audit export [--from DATE] [--to DATE] [--format csv]   the audit trail, RFC 4180\n"
               "  backup DIR            consistent copy of the running store (DIR absolute, new)\n");
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
static int run_local(const br_config_t *cfg, const char *store_path, int argc, char **argv,
                     br_buf_t *out, br_buf_t *msgs)
{
    br_master_key_t mk, retired[4];
    br_store_t *st = NULL;
    br_signer_t *signer = NULL;
    int nretired = 0;
    char actor[64], source[64];
    struct passwd *pw = getpwuid(getuid());
    int have_key = 0, rc;

    /* A copy of the store (--store) is checked without any key. */
    if (!store_path) {
        store_path = cfg->store_path;
        have_key = br_master_key_load(&mk, cfg->master_key, 0, NULL) == 0;
        nretired = br_master_key_load_retired(cfg->master_key, retired, 4);
        br_signer_load(&signer, cfg->signing_key, 0, NULL);
    }
    if (access(store_path, F_OK) != 0) {
        br_buf_printf(msgs, "no store at %s (and no daemon at %s)\n", store_path,
                      cfg->control_socket);
        br_signer_free(signer);
        return 1;
    }
    rc = br_store_open(&st, store_path, have_key ? &mk : NULL);
    if (have_key)
        br_master_key_wipe(&mk);
    for (int i = 0; i < nretired; i++) {
        if (rc == 0)
            br_store_add_key(st, &retired[i], 0);
        br_master_key_wipe(&retired[i]);
    }
    if (rc < 0) {
        br_buf_printf(msgs, "store %s: %s\n", store_path,
                      rc == -EBUSY ? "in use by a daemon whose control socket does not answer"
                                   : br_strerror(rc));
        br_signer_free(signer);
        return 1;
    }
    br_strlcpy(actor, pw ? pw->pw_name : "unknown", sizeof actor);
    snprintf(source, sizeof source, "local uid %u", (unsigned)getuid());
    {
        br_cmd_env_t env = { st, signer, actor, source, store_path == cfg->store_path ? cfg->master_key : NULL };
        rc = br_cmd_run(&env, argc, argv, out, msgs);
    }
    br_store_close(st);
    br_signer_free(signer);
    return rc;
}

/* Reads a small text file (a key, a checkpoint line, a proof). */
static char *slurp(const char *path)
{
    br_buf_t b;
    char chunk[4096];
    size_t n;
    FILE *f = fopen(path, "r");

    if (!f)
        return NULL;
    br_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < 65536)
        br_buf_append(&b, chunk, n);
    fclose(f);
    if (b.failed || !b.data) {
        br_buf_free(&b);
        return NULL;
    }
    while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r') &&
           strncmp((char *)b.data, "-----", 5) != 0)
        b.data[--b.len] = 0;
    return (char *)br_buf_take(&b, NULL);
}

/* --password-stdin: the first line of standard input becomes "--password LINE", so the
 * password is never in the process list or the shell history. *line gets the copy to free. */
static int password_from_stdin(int *argc, char **argv, char **line)
{
    char buf[512];
    size_t n;

    *line = NULL;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--password-stdin") != 0)
            continue;
        if (*argc + 1 > BR_CTL_MAX_ARGS || !fgets(buf, sizeof buf, stdin))
            return -EINVAL;
        n = strcspn(buf, "\r\n");
        buf[n] = 0;
        if (n == 0 || !(*line = strdup(buf)))
            return -EINVAL;
        explicit_bzero(buf, sizeof buf);
        for (int j = *argc; j > i + 1; j--)
            argv[j] = argv[j - 1];
        argv[i] = "--password";
        argv[i + 1] = *line;
        (*argc)++;
        return 0;
    }
    return 0;
}

/* verify --store DIR: takes the option out of argv (moving it last) and
 * returns DIR. */
static const char *find_store_opt(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--store") == 0) {
            char *dir = argv[i + 1];
            for (int j = i; j + 2 < argc; j++)
                argv[j] = argv[j + 2];
            argv[argc - 2] = "--store";
            argv[argc - 1] = dir;
            return dir;
        }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    char err[512];
    br_config_t cfg;
    br_buf_t out, msgs;
    char *cmd_argv[BR_CTL_MAX_ARGS], *owned[BR_CTL_MAX_ARGS];
    const char *store_copy = NULL, *outfile = NULL;
    int cmd_argc, opt, rc, nowned = 0;

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
    /* policy and cucm-profile need only the configuration: no daemon, no store. */
    if (strcmp(argv[optind], "policy") == 0) {
        int html = argc - optind == 3 && strcmp(argv[optind + 1], "--format") == 0 &&
                   strcmp(argv[optind + 2], "html") == 0;
        int md = argc - optind == 1 || (argc - optind == 3 && strcmp(argv[optind + 1], "--format") == 0 &&
                                        strcmp(argv[optind + 2], "md") == 0);
        if (!html && !md) {
            fprintf(stderr, "usage: bibrec policy [--format md|html]\n");
            return 2;
        }
        br_buf_init(&out);
        rc = br_policy_render(&cfg, html ? BR_POLICY_HTML : BR_POLICY_MARKDOWN, &out);
        if (rc == 0)
            fwrite(out.data, 1, out.len, stdout);
        br_buf_free(&out);
        return rc == 0 ? 0 : 1;
    }
    if (strcmp(argv[optind], "cucm-profile") == 0)
        return br_cucm_command(&cfg, argc - optind, argv + optind);
    /* export's FILE stays here: the daemon sends the bytes, we write them. */
    cmd_argc = argc - optind;
    /* Commands that write a file take its name last: export ID FILE,
     * export-call CALL FILE, subject export ... FILE (subject erase does not). */
    if (br_cmd_output_is_file(argv[optind]) &&
        !(strcmp(argv[optind], "subject") == 0 && cmd_argc > 1 && strcmp(argv[optind + 1], "export") != 0)) {
        if (cmd_argc < 3) {
            usage(stderr);
            return 2;
        }
        cmd_argc--;
        outfile = argv[optind + cmd_argc];
    }
    if (cmd_argc > (int)BR_ARRAY_SIZE(cmd_argv)) {
        usage(stderr);
        return 2;
    }
    for (int i = 0; i < cmd_argc; i++)
        cmd_argv[i] = argv[optind + i];

    br_buf_init(&out);
    br_buf_init(&msgs);
    /* Files named on the command line are read here, so the daemon (another
     * user, another folder) gets their content. */
    for (int i = 1; i + 1 < cmd_argc; i++) {
        const char *as = strcmp(cmd_argv[i], "--pubkey") == 0 || strcmp(cmd_argv[i], "--public-key") == 0
                             ? "--pubkey-pem"
                         : strcmp(cmd_argv[i], "--since") == 0 && access(cmd_argv[i + 1], R_OK) == 0
                             ? "--since"
                             : NULL;
        if (!as)
            continue;
        owned[nowned] = slurp(cmd_argv[i + 1]);
        if (!owned[nowned]) {
            fprintf(stderr, "bibrec: %s: cannot read\n", cmd_argv[i + 1]);
            return 2;
        }
        cmd_argv[i] = (char *)as;
        cmd_argv[i + 1] = owned[nowned++];
    }
    if (password_from_stdin(&cmd_argc, cmd_argv, &owned[nowned]) < 0) {
        fprintf(stderr, "bibrec: --password-stdin: no password on standard input\n");
        return 2;
    }
    if (owned[nowned])
        nowned++;
    if (strcmp(cmd_argv[0], "phone-pin") == 0 && cmd_argc == 1) {
        /* A PIN on the command line would show in ps and shell history. */
        static char pin[64];
        if (!fgets(pin, sizeof pin, stdin)) {
            fprintf(stderr, "usage: echo PIN | bibrec phone-pin\n");
            return 2;
        }
        pin[strcspn(pin, "\r\n")] = 0;
        cmd_argv[cmd_argc++] = pin;
    }
    if (strcmp(cmd_argv[0], "check-proof") == 0) {
        char *proof = cmd_argc >= 2 ? slurp(cmd_argv[1]) : NULL;
        const char *pem = NULL;
        for (int i = 2; i + 1 < cmd_argc; i++)
            if (strcmp(cmd_argv[i], "--pubkey-pem") == 0)
                pem = cmd_argv[i + 1];
        if (!proof || !pem) {
            fprintf(stderr, "usage: bibrec check-proof PROOF-FILE --pubkey KEY-FILE\n");
            free(proof);
            return 2;
        }
        rc = br_cmd_check_proof(proof, pem, &out, &msgs);
        free(proof);
    } else if (strcmp(cmd_argv[0], "verify") == 0 && (store_copy = find_store_opt(cmd_argc, cmd_argv))) {
        rc = run_local(&cfg, store_copy, cmd_argc - 2, cmd_argv, &out, &msgs);
    } else {
        rc = br_ctl_call(cfg.control_socket, cmd_argc, cmd_argv, &out, &msgs);
        if (rc == -ENOENT || rc == -ECONNREFUSED)
            rc = run_local(&cfg, NULL, cmd_argc, cmd_argv, &out, &msgs);
        else if (rc < 0) {
            fprintf(stderr, "bibrec: daemon at %s: %s\n", cfg.control_socket, br_strerror(rc));
            rc = 1;
        }
    }
    if (rc == 0 && outfile) {
        int wrc = write_file(outfile, &out);
        if (wrc < 0) {
            fprintf(stderr, "bibrec: %s: %s\n", outfile, br_strerror(wrc));
            rc = 1;
        }
    } else if (out.len) {
        fwrite(out.data, 1, out.len, stdout);
    }
    if (msgs.len)
        fwrite(msgs.data, 1, msgs.len, stderr);
    br_buf_free(&out);
    br_buf_free(&msgs);
    for (int i = 0; i < nowned; i++)
        free(owned[i]);
    return rc;
}
