/*
 * Part upstream (relay/upstream/), contract: the client side of one SMTP
 * submission session with Exchange Online: TCP, greeting, EHLO, STARTTLS
 * with a verified certificate and host name, AUTH XOAUTH2, commands and
 * replies, and the diagnoses of its failures in the admin's terms.
 * Never: sends a token before TLS is verified; logs a token.
 *
 * upstream.h - one authenticated SMTP submission connection to Exchange
 * Online (or whatever [upstream] server names).
 *
 * SYNOPSIS
 *	struct upstream *upstream_open(cfg, account, te, &err)
 *		TCP connect (connect_timeout), read the 220 greeting, EHLO,
 *		STARTTLS, verify the certificate chain and the host name (or IP
 *		literal) of [upstream] server before sending anything more,
 *		EHLO again, then AUTH XOAUTH2 with a token from te (initial
 *		response; a 334 step is accepted). A token refused with 535 is
 *		invalidated and one fresh token is tried before failing.
 *		Returns NULL and a local 4xx reply in err whose text names the
 *		cause and the fix (for the client's queue, e.g. mailq); a 5xx
 *		from upstream during the setup also becomes 4xx: it is fixable.
 *	int upstream_cmd(up, fmt, ...)   buffer one command line (CRLF added)
 *	int upstream_write(up, buf, len) buffer raw bytes (message content)
 *	int upstream_flush(up)           send what is buffered
 *	int upstream_read_reply(up, &r)  read one whole reply (flushes first);
 *		-1 on I/O error or timeout with a local 4xx in r and the
 *		connection marked broken
 *	int upstream_has(up, keyword)    EHLO keyword after TLS ("CHUNKING")
 *	long long upstream_size_limit(up)  SIZE parameter, 0 if none
 *	int upstream_broken(up)          1 after an I/O error or a 421
 *	time_t upstream_token_expiry(up) when the token it authenticated with
 *					 expires
 *	void upstream_close(up, send_quit)
 *	void upstream_relay(up, buf, size)
 *		"smtp.office365.com[52.97.1.2]:587": the server and the
 *		address connected to, for the delivery log (relay=)
 *
 * Added for the pool and for "exorelay test":
 *	struct upstream *upstream_open_traced(cfg, account, te, &err, fn, arg)
 *		upstream_open reporting each step to fn(arg, step, ok, ms,
 *		detail): "connect", "greeting", "EHLO", "STARTTLS", "TLS",
 *		"EHLO after TLS", "token", "AUTH"; detail is the peer's reply or
 *		the failure (never a secret). Each step is also announced
 *		when it starts: fn(arg, step, UPSTREAM_STEP_BEGIN, 0, NULL).
 *	int upstream_idle_ok(up)     not broken, and nothing arrived while it
 *				     sat idle (an idle server only speaks to
 *				     say goodbye); costs no round trip
 *	void upstream_queue_rset(up) buffer an RSET whose reply the next
 *				     upstream_read_reply swallows, so it rides
 *				     in front of the next command group at no
 *				     extra round trip; a failed RSET makes
 *				     that read fail (-1, a local 4xx, broken)
 *				     as if the connection had been lost
 *
 * Thread use: one connection is used by one thread at a time (the pool
 * hands it out). Reads and writes honour command_timeout. The process
 * must ignore SIGPIPE: OpenSSL writes to the socket with plain send(), and
 * a connection reset by upstream would otherwise kill it.
 */
#ifndef EXORELAY_UPSTREAM_H
#define EXORELAY_UPSTREAM_H

#include <stddef.h>
#include <time.h>

#include "common/config.h"
#include "proto/smtp_reply.h"
#include "token/token.h"

struct upstream;

struct upstream *upstream_open(const struct config *cfg,
                               const struct conf_account *acct,
                               struct token_engine *te,
                               struct smtp_reply *err);
int upstream_cmd(struct upstream *up, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int upstream_write(struct upstream *up, const void *buf, size_t len);
int upstream_flush(struct upstream *up);
int upstream_read_reply(struct upstream *up, struct smtp_reply *r);
int upstream_has(const struct upstream *up, const char *keyword);
long long upstream_size_limit(const struct upstream *up);
int upstream_broken(const struct upstream *up);
time_t upstream_token_expiry(const struct upstream *up);
void upstream_close(struct upstream *up, int send_quit);
void upstream_relay(const struct upstream *up, char *buf, size_t size);

#define UPSTREAM_STEP_BEGIN (-1)
typedef void (*upstream_step_fn)(void *arg, const char *step, int ok, long ms,
                                 const char *detail);
struct upstream *upstream_open_traced(const struct config *cfg,
                                      const struct conf_account *acct,
                                      struct token_engine *te,
                                      struct smtp_reply *err,
                                      upstream_step_fn fn, void *arg);
int upstream_idle_ok(struct upstream *up);
void upstream_queue_rset(struct upstream *up);

#endif
