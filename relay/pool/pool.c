/*
 * pool.c - per-account pool of authenticated upstream connections
 * (pool.h).
 *
 * One mutex guards the list; nothing slow happens under it: connections
 * are opened and closed (QUIT) with the lock released, and the slot of a
 * connection being opened is counted in nopen so max_connections holds at
 * every instant. Idle connections are kept most-recently-used first, so a
 * light load keeps reusing one warm connection and lets the others idle out.
 *
 * Exchange counts every session of a mailbox, ours and other hosts'. When
 * it refuses one more (432 4.3.2, at AUTH or at MAIL), the refused
 * connection is closed and the pool takes the sessions it still holds as
 * all it may have (limit) for a while: 5 s, doubling while refusals keep
 * coming, at most 60 s. Meanwhile no new connection is opened beyond that;
 * with none left, callers get a 4xx at once instead of a connection that
 * Exchange would refuse again.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support/iowait.h"
#include "common/log.h"
#include "pace.h"
#include "pool.h"

#define LIMIT_BACKOFF_FIRST 5           /* seconds after a first 432 */
#define LIMIT_BACKOFF_MAX   60

struct pool_conn {
    struct upstream *up;
    time_t  idle_since;
    int     busy;
    int     needs_rset;
    struct pool_conn *next;
};

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;               /* a slot or an idle connection */
    const struct config *cfg;
    const struct conf_account *acct;
    struct token_engine *te;
    struct pool_conn *conns;            /* open: idle first (MRU), then busy */
    int     nopen;                      /* in conns, plus being opened */
    int     max;
    int     max_seen;
    unsigned fail_gen;                  /* bumped when an open fails */
    struct smtp_reply fail;             /* that failure */
    double  pace_tat;                   /* pacing: theoretical arrival time */
    int     limit;                      /* sessions Exchange leaves us, until: */
    time_t  limit_until;                /* 0: max applies */
    time_t  limit_last;                 /* the last 432 */
    int     limit_backoff;              /* seconds of the last lowering */
    struct smtp_reply limit_reply;      /* that 432, for the callers meanwhile */
};

/* pool_new - an empty pool for one account */
struct pool *pool_new(const struct config *cfg, const struct conf_account *acct,
                      struct token_engine *te)
{
    struct pool *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    pthread_condattr_t attr;

    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);   /* timed waits */
    pthread_cond_init(&p->freed, &attr);
    pthread_condattr_destroy(&attr);
    p->cfg = cfg;
    p->acct = acct;
    p->te = te;
    p->max = acct->max_connections > 0 ? acct->max_connections : 3;
    return p;
}

/* reusable - an idle connection may serve another message */
static int reusable(const struct pool *p, struct pool_conn *c, time_t now)
{
    time_t  expiry = upstream_token_expiry(c->up);

    return now - c->idle_since < p->cfg->pool_idle
        && expiry - now > POOL_TOKEN_MARGIN
        && upstream_idle_ok(c->up);
}

