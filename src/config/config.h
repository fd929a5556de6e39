/*
 * The daemon's configuration: one XML file (libxml2), every setting with a
 * default, so that no file at all is a valid configuration (the "embedded
 * default": a store in ./bibrec-data, SIP and RTP on 127.0.0.1). Relative
 * paths are taken relative to the configuration file's folder (the current
 * folder for the embedded default). A bad file is refused as a whole with
 * "FILE:LINE: reason".
 */
#ifndef BR_CONFIG_H
#define BR_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"

#define BR_ADDR_MAX 64
#define BR_SOCK_PATH_MAX 108 /* sizeof(sun_path) */

typedef struct br_config {
    char source[PATH_MAX];     /* file it came from, or "(built-in defaults)" */
    enum br_log_level log_level;
    char store_path[PATH_MAX];
    char master_key[PATH_MAX];
    char signing_key[PATH_MAX]; /* Ed25519 key that signs ledger checkpoints */
    unsigned checkpoint_s;      /* how often a grown ledger gets a signed checkpoint */
    unsigned segment_ms;
    char sip_address[BR_ADDR_MAX];
    uint16_t sip_port;
    int sip_udp, sip_tcp;
    uint16_t sip_tls_port;     /* 0: no TLS listener */
    char tls_cert[PATH_MAX];   /* PEM certificate (chain) */
    char tls_key[PATH_MAX];    /* PEM private key */
    char tls_ca[PATH_MAX];     /* PEM CA bundle; with tls_verify_client, peers must present a cert */
    int tls_verify_client;
    /* Peers allowed to send INVITE, UPDATE and OPTIONS: addresses or networks. */
    char trusted[1024];
    char rtp_address[BR_ADDR_MAX];
    uint16_t rtp_port_min, rtp_port_max;
    unsigned jitter_ms;        /* how long the timeline waits for late packets */
    char control_socket[BR_SOCK_PATH_MAX];
    unsigned pair_wait_ms;     /* after this a lone leg is flagged single-leg */
    unsigned answer_wait_ms;   /* the first leg's 200 waits this long for its partner */
    unsigned max_calls;        /* concurrent recordings; beyond: 503 */
    unsigned drain_ms;         /* on SIGTERM, calls may run this long before sealing */
    unsigned stitch_window_s;  /* a new pair with the same x-refci within this joins the call */
    /* What the CUCM administrator configures to reach us (cucm-profiles/). */
    struct br_cucm_names {
        char recording_number[32];  /* Recording Destination Address = route pattern */
        char trunk_name[64];
        char recording_profile[64];
        char recording_css[64];
        char partition[64];
        char device_pool[64];
        char sip_profile[64];
        char security_profile[64];
        char phone_service_url[256]; /* empty: derived from the SIP address */
        char announcement_number[32]; /* empty: no announcement route */
        char axl_user[64];
    } cucm;
} br_config_t;

/* Fills cfg with the embedded defaults. */
void br_config_defaults(br_config_t *cfg);
/* Loads file over the defaults. On error returns < 0 and writes
 * "FILE:LINE: reason" into err. */
int br_config_load(br_config_t *cfg, const char *file, char *err, size_t errsz);
/* Loads from memory (for tests and fuzzing); name appears in errors. */
int br_config_load_mem(br_config_t *cfg, const char *name, const char *xml, size_t len, char *err,
                       size_t errsz);

/* Checks the syntax of a trusted-peers list (see common/netlist.h). */
int br_config_check_trusted(const char *text, char *why, size_t whysz);

#endif
