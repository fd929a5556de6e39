/*
 * Ed25519 through GnuTLS's abstract key API. Only this file and crypto.c
 * include GnuTLS.
 */
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct br_signer {
    gnutls_privkey_t key;
};

struct br_verifier {
    gnutls_pubkey_t key;
};

static int read_file(const char *path, gnutls_datum_t *out)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || st.st_size > 65536) {
        close(fd);
        return -EINVAL;
    }
    if (st.st_mode & 077) {
        close(fd);
        return -EACCES;
    }
    out->data = gnutls_malloc((size_t)st.st_size + 1);
    if (!out->data) {
        close(fd);
        return -ENOMEM;
    }
    n = read(fd, out->data, (size_t)st.st_size);
    close(fd);
    if (n != st.st_size) {
        gnutls_free(out->data);
        return -EIO;
    }
    out->size = (unsigned)n;
    return 0;
}

static int create_key(gnutls_privkey_t key, const char *path)
{
    gnutls_x509_privkey_t x = NULL;
    gnutls_datum_t pem = { NULL, 0 };
    int fd, rc = -EIO;

    if (gnutls_privkey_generate2(key, GNUTLS_PK_EDDSA_ED25519, 0, 0, NULL, 0) < 0)
        return -EIO;
    if (gnutls_privkey_export_x509(key, &x) < 0 ||
        gnutls_x509_privkey_export2_pkcs8(x, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &pem) < 0)
        goto out;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    rc = write(fd, pem.data, pem.size) == (ssize_t)pem.size && fsync(fd) == 0 ? 0 : -EIO;
    close(fd);
    if (rc < 0)
        unlink(path);
out:
    if (pem.data) {
        explicit_bzero(pem.data, pem.size);
        gnutls_free(pem.data);
    }
    if (x)
        gnutls_x509_privkey_deinit(x);
    return rc;
}

int br_signer_load(br_signer_t **out, const char *path, int create, int *created)
{
    br_signer_t *s = calloc(1, sizeof *s);
    gnutls_datum_t pem = { NULL, 0 };
    int rc;

    *out = NULL;
    if (created)
        *created = 0;
    if (!s)
        return -ENOMEM;
    if (gnutls_privkey_init(&s->key) < 0) {
        free(s);
        return -ENOMEM;
    }
    rc = read_file(path, &pem);
    if (rc == -ENOENT && create) {
        rc = create_key(s->key, path);
        if (rc == 0 && created)
            *created = 1;
    } else if (rc == 0) {
        rc = gnutls_privkey_import_x509_raw(s->key, &pem, GNUTLS_X509_FMT_PEM, NULL, 0) < 0 ||
                     gnutls_privkey_get_pk_algorithm(s->key, NULL) != GNUTLS_PK_EDDSA_ED25519
                 ? -EKEYREJECTED
                 : 0;
        explicit_bzero(pem.data, pem.size);
        gnutls_free(pem.data);
    }
    if (rc < 0) {
        br_signer_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void br_signer_free(br_signer_t *s)
{
    if (!s)
        return;
    gnutls_privkey_deinit(s->key);
    free(s);
}

int br_signer_sign(br_signer_t *s, const void *data, size_t len, uint8_t sig[BR_SIG_LEN])
{
    gnutls_datum_t d = { (unsigned char *)data, (unsigned)len }, out = { NULL, 0 };
    int rc = gnutls_privkey_sign_data2(s->key, GNUTLS_SIGN_EDDSA_ED25519, 0, &d, &out);
    if (rc < 0 || out.size != BR_SIG_LEN) {
        gnutls_free(out.data);
        return -EIO;
    }
    memcpy(sig, out.data, BR_SIG_LEN);
    gnutls_free(out.data);
    return 0;
}

int br_verifier_from_signer(br_verifier_t **out, br_signer_t *s)
{
    br_verifier_t *v = calloc(1, sizeof *v);
    *out = NULL;
    if (!v)
        return -ENOMEM;
    if (gnutls_pubkey_init(&v->key) < 0 || gnutls_pubkey_import_privkey(v->key, s->key, 0, 0) < 0) {
        br_verifier_free(v);
        return -EIO;
    }
    *out = v;
    return 0;
}

int br_signer_public_pem(br_signer_t *s, br_buf_t *out)
{
    br_verifier_t *v;
    gnutls_datum_t pem = { NULL, 0 };
    int rc = br_verifier_from_signer(&v, s);

    if (rc < 0)
        return rc;
    rc = gnutls_pubkey_export2(v->key, GNUTLS_X509_FMT_PEM, &pem) < 0 ? -EIO : 0;
    if (rc == 0)
        rc = br_buf_append(out, pem.data, pem.size);
    gnutls_free(pem.data);
    br_verifier_free(v);
    return rc;
}

int br_verifier_from_pem(br_verifier_t **out, const void *pem, size_t len)
{
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)len };
    br_verifier_t *v = calloc(1, sizeof *v);

    *out = NULL;
    if (!v)
        return -ENOMEM;
    if (gnutls_pubkey_init(&v->key) < 0 || gnutls_pubkey_import(v->key, &d, GNUTLS_X509_FMT_PEM) < 0 ||
        gnutls_pubkey_get_pk_algorithm(v->key, NULL) != GNUTLS_PK_EDDSA_ED25519) {
        br_verifier_free(v);
        return -EKEYREJECTED;
    }
    *out = v;
    return 0;
}

void br_verifier_free(br_verifier_t *v)
{
    if (!v)
        return;
    if (v->key)
        gnutls_pubkey_deinit(v->key);
    free(v);
}

int br_verifier_check(br_verifier_t *v, const void *data, size_t len, const uint8_t sig[BR_SIG_LEN])
{
    gnutls_datum_t d = { (unsigned char *)data, (unsigned)len };
    gnutls_datum_t s = { (unsigned char *)sig, BR_SIG_LEN };
    return gnutls_pubkey_verify_data2(v->key, GNUTLS_SIGN_EDDSA_ED25519, 0, &d, &s) < 0 ? -EBADMSG : 0;
}
