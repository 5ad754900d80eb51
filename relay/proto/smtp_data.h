/*
 * smtp_data.h - turn message content into the SMTP DATA stream: every line
 * end becomes CRLF, a leading "." is doubled (RFC 5321 4.5.2), and the
 * stream ends with CRLF "." CRLF.
 *
 * SYNOPSIS
 *	smtp_data_init(&enc)        for DATA
 *	smtp_data_init_bdat(&enc)   for BDAT (RFC 3030): the same line ends,
 *		but no dot-stuffing and no final "." line
 *	size_t smtp_data_encode(&enc, in, len, out)
 *		out must hold 2 * len + 2 bytes; returns the bytes written.
 *		Input may be cut anywhere (a CR at the end of one piece and
 *		its LF at the start of the next are one line end).
 *	size_t smtp_data_finish(&enc, out)
 *		out must hold SMTP_DATA_FINISH_MAX bytes: ends an unfinished
 *		last line and (DATA) adds the "." line.
 *	enc.eight_bit	1 once a byte above 127 was seen (BODY=8BITMIME)
 *	enc.out_bytes	bytes produced so far
 *	smtp_data_size(&enc)  after finish: the message size for SIZE=
 *		(RFC 1870: CRLF line ends, without the added dots and the
 *		final "." line)
 *
 * LF, CRLF and a bare CR each count as one line end, so a bare CR or LF
 * can never combine with a "." into an end of data upstream (SMTP
 * smuggling); a message with CRLF line ends passes byte-identical.
 */
#ifndef EXORELAY_SMTP_DATA_H
#define EXORELAY_SMTP_DATA_H

#include <stddef.h>

#define SMTP_DATA_FINISH_MAX 8

struct smtp_data_enc {
    int     at_bol;             /* next byte starts a line */
    int     pending_cr;         /* a CR whose LF may come with the next piece */
    int     eight_bit;
    long long out_bytes;
    long long stuffed;          /* dots added at line starts */
    int     dot_stuff;          /* DATA: 1, BDAT: 0 */
};

void smtp_data_init(struct smtp_data_enc *enc);
void smtp_data_init_bdat(struct smtp_data_enc *enc);
size_t smtp_data_encode(struct smtp_data_enc *enc, const char *in, size_t len,
                        char *out);
size_t smtp_data_finish(struct smtp_data_enc *enc, char *out);
long long smtp_data_size(const struct smtp_data_enc *enc);

#endif
