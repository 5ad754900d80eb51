/*
 * pick.h - account pools: several mailboxes for the same mail (a class's
 * "account = relay1, relay2, relay3", or every account whose senders
 * match), and the choice, per message, of one with room.
 *
 * SYNOPSIS
 *	struct route: the accounts a message may go through, in the
 *	configuration's order (at most ROUTE_MAX).
 *	int route_has(route, acct)        acct is one of them
 *	const char *route_text(route, buf, size)   "relay1,relay2"
 *
 *	int pool_pick(pools, route, nrcpt, prefer, &pick, &err)
 *		Choose an account of route for a message of nrcpt
 *		recipients and reserve them in its mailbox's budget
 *		(budget.h). An account has room when its mailbox is not out
 *		of quota and its daily_recipients budget holds nrcpt more;
 *		among those the first that neither waits for its
 *		messages_per_minute pace nor for a session wins (prefer
 *		first, when it qualifies: its connection is already open),
 *		else the one whose pace frees first. 0, or -1 with a 452
 *		4.2.0 in err that says when room comes back, when no
 *		account has budget left.
 *	int pick_keep(&pick, nrcpt)
 *		Keep the picked account for nrcpt recipients (the count
 *		became known): 0, or -1 (reservation unchanged) without room.
 *	void pick_settle(&pick, accepted, quota_refused)
 *		The message ended: count the recipients upstream accepted;
 *		quota_refused: Exchange answered its quota refusal, the
 *		mailbox leaves the pool until its window frees up. Idempotent:
 *		the pick is empty afterwards.
 *
 *	int deliver_routed(pools, route, sender, rcpts, nrcpt, fd, &result, &acct)
 *		deliver_message (deliver.h) through an account picked from
 *		route; when Exchange answers its quota refusal, the message
 *		goes again (fd rewound) through another account of the
 *		route, until none has room (then result.final is the 452
 *		that says when). acct: the account last tried (NULL if none).
 *
 * A pick is a reservation, so concurrent messages never overdraw a
 * mailbox's budget; the pace and session slots are only looked at, and
 * taken later by pool_pace and pool_acquire.
 */
#ifndef EXORELAY_PICK_H
#define EXORELAY_PICK_H

#include <stddef.h>

#include "budget.h"
#include "common/config.h"
#include "deliver.h"
#include "pool.h"
#include "proto/smtp_reply.h"

#define ROUTE_MAX 16

struct route {
    const struct conf_account *v[ROUTE_MAX];
    size_t  n;
};

struct pick {
    const struct conf_account *acct;    /* NULL: nothing picked */
    struct pool *pool;
    struct budget *budget;
    size_t  reserved;
};

int route_has(const struct route *r, const struct conf_account *acct);
const char *route_text(const struct route *r, char *buf, size_t size);
int pool_pick(struct pools *pools, const struct route *r, size_t nrcpt,
              const struct conf_account *prefer, struct pick *pk,
              struct smtp_reply *err);
int pick_keep(struct pick *pk, size_t nrcpt);
void pick_settle(struct pick *pk, size_t accepted, int quota_refused);
int deliver_routed(struct pools *pools, const struct route *r, const char *sender,
                   char *const *rcpts, size_t nrcpt, int fd,
                   struct deliver_result *result, const struct conf_account **acct);

#endif
