/*
 * bibrecd: the recording daemon. Parses options, builds the store, the
 * session layer, the SIP stack and the control socket on one libuv loop,
 * and runs it until SIGINT or SIGTERM, when it stops taking calls, seals
 * every recording in progress and exits 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "access/users.h"
#include "api/api.h"
#include "web/console.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/stats.h"
#include "common/util.h"
#include "config/settings.h"
#include "crypto/crypto.h"
#include "crypto/sign.h"
#include "ctl/server.h"
#include "http/http.h"
#include "announce/announce.h"
#include "services/phone.h"
#include "services/push.h"
#include "session/session.h"
#include "sip/sip.h"
#include "sql-free-store/store.h"

struct daemon {
    uv_loop_t loop;
    br_config_t cfg;
    br_store_t *store;
    br_sessions_t *sessions;
    br_announcer_t *announcer;
    br_sip_t *sip;
    br_ctl_t *ctl;
    br_http_t *http;
    br_api_t *api;
    br_phone_service_t phone;
    br_stats_t stats;
    br_signer_t *signer;
    uv_timer_t checkpoint_timer;
    uv_timer_t sweep_timer;
    uv_work_t sweep_work;
    int sweeping;
    unsigned swept;
    int sweep_rc;
    uv_signal_t sigint, sigterm;
    int stopping;
    int exit_code;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bibrecd [-c FILE]           run the recorder (no -c: built-in defaults)\n"
            "       bibrecd --check-config FILE validate a configuration file and exit\n"
            "       bibrecd --version\n");
}

/* Shutdown runs in stages, each started by the previous one's callback:
 * SIP drains (503 to newcomers) -> sessions end or are sealed after the
 * drain time -> SIP shuts down -> the control socket closes -> the loop
 * runs out of handles and main() returns. */
/* Signs the ledger's head if it grew since the last checkpoint. */
static void checkpoint_now(struct daemon *d, const char *why)
{
    br_checkpoint_t cp;
    int rc = br_store_checkpoint(d->store, d->signer, &cp);
    if (rc == 0)
        br_info("checkpoint %" PRIu64 " signed (%s): ledger of %" PRIu64 " entries", cp.seq, why,
                cp.size);
    else if (rc < 0 && rc != -ENOENT)
        br_err("checkpoint (%s) failed: %s", why, br_strerror(rc));
}

static void checkpoint_cb(uv_timer_t *t)
{
    checkpoint_now(t->data, "interval");
}

/* The retention sweep runs on the thread pool: each erasure is a synced
 * write, and a backlog of thousands must not stall calls. */
static void sweep_work_cb(uv_work_t *w)
{
    struct daemon *d = w->data;
    unsigned n;

    d->swept = 0;
    do {
        d->sweep_rc = br_store_sweep(d->store, br_now_us(), 64, "retention", &n);
        d->swept += n;
    } while (d->sweep_rc == 0 && n == 64 && d->swept < 10000);
}

static void sweep_done_cb(uv_work_t *w, int status)
{
    struct daemon *d = w->data;
    (void)status;
    d->sweeping = 0;
    if (d->swept)
        br_info("retention: erased %u recording(s) whose time was up", d->swept);
    if (d->sweep_rc < 0)
        br_err("retention sweep failed: %s", br_strerror(d->sweep_rc));
}

static void sweep_cb(uv_timer_t *t)
{
    struct daemon *d = t->data;
    if (d->sweeping || d->stopping)
        return;
    d->sweeping = 1;
    d->sweep_work.data = d;
    if (uv_queue_work(&d->loop, &d->sweep_work, sweep_work_cb, sweep_done_cb) < 0)
        d->sweeping = 0;
}

