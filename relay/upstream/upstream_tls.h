/*
 * upstream_tls.h - the TLS client side of an upstream connection (OpenSSL).
 *
 * SYNOPSIS
 *	SSL_CTX *tls_client_ctx(ca_file, err, errlen)
 *		The process' client context: TLS 1.2 or newer, peer
 *		verification on, trust = system store plus ca_file (extra
 *		anchors). Made once per ca_file value and shared; the caller
 *		gets its own reference (SSL_CTX_free when done).
 *	SSL *tls_handshake(ctx, fd, server, deadline_ms, &failure)
 *		Client handshake on the non-blocking socket fd, verifying the
 *		chain and that the certificate is for server (a host name, or
 *		an IP literal checked as an IP address). NULL on failure with
 *		failure filled: which certificate could not be verified and
 *		why, or the handshake error.
 *
 * Added for "exorelay test":
 *	void tls_describe(ssl, buf, size)
 *		The verified session in one line: protocol, cipher, the
 *		server certificate's subject, issuer and expiry.
 */
#ifndef EXORELAY_UPSTREAM_TLS_H
#define EXORELAY_UPSTREAM_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

struct tls_failure {
    long    verify_error;       /* X509_V_ERR_*; X509_V_OK: not a verify error */
    int     depth;              /* of the failing certificate in the chain */
    int     timed_out;          /* the handshake exceeded its deadline */
    char    subject[256];       /* failing certificate, RFC 2253 form */
    char    issuer[256];
    char    names[256];         /* leaf subjectAltNames ("DNS:a, IP:b") */
    char    reason[256];        /* verify error text or OpenSSL error */
};

SSL_CTX *tls_client_ctx(const char *ca_file, char *err, size_t errlen);
SSL *tls_handshake(SSL_CTX *ctx, int fd, const char *server, long long deadline_ms,
                   struct tls_failure *failure);
void tls_describe(SSL *ssl, char *buf, size_t size);

#endif
