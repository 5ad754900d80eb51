/*
 * cmd_run.c - "exorelay -c FILE run [-f]": the relay daemon.
 *
 * SYNOPSIS
 *	int cmd_run(cfg, argc, argv)
 *
 * Order of start-up: bind every listen address (as root if need be: a
 * port below 1024, a socket in a root-owned directory), detach unless -f,
 * drop root (user), then start the token engine and its refresher, then
 * the spool queue runner, then serve. Errors before serving go to stderr
 * and the exit status says what failed (EX_OSERR for a socket, EX_NOUSER
 * for the user); afterwards to syslog (mail facility), or stderr with -f.
 *
 * Signals (turned into bytes on a pipe, handled in the main loop):
 *	SIGTERM, SIGINT  stop accepting, let sessions finish the message
 *			 they are in (idle ones are told 421), exit 0.
 *	SIGHUP		 reload the config: new clients use the new one, open
 *			 sessions finish on the old one, no connection is
 *			 dropped. A config with errors is logged and ignored.
 *			 listen, user and socket_* need a restart.
 *			 XXX the old generation's pools live until its last
 *			 session ends, so for that while a mailbox can have
 *			 more than max_connections sessions (old + new pool).
 *			 XXX a reload re-reads secret files as the dropped
 *			 user: they must be readable by it.
 * Every REAP_INTERVAL seconds idle upstream connections are closed.
 *
 * Under systemd use Type=notify with "run -f" (logs go to the journal via
 * stderr; READY=1 is sent once it serves, see ops.h), or Type=forking
 * with "run".
 */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "commands.h"
#include "server/listener.h"
#include "common/log.h"
#include "ops.h"
#include "pool/budget.h"
#include "support/mem_trim.h"
#include "common/privs.h"
#include "spool/queue_runner.h"
#include "server/smtpd.h"
#include "token/token.h"

#define REAP_INTERVAL 10        /* seconds */

static int sig_pipe[2] = { -1, -1 };

/* on_signal - async-signal-safe: just tell the main loop */
static void on_signal(int sig)
{
    int saved = errno;
    char c = sig == SIGHUP ? 'H' : 'T';
    ssize_t rc = write(sig_pipe[1], &c, 1);

    (void) rc;
    errno = saved;
}

