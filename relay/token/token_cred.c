/*
 * token_cred.c - the credential an account proves itself with: a client
 * secret, or a certificate and its private key (PEM, RSA or EC).
 *
 * SYNOPSIS
 *	int token_cred_load(params, &cred, &diag)
 *		Read the credential files afresh (so a rotated secret or
 *		certificate is used at the next fetch without a reload).
 *		Secret and key files readable by group or others are refused.
 *		Fills cred->fingerprint, which tells state files of different
 *		credentials apart: "secret:sha256:1a2b3c4d" (the log-safe
 *		fingerprint of secret.h) or "cert:<base64url SHA-256 of DER>".
 *		0, or -1 with a diagnosis (not temporary: the admin must act).
 *	void token_cred_free(&cred)
 *
 * XXX Encrypted private keys are not supported (there is no passphrase
 * key); the diagnosis says so.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/pem.h"
#include "token_int.h"

/* load_secret - the client secret file */
static int load_secret(const struct token_params *p, struct token_cred *cred,
                       struct token_diag *diag)
{
    char err[300];

    if ((cred->secret = secret_from_file(p->secret_file, err, sizeof(err))) == NULL) {
        entra_diag_causef(diag, 0, "client_secret_file must name a file only "
                          "its owner can read (chmod 600) holding the "
                          "secret's Value", "cannot use the client secret "
                          "file: %s", err);
        return -1;
    }
    snprintf(cred->fingerprint, sizeof(cred->fingerprint), "secret:%s",
             secret_fingerprint(cred->secret));
    return 0;
}

/* cert_not_after - the certificate's end of validity, as time_t */
static time_t cert_not_after(X509 *cert)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
        return 0;
    return timegm(&tm);
}

/* load_certificate - certificate + matching private key */
static int load_certificate(const struct token_params *p, struct token_cred *cred,
                            struct token_diag *diag)
{
    char err[300], thumb[64];

    if ((cred->cert = pem_read_cert(p->cert_file)) == NULL) {
        ERR_clear_error();
        entra_diag_causef(diag, 0, "certificate_file must hold the certificate "
                          "uploaded to the app registration, in PEM",
                          "cannot read a PEM certificate from %s", p->cert_file);
        return -1;
    }
    if (file_mode_problem(p->key_file, err, sizeof(err)) < 0) {
        entra_diag_causef(diag, 0, "private_key_file must be readable by its "
                          "owner only (chmod 600)", "cannot use the private "
                          "key file: %s", err);
        return -1;
    }
    if ((cred->key = pem_read_key(p->key_file)) == NULL) {
        ERR_clear_error();
        entra_diag_causef(diag, 0, "private_key_file must hold an unencrypted "
                          "PEM private key (RSA or EC P-256); decrypt it with "
                          "openssl pkey", "cannot read the private key in %s",
                          p->key_file);
        return -1;
    }
    if (X509_check_private_key(cred->cert, cred->key) != 1) {
        ERR_clear_error();
        entra_diag_set(diag, 0, "the private key does not belong to the "
                       "certificate", "private_key_file must be the key of "
                       "certificate_file", "");
        return -1;
    }
    jwt_thumbprint(cred->cert, EVP_sha256(), thumb, sizeof(thumb));
    snprintf(cred->fingerprint, sizeof(cred->fingerprint), "cert:%s", thumb);
    cred->not_after = cert_not_after(cred->cert);
    return 0;
}

/* token_cred_load - see above */
int token_cred_load(const struct token_params *p, struct token_cred *cred,
                    struct token_diag *diag)
{
    memset(cred, 0, sizeof(*cred));
    if (p->secret_file)
        return load_secret(p, cred, diag);
    if (p->cert_file && p->key_file)
        return load_certificate(p, cred, diag);
    entra_diag_set(diag, 0, "the account has no credential", "set "
                   "client_secret_file, or certificate_file and "
                   "private_key_file", "");
    return -1;
}

/* token_cred_free - wipe the secret, free the key and certificate */
void token_cred_free(struct token_cred *cred)
{
    secret_free(cred->secret);
    EVP_PKEY_free(cred->key);
    X509_free(cred->cert);
    memset(cred, 0, sizeof(*cred));
}
