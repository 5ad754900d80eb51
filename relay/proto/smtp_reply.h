/*
 * Part proto (relay/proto/), contract: the SMTP formats both sides share:
 * replies (parse and make), the command parser, the DATA scanner (end of
 * data, bare CR/LF) and encoder (line ends, dot-stuffing), the XOAUTH2
 * response, the message date. Pure functions on buffers: no I/O, no
 * globals, no locks; every parser is fuzzed (tests/fuzz).
 *
 * smtp_reply.h - one SMTP reply, as read from upstream or made locally.
 *
 * A multi-line reply keeps its lines joined with "\n" in text (without the
 * "250-" prefixes); enhanced is the RFC 3463 code of the first line ("5.7.3")
 * or "" when absent. Local replies for faults are made with smtp_reply_set().
 *
 * SYNOPSIS
 *	smtp_reply_set(r, code, enhanced, fmt, ...)   a local reply
 *	smtp_reply_start(r)                 empty r before adding lines
 *	int smtp_reply_add_line(r, line, len)
 *		Add one reply line as read from the wire (without CRLF).
 *		Returns 1 when it was the last line of the reply, 0 when more
 *		lines follow ("250-"), -1 when the line is not a reply line
 *		(no 3-digit code, or a code that differs from the first line).
 *		A repeated enhanced code on continuation lines is dropped.
 *	char *smtp_reply_oneline(r, buf, size)
 *		"451 4.4.1 text" on one line (newlines become "; "), for logs
 *		and for answering a client; returns buf.
 *	int smtp_reply_is_quota(r)
 *		1 for Exchange's submission quota refusal (554 5.2.0
 *		...SubmissionQuotaExceeded...): permanent in form, temporary
 *		in truth.
 *	int smtp_reply_is_session_limit(r)
 *		1 for Exchange's refusal of one more session for a mailbox
 *		(432 4.3.2 Concurrent connections limit exceeded., older
 *		432 4.3.2 STOREDRV.ClientSubmit; sender thread limit
 *		exceeded), as upstream says it or as a local 4xx quoting it.
 *	int smtp_reply_defer_sequence(r)
 *		A 503 (bad sequence of commands) says nothing about the
 *		recipient or message it answers: it becomes 451 4.5.1 quoting
 *		it, so nobody takes it for a permanent refusal. 1 if changed.
 */
#ifndef EXORELAY_SMTP_REPLY_H
#define EXORELAY_SMTP_REPLY_H

#include <stddef.h>

#define SMTP_REPLY_TEXT_MAX 2048

struct smtp_reply {
    int     code;                       /* 250, 354, 451 ... ; 0 = none */
    char    enhanced[16];               /* "2.0.0" or "" */
    char    text[SMTP_REPLY_TEXT_MAX];  /* text after code and enhanced code */
};

/* smtp_reply_set - fill r with a locally made reply; text is printf-style */
void smtp_reply_set(struct smtp_reply *r, int code, const char *enhanced,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void smtp_reply_start(struct smtp_reply *r);
int smtp_reply_add_line(struct smtp_reply *r, const char *line, size_t len);
char *smtp_reply_oneline(const struct smtp_reply *r, char *buf, size_t size);
int smtp_reply_is_quota(const struct smtp_reply *r);
int smtp_reply_is_session_limit(const struct smtp_reply *r);
int smtp_reply_defer_sequence(struct smtp_reply *r);

#endif
