/*
 * pool.h - authenticated upstream connections kept per account.
 *
 * SYNOPSIS
 *	struct pool *pool_new(cfg, account, te)
 *	struct upstream *pool_acquire(pool, &err, &reused)
 *		An idle connection of this account if one is usable (not
 *		broken, not idle past pool_idle, its token not about to
 *		expire), else a new one when fewer than max_connections exist,
 *		else wait for one to be released. NULL with a 4xx in err when
 *		a new connection cannot be made. *reused tells which it was.
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
 */
#ifndef EXORELAY_POOL_H
#define EXORELAY_POOL_H

#include "config.h"
#include "smtp_reply.h"
#include "token.h"
#include "upstream.h"

struct pool;

struct pool *pool_new(const struct config *cfg, const struct conf_account *acct,
                      struct token_engine *te);
struct upstream *pool_acquire(struct pool *p, struct smtp_reply *err, int *reused);
void pool_release(struct pool *p, struct upstream *up, int clean);
void pool_reap(struct pool *p);
void pool_stats(struct pool *p, int *open, int *busy);
void pool_free(struct pool *p);

#endif
