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

/* GDPR Art. 6(1): the six lawful bases of processing. */
enum br_basis {
    BR_BASIS_NONE = 0,
    BR_BASIS_CONSENT,             /* (a) */
    BR_BASIS_CONTRACT,            /* (b) */
    BR_BASIS_LEGAL_OBLIGATION,    /* (c) */
    BR_BASIS_VITAL_INTERESTS,     /* (d) */
    BR_BASIS_PUBLIC_TASK,         /* (e) */
    BR_BASIS_LEGITIMATE_INTERESTS /* (f) */
};
enum br_mode { BR_MODE_ALWAYS = 1, BR_MODE_ON_DEMAND };
enum br_notice { BR_NOTICE_NONE = 0, BR_NOTICE_TONE, BR_NOTICE_ANNOUNCEMENT };
/* What a caller decided at an announcement (or what stands for it). */
enum br_consent {
    BR_CONSENT_NONE = 0, /* no decision is known */
    BR_CONSENT_ACCEPTED,
    BR_CONSENT_REFUSED,
    BR_CONSENT_INFORMED  /* the prompt was played; no decision was asked */
};
/* After the prompt: hang up (greeting) or transfer the caller (pre-connect). */
enum br_ann_mode { BR_ANN_GREETING = 0, BR_ANN_PRE_CONNECT };

#define BR_MAX_PROFILES 32
#define BR_MAX_MATCHES 16
#define BR_MAX_PROCESSORS 8
#define BR_MAX_ANNOUNCEMENTS 8
#define BR_MAX_PROMPTS 8
#define BR_MAX_PHONE_USERS 64

/* A recording profile: which lines it covers, why they are recorded, how
 * people are told, how long recordings are kept and who may see them. */
typedef struct br_profile {
    char name[64];
    uint8_t basis;           /* enum br_basis; required */
    uint8_t mode;            /* enum br_mode */
    uint8_t notice;          /* enum br_notice: how the parties are told */
    unsigned retention_days; /* 0: keep until erased */
    unsigned keep_confirm_minutes; /* on-demand: erased unless kept within this */
    char access[128];        /* groups that may access the recordings */
    char stop_digit[2];      /* RFC 4733 digit on the far leg that withdraws consent */
    char purpose[256];       /* the purpose, in plain words */
    int require_consent;     /* record only calls whose other party accepted at an announcement */
    uint8_t consent_default; /* enum br_consent: what no digit at the announcement means */
    int nmatch;
    struct br_profile_match {
        char dn[32];         /* "4xxx", "4000-4099", "4001", "*" */
        char device[64];     /* "SEP00AABB*" (case-insensitive glob) */
    } match[BR_MAX_MATCHES];
} br_profile_t;

/* An announcement endpoint: CUCM routes calls for number to bibrec, which
 * plays a prompt, may collect a consent digit, and then hangs up or
 * transfers the caller to transfer_to with REFER. */
typedef struct br_announcement {
    char number[32];         /* the called number (Request-URI user part) */
    uint8_t mode;            /* enum br_ann_mode */
    char transfer_to[64];    /* pre-connect: REFER target (number or SIP URI) */
    char profile[64];        /* whose consent default a timeout takes */
    int collect;             /* ask for a digit (otherwise the decision is "informed") */
    char accept_digit[2], refuse_digit[2];
    unsigned wait_ms;        /* after the prompt ends, how long to wait for a digit */
    char language[8];        /* the prompt used when no caller prefix matches */
    int nprompts;
    struct br_prompt {
        char language[8];
        char file[PATH_MAX]; /* WAV, 16-bit PCM mono, 8 or 16 kHz */
        char callers[128];   /* caller number prefixes choosing this language: "+49 0049" */
    } prompts[BR_MAX_PROMPTS];
} br_announcement_t;

/* A phone user for the phone service's PIN check. */
typedef struct br_phone_user {
    char name[64];
    char devices[256];       /* device name globs this user may act for: "SEP00AABB*" */
    char pin[128];           /* "hmac-sha256$SALT$HASH" from `bibrec phone-pin` */
} br_phone_user_t;

typedef struct br_config {
    char source[PATH_MAX];     /* file it came from, or "(built-in defaults)" */
    enum br_log_level log_level;
    char store_path[PATH_MAX];
    char master_key[PATH_MAX];
    char signing_key[PATH_MAX]; /* Ed25519 key that signs ledger checkpoints */
    unsigned checkpoint_s;      /* how often a grown ledger gets a signed checkpoint */
    unsigned sweep_s;           /* how often recordings past their time are erased */
    unsigned segment_ms;
    unsigned write_queue_mb;    /* audio the store writer may hold before the loop waits */
    int store_compress;         /* zstd before encryption, when smaller */
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
    unsigned rtp_read_ms;      /* how often the RTP sockets are read (ms) */
    char control_socket[BR_SOCK_PATH_MAX];
    /* HTTP(S): the phone XML service (and later the console and the API). */
    char http_address[BR_ADDR_MAX];
    uint16_t http_port;        /* 0: no HTTP server */
    char http_tls_cert[PATH_MAX];
    char http_tls_key[PATH_MAX];
    char phone_networks[1024]; /* where phones may reach the phone service from */
    int phone_pin;             /* the phone service asks for the user's PIN */
    unsigned phone_pin_minutes; /* a PIN entered on a phone holds this long */
    /* Pushing notices to phones (POST /CGI/Execute): a CUCM user associated
     * with the phones; the password comes from the environment variable. */
    char push_user[64];
    char push_password_env[64];
    uint16_t push_port;        /* the phones' HTTP port (80) */
    int nphone_users;
    br_phone_user_t phone_users[BR_MAX_PHONE_USERS];
    unsigned pair_wait_ms;     /* after this a lone leg is flagged single-leg */
    unsigned answer_wait_ms;   /* the first leg's 200 waits this long for its partner */
    unsigned max_calls;        /* concurrent recordings; beyond: 503 */
    unsigned drain_ms;         /* on SIGTERM, calls may run this long before sealing */
    unsigned stitch_window_s;  /* a new pair with the same x-refci within this joins the call */
    unsigned consent_window_s; /* a consent decision applies to recordings starting this soon after */
    int nannouncements;
    br_announcement_t announcements[BR_MAX_ANNOUNCEMENTS];
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
    /* The recording policy (src/policy/): with no profile at all every line
     * is recorded under an implicit one, and bibrec says so loudly. */
    struct br_controller {
        char name[128];
        char contact[128];
        char dpo[128];       /* data protection officer */
    } controller;
    int nprocessors;
    struct br_processor {
        char name[128];
        char role[128];
    } processors[BR_MAX_PROCESSORS];
    int nprofiles;
    br_profile_t profiles[BR_MAX_PROFILES];
} br_config_t;

/* Fills cfg with the embedded defaults. */
void br_config_defaults(br_config_t *cfg);
/* Loads file over the defaults. On error returns < 0 and writes
 * "FILE:LINE: reason" into err. */
int br_config_load(br_config_t *cfg, const char *file, char *err, size_t errsz);
/* Loads from memory (for tests and fuzzing); name appears in errors. */
int br_config_load_mem(br_config_t *cfg, const char *name, const char *xml, size_t len, char *err,
                       size_t errsz);

const char *br_basis_name(uint8_t basis);
const char *br_mode_name(uint8_t mode);
const char *br_notice_name(uint8_t notice);
const char *br_consent_name(uint8_t consent);
const char *br_ann_mode_name(uint8_t mode);

/* Checks the syntax of a trusted-peers list (see common/netlist.h). */
int br_config_check_trusted(const char *text, char *why, size_t whysz);

#endif
