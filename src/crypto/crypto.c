/*
 * GnuTLS-backed primitives. AEAD contexts are created once per recording and
 * reused for every segment, so the per-second cost of a call is one GCM
 * encryption and two SHA-256 computations.
 */
#include "crypto.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

struct br_aead {
    gnutls_aead_cipher_hd_t hd;
};

int br_random_key(uint8_t *buf, size_t len)
{
    return gnutls_rnd(GNUTLS_RND_KEY, buf, len) == 0 ? 0 : -EIO;
}

int br_random_nonce(uint8_t *buf, size_t len)
{
    return gnutls_rnd(GNUTLS_RND_NONCE, buf, len) == 0 ? 0 : -EIO;
}

void br_sha256(const struct br_iov *parts, int nparts, uint8_t out[BR_HASH_LEN])
{
    gnutls_hash_hd_t h;

    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
        abort(); /* only fails when out of memory or in FIPS self-test failure */
    for (int i = 0; i < nparts; i++)
        gnutls_hash(h, parts[i].p, parts[i].n);
    gnutls_hash_deinit(h, out);
}

void br_hmac_sha256(const uint8_t key[BR_KEY_LEN], const void *data, size_t len,
                    uint8_t out[BR_HASH_LEN])
{
    if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, BR_KEY_LEN, data, len, out) < 0)
        abort(); /* only on memory exhaustion */
}

int br_aead_new(br_aead_t **out, const uint8_t key[BR_KEY_LEN])
{
    gnutls_datum_t k = { (unsigned char *)key, BR_KEY_LEN };
    br_aead_t *a = calloc(1, sizeof *a);

    *out = NULL;
    if (!a)
        return -ENOMEM;
    if (gnutls_aead_cipher_init(&a->hd, GNUTLS_CIPHER_AES_256_GCM, &k) < 0) {
        free(a);
        return -EIO;
    }
    *out = a;
    return 0;
}

void br_aead_free(br_aead_t *a)
{
    if (!a)
        return;
    gnutls_aead_cipher_deinit(a->hd);
    free(a);
}

int br_aead_seal(br_aead_t *a, const uint8_t nonce[BR_NONCE_LEN], const void *aad, size_t aadlen,
                 const void *pt, size_t len, uint8_t *out)
{
    size_t outlen = len + BR_TAG_LEN;
    int rc = gnutls_aead_cipher_encrypt(a->hd, nonce, BR_NONCE_LEN, aad, aadlen, BR_TAG_LEN, pt, len,
                                        out, &outlen);
    return rc < 0 ? -EIO : 0;
}

int br_aead_open(br_aead_t *a, const uint8_t nonce[BR_NONCE_LEN], const void *aad, size_t aadlen,
                 const void *ct, size_t len, uint8_t *out)
{
    size_t outlen = len;
    int rc;

    if (len < BR_TAG_LEN)
        return -EBADMSG;
    rc = gnutls_aead_cipher_decrypt(a->hd, nonce, BR_NONCE_LEN, aad, aadlen, BR_TAG_LEN, ct, len,
                                    out, &outlen);
    return rc < 0 ? -EBADMSG : 0;
}

static void derive_key_id(br_master_key_t *mk)
{
    static const char label[] = "bibrec master key id v1";
    struct br_iov parts[2] = { { label, sizeof label - 1 }, { mk->key, BR_KEY_LEN } };
    uint8_t h[BR_HASH_LEN];

    br_sha256(parts, 2, h);
    memcpy(mk->id, h, BR_KEYID_LEN);
}

static int create_key_file(br_master_key_t *mk, const char *path)
{
    char hex[2 * BR_KEY_LEN + 2];
    int fd, rc;
    ssize_t n;

    rc = br_random_key(mk->key, BR_KEY_LEN);
    if (rc < 0)
        return rc;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    br_hex_encode(mk->key, BR_KEY_LEN, hex);
    hex[2 * BR_KEY_LEN] = '\n';
    n = write(fd, hex, 2 * BR_KEY_LEN + 1);
    rc = n == 2 * BR_KEY_LEN + 1 && fsync(fd) == 0 ? 0 : -EIO;
    close(fd);
    explicit_bzero(hex, sizeof hex);
    if (rc < 0)
        unlink(path);
    return rc;
}

