/*
 * tamper: flips one bit of one value in a stopped bibrecd's LevelDB store.
 *
 * The e2e tests use it to prove that `bibrec verify` notices a change to a sealed recording: each
 * segment is stored under rec/ID/seg/NNNNNNNN as [chain link][nonce][ciphertext+tag], so flipping
 * any byte must break either the AEAD tag or the hash chain. The program opens the database with
 * LevelDB's C API, reads the value, XORs one byte with 0x01, writes it back with a synchronous
 * write and says what it changed. With --list it prints the keys under a prefix, which is how a
 * test finds a recording's segment keys without knowing the daemon's internals.
 *
 * LevelDB allows one process per database, so the daemon must be stopped first; the lock error is
 * reported as such.
 *
 * A recording's audio is not in LevelDB but in a file of its own (store/audio/XX/ID: "bibrecA1",
 * the id, then records of a 4-byte little-endian length and the segment's bytes); --segment flips
 * the middle byte of segment N there, and --segments counts them.
 *
 * usage: tamper DBDIR KEY [OFFSET]      (OFFSET defaults to the middle of the value)
 *        tamper DBDIR --list PREFIX
 *        tamper DBDIR --delete KEY        (removes a record, as a roll-back would)
 *        tamper --segment AUDIOFILE N
 *        tamper --segments AUDIOFILE
 * Exit status: 0 done, 1 database or key error, 64 bad usage.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <leveldb/c.h>

#define EXIT_FAILED 1
#define EXIT_USAGE 64

static const char *progname = "tamper";

static void usage(void)
{
    fprintf(stderr,
            "usage: %s DBDIR KEY [OFFSET]\n"
            "       %s DBDIR --list PREFIX\n"
            "       %s DBDIR --delete KEY\n"
            "       %s --segment AUDIOFILE N\n"
            "       %s --segments AUDIOFILE\n"
            "XORs the byte at OFFSET (default: the middle) of the value under KEY with 0x01,\n"
            "lists the keys that start with PREFIX, or deletes KEY. The database must not be open\n"
            "elsewhere. --segment flips the middle byte of segment N of a recording's audio file,\n"
            "--segments counts its segments.\n",
            progname, progname, progname, progname, progname);
}

/* Keys are expected to be text, but a store bug could put anything there; escaping keeps every
 * key on one line so that shell pipelines can read the list. */
static void print_escaped(FILE *out, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            fputc(ch, out);
        else
            fprintf(out, "\\x%02x", ch);
    }
}

static leveldb_t *db_open(const char *dir)
{
    leveldb_options_t *opts;
    leveldb_t *db;
    char *err = NULL;
    char current[4096];
    struct stat st;

    /* LevelDB creates the folder and its LOCK file before it notices that there is no database,
     * so a typo in DBDIR is caught here rather than leaving litter behind. */
    if ((size_t)snprintf(current, sizeof(current), "%s/CURRENT", dir) >= sizeof(current) ||
        stat(current, &st) != 0) {
        fprintf(stderr, "%s: %s is not a LevelDB database (no CURRENT file)\n", progname, dir);
        return NULL;
    }
    opts = leveldb_options_create();
    leveldb_options_set_create_if_missing(opts, 0);
    db = leveldb_open(opts, dir, &err);
    leveldb_options_destroy(opts);
    if (err != NULL) {
        fprintf(stderr, "%s: cannot open %s: %s%s\n", progname, dir, err,
                strstr(err, "lock") != NULL ? " (is bibrecd still running?)" : "");
        leveldb_free(err);
        return NULL;
    }
    return db;
}

static int list_prefix(leveldb_t *db, const char *prefix)
{
    leveldb_readoptions_t *ropts = leveldb_readoptions_create();
    leveldb_iterator_t *it = leveldb_create_iterator(db, ropts);
    size_t plen = strlen(prefix);
    char *err = NULL;
    int rc = 0;

    for (leveldb_iter_seek(it, prefix, plen); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t klen;
        const char *key = leveldb_iter_key(it, &klen);

        if (klen < plen || memcmp(key, prefix, plen) != 0)
            break;
        print_escaped(stdout, key, klen);
        fputc('\n', stdout);
    }
    leveldb_iter_get_error(it, &err);
    if (err != NULL) {
        fprintf(stderr, "%s: iterating over '%s': %s\n", progname, prefix, err);
        leveldb_free(err);
        rc = -1;
    }
    leveldb_iter_destroy(it);
    leveldb_readoptions_destroy(ropts);
    return rc;
}

static int parse_offset(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;

    if (s[0] == '-' || s[0] == '\0')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (size_t)v;
    return 0;
}

