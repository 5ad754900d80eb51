/*
 * pick.c - choose an account of a pool for one message (pick.h).
 *
 * Light load keeps using the first account (warm connections, few
 * sessions); the next one takes over when the first runs out of pace,
 * sessions or budget, so a burst spreads over the whole pool and each
 * mailbox stays within Exchange's limits.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pick.h"

/* route_has - is acct one of the route's accounts? */
int route_has(const struct route *r, const struct conf_account *acct)
{
    for (size_t i = 0; acct != NULL && i < r->n; i++)
        if (r->v[i] == acct || strcmp(r->v[i]->name, acct->name) == 0)
            return 1;
    return 0;
}

/* route_text - the names, comma-separated */
const char *route_text(const struct route *r, char *buf, size_t size)
{
    size_t  n = 0;

    buf[0] = 0;
    for (size_t i = 0; i < r->n && n < size; i++)
        n += (size_t) snprintf(buf + n, size - n, "%s%s", i ? "," : "", r->v[i]->name);
    return buf;
}

/* candidate - one account's standing for this message */
struct candidate {
    struct pool *pool;
    struct budget *budget;
    long    wait_ms;            /* messages_per_minute pace */
    int     session;            /* a connection without waiting */
};

/* better - is a a better choice than b (b may be unset: pool NULL)? */
static int better(const struct candidate *a, const struct candidate *b)
{
    if (b->pool == NULL)
        return 1;
    if ((a->wait_ms == 0 && a->session) != (b->wait_ms == 0 && b->session))
        return a->wait_ms == 0 && a->session;
    if (a->wait_ms != b->wait_ms)
        return a->wait_ms < b->wait_ms;
    return a->session > b->session;
}

/* no_room - the 452 when no account of the route has budget left */
static void no_room(const struct route *r, size_t nrcpt, int fits_any, time_t room_at,
                    struct smtp_reply *err)
{
    char    names[256], when[32];

    route_text(r, names, sizeof(names));
    if (fits_any && room_at == 0)
        smtp_reply_set(err, 452, "4.2.0", "exorelay: the daily recipient budgets of the "
                       "pool (%s) are taken by messages in flight; try again", names);
    else if (room_at > 0)
        smtp_reply_set(err, 452, "4.2.0", "exorelay: every mailbox of the pool (%s) "
                       "has used its daily recipient budget or Exchange's quota; room "
                       "again at %s", names, budget_time_text(room_at, when, sizeof(when)));
    else
        smtp_reply_set(err, 452, "4.5.3", "exorelay: %zu recipients are more than the "
                       "daily_recipients budget of any mailbox of the pool (%s): send "
                       "to fewer recipients per message", nrcpt, names);
}

/* pool_pick - see pick.h */
int pool_pick(struct pools *pools, const struct route *r, size_t nrcpt,
              const struct conf_account *prefer, struct pick *pk,
              struct smtp_reply *err)
{
    time_t  now = time(NULL), room_at, earliest = 0;
    int     fits_any = 0;

    for (size_t i = 0; i < r->n; i++)
        fits_any |= r->v[i]->daily_recipients <= 0
            || nrcpt <= (size_t) r->v[i]->daily_recipients;
    for (int tries = 0; tries < 4; tries++) {
        struct candidate best = {0}, c;
        const struct conf_account *chosen = NULL;

        earliest = 0;
        for (size_t i = 0; fits_any && i < r->n; i++) {
            const struct conf_account *a = r->v[i];

            c.pool = pools_get(pools, a);
            c.budget = budget_of(a->mailbox);
            if (c.pool == NULL || c.budget == NULL)
                continue;
            if (!budget_check(c.budget, a->daily_recipients, nrcpt, now, &room_at)) {
                if (room_at > 0 && (earliest == 0 || room_at < earliest))
                    earliest = room_at;
                continue;
            }
            c.wait_ms = pool_pace_delay(c.pool);
            c.session = pool_has_room(c.pool);
            if (a == prefer && c.wait_ms == 0) {
                best = c;
                chosen = a;
                break;
            }
            if (better(&c, &best)) {
                best = c;
                chosen = a;
            }
        }
        if (chosen == NULL)
            break;
        /* Another thread may have taken the last of its budget meanwhile. */
        if (budget_reserve(best.budget, chosen->daily_recipients, nrcpt, now, &room_at)) {
            *pk = (struct pick) {chosen, best.pool, best.budget, nrcpt};
            return 0;
        }
    }
    memset(pk, 0, sizeof(*pk));
    no_room(r, nrcpt, fits_any, earliest, err);
    return -1;
}

/* pick_keep - the same account for nrcpt recipients */
int pick_keep(struct pick *pk, size_t nrcpt)
{
    time_t  room_at, now = time(NULL);

    if (pk->acct == NULL)
        return -1;
    if (nrcpt <= pk->reserved) {
        budget_settle(pk->budget, pk->reserved - nrcpt, 0, now);
        pk->reserved = nrcpt;
        return 0;
    }
    if (!budget_reserve(pk->budget, pk->acct->daily_recipients, nrcpt - pk->reserved,
                        now, &room_at))
        return -1;
    pk->reserved = nrcpt;
    return 0;
}

/* pick_settle - see pick.h */
void pick_settle(struct pick *pk, size_t accepted, int quota_refused)
{
    time_t  now = time(NULL);

    if (pk->acct == NULL)
        return;
    budget_settle(pk->budget, pk->reserved, accepted, now);
    if (quota_refused)
        budget_exhausted(pk->budget, pk->acct->daily_recipients, now);
    memset(pk, 0, sizeof(*pk));
}
