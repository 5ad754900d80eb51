/*
 * milter_main.c - exorelay-milter: classify, tag and prepare outbound
 * notification mail for Exchange Online, inside Postfix or Sendmail.
 *
 * SYNOPSIS
 *	exorelay-milter [-c FILE] [-f]
 *	exorelay-milter [-c FILE] -n
 *	exorelay-milter --version | --help
 *
 * Loads the config (-c, else $EXORELAY_CONF, else the default path),
 * opens [milter] socket, drops root to [relay] user, and serves until
 * SIGTERM. SIGHUP reloads the config without dropping a connection.
 * -n only checks the config, as OpenDKIM's -n: silent and 0 when it is
 * fine, else "FILE:LINE: message" lines on stderr and 78 (the unit runs it
 * as ExecStartPre, so a broken config never stops a running milter).
 * Exit codes: <sysexits.h> (64 usage, 78 config, 69/71 socket, 67 user).
 *
 * Signals: libmilter's own signal thread stops the milter on SIGHUP, which
 * is not what an admin means by it. So libmilter runs in a second thread,
 * and the main thread keeps HUP, TERM and INT unblocked with a handler:
 * Linux hands a signal sent to the process to its main thread whenever
 * that thread does not block it, so libmilter's sigwait() never sees them.
 * XXX On other kernels a SIGHUP may reach libmilter's thread and stop the
 * milter; a supervisor that restarts it then loads the new config anyway.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "filter.h"
#include "common/log.h"
#include "mconf.h"
#include "msock.h"
#include "common/privs.h"

#define PROGNAME "exorelay-milter"
#define DEFAULT_SOCKET_GROUP "postfix"

static int sig_pipe[2] = {-1, -1};
static char *socket_spec;               /* [milter] socket as opened */

/* usage - the --help text */
static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: " PROGNAME " [-c FILE] [-f]\n"
            "       " PROGNAME " [-c FILE] -n\n"
            "       " PROGNAME " --version | --help\n"
            "  -c, --config FILE  config file (default: $EXORELAY_CONF, else %s)\n"
            "  -f, --foreground   stay in the foreground and log to stderr\n"
            "  -n, --check        check the config and exit: 0 ok, 78 with FILE:LINE\n"
            "Listens on [milter] socket for Postfix (smtpd_milters, non_smtpd_milters)\n"
            "or Sendmail (INPUT_MAIL_FILTER). SIGHUP reloads the config, SIGTERM stops.\n"
            "See exorelay-milter(8) and exorelay.conf(5).\n",
            "/etc/exorelay/exorelay.conf");
}

/* on_signal - tell the main loop, async-signal-safely */
static void on_signal(int sig)
{
    int     saved = errno;
    char    b = (char) sig;

    if (write(sig_pipe[1], &b, 1) < 0)
        (void) 0;                       /* the pipe is full: a wakeup is pending */
    errno = saved;
}

/* milter_thread - libmilter's accept loop; says when it ends */
static void *milter_thread(void *arg)
{
    char    b = 0;
    intptr_t r = smfi_main();

    (void) arg;
    if (write(sig_pipe[1], &b, 1) < 0)
        (void) 0;
    return (void *) r;
}

/* catch_signals - handlers in this (the main) thread, never blocked here */
static void catch_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART | SA_NODEFER};

    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* warn_socket_change - the socket stays what it was until a restart */
static void warn_socket_change(void)
{
    struct mconf *mc = mconf_acquire();

    if (mc && socket_spec && mc->cfg->milter_socket
        && strcmp(mc->cfg->milter_socket, socket_spec) != 0)
        msg_warn("[milter] socket changed to %s: still listening on %s until a restart",
                 mc->cfg->milter_socket, socket_spec);
    mconf_release(mc);
}

/* serve - run libmilter in a thread; reload on HUP, stop on TERM/INT */
static int serve(const char *path)
{
    sigset_t set, old;
    pthread_t tid;
    void   *r;
    char    b;

    if (pipe(sig_pipe) < 0)
        return EX_OSERR;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old);    /* inherited by libmilter's threads */
    if (pthread_create(&tid, NULL, milter_thread, NULL) != 0) {
        msg_error("cannot start the milter thread");
        return EX_OSERR;
    }
    catch_signals();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    msg_info("ready, pid %ld", (long) getpid());
    for (;;) {
        if (read(sig_pipe[0], &b, 1) != 1) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (b == SIGHUP) {
            msg_info("SIGHUP: reloading %s", path);
            if (mconf_load(path) == 0)
                warn_socket_change();
        } else if (b == SIGTERM || b == SIGINT) {
            msg_info("stopping");
            smfi_stop();
        } else {
            break;                      /* smfi_main() returned */
        }
    }
    pthread_join(tid, &r);
    return (intptr_t) r == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
}

