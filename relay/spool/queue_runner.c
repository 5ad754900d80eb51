/*
 * queue_runner.c - deliver the exorelay-sendmail spool from inside
 * "exorelay run" (see queue_runner.h for the contract).
 *
 * Threads: one scheduler, N workers (N = the accounts' connection limits
 * added up, 1..16, so every pooled connection can be busy).
 *
 *	scheduler: poll(inotify on maildrop/, wake pipe, timeout = next retry)
 *	  new ID in maildrop/  -> spool_pickup() into queue/ -> table, due now
 *	  f.ID in maildrop/    -> every entry due now (exorelay queue flush)
 *	  entry due            -> marked busy, handed to the workers
 *	worker: spool_deliver() -> entry removed, or due again at next_attempt
 *
 * The table holds only IDs and times; everything else stays in the files,
 * so a SIGKILL loses nothing: at the next start queue/ is read again, and a
 * message that upstream had already accepted is delivered a second time
 * (a duplicate, never a loss).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "queue_runner.h"
#include "spool.h"
#include "spool_deliver.h"
#include "spool_pickup.h"

#define RESCAN_SECS     30      /* full maildrop scan, in case inotify missed */
#define BUSY_RETRY_SECS 5       /* another process held a message */
#define MAX_WORKERS     16

struct qent {
    char    id[SPOOL_ID_SIZE];
    time_t  next;
    int     busy;
};

static struct runner {
    int     started, stop;
    struct spool_ctx ctx;
    pthread_mutex_t mu;
    pthread_cond_t work;
    pthread_t sched, workers[MAX_WORKERS];
    int     nworkers;
    struct qent *q;             /* the queue, in no order */
    size_t  n, cap;
    char  (*fifo)[SPOOL_ID_SIZE]; /* due IDs waiting for a worker */
    size_t  fhead, fcount, fcap;
    int     inotify_fd, wake[2], lock_fd, pid_fd;
} R = {.mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER};

/* find - index of id in the table, or -1 (caller holds R.mu) */
static long find(const char *id)
{
    for (size_t i = 0; i < R.n; i++)
        if (strcmp(R.q[i].id, id) == 0)
            return (long) i;
    return -1;
}

/* add - id due at next; a known id keeps its entry (caller holds R.mu) */
static void add(const char *id, time_t next)
{
    if (find(id) >= 0)
        return;
    if (R.n == R.cap) {
        size_t cap = R.cap ? 2 * R.cap : 256;
        struct qent *nq = realloc(R.q, cap * sizeof(*nq));
        if (nq == NULL) {
            msg_error("queue runner: out of memory; %s waits for a restart", id);
            return;
        }
        R.q = nq;
        R.cap = cap;
    }
    snprintf(R.q[R.n].id, SPOOL_ID_SIZE, "%s", id);
    R.q[R.n].next = next;
    R.q[R.n++].busy = 0;
}

/* fifo_push - hand a due ID to the workers (caller holds R.mu) */
static int fifo_push(const char *id)
{
    if (R.fcount == R.fcap) {
        size_t cap = R.fcap ? 2 * R.fcap : 256;
        char (*nf)[SPOOL_ID_SIZE] = malloc(cap * sizeof(*nf));
        if (nf == NULL)
            return -1;
        for (size_t i = 0; i < R.fcount; i++)
            memcpy(nf[i], R.fifo[(R.fhead + i) % R.fcap], SPOOL_ID_SIZE);
        free(R.fifo);
        R.fifo = nf;
        R.fcap = cap;
        R.fhead = 0;
    }
    memcpy(R.fifo[(R.fhead + R.fcount++) % R.fcap], id, SPOOL_ID_SIZE);
    pthread_cond_signal(&R.work);
    return 0;
}

static void wake_scheduler(void)
{
    ssize_t w = write(R.wake[1], "x", 1);   /* full pipe: already woken */
    (void) w;
}

/* next_of - when to try a message first: what its state says, else now */
static time_t next_of(const char *spool_dir, const char *id, time_t now)
{
    struct spool_env st;
    time_t next = now;

    if (spool_state_load(spool_dir, id, &st) > 0 && st.next_attempt > 0)
        next = st.next_attempt;
    spool_env_free(&st);
    return next;
}

/* on_picked - spool_scan_maildrop() callback: a new message in queue/ */
static void on_picked(const char *id, void *arg)
{
    time_t next = next_of(R.ctx.cfg->spool_dir, id, time(NULL));

    (void) arg;
    pthread_mutex_lock(&R.mu);
    add(id, next);
    pthread_mutex_unlock(&R.mu);
}

