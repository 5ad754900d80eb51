/*
 * pem.c - read the PEM files of a certificate credential (see pem.h).
 */
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "pem.h"

/* no_passphrase - pem_password_cb that refuses: keys must be unencrypted */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void) buf;
    (void) size;
    (void) rwflag;
    (void) u;
    return -1;
}

/* pem_read_cert - the first PEM certificate at path, or NULL */
X509   *pem_read_cert(const char *path)
{
    FILE   *fp = fopen(path, "re");
    X509   *cert;

    if (fp == NULL)
        return NULL;
    cert = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    ERR_clear_error();
    return cert;
}

/* pem_read_key - the unencrypted PEM private key at path, or NULL */
EVP_PKEY *pem_read_key(const char *path)
{
    FILE   *fp = fopen(path, "re");
    EVP_PKEY *key;

    if (fp == NULL)
        return NULL;
    key = PEM_read_PrivateKey(fp, NULL, no_passphrase, NULL);
    fclose(fp);
    ERR_clear_error();
    return key;
}