static void ctl_stopped(void *ctx)
{
    struct daemon *d = ctx;
    checkpoint_now(d, "shutdown");
    uv_close((uv_handle_t *)&d->checkpoint_timer, NULL);
    uv_close((uv_handle_t *)&d->sweep_timer, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
}

static void http_stopped(void *ctx)
{
    struct daemon *d = ctx;
    if (d->ctl)
        br_ctl_stop(d->ctl, ctl_stopped, d);
    else
        ctl_stopped(d);
}

static void sip_stopped(void *ctx)
{
    struct daemon *d = ctx;
    if (d->http)
        br_http_stop(d->http, http_stopped, d);
    else
        http_stopped(d);
}

static int start_http(struct daemon *d)
{
    br_http_opts_t o = { d->cfg.http_address, d->cfg.http_port,
                         d->cfg.http_tls_cert[0] ? d->cfg.http_tls_cert : NULL,
                         d->cfg.http_tls_key[0] ? d->cfg.http_tls_key : NULL };
    char why[160];
    int rc;

    if (!d->cfg.http_port)
        return 0;
    d->phone.sessions = d->sessions;
    d->phone.st = d->store;
    d->phone.cfg = &d->cfg;
    d->phone.loop = &d->loop;
    br_sessions_set_notify(d->sessions, br_phone_notify, &d->phone);
    if (br_push_enabled(&d->cfg)) {
        if (br_push_init() < 0)
            return -ENOMEM;
        br_info("notices are pushed to phones as %s (password from $%s)", d->cfg.push_user,
                d->cfg.push_password_env);
    }
    if (br_netlist_parse(&d->phone.networks, d->cfg.phone_networks, why, sizeof why) < 0)
        return -EINVAL;
    snprintf(d->phone.base_url, sizeof d->phone.base_url, "http://%s:%u", d->cfg.http_address,
             d->cfg.http_port);
    rc = br_http_start(&d->http, &d->loop, &o);
    if (rc < 0)
        return rc;
    br_http_route(d->http, "/phone", br_phone_handle, &d->phone);
    rc = br_api_new(&d->api, d->store, &d->cfg, d->signer);
    if (rc < 0)
        return rc;
    br_http_route_work(d->http, "/api/v1", br_api_handle, d->api);
    br_http_route(d->http, "/console", br_console_handle, NULL);
    br_http_route(d->http, "/", br_console_root, NULL);
    br_info("HTTP%s on %s:%u: phone service at /phone?device=#DEVICENAME#, JSON API at /api/v1",
            o.tls_cert ? "S" : "", d->cfg.http_address, d->cfg.http_port);
    return 0;
}

static void sessions_stopped(void *ctx)
{
    struct daemon *d = ctx;
    if (d->sip)
        br_sip_stop(d->sip, sip_stopped, d);
    else
        sip_stopped(d);
}

static void announcer_stopped(void *ctx)
{
    struct daemon *d = ctx;
    br_sessions_stop(d->sessions, sessions_stopped, d);
}

static void shutdown_daemon(struct daemon *d)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    if (d->sip)
        br_sip_drain(d->sip);
    if (d->announcer)
        br_announcer_stop(d->announcer, announcer_stopped, d);
    else
        announcer_stopped(d);
}

static void signal_cb(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;
    br_info("%s received: sealing recordings in progress and stopping", strsignal(signum));
    shutdown_daemon(d);
}

static int prepare_paths(const br_config_t *cfg)
{
    int rc = br_mkdir_p(cfg->store_path);
    if (rc == 0)
        rc = br_mkdir_parents(cfg->master_key);
    if (rc == 0)
        rc = br_mkdir_parents(cfg->control_socket);
    return rc;
}

static int open_store(struct daemon *d)
{
    br_master_key_t mk;
    int created, rc;

    rc = br_master_key_load(&mk, d->cfg.master_key, 1, &created);
    if (rc < 0) {
        br_err("master key %s: %s", d->cfg.master_key,
               rc == -EACCES ? "file is readable by others (chmod 600) or unreadable"
                             : br_strerror(rc));
        return rc;
    }
    if (created)
        br_info("generated a new master key in %s (mode 0600); back it up: without it no "
                "recording can be decrypted",
                d->cfg.master_key);
    rc = br_store_open(&d->store, d->cfg.store_path, &mk);
    br_master_key_wipe(&mk);
    if (rc == 0)
        br_store_set_compress(d->store, d->cfg.store_compress);
    if (rc == 0) {
        br_master_key_t retired[4];
        int n = br_master_key_load_retired(d->cfg.master_key, retired, 4);
        for (int i = 0; i < n; i++) {
            br_store_add_key(d->store, &retired[i], 0);
            br_master_key_wipe(&retired[i]);
        }
        if (n)
            br_info("%d retired master key(s) loaded to read older recordings", n);
    }
    if (rc == 0) {
        rc = br_signer_load(&d->signer, d->cfg.signing_key, 1, &created);
        if (rc < 0) {
            br_err("signing key %s: %s", d->cfg.signing_key,
                   rc == -EACCES ? "file is readable by others (chmod 600) or unreadable"
                                 : br_strerror(rc));
            return rc;
        }
        if (created)
            br_info("generated a new checkpoint signing key in %s; give auditors its public key "
                    "(bibrec keys export-public)",
                    d->cfg.signing_key);
    }
    if (rc < 0) {
        br_err("store %s: %s", d->cfg.store_path,
               rc == -EBUSY ? "in use by another process (is another bibrecd running?)"
                            : br_strerror(rc));
        return rc;
    }
    /* Room to seal recordings in progress if the disk fills (session.c). */
    if (br_store_reserve(d->store, 8u << 20) < 0)
        br_warn("could not hold 8 MiB in reserve in %s: the disk is nearly full", d->cfg.store_path);
    rc = br_store_recover(d->store);
    if (rc > 0)
        br_warn("sealed %d recording(s) left unfinished by an earlier stop as recovered", rc);
    return rc < 0 ? rc : 0;
}