/* offset is NULL for the default, the middle of the value. */
static int flip_byte(leveldb_t *db, const char *key, const size_t *offset_arg)
{
    leveldb_readoptions_t *ropts = leveldb_readoptions_create();
    leveldb_writeoptions_t *wopts = leveldb_writeoptions_create();
    char *value = NULL, *err = NULL;
    size_t vlen = 0, offset;
    unsigned char before;
    int rc = -1;

    value = leveldb_get(db, ropts, key, strlen(key), &vlen, &err);
    if (err != NULL) {
        fprintf(stderr, "%s: reading %s: %s\n", progname, key, err);
        goto fail;
    }
    if (value == NULL) {
        fprintf(stderr, "%s: no key %s in the database\n", progname, key);
        goto fail;
    }
    if (vlen == 0) {
        fprintf(stderr, "%s: value of %s is empty, no byte to change\n", progname, key);
        goto fail;
    }
    offset = offset_arg != NULL ? *offset_arg : vlen / 2;
    if (offset >= vlen) {
        fprintf(stderr, "%s: offset %zu is past the end of the %zu-byte value of %s\n", progname,
                offset, vlen, key);
        goto fail;
    }

    before = (unsigned char)value[offset];
    value[offset] = (char)(before ^ 0x01);
    /* A synchronous write, so the change is on disk before the next test step opens the store. */
    leveldb_writeoptions_set_sync(wopts, 1);
    leveldb_put(db, wopts, key, strlen(key), value, vlen, &err);
    if (err != NULL) {
        fprintf(stderr, "%s: writing %s: %s\n", progname, key, err);
        goto fail;
    }
    printf("%s: byte %zu of %zu changed 0x%02x -> 0x%02x\n", key, offset, vlen, before,
           (unsigned char)value[offset]);
    rc = 0;

fail:
    if (err != NULL)
        leveldb_free(err);
    if (value != NULL)
        leveldb_free(value);
    leveldb_writeoptions_destroy(wopts);
    leveldb_readoptions_destroy(ropts);
    return rc;
}

static int delete_key(leveldb_t *db, const char *key)
{
    leveldb_readoptions_t *ropts = leveldb_readoptions_create();
    leveldb_writeoptions_t *wopts = leveldb_writeoptions_create();
    char *value, *err = NULL;
    size_t vlen;
    int rc = -1;

    value = leveldb_get(db, ropts, key, strlen(key), &vlen, &err);
    if (err != NULL || value == NULL) {
        fprintf(stderr, "%s: no key %s in the database\n", progname, key);
        goto out;
    }
    leveldb_writeoptions_set_sync(wopts, 1);
    leveldb_delete(db, wopts, key, strlen(key), &err);
    if (err != NULL) {
        fprintf(stderr, "%s: deleting %s: %s\n", progname, key, err);
        goto out;
    }
    printf("%s: deleted (%zu bytes)\n", key, vlen);
    rc = 0;
out:
    if (err != NULL)
        leveldb_free(err);
    if (value != NULL)
        leveldb_free(value);
    leveldb_writeoptions_destroy(wopts);
    leveldb_readoptions_destroy(ropts);
    return rc;
}

#define AUDIO_HDR 28 /* "bibrecA1" and the 20-character id */

/* Finds segment n (n < 0: counts them) in an audio file; flips its middle byte. */
static int audio_segment(const char *path, long n)
{
    unsigned char len4[4];
    long count = 0, off = AUDIO_HDR;
    FILE *f = fopen(path, "r+b");
    int rc = -1;

    if (!f) {
        fprintf(stderr, "%s: cannot open %s: %s\n", progname, path, strerror(errno));
        return -1;
    }
    while (fseek(f, off, SEEK_SET) == 0 && fread(len4, 1, 4, f) == 4) {
        long len = (long)len4[0] | (long)len4[1] << 8 | (long)len4[2] << 16 | (long)len4[3] << 24;
        if (count == n) {
            int ch;
            if (fseek(f, off + 4 + len / 2, SEEK_SET) != 0 || (ch = fgetc(f)) == EOF)
                break;
            fseek(f, off + 4 + len / 2, SEEK_SET);
            fputc(ch ^ 0x01, f);
            printf("%s: segment %ld: byte %ld of %ld changed 0x%02x -> 0x%02x\n", path, n, len / 2,
                   len, ch, ch ^ 0x01);
            rc = 0;
            break;
        }
        count++;
        off += 4 + len;
    }
    if (n < 0) {
        printf("%ld\n", count);
        rc = 0;
    } else if (rc < 0) {
        fprintf(stderr, "%s: %s has no segment %ld (%ld found)\n", progname, path, n, count);
    }
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

int main(int argc, char **argv)
{
    leveldb_t *db;
    size_t offset;
    int rc;

    if (argc == 3 && strcmp(argv[1], "--segments") == 0)
        return audio_segment(argv[2], -1) < 0 ? EXIT_FAILED : 0;
    if (argc == 4 && strcmp(argv[1], "--segment") == 0) {
        if (parse_offset(argv[3], &offset) < 0) {
            usage();
            return EXIT_USAGE;
        }
        return audio_segment(argv[2], (long)offset) < 0 ? EXIT_FAILED : 0;
    }
    if (argc < 3 || argc > 4) {
        usage();
        return EXIT_USAGE;
    }
    if ((strcmp(argv[2], "--list") == 0 || strcmp(argv[2], "--delete") == 0) && argc != 4) {
        usage();
        return EXIT_USAGE;
    }
    /* The offset is checked before the database is opened, so a typo touches nothing. */
    if (strcmp(argv[2], "--list") != 0 && strcmp(argv[2], "--delete") != 0 && argc == 4 &&
        parse_offset(argv[3], &offset) < 0) {
        fprintf(stderr, "%s: offset '%s' is not a non-negative number\n", progname, argv[3]);
        return EXIT_USAGE;
    }
    db = db_open(argv[1]);
    if (db == NULL)
        return EXIT_FAILED;
    if (strcmp(argv[2], "--list") == 0)
        rc = list_prefix(db, argv[3]);
    else if (strcmp(argv[2], "--delete") == 0)
        rc = delete_key(db, argv[3]);
    else
        rc = flip_byte(db, argv[2], argc == 4 ? &offset : NULL);
    leveldb_close(db);
    return rc < 0 ? EXIT_FAILED : 0;
}
