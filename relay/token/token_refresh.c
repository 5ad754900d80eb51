/*
 * token_refresh.c - the background thread that keeps every account's
 * token fresh, so that token_get() answers from memory.
 *
 * SYNOPSIS
 *	int token_engine_start_refresher(te)
 *		Start the thread (once). 0, or -1 if it cannot start.
 *	void token_refresher_stop(te)
 *		Stop and join it (token_engine_free calls this).
 *
 * Each slot is due at token_refresh_at() of its token (token_sched.c), at
 * once when it has none (the daemon gets its tokens at start, before the
 * first message), and never before its backoff ends. A refresh that
 * fails leaves the current token in place: token_get() keeps handing it
 * out while it is valid TOKEN_MIN_VALID more seconds. Refreshes go
 * through the state file (token_fetch.c), so a token another process
 * already refreshed is taken without a request.
 *
 * The thread sleeps on a condition variable until the earliest due time,
 * at most REFRESH_MAX_SLEEP, so that a wall clock that jumps (suspend,
 * NTP step) is noticed within a minute.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "common/log.h"
#include "token_int.h"

#define REFRESH_MAX_SLEEP   60

/* slot_due - when the refresher should next fetch for this slot */
static time_t slot_due(const struct token_slot *slot, time_t now)
{
    time_t due = slot->token ? token_refresh_at(slot->obtained, slot->expires) : now;

    return slot->failures > 0 && slot->retry_at > due ? slot->retry_at : due;
}

/* refresh_due_slots - fetch for every due slot; the next due time (mu held) */
static time_t refresh_due_slots(struct token_engine *te)
{
    time_t now = time(NULL), next = now + REFRESH_MAX_SLEEP, due;
    int requested;

    for (size_t i = 0; i < te->nslots && !te->stopping; i++) {
        struct token_slot *slot = te->slots[i];
        if (slot->retired || slot->fetching || !slot->in_use)
            continue;
        if ((due = slot_due(slot, now)) <= now) {
            te->stats.refreshes++;
            token_slot_fetch(te, slot, 1, &requested);
            now = time(NULL);
            due = slot_due(slot, now);
            if (due <= now)             /* no progress: do not spin */
                due = now + 1;
        }
        if (due < next)
            next = due;
    }
    return next;
}

/* refresher_main - the thread */
static void *refresher_main(void *arg)
{
    struct token_engine *te = arg;
    struct timespec until = {0, 0};

    pthread_mutex_lock(&te->mu);
    while (!te->stopping) {
        until.tv_sec = refresh_due_slots(te);
        if (te->stopping)
            break;
        if (until.tv_sec > time(NULL))
            pthread_cond_timedwait(&te->wake, &te->mu, &until);
    }
    pthread_mutex_unlock(&te->mu);
    return NULL;
}

/* token_engine_start_refresher - see above */
int token_engine_start_refresher(struct token_engine *te)
{
    int err = 0;

    pthread_mutex_lock(&te->mu);
    if (!te->refresher_running) {
        err = pthread_create(&te->refresher, NULL, refresher_main, te);
        te->refresher_running = (err == 0);
    }
    pthread_mutex_unlock(&te->mu);
    if (err != 0) {
        errno = err;
        msg_error("token: cannot start the refresher thread: %m");
        return -1;
    }
    return 0;
}

/* token_refresher_stop - see above */
void token_refresher_stop(struct token_engine *te)
{
    int running;

    pthread_mutex_lock(&te->mu);
    te->stopping = 1;
    running = te->refresher_running;
    te->refresher_running = 0;
    pthread_cond_broadcast(&te->wake);
    pthread_mutex_unlock(&te->mu);
    if (running)
        pthread_join(te->refresher, NULL);
}