/* dispatch - due entries to the workers; returns the next due time */
static time_t dispatch(time_t now, int flush)
{
    time_t soonest = now + RESCAN_SECS;

    pthread_mutex_lock(&R.mu);
    for (size_t i = 0; i < R.n; i++) {
        struct qent *e = &R.q[i];
        if (e->busy)
            continue;
        if (flush)
            e->next = now;
        if (e->next <= now && fifo_push(e->id) == 0)
            e->busy = 1;
        else if (e->next < soonest)
            soonest = e->next;
    }
    pthread_mutex_unlock(&R.mu);
    return soonest;
}

/* finished - a worker's verdict on one message */
static void finished(const char *id, const struct spool_report *rep)
{
    pthread_mutex_lock(&R.mu);
    long i = find(id);
    if (i >= 0) {
        if (rep->outcome == DELIV_DEFERRED || rep->outcome == DELIV_BUSY) {
            R.q[i].busy = 0;
            R.q[i].next = rep->outcome == DELIV_BUSY ? time(NULL) + BUSY_RETRY_SECS
                                                     : rep->next_attempt;
        } else {
            R.q[i] = R.q[--R.n];
        }
    }
    pthread_mutex_unlock(&R.mu);
    wake_scheduler();
}

static void *worker(void *arg)
{
    char id[SPOOL_ID_SIZE];
    struct spool_report rep;

    (void) arg;
    for (;;) {
        pthread_mutex_lock(&R.mu);
        while (R.fcount == 0 && !R.stop)
            pthread_cond_wait(&R.work, &R.mu);
        if (R.stop) {
            pthread_mutex_unlock(&R.mu);
            return NULL;
        }
        memcpy(id, R.fifo[R.fhead], SPOOL_ID_SIZE);
        R.fhead = (R.fhead + 1) % R.fcap;
        R.fcount--;
        pthread_mutex_unlock(&R.mu);
        spool_deliver(&R.ctx, SPOOL_QUEUE, id, -1, &rep);
        finished(id, &rep);
    }
}

/* read_events - new names in maildrop/: pick them up; flush requests */
static void read_events(const char *spool_dir, int *flush, int *rescan)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;

    while ((n = read(R.inotify_fd, buf, sizeof(buf))) > 0) {
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *) p;
            if (ev->mask & IN_Q_OVERFLOW)
                *rescan = 1;
            else if (ev->len > 0
                     && spool_pickup_name(spool_dir, ev->name, time(NULL), flush) > 0)
                on_picked(ev->name, NULL);
            p += sizeof(*ev) + ev->len;
        }
    }
}

static void *scheduler(void *arg)
{
    const char *spool_dir = R.ctx.cfg->spool_dir;
    time_t next_scan = 0;
    char drain[64];

    (void) arg;
    while (!R.stop) {
        time_t now = time(NULL);
        int flush = 0, rescan = 0;
        if (now >= next_scan) {
            spool_scan_maildrop(spool_dir, on_picked, NULL, &flush);
            pools_reap(R.ctx.pools);
            next_scan = now + RESCAN_SECS;
        }
        time_t due = dispatch(now, flush);
        if (due > next_scan)
            due = next_scan;
        struct pollfd fds[2] = {{R.inotify_fd, POLLIN, 0}, {R.wake[0], POLLIN, 0}};
        int timeout = due > now ? (int) (due - now) * 1000 : 0;
        if (poll(fds, 2, timeout) > 0) {
            if (fds[0].revents & POLLIN)
                read_events(spool_dir, &flush, &rescan);
            while (read(R.wake[0], drain, sizeof(drain)) > 0)
                ;
        }
        if (rescan)
            next_scan = 0;
        if (flush)
            dispatch(time(NULL), 1);
    }
    return NULL;
}

/* load_queue - what queue/ holds from before (a restart, a crash) */
static void load_queue(const char *spool_dir)
{
    char dir[4096];
    struct dirent *de;
    time_t now = time(NULL);
    DIR *d;

    if (spool_path(dir, sizeof(dir), spool_dir, SPOOL_QUEUE, NULL, NULL) < 0
        || (d = opendir(dir)) == NULL)
        return;
    while ((de = readdir(d)) != NULL)
        if (spool_id_ok(de->d_name))
            add(de->d_name, next_of(spool_dir, de->d_name, now));
    closedir(d);
}

/* drop_orphan_states - state files whose message is gone (a crash between
 * the two unlinks): mailq must not show them */
static void drop_orphan_states(const char *spool_dir)
{
    char dir[4096], p1[4096], p2[4096];
    struct dirent *de;
    DIR *d;

    if (spool_path(dir, sizeof(dir), spool_dir, SPOOL_STATE, NULL, NULL) < 0
        || (d = opendir(dir)) == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (!spool_id_ok(de->d_name)
            || spool_path(p1, sizeof(p1), spool_dir, SPOOL_QUEUE, de->d_name, NULL) < 0
            || spool_path(p2, sizeof(p2), spool_dir, SPOOL_MAILDROP, de->d_name, NULL) < 0)
            continue;
        if (access(p1, F_OK) < 0 && errno == ENOENT && access(p2, F_OK) < 0
            && errno == ENOENT)
            spool_state_remove(spool_dir, de->d_name);
    }
    closedir(d);
}