/* unlink_conn - take c out of the list (lock held) */
static void unlink_conn(struct pool *p, struct pool_conn *c)
{
    for (struct pool_conn **pp = &p->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    c->next = NULL;
}

/* take_stale - move idle connections that must not be reused to *dead */
static void take_stale(struct pool *p, time_t now, int all, struct pool_conn **dead)
{
    struct pool_conn *c, *next;

    for (c = p->conns; c != NULL; c = next) {
        next = c->next;
        if (!c->busy && (all || !reusable(p, c, now))) {
            unlink_conn(p, c);
            c->next = *dead;
            *dead = c;
            p->nopen--;
        }
    }
}

/* close_list - close connections taken out of the pool (lock not held) */
static void close_list(struct pool_conn *dead)
{
    struct pool_conn *next;

    for (; dead != NULL; dead = next) {
        next = dead->next;
        upstream_close(dead->up, !upstream_broken(dead->up));
        free(dead);
    }
}

/* first_idle - the most recently used idle connection (lock held) */
static struct pool_conn *first_idle(struct pool *p)
{
    for (struct pool_conn *c = p->conns; c != NULL; c = c->next)
        if (!c->busy)
            return c;
    return NULL;
}

/* sessions_allowed - connections this pool may have open now (lock held) */
static int sessions_allowed(struct pool *p, time_t now)
{
    if (p->limit_until != 0 && now >= p->limit_until)
        p->limit_until = 0;             /* try the full number again */
    return p->limit_until != 0 ? p->limit : p->max;
}

/* note_session_limit - Exchange refused one more session for the mailbox:
 * the sessions we hold (the refused one no longer counted) are all it
 * leaves us for a while; a refusal soon after the last doubles the while */
static void note_session_limit(struct pool *p, const struct smtp_reply *r)
{
    time_t  now = time(NULL);
    char    line[200];

    if (p->limit_backoff > 0 && now - p->limit_last <= 2 * p->limit_backoff)
        p->limit_backoff = p->limit_backoff * 2 < LIMIT_BACKOFF_MAX
            ? p->limit_backoff * 2 : LIMIT_BACKOFF_MAX;
    else
        p->limit_backoff = LIMIT_BACKOFF_FIRST;
    p->limit_last = now;
    p->limit = p->nopen < p->max ? p->nopen : p->max;
    p->limit_until = now + p->limit_backoff;
    p->limit_reply = *r;
    msg_warn("pool: account %s: Exchange refused a session for %s (%s): other "
             "programs or hosts hold its sessions; using at most %d for %d s",
             p->acct->name, p->acct->mailbox, smtp_reply_oneline(r, line, sizeof(line)),
             p->limit, p->limit_backoff);
}

/* refuse_held - the 4xx for a caller while every session is held elsewhere */
static void refuse_held(struct pool *p, time_t now, struct smtp_reply *err)
{
    char    line[200];

    smtp_reply_set(err, 451, "4.3.2", "exorelay: the sessions of %s are all held by "
                   "other programs or hosts (Exchange answered %s); the mail waits, "
                   "next try in %ld s", p->acct->mailbox,
                   smtp_reply_oneline(&p->limit_reply, line, sizeof(line)),
                   (long) (p->limit_until - now));
}

/* open_new - open a connection in a slot already counted in nopen */
static struct upstream *open_new(struct pool *p, struct smtp_reply *err)
{
    struct upstream *up = upstream_open(p->cfg, p->acct, p->te, err);
    struct pool_conn *c = up ? calloc(1, sizeof(*c)) : NULL;

    if (up != NULL && c == NULL) {
        upstream_close(up, 1);
        up = NULL;
        smtp_reply_set(err, 451, "4.3.0", "exorelay: out of memory");
    }
    pthread_mutex_lock(&p->lock);
    if (up == NULL) {
        p->nopen--;
        p->fail_gen++;
        p->fail = *err;
        if (smtp_reply_is_session_limit(err))   /* 432 at AUTH */
            note_session_limit(p, err);
    } else {
        c->up = up;
        c->busy = 1;
        c->next = p->conns;
        p->conns = c;
    }
    pthread_cond_broadcast(&p->freed);
    pthread_mutex_unlock(&p->lock);
    return up;
}

/* make_busy - hand out idle c: busy ones go to the end (lock held) */
static void make_busy(struct pool *p, struct pool_conn *c)
{
    struct pool_conn **pp;

    unlink_conn(p, c);
    for (pp = &p->conns; *pp != NULL; pp = &(*pp)->next)
        ;
    *pp = c;
    c->busy = 1;
    if (c->needs_rset)
        upstream_queue_rset(c->up);
    c->needs_rset = 0;
}

/* client_gone - did the client behind this wait hang up? */
static int client_gone(int fd)
{
    struct pollfd pfd = { fd, POLLRDHUP, 0 };

    return fd >= 0 && poll(&pfd, 1, 0) > 0
        && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

/* wait_freed - sleep until a connection may be free (lock held): 0, or
 * WAIT_TIMEOUT past deadline, WAIT_GONE when the client hung up. With a
 * client, sleep in short slices to notice a hang-up at once. */
enum { WAIT_OK = 0, WAIT_TIMEOUT, WAIT_GONE };
#define WAIT_SLICE_MS 100

static int wait_freed(struct pool *p, long long deadline_ms, int client_fd)
{
    long long now = mono_ms(), until = deadline_ms;
    struct timespec ts;

    if (client_gone(client_fd))
        return WAIT_GONE;
    if (now >= deadline_ms)
        return WAIT_TIMEOUT;
    if (client_fd >= 0 && now + WAIT_SLICE_MS < until)
        until = now + WAIT_SLICE_MS;
    ts.tv_sec = (time_t) (until / 1000);
    ts.tv_nsec = (long) (until % 1000) * 1000000L;
    pthread_cond_timedwait(&p->freed, &p->lock, &ts);
    return WAIT_OK;
}

/* wait_refusal - why this caller gets no connection */
static void wait_refusal(struct pool *p, int why, struct smtp_reply *err)
{
    if (why == WAIT_GONE)
        smtp_reply_set(err, 421, "4.4.2", "exorelay: client connection lost while "
                       "waiting for an upstream session");
    else
        smtp_reply_set(err, 451, "4.4.5", "exorelay: all %d upstream sessions of "
                       "account %s are busy, none free within %d s "
                       "(pool_wait_timeout); try again later", p->nopen,
                       p->acct->name, p->cfg->pool_wait_timeout);
}

/* pool_acquire - an idle usable connection, a new one, or wait */
struct upstream *pool_acquire(struct pool *p, struct smtp_reply *err, int *reused)
{
    return pool_acquire_for(p, -1, err, reused);
}

/* pool_acquire_for - the same, for a client on client_fd */
struct upstream *pool_acquire_for(struct pool *p, int client_fd, struct smtp_reply *err,
                                  int *reused)
{
    struct pool_conn *c = NULL, *dead = NULL;
    unsigned gen;
    int     waited = 0, share_failure = 0, held = 0, allowed, why = WAIT_OK;
    time_t  now;
    long long deadline = mono_ms() + 1000LL * p->cfg->pool_wait_timeout;

    pthread_mutex_lock(&p->lock);
    gen = p->fail_gen;
    for (;;) {
        take_stale(p, now = time(NULL), 0, &dead);
        if ((c = first_idle(p)) != NULL)
            break;
        if ((share_failure = waited && gen != p->fail_gen) != 0)
            break;
        if (p->nopen < (allowed = sessions_allowed(p, now)))
            break;
        if ((held = allowed == 0 && p->nopen == 0) != 0)
            break;                      /* nothing of ours to wait for */
        if (dead != NULL) {             /* close them before sleeping */
            pthread_mutex_unlock(&p->lock);
            close_list(dead);
            dead = NULL;
            pthread_mutex_lock(&p->lock);
            continue;
        }
        if ((why = wait_freed(p, deadline, client_fd)) != WAIT_OK)
            break;
        waited = 1;
    }
    if (c != NULL) {
        make_busy(p, c);
    } else if (share_failure) {
        *err = p->fail;                 /* an open failed while we waited */
    } else if (held) {
        refuse_held(p, now, err);
    } else if (why != WAIT_OK) {
        wait_refusal(p, why, err);
    } else if (++p->nopen > p->max_seen) {
        p->max_seen = p->nopen;
    }
    pthread_mutex_unlock(&p->lock);
    close_list(dead);
    *reused = c != NULL;
    if (c != NULL)
        return c->up;
    return share_failure || held || why != WAIT_OK ? NULL : open_new(p, err);
}

/* find_conn - the list entry of up (lock held) */
static struct pool_conn *find_conn(struct pool *p, const struct upstream *up)
{
    for (struct pool_conn *c = p->conns; c != NULL; c = c->next)
        if (c->up == up)
            return c;
    return NULL;
}

/* pool_release - back to the pool, or closed */
void pool_release(struct pool *p, struct upstream *up, int clean)
{
    struct pool_conn *c;

    pthread_mutex_lock(&p->lock);
    if ((c = find_conn(p, up)) == NULL) {
        pthread_mutex_unlock(&p->lock);
        msg_error("pool_release: connection not from the pool of %s", p->acct->name);
        return;
    }
    unlink_conn(p, c);
    if (clean == POOL_CLOSE || upstream_broken(up)) {
        p->nopen--;
    } else {
        c->busy = 0;
        c->idle_since = time(NULL);
        c->needs_rset = clean == POOL_RSET;
        c->next = p->conns;             /* most recently used first */
        p->conns = c;
        c = NULL;
    }
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
    if (c != NULL) {
        /* No QUIT: the session may be inside DATA, where a QUIT would be
         * message text and its reply would never come. */
        upstream_close(c->up, 0);
        free(c);
    }
}

/* pool_refused - upstream refused up for the mailbox's session limit */
void pool_refused(struct pool *p, struct upstream *up, const struct smtp_reply *r)
{
    struct pool_conn *c;

    pthread_mutex_lock(&p->lock);
    if ((c = find_conn(p, up)) != NULL) {
        unlink_conn(p, c);
        p->nopen--;
        note_session_limit(p, r);
    }
    pthread_cond_broadcast(&p->freed);  /* waiters: maybe none is left to wait for */
    pthread_mutex_unlock(&p->lock);
    if (c == NULL) {
        msg_error("pool_refused: connection not from the pool of %s", p->acct->name);
        return;
    }
    upstream_close(c->up, !upstream_broken(c->up));    /* all replies were read */
    free(c);
}

/* pool_reap - close idle connections that must not be reused any more */
void pool_reap(struct pool *p)
{
    struct pool_conn *dead = NULL;

    pthread_mutex_lock(&p->lock);
    take_stale(p, time(NULL), 0, &dead);
    if (dead != NULL)
        pthread_cond_broadcast(&p->freed);
    pthread_mutex_unlock(&p->lock);
    close_list(dead);
}

/* pool_stats - open and busy connections now */
void pool_stats(struct pool *p, int *open, int *busy)
{
    pthread_mutex_lock(&p->lock);
    *open = p->nopen;
    *busy = 0;
    for (struct pool_conn *c = p->conns; c != NULL; c = c->next)
        *busy += c->busy;
    pthread_mutex_unlock(&p->lock);
}

/* pool_max_seen - the most connections open at once so far */
int pool_max_seen(struct pool *p)
{
    int     n;

    pthread_mutex_lock(&p->lock);
    n = p->max_seen;
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* pace_wait - seconds the next message waits; reserve: take its slot
 * (lock held; see pace.h) */
static double pace_wait(struct pool *p, int reserve)
{
    return pace_slot(&p->pace_tat, p->acct->messages_per_minute,
                     mono_ms() / 1000.0, reserve);
}

/* pool_pace_delay - what pool_pace would wait now, in milliseconds */
long pool_pace_delay(struct pool *p)
{
    double  wait = 0;

    if (p->acct->messages_per_minute <= 0)
        return 0;
    pthread_mutex_lock(&p->lock);
    wait = pace_wait(p, 0);
    pthread_mutex_unlock(&p->lock);
    return wait > 0 ? (long) (wait * 1000) : 0;
}

/* pool_has_room - a message could have a connection without waiting */
int pool_has_room(struct pool *p)
{
    int     room;

    pthread_mutex_lock(&p->lock);
    room = p->nopen < p->max || first_idle(p) != NULL;
    pthread_mutex_unlock(&p->lock);
    return room;
}

/* pool_pace - wait for this message's slot under messages_per_minute */
long pool_pace(struct pool *p)
{
    double  wait;
    struct timespec ts;

    if (p->acct->messages_per_minute <= 0)
        return 0;
    pthread_mutex_lock(&p->lock);
    wait = pace_wait(p, 1);
    pthread_mutex_unlock(&p->lock);
    if (wait <= 0)
        return 0;
    ts.tv_sec = (time_t) wait;
    ts.tv_nsec = (long) ((wait - (double) ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return (long) (wait * 1000);
}

/* pool_free - close every connection (QUIT); none may be in use */
void pool_free(struct pool *p)
{
    struct pool_conn *dead = NULL;

    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    take_stale(p, 0, 1, &dead);
    if (p->conns != NULL)
        msg_error("pool_free: connections of %s still in use", p->acct->name);
    pthread_mutex_unlock(&p->lock);
    close_list(dead);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->freed);
    free(p);
}
