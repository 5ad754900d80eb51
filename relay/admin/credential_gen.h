/*
 * credential_gen.h - a new key pair and self-signed certificate for an
 * account's certificate credential.
 *
 * SYNOPSIS
 *	int credential_generate(spec, &made, err, errlen)
 *		Make an RSA key of spec->bits and a self-signed certificate
 *		(CN = spec->common_name, valid spec->days from now, SHA-256),
 *		write the key to spec->key_path (mode 0600, never over an
 *		existing file) and the certificate to spec->cert_path (0644,
 *		same), give both to spec->owner when run as root. 0, or -1
 *		with err (and nothing left behind).
 *		made gets the certificate (caller X509_free) for thumbprints
 *		and the PEM.
 */
#ifndef EXORELAY_CREDENTIAL_GEN_H
#define EXORELAY_CREDENTIAL_GEN_H

#include <stddef.h>

#include <openssl/x509.h>

struct credential_spec {
    const char *common_name;
    int     days;
    int     bits;
    const char *key_path;
    const char *cert_path;
    const char *owner;          /* user name, NULL or "" = keep */
};

int credential_generate(const struct credential_spec *spec, X509 **made,
                        char *err, size_t errlen);

#endif
