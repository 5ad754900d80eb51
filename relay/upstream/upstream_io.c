/*
 * upstream_io.c - TCP connect with a timeout, and buffered reads and writes
 * with a timeout each, over a plain or TLS socket (upstream_io.h).
 *
 * The socket is non-blocking and every wait is a poll() with a deadline, so
 * connect_timeout and command_timeout hold for TLS as well as plain I/O.
 * Writes are collected in a buffer and sent in one go by upio_flush: that
 * is what makes a pipelined group of commands one TCP segment and one
 * round trip.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "support/iowait.h"
#include "upstream_io.h"

/* connect_one - non-blocking connect to one address, until deadline */
static int connect_one(const struct addrinfo *ai, long long deadline_ms, int *err)
{
    int     fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
    int     one = 1;
    socklen_t len = sizeof(*err);

    if (fd < 0) {
        *err = errno;
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        *err = errno;
    } else if (fd_wait(fd, POLLOUT, deadline_ms) < 0) {
        *err = ETIMEDOUT;
    } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) < 0) {
        *err = errno;
    }
    if (*err != 0) {
        close(fd);
        return -1;
    }
    /* Pipelined groups are flushed whole; do not let Nagle hold the tail. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* net_connect - resolve host and connect to the first address that answers */
int net_connect(const char *host, int port, int timeout, struct net_failure *nf)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res, *ai;
    char    service[16];
    long long deadline = mono_ms() + (long long) timeout * 1000;
    int     fd = -1;

    memset(nf, 0, sizeof(*nf));
    snprintf(service, sizeof(service), "%d", port);
    /* XXX getaddrinfo() has no timeout: a dead resolver costs its own. */
    if ((nf->gai_error = getaddrinfo(host, service, &hints, &res)) != 0)
        return -1;
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        getnameinfo(ai->ai_addr, ai->ai_addrlen, nf->address, sizeof(nf->address),
                    NULL, 0, NI_NUMERICHOST);
        nf->err = 0;
        fd = connect_one(ai, deadline, &nf->err);
    }
    freeaddrinfo(res);
    return fd;
}

/* op_deadline - when the wait of one operation must end */
static long long op_deadline(const struct upio *io)
{
    long long d = mono_ms() + (long long) io->timeout * 1000;

    return io->deadline != 0 && io->deadline < d ? io->deadline : d;
}

/* upio_init - take over the connected socket fd */
void upio_init(struct upio *io, int fd, int timeout)
{
    memset(io, 0, sizeof(*io));
    io->fd = fd;
    io->timeout = timeout;
}

/* fail - mark the connection unusable with errno err; returns -1 */
static int fail(struct upio *io, int err)
{
    if (!io->failed)
        io->err = err;
    io->failed = 1;
    ERR_clear_error();
    return -1;
}

/* io_wait - wait as OpenSSL or the kernel asks; -1 on timeout */
static int io_wait(struct upio *io, int ssl_rc, short plain_events, long long deadline)
{
    short   events = plain_events;

    if (io->ssl != NULL) {
        int     e = SSL_get_error(io->ssl, ssl_rc);

        if (e == SSL_ERROR_ZERO_RETURN)
            return fail(io, 0);                 /* closed by the server */
        if (e == SSL_ERROR_SYSCALL)
            return fail(io, errno);             /* 0: closed without notify */
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            return fail(io, EPROTO);
        events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
    } else if (errno != EAGAIN && errno != EINTR) {
        return fail(io, errno);
    }
    if (fd_wait(io->fd, events, deadline) < 0)
        return fail(io, ETIMEDOUT);
    return 0;
}

/* upio_flush - send everything buffered */
int upio_flush(struct upio *io)
{
    size_t  done = 0;
    long long deadline = op_deadline(io);
    ssize_t n;

    while (!io->failed && done < io->wlen) {
        errno = 0;
        if (io->ssl != NULL)
            n = SSL_write(io->ssl, io->wbuf + done, (int) (io->wlen - done));
        else
            n = send(io->fd, io->wbuf + done, io->wlen - done, MSG_NOSIGNAL);
        if (n > 0)
            done += (size_t) n;
        else if (io_wait(io, (int) n, POLLOUT, deadline) < 0)
            break;
    }
    if (io->wipe) {
        OPENSSL_cleanse(io->wbuf, io->wcap);
        io->wipe = 0;
    }
    io->wlen = 0;
    return io->failed ? -1 : 0;
}

/* buffer_room - make room for len more bytes in the write buffer */
static int buffer_room(struct upio *io, size_t len)
{
    size_t  cap = io->wcap ? io->wcap : 4096;
    char   *nbuf;

    if (io->wlen + len <= io->wcap)
        return 0;
    while (cap < io->wlen + len)
        cap *= 2;
    if ((nbuf = malloc(cap)) == NULL)
        return fail(io, ENOMEM);
    if (io->wlen)
        memcpy(nbuf, io->wbuf, io->wlen);
    if (io->wbuf != NULL) {
        OPENSSL_cleanse(io->wbuf, io->wcap);    /* may hold a token */
        free(io->wbuf);
    }
    io->wbuf = nbuf;
    io->wcap = cap;
    return 0;
}

