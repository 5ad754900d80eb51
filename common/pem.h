/*
 * pem.h - read the PEM files of a certificate credential, for the config
 * check and for the token engine alike.
 *
 * SYNOPSIS
 *	X509 *pem_read_cert(path)
 *		The first PEM certificate at path, or NULL.
 *	EVP_PKEY *pem_read_key(path)
 *		The PEM private key at path, or NULL. An encrypted key is
 *		refused: no passphrase prompt ever happens (a daemon has no
 *		terminal).
 * Both clear OpenSSL's error queue, so nothing leaks into a later,
 * unrelated error report. The caller frees what it gets.
 */
#ifndef EXORELAY_PEM_H
#define EXORELAY_PEM_H

#include <openssl/evp.h>
#include <openssl/x509.h>

X509   *pem_read_cert(const char *path);
EVP_PKEY *pem_read_key(const char *path);

#endif
