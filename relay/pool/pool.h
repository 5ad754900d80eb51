/*
 * Part pool (relay/pool/), contract: authenticated upstream connections
 * kept per account (at most max_connections, Exchange's limit being 3),
 * and the delivery of one message over one of them (deliver.h). Promises:
 * a connection is reused only when it is known good; every failure comes
 * back as an SMTP reply (4xx temporary, 5xx permanent). Never: holds a
 * connection that failed, or answers a client itself.
 *
 * pool.h - authenticated upstream connections kept per account.
 *
 * SYNOPSIS
 *	struct pool *pool_new(cfg, account, te)
 *	struct upstream *pool_acquire(pool, &err, &reused)
 *		An idle connection of this account if one is usable (not
 *		broken, not idle past pool_idle, its token not about to
 *		expire), else a new one when fewer than max_connections exist,
 *		else wait for one to be released, at most pool_wait_timeout.
 *		NULL with a 4xx in err when a new connection cannot be made
 *		or none came free in time (451 4.4.5 naming the key).
 *		*reused tells which it was.
 *	struct upstream *pool_acquire_for(pool, client_fd, &err, &reused)
 *		The same for the SMTP client on client_fd: the wait also ends
 *		(421 4.4.2) as soon as that client hangs up, so its thread
 *		is not held by a wait nobody will see the end of.
 *	void pool_release(pool, up, clean)
 *		clean: the last transaction ended with a final reply, so the
 *		connection may serve the next message (after RSET if needed);
 *		otherwise it is closed.
 *	void pool_reap(pool)       close connections idle past pool_idle
 *	void pool_stats(pool, &open, &busy)
 *	void pool_free(pool)       close all (QUIT)
 *
 * A reused connection can have been closed by the server meanwhile: the
 * caller learns it from the first reply of its pipelined group and then
 * retries the whole transaction once on a new connection (nothing has been
 * answered to its own client yet, so that is safe).
 *
 * Added:
 *	pool_release(pool, up, POOL_RSET)
 *		All replies were read but a transaction may still be open
 *		upstream (MAIL accepted, then no recipient, or the client
 *		gave up before DATA): keep the connection, and the next
 *		pool_acquire queues an RSET in front of its user's first
 *		command group. (clean values: POOL_CLOSE 0, POOL_CLEAN 1,
 *		POOL_RSET 2.)
 *	long pool_pace(pool)
 *		messages_per_minute of the account (0 = off): wait for this
 *		message's slot; returns the milliseconds waited, for the log.
 *	int pool_max_seen(pool)    most connections ever open at once
 *	long pool_pace_delay(pool)
 *		milliseconds the next message would wait under
 *		messages_per_minute, without reserving its slot (pool_pick)
 *	int pool_has_room(pool)    an idle connection or a free session slot
 *	void pool_refused(pool, up, reply)
 *		Upstream refused up for the mailbox's session limit (reply:
 *		432 4.3.2, smtp_reply_is_session_limit): up is closed, and
 *		the sessions the pool still holds are all it opens for a
 *		while (5 s, doubling while refusals repeat, at most 60 s).
 *		A 432 at AUTH inside pool_acquire counts the same. While
 *		the pool holds none, pool_acquire fails at once with a 4xx
 *		saying so, instead of opening a connection to be refused.
 *
 * RSET between messages: none after a completed transaction (the reply to
 * the end of data ends it, RFC 5321 4.1.1.4), and after an abandoned one it
 * travels in the same packet as the next MAIL (upstream_queue_rset), so it
 * never costs a round trip of its own. A connection released with
 * POOL_CLEAN is trusted to be at a transaction boundary.
 *
 * A connection is never reused when its token expires within 2 minutes:
 * it is closed, and the new one authenticates with a fresh token. Waiters
 * for a free connection sleep on a condition variable; when a connection
 * could not be made while they waited, they get that same failure instead
 * of each trying again (a down server costs one connect_timeout, not one
 * per waiting message).
 */
#ifndef EXORELAY_POOL_H
#define EXORELAY_POOL_H

#include "common/config.h"
#include "proto/smtp_reply.h"
#include "token/token.h"
#include "upstream/upstream.h"

#define POOL_CLOSE	0
#define POOL_CLEAN	1
#define POOL_RSET	2

#define POOL_TOKEN_MARGIN 120   /* seconds of token life a reused one needs */

struct pool;

struct pool *pool_new(const struct config *cfg, const struct conf_account *acct,
                      struct token_engine *te);
struct upstream *pool_acquire(struct pool *p, struct smtp_reply *err, int *reused);
struct upstream *pool_acquire_for(struct pool *p, int client_fd, struct smtp_reply *err,
                                  int *reused);
void pool_release(struct pool *p, struct upstream *up, int clean);
void pool_reap(struct pool *p);
void pool_stats(struct pool *p, int *open, int *busy);
void pool_free(struct pool *p);
long pool_pace(struct pool *p);
int pool_max_seen(struct pool *p);
long pool_pace_delay(struct pool *p);
int pool_has_room(struct pool *p);
void pool_refused(struct pool *p, struct upstream *up, const struct smtp_reply *r);

#endif
