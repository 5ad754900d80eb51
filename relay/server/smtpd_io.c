/*
 * smtpd_io.c - buffered client I/O of the SMTP server (see smtpd_io.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/iowait.h"
#include "smtpd_io.h"

/* cio_init - wrap an accepted connection */
void cio_init(struct cio *c, int fd, int stop_fd)
{
    c->fd = fd;
    c->stop_fd = stop_fd;
    c->broken = 0;
    c->ipos = c->ilen = 0;
    c->olen = 0;
}

/* cio_flush - write all queued replies */
int cio_flush(struct cio *c)
{
    size_t off = 0;

    while (off < c->olen && !c->broken) {
        ssize_t n = send(c->fd, c->out + off, c->olen - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            c->broken = 1;
        else
            off += (size_t) n;
    }
    c->olen = 0;
    return c->broken ? -1 : 0;
}

/* compact - move unread bytes to the front to make room */
static void compact(struct cio *c)
{
    if (c->ipos > 0) {
        memmove(c->in, c->in + c->ipos, c->ilen - c->ipos);
        c->ilen -= c->ipos;
        c->ipos = 0;
    }
}

/* read_some - one read(2) into the free space; CIO_OK, CIO_EOF, CIO_ERR */
static int read_some(struct cio *c, int flags)
{
    ssize_t n;

    compact(c);
    if (c->ilen == sizeof(c->in))
        return CIO_OK;                  /* full: the caller consumes first */
    do {
        n = recv(c->fd, c->in + c->ilen, sizeof(c->in) - c->ilen, flags);
    } while (n < 0 && errno == EINTR);
    if (n == 0)
        return CIO_EOF;
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? CIO_TIMEOUT : CIO_ERR;
    c->ilen += (size_t) n;
    return CIO_OK;
}

/* cio_fill_until - wait for and read more bytes (flushes replies first);
 * deadline_ms: mono_ms() time, <= 0 none */
int cio_fill_until(struct cio *c, long long deadline_ms, int stoppable)
{
    struct pollfd pfd[2];
    int nfd = 1, rc;

    if (cio_flush(c) < 0)
        return CIO_ERR;
    pfd[0].fd = c->fd;
    pfd[0].events = POLLIN;
    if (stoppable && c->stop_fd >= 0) {
        pfd[1].fd = c->stop_fd;
        pfd[1].events = POLLIN;
        nfd = 2;
    }
    do {
        long long left = deadline_ms > 0 ? deadline_ms - mono_ms() : -1;

        if (deadline_ms > 0 && left <= 0)
            return CIO_TIMEOUT;
        rc = poll(pfd, (nfds_t) nfd, left > 0 ? (int) (left < 86400000 ? left : 86400000) : -1);
    } while ((rc < 0 && errno == EINTR) || (rc == 0 && deadline_ms > 0 && mono_ms() < deadline_ms));
    if (rc < 0)
        return CIO_ERR;
    if (rc == 0)
        return CIO_TIMEOUT;
    if (nfd == 2 && (pfd[1].revents & POLLIN) && !(pfd[0].revents & POLLIN))
        return CIO_STOP;
    return read_some(c, 0);
}

/* cio_fill - the same with a timeout in seconds (<= 0: none) */
int cio_fill(struct cio *c, int timeout, int stoppable)
{
    return cio_fill_until(c, timeout > 0 ? mono_ms() + 1000LL * timeout : 0, stoppable);
}

/* cio_try_fill - take bytes that already arrived, never wait */
int cio_try_fill(struct cio *c)
{
    size_t before = c->ilen - c->ipos;

    return read_some(c, MSG_DONTWAIT) == CIO_OK && c->ilen - c->ipos > before;
}

/* cio_has_line - is a whole line buffered? */
int cio_has_line(const struct cio *c)
{
    return memchr(c->in + c->ipos, '\n', c->ilen - c->ipos) != NULL;
}

/* take_line - copy the line ending at nl into line; TOOLONG if cut */
static int take_line(struct cio *c, char *nl, char *line, size_t size, int overflowed)
{
    size_t len = (size_t) (nl - (c->in + c->ipos));
    size_t keep = len;

    if (keep > 0 && c->in[c->ipos + keep - 1] == '\r')
        keep--;
    if (overflowed || keep >= size) {
        c->ipos += len + 1;
        line[0] = 0;
        return CIO_TOOLONG;
    }
    memcpy(line, c->in + c->ipos, keep);
    line[keep] = 0;
    c->ipos += len + 1;
    return CIO_OK;
}

/* cio_getline - one command line, bounded in size and in time: the whole
 * line must arrive within timeout (a client trickling it byte by byte is
 * cut off like a silent one) */
int cio_getline(struct cio *c, char *line, size_t size, int timeout, int stoppable)
{
    int overflowed = 0;
    long long deadline = timeout > 0 ? mono_ms() + 1000LL * timeout : 0;

    for (;;) {
        char *nl = memchr(c->in + c->ipos, '\n', c->ilen - c->ipos);
        if (nl)
            return take_line(c, nl, line, size, overflowed);
        if (c->ilen - c->ipos >= size + 1) {
            /* Far too long already: drop what we have, keep looking for
             * the end of the line so the next command starts clean. */
            overflowed = 1;
            c->ipos = c->ilen;
        }
        int rc = cio_fill_until(c, deadline, stoppable);
        if (rc != CIO_OK)
            return rc;
    }
}

/* cio_data - the unread bytes */
const char *cio_data(const struct cio *c, size_t *len)
{
    *len = c->ilen - c->ipos;
    return c->in + c->ipos;
}

/* cio_consume - mark n unread bytes as used */
void cio_consume(struct cio *c, size_t n)
{
    c->ipos += n;
}

/* queue - append bytes to the reply buffer, flushing when full */
static void queue(struct cio *c, const char *s, size_t n)
{
    while (n > 0) {
        size_t room = sizeof(c->out) - c->olen;
        size_t k = n < room ? n : room;
        memcpy(c->out + c->olen, s, k);
        c->olen += k;
        s += k;
        n -= k;
        if (c->olen == sizeof(c->out))
            cio_flush(c);
    }
}

/* cio_printf - queue one formatted line (CRLF added) */
void cio_printf(struct cio *c, const char *fmt, ...)
{
    char buf[SMTP_REPLY_TEXT_MAX + 64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t) n > sizeof(buf) - 3)
        n = (int) sizeof(buf) - 3;
    buf[n++] = '\r';
    buf[n++] = '\n';
    queue(c, buf, (size_t) n);
}

/* cio_reply - queue a reply; each line of a multi-line text gets the code
 * (and the enhanced code, RFC 2034); control characters become spaces so
 * an upstream's text can never inject a line into our client's stream. */
void cio_reply(struct cio *c, const struct smtp_reply *r)
{
    const char *p = r->text;

    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t) (nl - p) : strlen(p);
        char line[SMTP_REPLY_TEXT_MAX];

        if (len >= sizeof(line))
            len = sizeof(line) - 1;
        for (size_t i = 0; i < len; i++)
            line[i] = ((unsigned char) p[i] < 0x20 || p[i] == 0x7f) ? ' ' : p[i];
        line[len] = 0;
        cio_printf(c, "%03d%c%s%s%s", r->code, nl ? '-' : ' ', r->enhanced,
                   r->enhanced[0] ? " " : "", line);
        if (!nl)
            break;
        p = nl + 1;
    }
}
