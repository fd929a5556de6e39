/*
 * The recording store: LevelDB under one folder, no SQL. Only this module
 * includes <leveldb/c.h>. Layout (all keys are ASCII):
 *
 *   key/<id>               data key wrapped by the master key (crypto.h)
 *   rec/<id>/meta          metadata, AES-256-GCM under the data key
 *   rec/<id>/seal          segments count + final chain hash, written last
 *
 * The audio is not in LevelDB: each recording's segments are appended to
 * a file of its own, <folder>/audio/<last two hex digits of id>/<id>, so
 * that it is written once and in order (LevelDB's compactions would
 * rewrite every concurrent call's audio several times over). Stores of
 * earlier versions kept segments under rec/<id>/seg/<n>; they are still
 * read. A segment is [link 32][nonce 12][ciphertext + tag]. The chain starts
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

#include "common/buf.h"
#include "crypto/crypto.h"
#include "crypto/sign.h"
#include "merkle.h"
#include "meta.h"

typedef struct br_store br_store_t;
typedef struct br_rec_writer br_rec_writer_t;

/* ---- the ledger: one append-only, Merkle-hashed list of everything that
 * happened to the store (recordings sealed and erased, audit events). */

enum br_ledger_type { BR_LEDGER_SEALED = 1, BR_LEDGER_ERASED = 2, BR_LEDGER_AUDIT = 3 };
enum br_ledger_outcome { BR_OUTCOME_OK = 0, BR_OUTCOME_REFUSED = 1, BR_OUTCOME_FAILED = 2 };

typedef struct br_ledger_entry {
    uint64_t seq;        /* position in the ledger, from 0 */
    uint8_t type;        /* enum br_ledger_type */
    int64_t time_us;     /* wall clock; 0 = now */
    char actor[64];      /* user, or the component ("bibrecd", "recovery") */
    char action[32];     /* seal, erase, list, export, verify, ... */
    char target[256];    /* recording or call id(s) concerned, "-" if none */
    char source[64];     /* where the request came from */
    uint8_t outcome;     /* enum br_ledger_outcome */
    char detail[256];
    uint8_t hash[BR_HASH_LEN]; /* sealed: the recording's final chain hash */
} br_ledger_entry_t;

typedef struct br_checkpoint {
    uint64_t seq;        /* checkpoint number */
    uint64_t size;       /* ledger entries covered */
    uint8_t root[BR_HASH_LEN];
    int64_t time_us;
    uint8_t sig[BR_SIG_LEN];
} br_checkpoint_t;

/* Opens (creating if needed) the store in folder path. mk may be NULL for
 * read-only uses that need no decryption (verification). The store keeps a
 * copy of the key. Safe to use from several threads once open. */
int br_store_open(br_store_t **out, const char *path, const br_master_key_t *mk);
void br_store_close(br_store_t *st);
/* Whether new segments are compressed (zstd) before encryption when that
 * makes them smaller; on by default. Off hides how much of each segment
 * was silence (its stored size) at the cost of about a third more disk
 * for conversational audio. */
void br_store_set_compress(br_store_t *st, int on);

/* Starts a recording: makes an id (written into meta->id), a data key, and
 * writes the wrapped key and the initial metadata, synced. */
int br_rec_create(br_store_t *st, br_rec_meta_t *meta, br_rec_writer_t **out);
/* The two halves of br_rec_create, for a caller that writes on another
 * thread: br_rec_new makes the id (into meta->id) and the data key and
 * writes nothing; br_rec_begin writes the wrapped key and meta (as the
 * initial metadata of w's recording), synced only if sync. */
int br_rec_new(br_store_t *st, br_rec_meta_t *meta, br_rec_writer_t **out);
int br_rec_begin(br_rec_writer_t *w, const br_rec_meta_t *meta, int sync);
/* Frees a writer from br_rec_new that will write nothing more. */
void br_rec_writer_free(br_rec_writer_t *w);
/* Encrypts, chains and appends one segment of audio to the recording's file
 * (not synced: a crash loses at most what the OS had not written, and
 * recovery seals the prefix whose chain holds). On failure the file is as
 * before and the next segment follows the last one written. */
int br_rec_write_segment(br_rec_writer_t *w, const uint8_t *audio, size_t len);
/* The same, encrypting into the caller's scratch buffer instead of one kept
 * per recording (a segment's size each): a thread that writes the segments
 * of many recordings needs only one. */
int br_rec_write_segment_buf(br_rec_writer_t *w, const uint8_t *audio, size_t len, br_buf_t *scratch);

