/*
 * addr.h - read RFC 5322 address headers (From, To, Reply-To) as they come.
 * The one address scanner of exorelay: the milter reads From: with it,
 * exorelay-sendmail To:, Cc:, Bcc: and its recipient arguments
 * (sendmail_addr_list); tests/fuzz/fuzz_addr.c fuzzes it.
 *
 * SYNOPSIS
 *	int addr_parse(value, &list)
 *		Split a header value into mailboxes. Each keeps its display
 *		name exactly as written (quoted strings, RFC 2047 encoded
 *		words, UTF-8 bytes and comments untouched), the first comment
 *		after a bare addr-spec ("root@host (Cron Daemon)"), and the
 *		addr-spec with comments and folding white space removed.
 *		Group syntax ("Team: a@b, c@d;") yields the group's members.
 *		Malformed input never fails: unterminated quotes, comments or
 *		angle brackets end at the end of the value, and what could be
 *		read is returned. Returns 0, or -1 when out of memory.
 *	void addr_list_free(&list)
 *	const struct mailbox *addr_pick(&list)
 *		The mailbox a sender header names: the first one with an "@"
 *		in its address, else the first with any address, else NULL.
 *	char *addr_unfold(value)
 *		A copy of a header value without its CR and LF characters
 *		(RFC 5322 unfolding), so it can be reused as a header value.
 *	char *addr_envelope(arg)
 *		An SMTP path ("<a@b>", "a@b", "<>") as a bare address ("" for
 *		the null sender).
 *	const char *addr_domain(addr)
 *		The part after the last "@", or NULL when there is none.
 *
 * All returned strings are malloc()ed; NULL means out of memory.
 */
#ifndef EXORELAY_ADDR_H
#define EXORELAY_ADDR_H

#include <stddef.h>

struct mailbox {
    char   *display;            /* display name as written, NULL if none */
    char   *comment;            /* first comment after a bare addr-spec, or NULL */
    char   *addr;               /* addr-spec without CFWS; may be "" */
};

struct addr_list {
    struct mailbox *v;
    size_t  n;
};

int addr_parse(const char *value, struct addr_list *list);
void addr_list_free(struct addr_list *list);
const struct mailbox *addr_pick(const struct addr_list *list);
char *addr_unfold(const char *value);
char *addr_envelope(const char *arg);
const char *addr_domain(const char *addr);

#endif