/* run_ids - uid and gid of [relay] user, who will own the socket directory */
static int run_ids(const struct config *cfg, uid_t *uid, gid_t *gid)
{
    const struct passwd *pw;

    *uid = geteuid();
    *gid = getegid();
    if (*uid != 0 || cfg->user == NULL || cfg->user[0] == 0)
        return 0;
    if ((pw = getpwnam(cfg->user)) == NULL) {
        msg_error("user %s: no such user (create it, e.g. useradd --system %s, "
                  "or set the [relay] user key to an existing one)", cfg->user, cfg->user);
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

/* socket_group - [milter] socket_group, else "postfix" when it exists */
static const char *socket_group(const struct config *cfg)
{
    if (cfg->milter_socket_group)
        return cfg->milter_socket_group;
    return getgrnam(DEFAULT_SOCKET_GROUP) ? DEFAULT_SOCKET_GROUP : NULL;
}

/* open_socket - prepare, open and secure [milter] socket, then drop root */
static int open_socket(const struct config *cfg)
{
    char    err[256];
    uid_t   uid;
    gid_t   gid;
    const char *spec = cfg->milter_socket;

    if (spec == NULL || *spec == 0) {
        msg_error("[milter] socket is not set");
        return EX_CONFIG;
    }
    if (run_ids(cfg, &uid, &gid) < 0)
        return EX_NOUSER;
    if (smfi_setconn((char *) spec) != MI_SUCCESS || smfi_register(filter_desc) != MI_SUCCESS) {
        msg_error("libmilter refused the socket %s", spec);
        return EX_CONFIG;
    }
    if (msock_prepare(spec, uid, gid) < 0)
        return EX_UNAVAILABLE;
    if (smfi_opensocket(0) != MI_SUCCESS) {
        msg_error("cannot listen on %s (in use, or no permission)", spec);
        return EX_UNAVAILABLE;
    }
    if (msock_secure(spec, socket_group(cfg), cfg->milter_socket_mode) < 0)
        return EX_OSERR;
    if (privs_drop(cfg->user, err, sizeof(err)) < 0) {
        msg_error("%s", err);
        return EX_OSERR;
    }
    msg_info("listening on %s", spec);
    socket_spec = strdup(spec);
    return EX_OK;
}

/* check_only - -n: nothing and 0 when the config is fine; else its
 * problems as FILE:LINE lines on stderr (config_load's, the same as
 * "exorelay check" prints) and EX_CONFIG */
static int check_only(const char *path)
{
    int     nerrors = 0;
    struct config *cfg = config_load(path, stderr, &nerrors);

    if (cfg != NULL && (cfg->milter_socket == NULL || *cfg->milter_socket == 0)) {
        fprintf(stderr, "%s:0: [milter] socket is not set\n", path);
        nerrors++;
    }
    if (cfg != NULL && nerrors == 0) {
        config_free(cfg);
        return EX_OK;
    }
    config_free(cfg);
    fprintf(stderr, PROGNAME ": %s: %d error%s\n", path, nerrors, nerrors == 1 ? "" : "s");
    return EX_CONFIG;
}

/* start - load the config and open the socket; EX_OK or the exit code */
static int start(const char *path)
{
    struct mconf *mc;
    int     r;

    if (mconf_load(path) < 0)
        return EX_CONFIG;
    mc = mconf_acquire();
    r = open_socket(mc->cfg);
    mconf_release(mc);
    return r;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"foreground", no_argument, NULL, 'f'},
        {"check", no_argument, NULL, 'n'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static char abs_path[PATH_MAX];
    const char *path = NULL;
    int     foreground = 0, check = 0, opt, r;

    privs_no_core();            /* may hold a secret or a token: never in a core */
    while ((opt = getopt_long(argc, argv, "c:fhn", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'f':
            foreground = 1;
            break;
        case 'n':
            check = 1;
            break;
        case 'V':
            printf(PROGNAME " %s\n", EXORELAY_VERSION);
            return EX_OK;
        case 'h':
            usage(stdout);
            return EX_OK;
        default:
            usage(stderr);
            return EX_USAGE;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return EX_USAGE;
    }
    if (path == NULL)
        path = config_path_default();
    if (check)
        return check_only(path);
    if (realpath(path, abs_path) != NULL)  /* daemon() leaves the directory */
        path = abs_path;
    log_open("milter", 1);
    if ((r = start(path)) != EX_OK)
        return r;
    if (!foreground) {
        if (daemon(0, 0) < 0) {
            msg_error("cannot become a daemon: %m");
            return EX_OSERR;
        }
        log_open("milter", 0);
    }
    r = serve(path);
    if (socket_spec && msock_unix_path(socket_spec))
        (void) unlink(msock_unix_path(socket_spec));
    free(socket_spec);
    mconf_shutdown();
    return r;
}
