/*
 * The data subject's requests (GDPR Art. 15, 17 and 20) and the pieces they
 * are made of, shared by the CLI's `subject` and `search` commands and the
 * JSON API (src/api/): a person is named by numbers and device names, found
 * through the store's blind indexes; an export is one tar archive (POSIX
 * ustar) with WAVs, RFC 4180 CSVs and a README.
 */
#ifndef BR_SUBJECT_H
#define BR_SUBJECT_H

#include "commands.h"

#define BR_SUBJECT_MAX_KEYS 16

typedef struct br_subject_query {
    int nnumbers, ndevices;
    const char *numbers[BR_SUBJECT_MAX_KEYS];
    const char *devices[BR_SUBJECT_MAX_KEYS];
} br_subject_query_t;

/* Everything about the person as a tar archive in out. 0, or 1 with a message in err. */
int br_subject_export(const br_cmd_env_t *env, const br_subject_query_t *q, br_buf_t *out,
                      br_buf_t *err);
/* Erases every recording of the person except legal holds and legal obligations still inside
 * their retention; one line per recording in out ("ID<TAB>erased" or "ID<TAB>kept: why").
 * 0, or 1 when some erasure failed. With reason NULL nothing is erased: the lines say what
 * would be ("ID<TAB>will be erased"), for a preview. */
int br_subject_erase(const br_cmd_env_t *env, const br_subject_query_t *q, const char *reason,
                     br_buf_t *out, br_buf_t *err);

/* The recordings CSV: its header line and one row per recording. */
#define BR_REC_CSV_HEADER                                                                      \
    "id,call,start,end,duration_s,near_number,near_device,far_number,far_device,profile,basis," \
    "mode,retain_until,flags,state\r\n"
void br_rec_csv_row(br_buf_t *out, const br_rec_meta_t *m);
/* A recording's audio as a stereo WAV file appended to wav. */
int br_rec_wav(br_store_t *st, const br_rec_meta_t *m, br_buf_t *wav);
/* One regular file in a ustar archive, and the archive's end. */
void br_tar_file(br_buf_t *out, const char *name, const void *data, size_t len, int64_t mtime_us);
void br_tar_end(br_buf_t *out);

#endif