/* The first start of a store makes the first administrator. Its password is shown here once
 * (the log, which is stderr) and stored nowhere but as its Argon2id hash; it must be changed at
 * the first login. Failing here does not stop the recorder. */
static void bootstrap_admin(struct daemon *d)
{
    char pw[BR_PW_GENERATED + 1];
    int rc = br_user_bootstrap(d->store, pw, sizeof pw);

    if (rc == 1) {
        br_warn("created the first administrator 'admin' with the one-time password %s "
                "(shown only now; it must be changed at the first login)", pw);
        br_store_audit(d->store, "bibrecd", "user-bootstrap", "admin", "-", BR_OUTCOME_OK,
                       "first administrator created");
    } else if (rc < 0) {
        /* Recording goes on; only logins to the API cannot work until this is fixed. */
        br_err("user records unreadable (%s): nobody can log in to the API; is the master key "
               "that wraps the index key loaded?",
               br_strerror(rc));
    }
    explicit_bzero(pw, sizeof pw);
}

/* Every start records which configuration (and so which recording policy)
 * runs, by its SHA-256: a policy change shows in the audit trail as a new
 * hash. */
static void audit_config(struct daemon *d, const char *file)
{
    char detail[256], hex[2 * BR_HASH_LEN + 1] = "built-in-defaults";
    uint8_t h[BR_HASH_LEN];

    if (file) {
        FILE *f = fopen(file, "rb");
        char buf[65536];
        size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
        struct br_iov part = { buf, n };
        if (f)
            fclose(f);
        br_sha256(&part, 1, h);
        br_hex_encode(h, BR_HASH_LEN, hex);
    }
    snprintf(detail, sizeof detail, "sha256=%s profiles=%d", hex, d->cfg.nprofiles);
    br_store_audit(d->store, "bibrecd", "config-loaded", "-", file ? file : "(built-in)",
                   BR_OUTCOME_OK, detail);
}

static int load_config(br_config_t *cfg, const char *file)
{
    char err[512];
    br_config_defaults(cfg);
    if (file && br_config_load(cfg, file, err, sizeof err) < 0) {
        fprintf(stderr, "bibrecd: configuration refused: %s\n", err);
        return -EINVAL;
    }
    return 0;
}

/* Each recorded call holds two RTP and two RTCP sockets and its audio file:
 * the usual soft limit of 1024 open files would cap the daemon at about 200
 * calls, so take whatever the hard limit allows. */
