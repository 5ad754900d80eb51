/*
 * queue_runner.h - the daemon's delivery of the exorelay-sendmail spool.
 *
 * SYNOPSIS
 *	int queue_runner_start(cfg, pools, te)
 *		Called once by "exorelay run" after its pools exist (and after
 *		dropping root, so that files it creates belong to the daemon's
 *		user). Creates what is missing of the spool layout (spool.h),
 *		takes the spool's runner lock (one runner per spool), publishes
 *		spool_dir/pid write-locked (how exorelay-sendmail knows a
 *		daemon runs), and starts the threads: one watches maildrop/
 *		with inotify (new files are taken at once; a full rescan every
 *		30 s catches anything missed) and schedules retries, the
 *		others deliver through deliver_message() and the given pools.
 *		Returns 0, or -1 after logging why (the spool is unusable, or
 *		another daemon runs it): the caller may go on without it.
 *	void queue_runner_stop(void)
 *		Stop taking work, let deliveries in progress finish, release
 *		the locks. Safe to call when not started.
 *
 * te is kept for future use (tokens are fetched through the pools).
 */
#ifndef EXORELAY_QUEUE_RUNNER_H
#define EXORELAY_QUEUE_RUNNER_H

#include "common/config.h"
#include "pool/deliver.h"
#include "token/token.h"

int queue_runner_start(const struct config *cfg, struct pools *pools,
                       struct token_engine *te);
void queue_runner_stop(void);

#endif
