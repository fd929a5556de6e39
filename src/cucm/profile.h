/*
 * What a CUCM administrator adds so that CUCM records to bibrec
 * (../shared/cucm-bib.md §8), derived from the daemon's own configuration
 * so that the two never disagree: the SIP trunk points at the address, port
 * and transport bibrecd listens on, the route pattern is the recording
 * number, and so on.
 *
 * A profile is the ordered list of AXL requests (SOAP 1.1 envelopes for
 * AXL 14.0, built with libxml2's tree API) that create those objects, in
 * the order their references need: SIP trunk security profile, SIP profile,
 * trunk, partition, calling search space, route pattern(s), recording
 * profile, IP phone service, softkey template, then one updatePhone per
 * phone. guide.h renders the same values as a step-by-step guide for doing
 * it by hand.
 *
 * Values that are not known (the phones and lines, or everything in
 * placeholder mode) are written as {{name}} placeholders; such requests are
 * marked as templates and must never be sent.
 */
#ifndef BR_CUCM_PROFILE_H
#define BR_CUCM_PROFILE_H

#include <stddef.h>

#include "config/settings.h"

#define BR_CUCM_AXL_VERSION "14.0"
#define BR_CUCM_AXL_NS "http://www.cisco.com/AXL/API/14.0"
#define BR_CUCM_SOAP_NS "http://schemas.xmlsoap.org/soap/envelope/"

/* Limits of the AXL schema: a device name is at most 128 characters, a
 * directory number pattern and a partition name at most 50. */
#define BR_CUCM_PHONE_MAX 129
#define BR_CUCM_DN_MAX 51

/* The line's Recording Option (AXL recordingFlag). */
enum br_cucm_mode { BR_CUCM_AUTOMATIC, BR_CUCM_SELECTIVE };

/* One recorded line: the phone it appears on and its directory number. The
 * lines of one phone become one updatePhone, in the order given (the first
 * is line 1). */
typedef struct br_cucm_line {
    char phone[BR_CUCM_PHONE_MAX];     /* device name, e.g. SEP00AABBCCDD01 */
    char dn[BR_CUCM_DN_MAX];           /* directory number, e.g. 4001 */
    char partition[BR_CUCM_DN_MAX];    /* the DN's partition; "" = <None> */
} br_cucm_line_t;

typedef struct br_cucm_options {
    const br_config_t *cfg;
    const char *address;       /* trunk destination; NULL = cfg->sip_address */
    const char *transport;     /* "udp", "tcp" or "tls"; NULL = the best bibrecd listens on */
    const char *tls_subject;   /* X.509 subject name of bibrecd's TLS certificate */
    enum br_cucm_mode mode;
    const br_cucm_line_t *lines; /* NULL/0: one updatePhone template */
    size_t nlines;
    int placeholders;          /* every configured value as {{name}} */
} br_cucm_options_t;

/* The values as CUCM gets them, all as text (or as {{name}} placeholders). */
typedef struct br_cucm_values {
    char address[BR_ADDR_MAX];       /* trunk destination address */
    int address_is_ipv6;             /* addressIpv6 rather than addressIpv4 */
    char port[16];
    char transport[24];              /* outgoing transport: "TCP", "UDP" or "TLS" */
    char incoming_transport[24];     /* the profile's incoming transport (CUCM's side) */
    char security_mode[24];          /* "Non Secure", or "Encrypted" for TLS */
    char tls_subject[136];           /* X.509 subject name; "" unless TLS */
    char listeners[48];              /* what bibrecd listens on, e.g. "UDP and TCP on port 5060" */
    char trusted[1024];              /* the peers bibrecd takes SIP from */
    char recording_number[40];
    char trunk_name[72];
    char recording_profile[72];
    char recording_css[72];
    char partition[72];
    char device_pool[72];
    char sip_profile[72];
    char security_profile[72];
    char service_url[300];
    char announcement_number[40];    /* "" = no announcement route pattern */
    char softkey_template[72];
    char service_name[72];
    char codecs[64];                 /* as bibrec offers them in SDP */
    char codec_names[96];            /* the same as CUCM names them */
    char region_bitrate[40];         /* the least Max Audio Bit Rate that carries them */
    enum br_cucm_mode mode;
    int placeholders;
} br_cucm_values_t;

/* One AXL request. Every string is owned by the profile. */
typedef struct br_cucm_request {
    const char *method;   /* AXL operation, e.g. "addSipTrunk" */
    const char *object;   /* what it creates or changes, for messages */
    const char *file;     /* file name in the output folder, e.g. "03-addSipTrunk.xml" */
    const char *body;     /* the SOAP envelope, UTF-8 XML, NUL-terminated */
    size_t len;
    int is_template;      /* has {{placeholders}}: to be filled in, never sent */
} br_cucm_request_t;

typedef struct br_cucm_profile br_cucm_profile_t;

/* Fills v from the options. Returns -EINVAL with a reason in err when a
 * value cannot go to CUCM as it is (an empty name, a bad address). */
int br_cucm_values_init(br_cucm_values_t *v, const br_cucm_options_t *opt, char *err, size_t errsz);

/* Builds every request. Returns 0, -EINVAL (reason in err) for values or
 * lines that CUCM would refuse, or -ENOMEM. *out is set only on success. */
int br_cucm_profile_new(br_cucm_profile_t **out, const br_cucm_options_t *opt, char *err,
                        size_t errsz);
void br_cucm_profile_free(br_cucm_profile_t *p);

size_t br_cucm_profile_count(const br_cucm_profile_t *p);
/* Request i (0-based, in dependency order); NULL past the end. */
const br_cucm_request_t *br_cucm_profile_request(const br_cucm_profile_t *p, size_t i);
const br_cucm_values_t *br_cucm_profile_values(const br_cucm_profile_t *p);

/* Writes each request to dir/<its file name> (the folder must exist).
 * Returns 0 or a negative errno; the failing path goes to err. */
int br_cucm_profile_write_axl(const br_cucm_profile_t *p, const char *dir, char *err, size_t errsz);

/* Parses a line argument "DN" or "DN@PARTITION" for phone into line.
 * Returns 0 or -EINVAL with a reason in err. */
int br_cucm_line_parse(br_cucm_line_t *line, const char *phone, const char *arg, char *err,
                       size_t errsz);

#endif
