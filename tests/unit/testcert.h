/*
 * testcert.h - keys and self-signed certificates made on the fly for the
 * token unit tests (header-only: each test is its own program).
 *
 *	EVP_PKEY *tc_key(type)		"RSA" (2048 bits) or "EC" (P-256)
 *	X509 *tc_cert(key, cn)		self-signed, valid from now for a day
 *	int tc_write_pem(dir, name, key, cert, keypath, certpath, len)
 *					key file 0600, certificate 0644
 *	size_t tc_b64url_decode(in, out, outlen)	for checking JWTs
 */
#ifndef EXORELAY_TESTCERT_H
#define EXORELAY_TESTCERT_H

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static inline EVP_PKEY *tc_key(const char *type)
{
    if (strcmp(type, "EC") == 0)
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
}

static inline X509 *tc_cert(EVP_PKEY *key, const char *cn)
{
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();

    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *) cn, -1, -1, 0);
    X509_set_subject_name(cert, name);
    X509_set_issuer_name(cert, name);
    X509_NAME_free(name);
    X509_set_pubkey(cert, key);
    X509_sign(cert, key, EVP_sha256());
    return cert;
}

static inline int tc_write_pem(const char *dir, const char *name, EVP_PKEY *key,
                               X509 *cert, char *keypath, char *certpath,
                               size_t len)
{
    FILE *fp;

    snprintf(keypath, len, "%s/%s.key", dir, name);
    snprintf(certpath, len, "%s/%s.crt", dir, name);
    if ((fp = fopen(keypath, "w")) == NULL)
        return -1;
    chmod(keypath, 0600);
    PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
    fclose(fp);
    if ((fp = fopen(certpath, "w")) == NULL)
        return -1;
    PEM_write_X509(fp, cert);
    fclose(fp);
    return 0;
}

/* tc_b64url_decode - base64url without padding -> bytes; 0 on error */
static inline size_t tc_b64url_decode(const char *in, unsigned char *out,
                                      size_t outlen)
{
    char buf[8192];
    size_t n = strlen(in), i;
    int len, pad = 0;

    if (n + 4 >= sizeof(buf) || outlen < (n / 4 + 1) * 3)
        return 0;
    for (i = 0; i < n; i++)
        buf[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    while (i % 4) {
        buf[i++] = '=';
        pad++;
    }
    buf[i] = 0;
    len = EVP_DecodeBlock(out, (unsigned char *) buf, (int) i);
    return len < 0 ? 0 : (size_t) (len - pad);
}

#endif
