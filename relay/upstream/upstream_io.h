/*
 * upstream_io.h - buffered line I/O with timeouts on the upstream socket,
 * plain before STARTTLS and through OpenSSL after it.
 *
 * SYNOPSIS
 *	int net_connect(host, port, timeout, &nf)
 *		A connected non-blocking TCP socket to host (every address
 *		it resolves to, in turn, within timeout seconds in all), or -1
 *		with nf saying why: a resolver error, or the errno of the last
 *		address tried (ETIMEDOUT when none answered).
 *	upio_init(io, fd, timeout)         timeout: seconds per read or write
 *	int upio_write(io, buf, len)       buffer; sends when 64 KB are waiting
 *	int upio_write_secret(io, buf, len) same, and wipe the buffer once sent
 *	int upio_flush(io)
 *	int upio_read_line(io, buf, size, &len)  one line without CRLF
 *	int upio_starttls(io, ctx, server, &failure)
 *	int upio_idle_ok(io)               nothing arrived while idle, still open
 *	void upio_close(io)
 *
 * io->deadline, when set, cuts every wait short at that instant (mono_ms):
 * upstream_open sets it so that connect_timeout bounds the TCP connection
 * and the greeting together, whatever command_timeout says.
 *
 * Every function returning int gives 0 or -1; after -1 the connection is
 * unusable and io->err holds the errno (ETIMEDOUT for a timeout, 0 when the
 * server closed the connection).
 */
#ifndef EXORELAY_UPSTREAM_IO_H
#define EXORELAY_UPSTREAM_IO_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "upstream_tls.h"

#define UPIO_RBUF	16384	/* longest reply line we accept */
#define UPIO_WFLUSH	65536	/* send when this much is buffered */

struct net_failure {
    int     gai_error;          /* getaddrinfo() error, 0 if resolved */
    int     err;                /* errno of the last connect attempt */
    char    address[64];        /* the address last tried */
};

struct upio {
    int     fd;
    SSL    *ssl;                /* NULL before STARTTLS */
    int     timeout;
    long long deadline;         /* 0, or no wait goes past this (mono_ms) */
    int     failed;
    int     err;
    int     wipe;               /* wbuf has held a secret */
    size_t  rpos, rlen;
    char    rbuf[UPIO_RBUF];
    char   *wbuf;
    size_t  wlen, wcap;
};

int net_connect(const char *host, int port, int timeout, struct net_failure *nf);
void upio_init(struct upio *io, int fd, int timeout);
int upio_write(struct upio *io, const void *buf, size_t len);
int upio_write_secret(struct upio *io, const void *buf, size_t len);
int upio_flush(struct upio *io);
int upio_read_line(struct upio *io, char *buf, size_t size, size_t *len);
int upio_starttls(struct upio *io, SSL_CTX *ctx, const char *server,
                  struct tls_failure *failure);
int upio_idle_ok(struct upio *io);
void upio_close(struct upio *io);

#endif