/* take_locks - the runner lock, then the published pid file */
static int take_locks(const char *spool_dir)
{
    char path[4096], tmp[4200];
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

    if (spool_path(path, sizeof(path), spool_dir, SPOOL_QUEUE, ".lock", NULL) < 0
        || (R.lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        msg_error("queue runner: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(R.lock_fd, LOCK_EX | LOCK_NB) < 0) {
        msg_error("queue runner: another exorelay daemon runs the spool %s", spool_dir);
        return -1;
    }
    /* A fresh file, locked before it gets its public name: nobody can hold
     * a lock on it first. An OFD lock, so that no close() elsewhere in
     * this process can drop it. */
    spool_path(path, sizeof(path), spool_dir, SPOOL_PIDFILE, NULL, NULL);
    snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long) getpid());
    R.pid_fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (R.pid_fd < 0 || fchmod(R.pid_fd, 0644) < 0 || fcntl(R.pid_fd, F_OFD_SETLK, &fl) < 0
        || dprintf(R.pid_fd, "%ld\n", (long) getpid()) < 0 || rename(tmp, path) < 0) {
        msg_error("queue runner: cannot publish %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* watch_maildrop - inotify and the wake pipe */
static int watch_maildrop(const char *spool_dir)
{
    char dir[4096];

    spool_path(dir, sizeof(dir), spool_dir, SPOOL_MAILDROP, NULL, NULL);
    R.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (R.inotify_fd < 0 || inotify_add_watch(R.inotify_fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0
        || pipe2(R.wake, O_NONBLOCK | O_CLOEXEC) < 0) {
        msg_error("queue runner: cannot watch %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* worker_count - enough to keep every account's connections busy */
static int worker_count(const struct config *cfg)
{
    int n = 0;

    for (size_t i = 0; i < cfg->naccounts; i++)
        n += cfg->accounts[i].max_connections > 0 ? cfg->accounts[i].max_connections : 3;
    return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : n;
}

static void close_all(void)
{
    char path[4096];

    if (R.pid_fd >= 0 && spool_path(path, sizeof(path), R.ctx.cfg->spool_dir,
                                    SPOOL_PIDFILE, NULL, NULL) == 0)
        unlink(path);
    int *fds[] = {&R.pid_fd, &R.lock_fd, &R.inotify_fd, &R.wake[0], &R.wake[1]};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
    free(R.q);
    free(R.fifo);
    R.q = NULL;
    R.fifo = NULL;
    R.n = R.cap = R.fcount = R.fcap = R.fhead = 0;
}

int queue_runner_start(const struct config *cfg, struct pools *pools, struct token_engine *te)
{
    char err[512];

    (void) te;
    if (R.started)
        return 0;
    R.stop = 0;
    R.lock_fd = R.pid_fd = R.inotify_fd = R.wake[0] = R.wake[1] = -1;
    spool_ctx_init(&R.ctx, cfg, pools);
    if (spool_make_dirs(cfg->spool_dir, err, sizeof(err)) < 0) {
        msg_error("queue runner: %s: the exorelay-sendmail queue is not run", err);
        return -1;
    }
    if (take_locks(cfg->spool_dir) < 0 || watch_maildrop(cfg->spool_dir) < 0) {
        close_all();
        return -1;
    }
    load_queue(cfg->spool_dir);
    drop_orphan_states(cfg->spool_dir);
    R.nworkers = worker_count(cfg);
    for (int i = 0; i < R.nworkers; i++)
        if (pthread_create(&R.workers[i], NULL, worker, NULL) != 0)
            R.nworkers = i;
    if (R.nworkers == 0 || pthread_create(&R.sched, NULL, scheduler, NULL) != 0) {
        msg_error("queue runner: cannot start its threads");
        queue_runner_stop();
        return -1;
    }
    R.started = 1;
    msg_info("queue runner: %s, %zu queued, %d delivery threads", cfg->spool_dir, R.n,
             R.nworkers);
    return 0;
}

void queue_runner_stop(void)
{
    if (R.ctx.cfg == NULL)      /* never started */
        return;
    pthread_mutex_lock(&R.mu);
    R.stop = 1;
    pthread_cond_broadcast(&R.work);
    pthread_mutex_unlock(&R.mu);
    if (R.started) {
        wake_scheduler();
        pthread_join(R.sched, NULL);
    }
    for (int i = 0; i < R.nworkers; i++)
        pthread_join(R.workers[i], NULL);
    R.nworkers = 0;
    R.started = 0;
    close_all();
}
