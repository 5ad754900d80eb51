/*
 * budget.h - what each mailbox has used of Exchange's per-mailbox sending
 * limits: recipients in the rolling 24 hours (kept in state_dir, so a
 * restart does not forget them), messages this minute, recipients
 * reserved by transactions still in flight, and whether Exchange said the
 * quota is used up (and until when it is left out).
 *
 * SYNOPSIS
 *	void budget_persist(state_dir)
 *		Keep the records in {state_dir}/budget.<mailbox> (the daemon
 *		calls this once; other commands count in memory only, so a
 *		file is never written by two users).
 *	struct budget *budget_of(mailbox)
 *		The mailbox's record (case-insensitive), loaded from the
 *		state file on first use; lives as long as the process. NULL
 *		only when out of memory.
 *	int budget_reserve(b, limit, nrcpt, now, &room_at)
 *		Reserve nrcpt recipients of the limit (0 = no limit) when
 *		used + reserved + nrcpt fits and the mailbox is not out of
 *		quota: 1. Else 0, and room_at says when room for nrcpt comes
 *		back (0 when no time can be told).
 *	int budget_check(b, limit, nrcpt, now, &room_at)
 *		The same test without reserving anything.
 *	int budget_check(struct budget *b, long limit, size_t nrcpt, time_t now,
                 time_t *room_at);
void budget_settle(b, reserved, accepted, now)
 *		A transaction ended: release its reservation, count the
 *		recipients upstream accepted (and one message if any).
 *	void budget_exhausted(b, limit, now)
 *		Exchange refused with its quota: the mailbox is left out until
 *		the oldest recipients counted here leave the window (or an
 *		hour, when none are counted: the quota was used by others).
 *	void budget_flush(force)
 *		Write the changed records (force: now; else at most once in 5
 *		seconds each, so a busy mailbox costs no fsync per message).
 *		Called after each settle, when idle and at shutdown.
 *	void budget_get(b, limit, now, &view)
 *	const char *budget_time_text(t, buf, size)   "2026-12-04 09:13 UTC"
 *	int budget_load_view(state_dir, mailbox, limit, now, &view)
 *		For "exorelay status" without a daemon: read the state file;
 *		-1 when there is none.
 *
 * The window is kept in one-minute buckets, so the rolling 24 hours are
 * exact to the minute; a bucket counts until 24 hours after its minute
 * ends, which errs on the safe side. Writes replace the file atomically
 * (file_replace); a crash loses at most the last 5 seconds of counts.
 * XXX Several daemons sharing one mailbox (or other senders using it) are
 * not seen: Exchange's 554 quota refusal then takes the mailbox out.
 */
#ifndef EXORELAY_BUDGET_H
#define EXORELAY_BUDGET_H

#include <stddef.h>
#include <time.h>

#define BUDGET_WINDOW 86400            /* Exchange's rolling 24 hours */

struct budget;

struct budget_view {
    long    used;               /* recipients in the last 24 hours */
    long    reserved;           /* recipients of transactions in flight */
    long    left;               /* limit - used - reserved; -1: no limit */
    long    messages_minute;    /* messages submitted this clock minute */
    time_t  out_until;          /* > now: left out after a quota refusal */
    time_t  room_at;            /* when room for 1 recipient comes back, 0: now */
};

void budget_persist(const char *state_dir);
struct budget *budget_of(const char *mailbox);
int budget_reserve(struct budget *b, long limit, size_t nrcpt, time_t now,
                   time_t *room_at);
int budget_check(struct budget *b, long limit, size_t nrcpt, time_t now,
                 time_t *room_at);
void budget_settle(struct budget *b, size_t reserved, size_t accepted, time_t now);
void budget_exhausted(struct budget *b, long limit, time_t now);
void budget_flush(int force);
void budget_get(struct budget *b, long limit, time_t now, struct budget_view *view);
const char *budget_time_text(time_t t, char *buf, size_t size);
int budget_load_view(const char *state_dir, const char *mailbox, long limit,
                     time_t now, struct budget_view *view);

#endif
