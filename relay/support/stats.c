/*
 * stats.c - per-account message counters and last error (stats.h).
 *
 * One mutex guards the table: a message takes milliseconds to relay, so
 * a lock per message end costs nothing measurable, and it keeps the
 * counters and the error text of one account consistent with each other
 * in a snapshot (an atomic per counter would not).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "stats.h"

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stats_account table[STATS_MAX_ACCOUNTS];
static size_t ntable;

static const char *const counter_names[STATS_NCOUNTERS] = {
    "accepted", "relayed", "deferred", "refused",
};

/* stats_counter_name - "accepted", "relayed", ... */
const char *stats_counter_name(enum stats_counter c)
{
    return c < STATS_NCOUNTERS ? counter_names[c] : "?";
}

/* slot - the record of account (locked); the last slot takes the overflow */
static struct stats_account *slot(const char *account)
{
    const char *name = account && *account ? account : "-";

    for (size_t i = 0; i < ntable; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    if (ntable == STATS_MAX_ACCOUNTS)
        return &table[STATS_MAX_ACCOUNTS - 1];
    snprintf(table[ntable].name, sizeof(table[ntable].name), "%s", name);
    return &table[ntable++];
}

/* note_error - the account's last error (locked) */
static void note_error(struct stats_account *a, const char *text)
{
    a->error_time = time(NULL);
    snprintf(a->error, sizeof(a->error), "%s", text);
}

/* stats_message - count one message by its final reply */
void stats_message(const char *account, const struct smtp_reply *final)
{
    char    line[STATS_ERROR_MAX];
    struct stats_account *a;

    pthread_mutex_lock(&stats_lock);
    a = slot(account);
    a->count[STATS_ACCEPTED]++;
    if (final->code / 100 == 2) {
        a->count[STATS_RELAYED]++;
    } else {
        a->count[final->code >= 500 ? STATS_REFUSED : STATS_DEFERRED]++;
        note_error(a, smtp_reply_oneline(final, line, sizeof(line)));
    }
    pthread_mutex_unlock(&stats_lock);
}

/* stats_error - a failure that is not a message's outcome */
void stats_error(const char *account, const char *text)
{
    pthread_mutex_lock(&stats_lock);
    note_error(slot(account), text);
    pthread_mutex_unlock(&stats_lock);
}

/* stats_snapshot - a consistent copy of the table */
size_t stats_snapshot(struct stats_account *out, size_t max)
{
    size_t  n;

    pthread_mutex_lock(&stats_lock);
    n = ntable < max ? ntable : max;
    memcpy(out, table, n * sizeof(*out));
    pthread_mutex_unlock(&stats_lock);
    return n;
}