/* upio_write - buffer len bytes; send when enough is waiting */
int upio_write(struct upio *io, const void *buf, size_t len)
{
    if (io->failed || buffer_room(io, len) < 0)
        return -1;
    memcpy(io->wbuf + io->wlen, buf, len);
    io->wlen += len;
    return io->wlen >= UPIO_WFLUSH ? upio_flush(io) : 0;
}

/* upio_write_secret - buffer bytes that must not outlive their sending */
int upio_write_secret(struct upio *io, const void *buf, size_t len)
{
    io->wipe = 1;
    return upio_write(io, buf, len);
}

/* fill - read what is available into rbuf, waiting until deadline */
static int fill(struct upio *io, long long deadline)
{
    ssize_t n;

    if (io->rpos > 0) {
        memmove(io->rbuf, io->rbuf + io->rpos, io->rlen - io->rpos);
        io->rlen -= io->rpos;
        io->rpos = 0;
    }
    if (io->rlen == sizeof(io->rbuf))
        return fail(io, EMSGSIZE);              /* a line longer than 16 KB */
    for (;;) {
        errno = 0;
        if (io->ssl != NULL)
            n = SSL_read(io->ssl, io->rbuf + io->rlen, (int) (sizeof(io->rbuf) - io->rlen));
        else
            n = recv(io->fd, io->rbuf + io->rlen, sizeof(io->rbuf) - io->rlen, 0);
        if (n > 0) {
            io->rlen += (size_t) n;
            return 0;
        }
        if (n == 0 && io->ssl == NULL)
            return fail(io, 0);
        if (io_wait(io, (int) n, POLLIN, deadline) < 0)
            return -1;
    }
}

/* upio_read_line - one line without its CRLF; cut to size - 1 bytes */
int upio_read_line(struct upio *io, char *buf, size_t size, size_t *len)
{
    long long deadline = op_deadline(io);
    char   *start, *nl;
    size_t  n;

    if (io->failed || (io->wlen > 0 && upio_flush(io) < 0))
        return -1;
    while ((nl = memchr(io->rbuf + io->rpos, '\n', io->rlen - io->rpos)) == NULL)
        if (fill(io, deadline) < 0)
            return -1;
    start = io->rbuf + io->rpos;
    n = (size_t) (nl - start);
    io->rpos += n + 1;
    if (n > 0 && start[n - 1] == '\r')
        n--;
    *len = n < size - 1 ? n : size - 1;
    memcpy(buf, start, *len);
    buf[*len] = 0;
    return 0;
}

/* upio_starttls - TLS from here on; the server must not have said more */
int upio_starttls(struct upio *io, SSL_CTX *ctx, const char *server,
                  struct tls_failure *failure)
{
    long long deadline = op_deadline(io);

    /* Bytes after the 220 would be plaintext injected into the TLS session
     * (CVE-2011-0411 style): refuse rather than treat them as TLS data. */
    if (io->rpos != io->rlen) {
        memset(failure, 0, sizeof(*failure));
        snprintf(failure->reason, sizeof(failure->reason),
                 "the server sent data right after its STARTTLS reply");
        return fail(io, EPROTO);
    }
    if ((io->ssl = tls_handshake(ctx, io->fd, server, deadline, failure)) == NULL)
        return fail(io, failure->timed_out ? ETIMEDOUT : EPROTO);
    return 0;
}

/* upio_idle_ok - an idle connection got nothing (like a 421) and is open */
int upio_idle_ok(struct upio *io)
{
    struct pollfd pfd = {.fd = io->fd, .events = POLLIN};
    int     n;

    if (io->failed || io->rpos != io->rlen)
        return 0;
    if (poll(&pfd, 1, 0) == 0)
        return 1;
    /* Readable: a TLS record that is no data (a session ticket) is fine;
     * application data or EOF while idle means the server gave up on us. */
    if (io->ssl == NULL)
        return 0;
    n = SSL_read(io->ssl, io->rbuf, (int) sizeof(io->rbuf));
    if (n > 0) {
        io->rlen = (size_t) n;
        io->rpos = 0;
        return 0;
    }
    n = SSL_get_error(io->ssl, n);
    ERR_clear_error();
    return n == SSL_ERROR_WANT_READ;
}

/* upio_close - free the TLS state and buffers, close the socket */
void upio_close(struct upio *io)
{
    if (io->ssl != NULL) {
        if (!io->failed)
            SSL_shutdown(io->ssl);              /* close_notify, no waiting */
        SSL_free(io->ssl);
        io->ssl = NULL;
    }
    if (io->fd >= 0)
        close(io->fd);
    io->fd = -1;
    if (io->wbuf != NULL)
        OPENSSL_cleanse(io->wbuf, io->wcap);
    free(io->wbuf);
    io->wbuf = NULL;
    io->wlen = io->wcap = 0;
    ERR_clear_error();
}
