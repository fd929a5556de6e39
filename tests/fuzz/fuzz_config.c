/*
 * Fuzzes the configuration loader br_config_load_mem() (src/config/config.c):
 * XML from disk, through libxml2 and the settings table. A configuration
 * file is written by an administrator, not an attacker, but a typo must
 * give "FILE:LINE: reason", never a crash or a half-applied setting.
 *
 * Every input starts from the embedded defaults. A refused input must leave
 * a terminated message in err; an accepted one must satisfy the ranges and
 * cross-checks the daemon relies on when it binds its ports.
 */
#include <errno.h>

#include "config/settings.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *xml = fuzz_dup(data, size);
    br_config_t *cfg = malloc(sizeof *cfg);
    char err[256];
    int rc;

    if (!cfg)
        abort();
    br_config_defaults(cfg);
    /* No NUL anywhere, so an unterminated message cannot pass by luck. */
    memset(err, 'X', sizeof err);
    rc = br_config_load_mem(cfg, "fuzz.xml", xml, size, err, sizeof err);
    if (rc < 0) {
        FUZZ_CHECK(FUZZ_TERMINATED(err));
        FUZZ_CHECK(strncmp(err, "fuzz.xml", 8) == 0);
    } else {
        FUZZ_CHECK(rc == 0);
        FUZZ_CHECK(FUZZ_TERMINATED(cfg->source));
        FUZZ_CHECK(FUZZ_TERMINATED(cfg->store_path) && cfg->store_path[0]);
        FUZZ_CHECK(FUZZ_TERMINATED(cfg->master_key) && cfg->master_key[0]);
        FUZZ_CHECK(FUZZ_TERMINATED(cfg->sip_address) && cfg->sip_address[0]);
        FUZZ_CHECK(FUZZ_TERMINATED(cfg->rtp_address) && cfg->rtp_address[0]);
        FUZZ_CHECK(FUZZ_TERMINATED(cfg->control_socket) && cfg->control_socket[0]);
        FUZZ_CHECK(FUZZ_TERMINATED(cfg->signing_key));
        FUZZ_CHECK(FUZZ_TERMINATED(cfg->tls_cert) && FUZZ_TERMINATED(cfg->tls_key));
        FUZZ_CHECK(FUZZ_TERMINATED(cfg->tls_ca));
        FUZZ_CHECK(FUZZ_TERMINATED(cfg->trusted));
        /* The daemon parses the trust list again when it starts listening:
         * whatever the loader accepted must parse there too. */
        {
            char why[160];
            memset(why, 'X', sizeof why);
            FUZZ_CHECK(br_config_check_trusted(cfg->trusted, why, sizeof why) == 0);
        }
        FUZZ_CHECK((unsigned)cfg->log_level <= BR_LOG_DEBUG);
        FUZZ_CHECK(cfg->segment_ms >= 200 && cfg->segment_ms <= 10000);
        FUZZ_CHECK(cfg->jitter_ms >= 20 && cfg->jitter_ms <= 1000);
        FUZZ_CHECK(cfg->pair_wait_ms <= 60000);
        FUZZ_CHECK(cfg->sip_port != 0 && cfg->rtp_port_min != 0);
        FUZZ_CHECK(cfg->rtp_port_max >= cfg->rtp_port_min + 2);
        FUZZ_CHECK(cfg->sip_port < cfg->rtp_port_min || cfg->sip_port > cfg->rtp_port_max);
    }
    free(cfg);
    free(xml);
    return 0;
}
