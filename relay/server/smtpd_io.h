/*
 * smtpd_io.h - the client side stream of the SMTP server: buffered reads
 * with timeouts and a shutdown signal, bounded command lines, replies.
 *
 * SYNOPSIS
 *	void cio_init(c, fd, stop_fd)
 *		stop_fd: a descriptor that becomes readable when the daemon
 *		shuts down (-1: none); only "stoppable" waits watch it.
 *	int cio_fill(c, timeout, stoppable)
 *		Read more client bytes (waiting at most timeout seconds).
 *		CIO_OK, CIO_EOF, CIO_ERR, CIO_TIMEOUT or CIO_STOP.
 *	int cio_fill_until(c, deadline_ms, stoppable)
 *		The same until a mono_ms() time (<= 0: no limit).
 *	int cio_try_fill(c)
 *		Read what has already arrived, without waiting (1 if any).
 *	int cio_has_line(c)          a complete line is buffered
 *	int cio_getline(c, line, size, timeout, stoppable)
 *		One line without its CRLF (a bare LF ends it too: commands are
 *		lenient, DATA is not). The whole line must arrive within
 *		timeout seconds, not each piece of it. A line longer than size-1 is consumed
 *		up to its end and CIO_TOOLONG returned. Else CIO_OK or a
 *		cio_fill status. line is NUL-terminated.
 *	const char *cio_data(c, &len) / void cio_consume(c, n)
 *		The buffered bytes, for the DATA scanner.
 *	void cio_reply(c, reply)     queue one (multi-line) SMTP reply
 *	void cio_printf(c, fmt, ...) queue raw text (one reply line + CRLF)
 *	int cio_flush(c)             send what is queued; -1 on error
 *
 * Replies are queued and sent in one write when the server next waits for
 * input (cio_fill flushes first), which is what PIPELINING clients expect.
 */
#ifndef EXORELAY_SMTPD_IO_H
#define EXORELAY_SMTPD_IO_H

#include <stddef.h>

#include "proto/smtp_reply.h"

#define CIO_INBUF   16384
#define CIO_OUTBUF  8192

enum { CIO_OK = 0, CIO_EOF = -1, CIO_ERR = -2, CIO_TIMEOUT = -3,
       CIO_STOP = -4, CIO_TOOLONG = -5 };

struct cio {
    int     fd;
    int     stop_fd;
    int     broken;             /* a write failed: the client is gone */
    size_t  ipos, ilen;         /* unread bytes are in[ipos..ilen) */
    size_t  olen;
    char    in[CIO_INBUF];
    char    out[CIO_OUTBUF];
};

void cio_init(struct cio *c, int fd, int stop_fd);
int cio_fill(struct cio *c, int timeout, int stoppable);
int cio_fill_until(struct cio *c, long long deadline_ms, int stoppable);
int cio_try_fill(struct cio *c);
int cio_has_line(const struct cio *c);
int cio_getline(struct cio *c, char *line, size_t size, int timeout, int stoppable);
const char *cio_data(const struct cio *c, size_t *len);
void cio_consume(struct cio *c, size_t n);
void cio_reply(struct cio *c, const struct smtp_reply *r);
void cio_printf(struct cio *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cio_flush(struct cio *c);

#endif
