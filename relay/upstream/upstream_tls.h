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
 *	int tls_expect_name(vp, server)
 *		The name check of tls_handshake(): vp accepts only a
 *		certificate for server (an IP literal: an IP SAN of exactly
 *		that address; else a DNS name, a wildcard only as a whole
 *		left-most label). 1, or 0 for an empty name or one with
 *		a leading dot (OpenSSL would take them as "check no name"
 *		and "any name in that domain") or one OpenSSL refuses.
 *	int tls_server_is_ip(server)	an IPv4 or IPv6 literal?
 *	void tls_note_failure(&failure, store)
 *		Record the verify error of store's current certificate
 *		(its subject, issuer, subjectAltNames) unless one is
 *		recorded already: the first failure is the cause.
 *	void tls_alt_names(cert, buf, size)
 *		"DNS:a, IP:b" of cert's subjectAltName, printable only (an
 *		IP SAN of a length other than 4 or 16 is named, not read).
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
int tls_expect_name(X509_VERIFY_PARAM *vp, const char *server);
int tls_server_is_ip(const char *server);
void tls_note_failure(struct tls_failure *failure, X509_STORE_CTX *store);
void tls_alt_names(X509 *cert, char *buf, size_t size);

#endif