/* Syncs the audio file, writes meta as final metadata with the given state
 * and the seal record, synced, then frees the writer whatever the outcome.
 * meta->segments is set. */
int br_rec_seal(br_rec_writer_t *w, br_rec_meta_t *meta, uint8_t state);
/* The same, synced only if sync: the caller makes it durable later with
 * br_store_sync() (one sync for many seals). */
int br_rec_seal_opt(br_rec_writer_t *w, br_rec_meta_t *meta, uint8_t state, int sync);
/* Removes a recording that never held anything worth keeping (a cancelled
 * or failed attempt): its key, metadata and segments. Frees the writer. */
int br_rec_discard(br_rec_writer_t *w);
int br_rec_discard_opt(br_rec_writer_t *w, int sync);
/* Makes every write made so far durable (one synced write). */
int br_store_sync(br_store_t *st);
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

/* ---- erasure (crypto-shredding), keep, retention ---------------------------------- */

enum br_expiry_reason { BR_EXPIRY_RETENTION = 1, BR_EXPIRY_NOT_KEPT = 2 };

/* Erases a sealed recording by deleting its data key: the metadata stays
 * as ciphertext that can never be decrypted again, and the audio file is
 * removed once the erasure is durable (its chain's end is kept in the
 * tombstone, so the seal and the ledger still verify). The tombstone says
 * when and why, and an "erased" ledger entry (same batch) names actor and
 * reason. -EALREADY if
 * it was erased before, -ENOENT if there is no sealed recording. */
int br_store_erase(br_store_t *st, const char *id, const char *actor, const char *source,
                   const char *reason);
/* The user kept an on-demand recording: its not-kept deadline goes, its
 * profile's retention applies. -EALREADY when it was not waiting. */
int br_store_keep(br_store_t *st, const char *id, int64_t *retain_until);
/* When and why the recording is due to be erased; -ENOENT if never. */
int br_store_expiry(br_store_t *st, const char *id, uint8_t *reason, int64_t *when);
/* Erases up to max (at most 64) recordings due at now_us; *erased counts
 * them. Call again while it returns max. */
int br_store_sweep(br_store_t *st, int64_t now_us, unsigned max, const char *actor, unsigned *erased);

/* ---- search by blind index, legal hold -------------------------------------------------- */

/* Calls cb with every recording whose near or far number (kind 'n') or
 * device (kind 'd') is value. The index holds keyed hashes (HMAC-SHA-256
 * under an index key wrapped by the master key), never the values; numbers
 * are compared as digits with an optional leading '+'. -ENOKEY without the
 * master key. */
typedef int (*br_store_id_cb)(const char *id, void *ctx);
int br_store_search(br_store_t *st, char kind, const char *value, br_store_id_cb cb, void *ctx);
/* A legal hold blocks erasure (br_store_erase gives -EPERM) and the sweep. */
int br_store_hold(br_store_t *st, const char *id, int on, const char *actor, const char *reason);
/* 1 if held (reason filled in when asked), 0 if not. */
int br_store_held(br_store_t *st, const char *id, char *reason, size_t reasonsz);

/* ---- users and private marks (sql-free-store/users.c) ------------------------------------ */

/* A user record (src/access/users.h encodes it) under user/<name>, sealed with a key derived
 * from the index key: only the name is in clear. -ENOKEY without the master key. */
int br_store_user_put(br_store_t *st, const char *name, const void *rec, size_t len);
/* Fills out with the record; -ENOENT when there is none, -EBADMSG when it does not open. */
int br_store_user_get(br_store_t *st, const char *name, br_buf_t *out);
typedef int (*br_store_user_cb)(const char *name, const uint8_t *rec, size_t len, void *ctx);
int br_store_user_each(br_store_t *st, br_store_user_cb cb, void *ctx);
/* Marks a sealed recording private after the fact (its sealed metadata cannot change): only
 * its own user and privacy officers may then access it. */
int br_store_set_private(br_store_t *st, const char *id, const char *actor);
int br_store_is_private(br_store_t *st, const char *id);

/* ---- a full disk ---------------------------------------------------------------- */

/* Holds bytes of disk back (a file in the store folder), so that when the
 * disk fills the recordings in progress can still be sealed. */
int br_store_reserve(br_store_t *st, size_t bytes);
int br_store_release_reserve(br_store_t *st);
/* A synced test write; 0 means the store takes writes again. */
int br_store_probe(br_store_t *st);

/* ---- master keys: rotation without downtime ----------------------------- */

