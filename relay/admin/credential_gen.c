/*
 * credential_gen.c - key pair and self-signed certificate with OpenSSL
 * (credential_gen.h).
 *
 * Entra ID takes any RSA certificate for a client-credential: it only
 * checks that the assertion is signed by the key of a certificate uploaded
 * to the app, so self-signed is what Microsoft's own guides use. The key
 * is written with O_EXCL at mode 0600 from the start: it never exists
 * with wider permissions, and an existing key is never overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "credential_gen.h"

/* ossl_err - the latest OpenSSL error, for err */
static const char *ossl_err(void)
{
    static __thread char buf[256];

    ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
    return buf;
}

/* add_ext - one X509v3 extension */
static int add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int     ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
        return 0;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* random_serial - 16 random bytes, positive */
static int random_serial(X509 *cert)
{
    unsigned char bytes[16];
    BIGNUM *bn;
    int     ok;

    if (RAND_bytes(bytes, sizeof(bytes)) != 1)
        return 0;
    bytes[0] &= 0x7f;
    bn = BN_bin2bn(bytes, sizeof(bytes), NULL);
    ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    return ok;
}

/* self_signed - the certificate for key */
static X509 *self_signed(EVP_PKEY *key, const struct credential_spec *spec)
{
    X509   *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    int     ok = cert != NULL && name != NULL
        && X509_set_version(cert, 2) && random_serial(cert)
        && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                      (const unsigned char *) spec->common_name, -1, -1, 0)
        && X509_set_subject_name(cert, name) && X509_set_issuer_name(cert, name)
        && X509_gmtime_adj(X509_getm_notBefore(cert), 0)
        && X509_gmtime_adj(X509_getm_notAfter(cert), (long) spec->days * 86400)
        && X509_set_pubkey(cert, key)
        && add_ext(cert, NID_basic_constraints, "critical,CA:FALSE")
        && add_ext(cert, NID_key_usage, "critical,digitalSignature")
        && add_ext(cert, NID_subject_key_identifier, "hash")
        && X509_sign(cert, key, EVP_sha256()) > 0;

    X509_NAME_free(name);
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* open_new - create path exclusively with mode, as a stdio stream */
static FILE *open_new(const char *path, mode_t mode, const char *owner,
                      char *err, size_t errlen)
{
    int     fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    struct passwd *pw;
    FILE   *fp;

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (geteuid() == 0 && owner && *owner && (pw = getpwnam(owner)) != NULL
        && fchown(fd, pw->pw_uid, pw->pw_gid) < 0) {
        snprintf(err, errlen, "%s: chown %s: %s", path, owner, strerror(errno));
        close(fd);
        unlink(path);
        return NULL;
    }
    if ((fp = fdopen(fd, "w")) == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
    }
    return fp;
}

/* write_pem - key or certificate to a new file; -1 with err */
static int write_pem(const char *path, mode_t mode, const char *owner, EVP_PKEY *key,
                     X509 *cert, char *err, size_t errlen)
{
    FILE   *fp = open_new(path, mode, owner, err, errlen);
    int     ok;

    if (fp == NULL)
        return -1;
    ok = key ? PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL)
        : PEM_write_X509(fp, cert);
    ok = ok && fflush(fp) == 0 && fsync(fileno(fp)) == 0;
    if (fclose(fp) != 0 || !ok) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

/* credential_generate - see credential_gen.h */
int credential_generate(const struct credential_spec *spec, X509 **made,
                        char *err, size_t errlen)
{
    EVP_PKEY *key = EVP_RSA_gen((unsigned int) spec->bits);
    X509   *cert = key ? self_signed(key, spec) : NULL;

    *made = NULL;
    if (cert == NULL) {
        snprintf(err, errlen, "cannot make the key or certificate: %s", ossl_err());
        EVP_PKEY_free(key);
        return -1;
    }
    if (write_pem(spec->key_path, 0600, spec->owner, key, NULL, err, errlen) < 0) {
        EVP_PKEY_free(key);
        X509_free(cert);
        return -1;
    }
    EVP_PKEY_free(key);
    if (write_pem(spec->cert_path, 0644, spec->owner, NULL, cert, err, errlen) < 0) {
        unlink(spec->key_path);
        X509_free(cert);
        return -1;
    }
    *made = cert;
    return 0;
}
