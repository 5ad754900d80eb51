/*
 * conf_file.c - check files named by the config (see conf_file.h).
 *
 * "exorelay check" catches here what would otherwise fail at the first
 * token request, hours later: a secret left world-readable by an editor,
 * a DER certificate where PEM is wanted, a key of another certificate.
 * OpenSSL does the parsing; its error queue is cleared after each check
 * so nothing leaks into a later, unrelated error report.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "conf_file.h"
#include "pem.h"
#include "secret.h"

/* Unprivileged readers (exorelay-sendmail run by any user) cannot open the
 * secret files and need only the rest of the config. */
static int files_unchecked;

/* config_skip_file_checks - see config.h */
void    config_skip_file_checks(int skip)
{
    files_unchecked = skip;
}

/* readable - absolute path to a regular file we can open for reading */
static int readable(const char *path, char *err, size_t errlen)
{
    struct stat st;
    int     fd;

    if (path[0] != '/') {
        snprintf(err, errlen, "'%s': give an absolute path", path);
        return -1;
    }
    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        return -1;
    }
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "cannot read %s: %s (check its owner and mode)",
                 path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

/* cf_secret_file - readable by us, by nobody else */
int cf_secret_file(const char *path, char *err, size_t errlen)
{
    if (files_unchecked)
        return 0;
    if (readable(path, err, errlen) < 0)
        return -1;
    return file_mode_problem(path, err, errlen);
}

/* cf_key_file - a 0600 unencrypted PEM private key */
int cf_key_file(const char *path, char *err, size_t errlen)
{
    EVP_PKEY *key;

    if (files_unchecked)
        return 0;
    if (cf_secret_file(path, err, errlen) < 0)
        return -1;
    if ((key = pem_read_key(path)) == NULL) {
        snprintf(err, errlen, "%s is not an unencrypted PEM private key "
                 "(want -----BEGIN PRIVATE KEY-----; decrypt it with "
                 "openssl pkey -in KEY -out NEWKEY)", path);
        return -1;
    }
    EVP_PKEY_free(key);
    return 0;
}

/* cf_cert_file - a PEM certificate */
int cf_cert_file(const char *path, char *err, size_t errlen)
{
    if (files_unchecked)
        return 0;
    X509   *cert;

    if (readable(path, err, errlen) < 0)
        return -1;
    if ((cert = pem_read_cert(path)) == NULL) {
        snprintf(err, errlen, "%s is not a PEM certificate (want "
                 "-----BEGIN CERTIFICATE-----; convert DER with "
                 "openssl x509 -inform der -in CERT -out CERT.pem)", path);
        return -1;
    }
    X509_free(cert);
    return 0;
}

/* cf_key_matches - does the private key belong to the certificate? */
int cf_key_matches(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
    if (files_unchecked)
        return 0;
    X509   *cert = pem_read_cert(cert_path);
    EVP_PKEY *key = pem_read_key(key_path);
    int     ok = cert && key && X509_check_private_key(cert, key) == 1;

    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    if (ok)
        return 0;
    snprintf(err, errlen, "%s is not the private key of %s", key_path, cert_path);
    return -1;
}