static void raise_open_files(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        br_warn("cannot raise the open-file limit: %s", br_strerror(-errno));
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check-config", required_argument, NULL, 'C' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct daemon d;
    const char *file = NULL;
    int opt, rc;

    memset(&d, 0, sizeof d);
    while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            file = optarg;
            break;
        case 'C':
            if (load_config(&d.cfg, optarg) < 0)
                return 1;
            printf("%s: configuration is valid\n", optarg);
            return 0;
        case 'V':
            printf("bibrecd %s\n", PACKAGE_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (load_config(&d.cfg, file) < 0)
        return 1;
    br_log_set_level(d.cfg.log_level);
    signal(SIGPIPE, SIG_IGN);
    br_info("bibrecd %s starting with %s", PACKAGE_VERSION, d.cfg.source);
    raise_open_files();

    rc = prepare_paths(&d.cfg);
    if (rc == 0)
        rc = br_mkdir_parents(d.cfg.signing_key);
    if (rc < 0) {
        br_err("cannot create the data folders: %s", br_strerror(rc));
        return 1;
    }
    if (open_store(&d) < 0) {
        br_store_close(d.store);
        br_signer_free(d.signer);
        return 1;
    }
    audit_config(&d, file);
    bootstrap_admin(&d);
    uv_loop_init(&d.loop);
    uv_signal_init(&d.loop, &d.sigint);
    uv_signal_init(&d.loop, &d.sigterm);
    d.sigint.data = d.sigterm.data = &d;
    uv_signal_start(&d.sigint, signal_cb, SIGINT);
    uv_signal_start(&d.sigterm, signal_cb, SIGTERM);
    uv_timer_init(&d.loop, &d.checkpoint_timer);
    d.checkpoint_timer.data = &d;
    uv_timer_start(&d.checkpoint_timer, checkpoint_cb, (uint64_t)d.cfg.checkpoint_s * 1000,
                   (uint64_t)d.cfg.checkpoint_s * 1000);
    uv_timer_init(&d.loop, &d.sweep_timer);
    d.sweep_timer.data = &d;
    uv_timer_start(&d.sweep_timer, sweep_cb, 1000, (uint64_t)d.cfg.sweep_s * 1000);

    /* SIP first, the control socket last: the socket's appearance tells
     * scripts and systemd units that the recorder is ready. */
    rc = br_sip_start(&d.sip, &d.loop, &d.cfg, &d.stats);
    if (rc < 0) {
        br_err("cannot start SIP: %s", br_strerror(rc));
        d.exit_code = 1;
    }
    if (br_sessions_new(&d.sessions, &d.loop, d.store, &d.cfg, &br_sip_session_ops, &d.stats) < 0) {
        br_err("cannot start the session layer");
        return 1;
    }
    if (d.sip)
        br_sip_attach(d.sip, d.sessions);
    if (d.cfg.nannouncements) {
        char why[PATH_MAX + 200];
        rc = br_announcer_new(&d.announcer, &d.loop, d.store, &d.cfg, br_sessions_ports(d.sessions),
                              br_sip_ann_ops(), why, sizeof why);
        if (rc < 0) {
            br_err("cannot start the announcement endpoint: %s", why);
            d.exit_code = 1;
        } else if (d.sip) {
            br_sip_attach_announcer(d.sip, d.announcer);
            for (int i = 0; i < d.cfg.nannouncements; i++)
                br_info("announcement %s: %s, %d prompt(s)%s%s", d.cfg.announcements[i].number,
                        br_ann_mode_name(d.cfg.announcements[i].mode),
                        d.cfg.announcements[i].nprompts,
                        d.cfg.announcements[i].collect ? ", asks for consent" : "",
                        d.cfg.announcements[i].mode == BR_ANN_PRE_CONNECT ? ", then transfers" : "");
        }
    }
    if (d.exit_code == 0 && (rc = start_http(&d)) < 0) {
        br_err("cannot start HTTP on %s:%u: %s", d.cfg.http_address, d.cfg.http_port,
               rc == -EADDRINUSE ? "address in use" : br_strerror(rc));
        d.exit_code = 1;
    }
    if (d.exit_code == 0) {
        rc = br_ctl_start(&d.ctl, &d.loop, d.cfg.control_socket, d.store, d.signer, d.cfg.master_key,
                          &d.stats);
        if (rc < 0) {
            br_err("control socket %s: %s", d.cfg.control_socket, uv_strerror(rc));
            d.exit_code = 1;
        }
    }
    if (d.exit_code != 0)
        shutdown_daemon(&d);
    else
        br_info("ready: control socket %s, store %s", d.cfg.control_socket, d.cfg.store_path);
    uv_run(&d.loop, UV_RUN_DEFAULT);

    br_sip_free(d.sip);
    br_announcer_free(d.announcer);
    br_sessions_free(d.sessions);
    br_ctl_free(d.ctl);
    br_http_free(d.http);
    br_api_free(d.api);
    br_store_close(d.store);
    br_signer_free(d.signer);
    rc = uv_loop_close(&d.loop);
    if (rc != 0)
        br_warn("event loop closed with handles still open: %s", uv_strerror(rc));
    br_info("stopped");
    return d.exit_code;
}
