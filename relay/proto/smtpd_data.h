/*
 * smtpd_data.h - the DATA scanner of the SMTP server: finds the end of the
 * message, refuses bare CR and bare LF, counts the size, and hands on the
 * content still dot-stuffed so it can go straight to an SMTP upstream.
 *
 * SYNOPSIS
 *	void data_scan_init(ds, max_size)
 *	size_t data_scan(ds, in, inlen, out, &outlen)
 *		Consume client bytes from in; append to out the bytes that
 *		may be forwarded upstream (out must hold inlen + 2 bytes).
 *		Returns how many bytes of in were consumed: fewer than inlen
 *		only when the end of data was reached (ds->done), the rest
 *		belongs to the next command.
 *
 * Rules (RFC 5321 4.1.1.4, 4.5.2):
 *  - Only CR LF "." CR LF ends the data; the data start counts as a line
 *    start, so an empty message is just ".\r\n". "\n.\r\n", "\r\n.\n",
 *    "\r.\r" and friends do not end it.
 *  - A CR not followed by LF, or an LF not preceded by CR, anywhere in the
 *    data sets ds->bare: the caller refuses the message (550 5.5.2) and
 *    must not submit it. From that byte on nothing more is emitted, so a
 *    bare line end is never forwarded to an upstream that might read it
 *    as the end of data (SMTP smuggling).
 *  - The output keeps the client's dot-stuffing: a receiver strips one
 *    leading dot from every line, the client's stuffing and the upstream's
 *    unstuffing are the same rule, so the bytes pass through unchanged and
 *    the upstream stores exactly the content the client meant. The final
 *    ".\r\n" is not emitted; the caller sends it when it accepts the
 *    message.
 *  - ds->unstuff = 1 (set after data_scan_init): the output is the content
 *    itself, the stuffing dots removed (for BDAT, or a file).
 *  - ds->size is the content size (after unstuffing, CRLF counted as 2).
 *    Past max_size (0 = no limit) ds->oversize is set and, as for a bare
 *    line end, nothing more is emitted.
 *  - A CR is held back until the next byte shows whether it is a line end,
 *    and a leading dot until the next byte shows whether it ends the data;
 *    that is why out needs room for 2 bytes more than in.
 */
#ifndef EXORELAY_SMTPD_DATA_H
#define EXORELAY_SMTPD_DATA_H

#include <stddef.h>

struct data_scan {
    int     state;              /* DS_* in smtpd_data.c */
    int     done;               /* saw CRLF.CRLF */
    int     bare;               /* saw a bare CR or LF */
    int     oversize;           /* content exceeded max_size */
    long long size;             /* content bytes (unstuffed) */
    long long max_size;         /* 0 = no limit */
    int     unstuff;            /* emit the content without stuffing dots */
};

void data_scan_init(struct data_scan *ds, long long max_size);
size_t data_scan(struct data_scan *ds, const char *in, size_t inlen,
                 char *out, size_t *outlen);

#endif