int br_master_key_load(br_master_key_t *mk, const char *path, int create, int *created)
{
    char hex[2 * BR_KEY_LEN + 8];
    struct stat st;
    ssize_t n;
    int fd, rc;

    memset(mk, 0, sizeof *mk);
    if (created)
        *created = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        rc = create_key_file(mk, path);
        if (rc < 0)
            return rc;
        if (created)
            *created = 1;
        derive_key_id(mk);
        return 0;
    }
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || (st.st_mode & 077)) {
        close(fd);
        return -EACCES; /* readable by group or others: refuse, as ssh does */
    }
    n = read(fd, hex, sizeof hex - 1);
    close(fd);
    if (n < 2 * BR_KEY_LEN)
        return -EKEYREJECTED;
    hex[n] = 0;
    while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r' || hex[n - 1] == ' '))
        hex[--n] = 0;
    rc = br_hex_decode(hex, mk->key, BR_KEY_LEN);
    explicit_bzero(hex, sizeof hex);
    if (rc < 0)
        return -EKEYREJECTED;
    derive_key_id(mk);
    return 0;
}

void br_master_key_wipe(br_master_key_t *mk)
{
    explicit_bzero(mk, sizeof *mk);
}

int br_key_wrap(const br_master_key_t *mk, const uint8_t dk[BR_KEY_LEN], const void *aad,
                size_t aadlen, uint8_t out[BR_WRAPPED_KEY_LEN])
{
    br_aead_t *a;
    int rc;

    memcpy(out, mk->id, BR_KEYID_LEN);
    rc = br_random_nonce(out + BR_KEYID_LEN, BR_NONCE_LEN);
    if (rc < 0)
        return rc;
    rc = br_aead_new(&a, mk->key);
    if (rc < 0)
        return rc;
    rc = br_aead_seal(a, out + BR_KEYID_LEN, aad, aadlen, dk, BR_KEY_LEN,
                      out + BR_KEYID_LEN + BR_NONCE_LEN);
    br_aead_free(a);
    return rc;
}

int br_key_unwrap(const br_master_key_t *mk, const uint8_t *blob, size_t bloblen, const void *aad,
                  size_t aadlen, uint8_t dk[BR_KEY_LEN])
{
    br_aead_t *a;
    int rc;

    if (bloblen != BR_WRAPPED_KEY_LEN)
        return -EKEYREJECTED;
    if (memcmp(blob, mk->id, BR_KEYID_LEN) != 0)
        return -ENOKEY;
    rc = br_aead_new(&a, mk->key);
    if (rc < 0)
        return rc;
    rc = br_aead_open(a, blob + BR_KEYID_LEN, aad, aadlen, blob + BR_KEYID_LEN + BR_NONCE_LEN,
                      BR_KEY_LEN + BR_TAG_LEN, dk);
    br_aead_free(a);
    return rc == -EBADMSG ? -EKEYREJECTED : rc;
}

static int retired_path(const char *path, const uint8_t id[BR_KEYID_LEN], char *out, size_t outsz)
{
    char hex[2 * BR_KEYID_LEN + 1];
    br_hex_encode(id, BR_KEYID_LEN, hex);
    return (size_t)snprintf(out, outsz, "%s.%s", path, hex) < outsz ? 0 : -ENAMETOOLONG;
}

int br_master_key_load_retired(const char *path, br_master_key_t *out, int max)
{
    char dir[PATH_MAX], full[PATH_MAX + 300];
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    size_t blen = strlen(base);
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    d = opendir(dir);
    if (!d)
        return 0;
    while (n < max && (e = readdir(d)) != NULL) {
        const char *suffix = e->d_name + blen + 1;
        if (strncmp(e->d_name, base, blen) != 0 || e->d_name[blen] != '.' ||
            strlen(suffix) != 2 * BR_KEYID_LEN || strspn(suffix, "0123456789abcdef") != 2 * BR_KEYID_LEN)
            continue;
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        if (br_master_key_load(&out[n], full, 0, NULL) == 0)
            n++;
    }
    closedir(d);
    return n;
}

int br_master_key_rotate_files(const char *path, const br_master_key_t *current,
                               br_master_key_t *fresh)
{
    char newpath[PATH_MAX + 8], oldpath[PATH_MAX + 32];
    int rc;

    if ((size_t)snprintf(newpath, sizeof newpath, "%s.new", path) >= sizeof newpath)
        return -ENAMETOOLONG;
    rc = retired_path(path, current->id, oldpath, sizeof oldpath);
    if (rc < 0)
        return rc;
    unlink(newpath); /* left by a rotation that crashed before its first rename */
    rc = br_master_key_load(fresh, newpath, 1, NULL);
    if (rc < 0)
        return rc;
    if (rename(path, oldpath) < 0 || rename(newpath, path) < 0)
        return -errno;
    return 0;
}

int br_master_key_remove_retired(const char *path, const uint8_t id[BR_KEYID_LEN])
{
    char p[PATH_MAX + 32];
    int rc = retired_path(path, id, p, sizeof p);
    if (rc < 0)
        return rc;
    return unlink(p) < 0 ? -errno : 0;
}