/* signals_init - the self-pipe and the handlers */
static int signals_init(void)
{
    struct sigaction sa;

    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* daemonize - leave the terminal; the parent exits 0 */
static int daemonize(void)
{
    pid_t pid = fork();
    int fd;

    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(EX_OK);
    setsid();
    if (chdir("/") < 0)
        return -1;
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    log_open("relay", 0);
    return 0;
}

/* --- queue runner hook (branch sendmail, relay/queue_runner.h) ---------
 * The spool of exorelay-sendmail is delivered from here, through
 * smtpd_server_pools(srv) so that it shares the per-mailbox connection
 * limit with SMTP clients. The runner holds a reference on the generation
 * whose config and pools it uses, and is restarted on a reload. */
static struct smtpd_server *runner_srv;

/* start_queue_runner - deliver the spool with this generation */
static void start_queue_runner(struct smtpd_server *srv, struct token_engine *te)
{
    if (queue_runner_start(smtpd_server_config(srv), smtpd_server_pools(srv), te) < 0) {
        msg_warn("run: the exorelay-sendmail queue is not delivered (see above)");
        return;
    }
    smtpd_server_hold(srv);
    runner_srv = srv;
}

/* stop_queue_runner - deliveries in progress finish first */
static void stop_queue_runner(void)
{
    queue_runner_stop();
    if (runner_srv != NULL)
        smtpd_server_drop(runner_srv);
    runner_srv = NULL;
}
/* --- end of the queue runner hook --- */

/* reload - SIGHUP: a new generation for new clients */
static struct smtpd_server *reload(struct smtpd_server *srv, struct token_engine *te,
                                   int stop_fd)
{
    char *errs = NULL;
    size_t errlen = 0;
    int nerrors = 0;
    FILE *fp = open_memstream(&errs, &errlen);
    struct config *cfg = config_load(global_opts.config_path, fp, &nerrors);
    struct smtpd_server *fresh;

    if (fp)
        fclose(fp);
    if (cfg == NULL) {
        for (char *line = strtok(errs ? errs : "", "\n"); line; line = strtok(NULL, "\n"))
            msg_error("reload: %s", line);
        msg_error("reload: %s has errors; still using the previous config",
                  global_opts.config_path);
        free(errs);
        return srv;
    }
    free(errs);
    token_engine_reload(te, cfg);
    fresh = smtpd_server_new(cfg, te, stop_fd, 1);
    if (fresh == NULL) {
        msg_error("reload: out of memory; still using the previous config");
        config_free(cfg);
        return srv;
    }
    log_set_level(cfg->log_level);
    stop_queue_runner();                /* queue runner hook: new generation */
    start_queue_runner(fresh, te);
    smtpd_server_drop(srv);
    ops_reload(fresh);                  /* operations: status, alarms */
    /* logged once every part uses the new config (tests wait for it) */
    msg_notice("reloaded %s (listen, user and socket_* take effect on restart)",
               global_opts.config_path);
    return fresh;
}

/* serve - the accept loop; returns on SIGTERM */
static struct smtpd_server *serve(struct listener *l, struct smtpd_server *srv,
                                  struct token_engine *te, int stop_fd)
{
    size_t n = listener_count(l);
    struct pollfd *pfd = calloc(n + 1, sizeof(*pfd));

    if (pfd == NULL)
        return srv;
    for (size_t i = 0; i < n; i++)
        pfd[i] = (struct pollfd) { listener_fd(l, i), POLLIN, 0 };
    pfd[n] = (struct pollfd) { sig_pipe[0], POLLIN, 0 };
    for (;;) {
        int rc = poll(pfd, (nfds_t) n + 1, REAP_INTERVAL * 1000);
        if (rc < 0 && errno != EINTR)
            break;
        if (rc <= 0) {
            smtpd_server_reap(srv);
            mem_trim();                 /* idle: give back what start-up touched */
            continue;
        }
        if (pfd[n].revents & POLLIN) {
            char c;
            int term = 0;
            while (read(sig_pipe[0], &c, 1) == 1)
                term |= c == 'T';
            if (term)
                break;
            srv = reload(srv, te, stop_fd);
        }
        for (size_t i = 0; i < n; i++)
            if (pfd[i].revents & POLLIN)
                listener_accept(l, i, srv);
    }
    free(pfd);
    return srv;
}

/* cmd_run - serve until SIGTERM */
int cmd_run(struct config *cfg, int argc, char **argv)
{
    char err[512];
    int stop_pipe[2];
    struct listener *l;
    struct token_engine *te;
    struct smtpd_server *srv;

    static const struct option longopts[] = {
        {"foreground", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    while ((opt = getopt_long(argc, argv, "f", longopts, NULL)) != -1) {
        if (opt != 'f')
            return command_usage_error("run");
        global_opts.foreground = 1;
    }
    if (optind < argc)
        return command_usage_error("run");
    log_open("relay", 1);               /* stderr until detached (daemonize) */
    mem_lean_start();                   /* before any thread */
    if (signals_init() < 0 || pipe2(stop_pipe, O_CLOEXEC) < 0) {
        fprintf(stderr, "exorelay: run: pipe: %s\n", strerror(errno));
        return EX_OSERR;
    }
    if ((l = listener_open(cfg, err, sizeof(err))) == NULL) {
        msg_error("run: %s", err);
        return EX_OSERR;
    }
    if (!global_opts.foreground && daemonize() < 0) {
        msg_error("run: cannot detach: %s", strerror(errno));
        return EX_OSERR;
    }
    if (privs_drop(cfg->user, err, sizeof(err)) < 0) {
        msg_error("run: %s", err);
        listener_close(l);
        return EX_NOUSER;
    }
    budget_persist(cfg->state_dir);     /* recipient budgets survive a restart */
    if ((te = token_engine_new(cfg)) == NULL
        || (srv = smtpd_server_new(cfg, te, stop_pipe[0], 0)) == NULL) {
        msg_error("run: cannot start (out of memory?)");
        listener_close(l);
        return EX_SOFTWARE;
    }
    if (token_engine_start_refresher(te) < 0)
        msg_warn("run: token refresher not started: tokens are fetched on demand");
    start_queue_runner(srv, te);
    ops_start(srv);                     /* operations: status, alarms, metrics */
    msg_notice("exorelay %s serving %zu listener%s", EXORELAY_VERSION,
               listener_count(l), listener_count(l) == 1 ? "" : "s");

    srv = serve(l, srv, te, stop_pipe[0]);
    ops_stop();
    stop_queue_runner();                /* queue runner hook */

    msg_notice("shutting down: %d session%s to finish", listener_clients(l),
               listener_clients(l) == 1 ? "" : "s");
    if (write(stop_pipe[1], "T", 1) < 0)
        msg_warn("run: stop pipe: %s", strerror(errno));
    listener_stop(l);
    listener_wait_idle(l);              /* every generation's sessions */
    listener_close(l);
    token_engine_free(te);
    smtpd_server_drop(srv);
    budget_flush(1);
    msg_notice("stopped");
    return EX_OK;
}
