/*
 * The SDP the recorder makes and reads (RFC 4566, offer/answer RFC 3264).
 * CUCM's recording INVITEs normally carry no SDP (delayed offer): the
 * recorder offers in its 200 OK, with a=recvonly, and CUCM's ACK answers.
 * Plain structs only; sofia's SDP parser is used behind br_sdp_parse().
 */
#ifndef BR_SDP_H
#define BR_SDP_H

#include <stddef.h>
#include <stdint.h>

#define BR_SDP_MAX_PTS 16

typedef struct br_sdp_media {
    char addr[64];          /* connection address (c=), media level over session */
    uint16_t port;          /* m= port; 0 = stream rejected */
    uint8_t pts[BR_SDP_MAX_PTS]; /* payload types of m=audio, in order */
    int npts;
    uint8_t dtmf_pt;        /* telephone-event payload type, 0xff if none */
    char direction[10];     /* sendonly, recvonly, sendrecv, inactive */
} br_sdp_media_t;

/* Writes the recorder's offer (or answer, with the payload types given) into
 * out. sess_id/version go on the o= line; version must grow on each change. */
int br_sdp_write(char *out, size_t outsz, const char *addr, uint16_t port, const uint8_t *pts,
                 int npts, uint8_t dtmf_pt, uint64_t sess_id, uint64_t version);

/* Parses an SDP body and extracts the first audio stream. Returns 0, or
 * -EPROTO when the body is not SDP or has no usable audio stream. */
/* The same, with another direction than recvonly (the announcement
 * endpoint sends its prompt: sendrecv). */
int br_sdp_write_dir(char *out, size_t outsz, const char *addr, uint16_t port, const uint8_t *pts,
                     int npts, uint8_t dtmf_pt, uint64_t sess_id, uint64_t version,
                     const char *direction);

int br_sdp_parse(const char *body, size_t len, br_sdp_media_t *out);

#endif
