/*
 * Posting AXL requests to CUCM (SOAP 1.1 over HTTPS, HTTP Basic
 * authentication) and reading the answers: the <return> UUID of a success,
 * or a SOAP fault with AXL's own error code and message. libcurl does the
 * HTTP and stays inside this module; callers see plain structs.
 *
 * One br_axl_t is one connection setting (URL, user, TLS trust) reused for
 * a series of requests, which also keeps CUCM's session cookie between them.
 */
#ifndef BR_CUCM_AXL_H
#define BR_CUCM_AXL_H

#include <stddef.h>

typedef struct br_axl br_axl_t;

typedef struct br_axl_options {
    const char *url;       /* e.g. https://cucm.example.com:8443/axl/ (http or https) */
    const char *user;
    const char *password;
    const char *cacert;    /* PEM file to verify CUCM with; NULL = the system's CAs */
    int insecure;          /* skip TLS verification (certificate and host name) */
    long timeout_s;        /* whole request; 0 = 60 s */
} br_axl_options_t;

/* The outcome of one request. Strings are NUL-terminated and cut to fit. */
typedef struct br_axl_result {
    long http_status;          /* 0 when no answer came */
    char uuid[64];             /* <return> of a success, e.g. {A1B2...} */
    int fault;                 /* a SOAP fault came back */
    char faultcode[64];
    char faultstring[512];
    char axlcode[32];          /* from <detail><axlError>, when present */
    char axlmessage[512];
    char error[1280];          /* for any failure: one line saying what went wrong */
} br_axl_result_t;

/* Copies the options (the strings too). Returns 0, -EINVAL for a URL that is
 * not http(s), or -ENOMEM. */
int br_axl_open(br_axl_t **out, const br_axl_options_t *opt);
void br_axl_close(br_axl_t *a);

/* Posts one request for the AXL operation method (its SOAPAction is
 * "CUCM:DB ver=14.0 METHOD") and fills res. Returns 0 on success (res->uuid
 * set), -EPROTO for a SOAP fault or an answer that is not AXL's, -EACCES
 * when CUCM refuses the user (HTTP 401/403), or another negative errno for
 * a transport failure (-ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH, -EIO).
 * res->error always says why when it fails. */
int br_axl_post(br_axl_t *a, const char *method, const char *body, size_t len,
                br_axl_result_t *res);

/* Reads an AXL answer (also used by br_axl_post). Returns 0 for
 * <METHODResponse><return>, -EPROTO for a fault or anything else. */
int br_axl_parse_response(const char *body, size_t len, const char *method, br_axl_result_t *res);

#endif
