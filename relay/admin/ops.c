/*
 * ops.c - the operations thread of "exorelay run" (ops.h).
 *
 * One thread does it all, in a poll loop: answering a status request
 * takes microseconds, and the only slow job, an alarm mail, is rare.
 * XXX A status request that arrives while an alarm mail is being sent
 * waits for it; with Exchange unreachable that is up to connect_timeout,
 * longer than the client's CONTROL_TIMEOUT, and "status --check" then
 * reports the relay as not answering.
 *
 * The thread holds a reference on the current server generation
 * (smtpd_server_hold) while it uses its config and pools, so a reload
 * cannot free them under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alarms.h"
#include "control.h"
#include "common/log.h"
#include "metrics.h"
#include "ops.h"
#include "sd_notify.h"
#include "status_info.h"

static struct {
    pthread_mutex_t lock;
    struct smtpd_server *srv;   /* current generation, held */
    pthread_t thread;
    int     running;
    int     lfd;                /* control socket, -1 if none */
    char    path[4096];
    int     stop[2];
    time_t  started;
} ops = { .lock = PTHREAD_MUTEX_INITIALIZER, .lfd = -1, .stop = { -1, -1 } };

/* current - the server generation in use, held for the caller */
static struct smtpd_server *current(void)
{
    struct smtpd_server *srv;

    pthread_mutex_lock(&ops.lock);
    srv = ops.srv;
    smtpd_server_hold(srv);
    pthread_mutex_unlock(&ops.lock);
    return srv;
}

/* collect - the status document with the daemon's part */
static json_t *collect(void *arg)
{
    struct smtpd_server *srv = arg;
    json_t *st = status_collect(smtpd_server_config(srv), smtpd_server_pools(srv),
                                time(NULL));

    json_object_set_new(st, "daemon", json_pack("{s:i, s:s, s:I, s:i}",
                        "pid", (int) getpid(), "version", EXORELAY_VERSION,
                        "started", (json_int_t) ops.started,
                        "sessions", smtpd_sessions()));
    return st;
}

/* write_metrics - metrics_file, when configured; stopping: the last
 * one, written on a clean shutdown (exorelay_up 0) */
static void write_metrics(struct smtpd_server *srv, int stopping)
{
    const struct config *cfg = smtpd_server_config(srv);
    json_t *st;

    if (cfg->metrics_file == NULL || *cfg->metrics_file == 0)
        return;
    st = collect(srv);
    if (stopping)
        json_object_set_new(json_object_get(st, "daemon"), "stopping", json_true());
    if (metrics_write(cfg->metrics_file, st) < 0)
        msg_warn("metrics: cannot write %s: %m", cfg->metrics_file);
    json_decref(st);
}

/* due - run what is due; the seconds until the next job */
static int due(time_t *next_alarm, time_t *next_metrics)
{
    struct smtpd_server *srv = current();
    time_t  now = time(NULL);
    int     wait;

    if (now >= *next_alarm) {
        alarms_check(smtpd_server_config(srv), smtpd_server_pools(srv), now);
        *next_alarm = now + OPS_ALARM_INTERVAL;
    }
    if (now >= *next_metrics) {
        write_metrics(srv, 0);
        *next_metrics = now + smtpd_server_config(srv)->metrics_interval;
    }
    smtpd_server_drop(srv);
    wait = (int) ((*next_alarm < *next_metrics ? *next_alarm : *next_metrics) - now);
    return wait > 0 ? wait : 1;
}

/* answer - one status request */
static void answer(void)
{
    struct smtpd_server *srv = current();

    control_answer(ops.lfd, collect, srv);
    smtpd_server_drop(srv);
}

/* ops_main - the loop */
static void *ops_main(void *arg)
{
    time_t  next_alarm = 0, next_metrics = 0;
    struct pollfd pfd[2];

    (void) arg;
    pfd[0] = (struct pollfd) { ops.stop[0], POLLIN, 0 };
    pfd[1] = (struct pollfd) { ops.lfd, POLLIN, 0 };
    for (;;) {
        int     wait = due(&next_alarm, &next_metrics);
        int     rc = poll(pfd, ops.lfd >= 0 ? 2 : 1, wait * 1000);
        char    cmd[16];
        ssize_t n;

        if (rc < 0 && errno != EINTR)
            break;
        if (rc > 0 && (pfd[0].revents & POLLIN)) {
            /* 'T': stop; 'R': a reload, whose credentials are checked
             * now, not at the next tick (up to OPS_ALARM_INTERVAL away) */
            if ((n = read(ops.stop[0], cmd, sizeof(cmd))) <= 0 || memchr(cmd, 'T', (size_t) n))
                break;
            next_alarm = next_metrics = 0;
        }
        if (rc > 0 && (pfd[1].revents & POLLIN))
            answer();
    }
    return NULL;
}

/* ops_start - see ops.h */
void ops_start(struct smtpd_server *srv)
{
    const struct config *cfg = smtpd_server_config(srv);
    char    err[4200];

    ops.started = time(NULL);
    smtpd_server_hold(srv);
    ops.srv = srv;
    snprintf(ops.path, sizeof(ops.path), "%s", cfg->control_socket);
    if ((ops.lfd = control_listen(ops.path, err, sizeof(err))) < 0)
        msg_error("%s; exorelay status shows only what is on disk", err);
    if (pipe2(ops.stop, O_CLOEXEC) < 0
        || pthread_create(&ops.thread, NULL, ops_main, NULL) != 0) {
        msg_error("operations thread not started (%m): no status, metrics or "
                  "expiry alarms");
    } else {
        ops.running = 1;
    }
    sd_notify_send("READY=1\nSTATUS=serving");
}

/* ops_reload - switch to a new server generation */
void ops_reload(struct smtpd_server *srv)
{
    struct smtpd_server *old;

    smtpd_server_hold(srv);
    pthread_mutex_lock(&ops.lock);
    old = ops.srv;
    ops.srv = srv;
    pthread_mutex_unlock(&ops.lock);
    if (old != NULL)
        smtpd_server_drop(old);
    if (ops.running && write(ops.stop[1], "R", 1) < 0)
        msg_warn("ops: cannot ask for a check of the reloaded credentials: %m");
}

/* ops_stop - see ops.h */
void ops_stop(void)
{
    sd_notify_send("STOPPING=1");
    if (ops.running) {
        if (write(ops.stop[1], "T", 1) < 0)
            msg_warn("ops: stop pipe: %m");
        pthread_join(ops.thread, NULL);
        ops.running = 0;
    }
    if (ops.lfd >= 0) {
        close(ops.lfd);
        unlink(ops.path);
        ops.lfd = -1;
    }
    for (int i = 0; i < 2; i++)
        if (ops.stop[i] >= 0)
            close(ops.stop[i]);
    ops.stop[0] = ops.stop[1] = -1;
    if (ops.srv != NULL) {
        write_metrics(ops.srv, 1);      /* exorelay_up 0: stopped on purpose */
        smtpd_server_drop(ops.srv);
    }
    ops.srv = NULL;
}