/* Adds a master key to the ring: as the one that wraps new data keys
 * (make_current), or only to unwrap (a key retired but still in use). */
int br_store_add_key(br_store_t *st, const br_master_key_t *mk, int make_current);
/* Forgets a non-current key. */
int br_store_drop_key(br_store_t *st, const uint8_t id[BR_KEYID_LEN]);
/* Re-wraps every data key not under the current master key (batches of
 * 1000, synced), and the index key (meta/index-key); keys no master key in
 * the ring opens are reported and counted in failed, never skipped silently. */
int br_store_rewrap(br_store_t *st, uint64_t *rewrapped, uint64_t *failed);
/* Calls cb with every recording id and its wrapped key blob (key id first). */
typedef int (*br_key_usage_cb)(const char *id, const uint8_t *blob, void *ctx);
int br_store_key_usage(br_store_t *st, br_key_usage_cb cb, void *ctx);

/* ---- ledger --------------------------------------------------------- */

/* Appends an entry (seq and, if 0, time are filled in); synced. */
int br_ledger_append(br_store_t *st, br_ledger_entry_t *e);
/* Fills every field but seq and time (the append sets them); NULL strings become "-" ("" for
 * the detail). */
void br_ledger_entry_set(br_ledger_entry_t *e, uint8_t type, const char *actor, const char *action,
                         const char *target, const char *source, uint8_t outcome, const char *detail);
/* Convenience for audit events. */
int br_store_audit(br_store_t *st, const char *actor, const char *action, const char *target,
                   const char *source, uint8_t outcome, const char *detail);
uint64_t br_ledger_size(br_store_t *st);
int br_ledger_read(br_store_t *st, uint64_t seq, br_ledger_entry_t *e);
/* Calls cb for entries seq >= from in order; a non-zero return stops it. */
typedef int (*br_ledger_cb)(const br_ledger_entry_t *e, void *ctx);
int br_ledger_each(br_store_t *st, uint64_t from, br_ledger_cb cb, void *ctx);
const char *br_ledger_type_name(uint8_t type);
const char *br_outcome_name(uint8_t outcome);

/* Signs the ledger's current head as a new checkpoint unless the last one
 * already covers it (then *out is the last one and 1 is returned). */
int br_store_checkpoint(br_store_t *st, br_signer_t *signer, br_checkpoint_t *out);
/* -ENOENT when there is none. */
int br_store_last_checkpoint(br_store_t *st, br_checkpoint_t *out);
int br_store_get_checkpoint(br_store_t *st, uint64_t seq, br_checkpoint_t *out);
/* The signed statement: "bibrec-checkpoint v1 size=N root=HEX time=US". */
void br_checkpoint_message(const br_checkpoint_t *c, char *out, size_t outsz);
/* One-line text form (message + " sig=HEX") for auditors to keep, and back. */
void br_checkpoint_format(const br_checkpoint_t *c, char *out, size_t outsz);
int br_checkpoint_parse(const char *text, br_checkpoint_t *out);
int br_checkpoint_verify(const br_checkpoint_t *c, br_verifier_t *v);

/* Inclusion proof of recording id's "sealed" entry in the last checkpoint. */
int br_store_prove(br_store_t *st, const char *id, br_ledger_entry_t *entry,
                   br_checkpoint_t *cp, br_merkle_proof_t *proof);
/* Consistency proof from an old ledger size to a checkpoint's. */
int br_store_consistency(br_store_t *st, uint64_t old_size, const br_checkpoint_t *cp,
                         br_merkle_proof_t *proof);
/* Serialised entry bytes (its leaf is SHA-256(0x00 || bytes)). */
int br_ledger_entry_encode(const br_ledger_entry_t *e, br_buf_t *out);
int br_ledger_entry_decode(const uint8_t *data, size_t len, br_ledger_entry_t *e);

/* Full audit of the ledger: recomputes the Merkle tree from the entries,
 * checks every checkpoint's root and signature (v may be NULL: roots only),
 * and that every sealed recording has its ledger entry with the same final
 * hash and every ledger-sealed recording still exists or was erased. */
typedef void (*br_ledger_report_cb)(const char *what, const char *id, void *ctx);
int br_store_verify_ledger(br_store_t *st, br_verifier_t *v, br_ledger_report_cb cb, void *ctx,
                           uint64_t *entries, uint64_t *checkpoints);

/* Copies a consistent snapshot of the store into folder dir (which must not
 * exist yet), without stopping writers. */
int br_store_backup(br_store_t *st, const char *dir);

#endif
