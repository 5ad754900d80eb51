/*
 * token_sched.c - when to refresh a token, and how long to wait after a
 * failed request. Pure functions, so the policy is testable on its own.
 *
 * SYNOPSIS
 *	time_t token_refresh_at(obtained, expires)
 *		At 75% of the lifetime, and never later than 5 minutes before
 *		expiry; but not in the first quarter of a short lifetime, and
 *		always at least TOKEN_MIN_VALID + 30 s before expiry, so that a
 *		failed refresh has time for a retry before the token can no
 *		longer be handed out. One hour: at 45 min. Ten minutes: at 5.
 *		Two minutes: at 30 s.
 *	int token_backoff(failures, retry_after, temporary, room)
 *		Seconds to wait after the failures-th failure in a row:
 *		exponential from 5 s (capped at 5 minutes for outages while a
 *		token is still being served; at one minute when there is no
 *		token at all, because mail is waiting and the first request
 *		after Entra recovers must not be minutes away - measured by
 *		tests/faults: a 5-minute cap held mail for 6 minutes after a
 *		2-minute outage; and at one minute when the admin must act, so
 *		a fix made in the Entra portal is noticed soon), with jitter
 *		over the upper half; but
 *		at most half the room left (seconds the current token can
 *		still be handed out; 0 = no token), so a refresh that keeps
 *		failing is retried a few times before the token runs out.
 *		Never less than Retry-After: Entra's word wins.
 */
#include <openssl/rand.h>

#include "token_int.h"

#define BACKOFF_FIRST        5
#define BACKOFF_MAX_OUTAGE   300
#define BACKOFF_MAX_CREDS    60
#define BACKOFF_MAX_NO_TOKEN 60

/* token_refresh_at - see above */
time_t token_refresh_at(time_t obtained, time_t expires)
{
    time_t lifetime = expires - obtained;
    time_t lead;

    if (lifetime <= 0)
        return obtained;
    lead = lifetime / 4 > 300 ? lifetime / 4 : 300;
    if (lead > lifetime * 3 / 4)
        lead = lifetime * 3 / 4;
    if (lead < TOKEN_MIN_VALID + 30)
        lead = TOKEN_MIN_VALID + 30;
    return expires - lead < obtained ? obtained : expires - lead;
}

/* jitter - a random number in [0, n] */
static int jitter(int n)
{
    unsigned int r = 0;

    if (n <= 0)
        return 0;
    if (RAND_bytes((unsigned char *) &r, sizeof(r)) != 1)
        r = (unsigned int) n;           /* no randomness: no jitter */
    return (int) (r % ((unsigned int) n + 1));
}

/* token_backoff - see above */
int token_backoff(int failures, int retry_after, int temporary, long room)
{
    int cap = !temporary ? BACKOFF_MAX_CREDS
        : room > 0 ? BACKOFF_MAX_OUTAGE : BACKOFF_MAX_NO_TOKEN;
    int delay = BACKOFF_FIRST;

    for (int i = 1; i < failures && delay < cap; i++)
        delay *= 2;
    if (delay > cap)
        delay = cap;
    delay = delay / 2 + jitter(delay - delay / 2);
    if (room > 0 && delay > room / 2)
        delay = room / 2 > 1 ? (int) (room / 2) : 1;
    return retry_after > delay ? retry_after : delay;
}
