/*
 * The recording store: LevelDB under one folder, no SQL. Only this module
 * includes <leveldb/c.h>. Layout (all keys are ASCII):
 *
 *   key/<id>               data key wrapped by the master key (crypto.h)
 *   rec/<id>/meta          metadata, AES-256-GCM under the data key
 *   rec/<id>/seg/<n>       audio segment n (8 decimal digits), see below
 *   rec/<id>/seal          segments count + final chain hash, written last
 *
 * A segment value is [link 32][nonce 12][ciphertext + tag]. The chain starts
 * at h = SHA-256("bibrec chain v1" || id); segment n's link is
 * SHA-256(h_{n-1} || SHA-256(nonce || ciphertext+tag)), and the seal's final
 * hash is SHA-256(h_last || SHA-256(meta value)). Hashes cover ciphertext,
 * so verification needs no key. The AEAD's associated data binds the id, n
 * and the previous link, so a segment cannot be moved or swapped either.
 *
 * LevelDB admits one process per store: br_store_open() returns -EBUSY when
 * another process (normally the daemon) has it open.
 */
#ifndef BR_STORE_H
#define BR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "meta.h"

typedef struct br_store br_store_t;
typedef struct br_rec_writer br_rec_writer_t;

/* Opens (creating if needed) the store in folder path. mk may be NULL for
 * read-only uses that need no decryption (verification). The store keeps a
 * copy of the key. Safe to use from several threads once open. */
int br_store_open(br_store_t **out, const char *path, const br_master_key_t *mk);
void br_store_close(br_store_t *st);

/* Starts a recording: makes an id (written into meta->id), a data key, and
 * writes the wrapped key and the initial metadata. */
int br_rec_create(br_store_t *st, br_rec_meta_t *meta, br_rec_writer_t **out);
/* Encrypts, chains and writes one segment of audio (not synced: a crash
 * loses at most what the OS had not written, and recovery seals the rest). */
int br_rec_write_segment(br_rec_writer_t *w, const uint8_t *audio, size_t len);
/* Writes meta as final metadata with the given state and the seal record,
 * synced, then frees the writer whatever the outcome. meta->segments is set. */
int br_rec_seal(br_rec_writer_t *w, br_rec_meta_t *meta, uint8_t state);
/* Removes a recording that never held anything worth keeping (a cancelled
 * or failed attempt): its key, metadata and segments. Frees the writer. */
int br_rec_discard(br_rec_writer_t *w);
/* Frees the writer without sealing: the recording stays as written and the
 * next br_store_recover() seals it as "recovered". */
void br_rec_writer_abandon(br_rec_writer_t *w);
const char *br_rec_writer_id(const br_rec_writer_t *w);
uint32_t br_rec_writer_segments(const br_rec_writer_t *w);

/* Calls cb for every recording in id (= creation time) order. err is 0 or
 * why the metadata could not be read (then only m->id is valid). A non-zero
 * return from cb stops the walk and is returned. */
typedef int (*br_store_each_cb)(const br_rec_meta_t *m, int err, void *ctx);
int br_store_each(br_store_t *st, br_store_each_cb cb, void *ctx);
int br_store_read_meta(br_store_t *st, const char *id, br_rec_meta_t *m);

/* Decrypts the recording's segments in order and hands each plaintext to cb. */
typedef int (*br_store_audio_cb)(const uint8_t *audio, size_t len, void *ctx);
int br_store_read_audio(br_store_t *st, const char *id, br_store_audio_cb cb, void *ctx);

typedef struct br_verify_result {
    const char *id;
    int ok;
    int sealed;
    uint32_t segments;
    int64_t bad_segment; /* -1: the metadata or seal, not a segment */
    char reason[160];
} br_verify_result_t;

/* Verifies the chain of one recording (id) or of all (id NULL) without
 * decrypting. Calls cb per recording; returns the number that failed, or a
 * negative error if the store could not be read (-ENOENT: no such id). */
typedef void (*br_verify_cb)(const br_verify_result_t *r, void *ctx);
int br_store_verify(br_store_t *st, const char *id, br_verify_cb cb, void *ctx);

/* Seals every recording left unsealed by a crash as "recovered", with the
 * duration of the segments that reached the disk. Returns how many, or < 0. */
int br_store_recover(br_store_t *st);

#endif
