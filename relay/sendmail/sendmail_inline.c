/*
 * sendmail_inline.c - what exorelay-sendmail does once a message is safe in
 * the spool, and its -q.
 *
 * SYNOPSIS
 *	void sendmail_after_submit(cfg, id, fd, verbose)
 *		A running daemon (spool_daemon_running(): the lock on
 *		spool_dir/pid) sees the new file through inotify: nothing
 *		more to do. Without a daemon, a caller who may read the
 *		credentials (root, the daemon's user) delivers at once with
 *		"exorelay queue deliver ID" and waits for it (a container
 *		that exits right after sendmail must not lose the attempt);
 *		if that fails the message stays in maildrop/, its state
 *		recorded, for the daemon or "exorelay queue flush". Anyone
 *		else's message simply waits. Closes fd.
 *	int sendmail_run_queue(cfg, verbose)
 *		-q: "exorelay queue flush" (a request to the daemon, or a
 *		run of the queue when there is none); silent unless
 *		something fails, as cron wants it; -v: "queue flush -v"
 *	void sendmail_drop_group(void)
 *		give up the setgid group for good
 *
 * Why another program: exorelay-sendmail is installed setgid, so it stays
 * small. It links neither libcurl nor TLS code (-Wl,--as-needed drops
 * them); delivery is the job of the exorelay program, run without the
 * group, and only for callers who may read the credentials anyway.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "support/cred_access.h"
#include "common/log.h"
#include "sendmail_submit.h"

void sendmail_drop_group(void)
{
    gid_t g = getgid();

    if (getegid() != g && setresgid(g, g, g) < 0) {
        fprintf(stderr, "exorelay-sendmail: cannot drop group privileges: %s\n",
                strerror(errno));
        exit(EX_OSERR);
    }
}

/* exorelay_path - the exorelay program installed next to this one */
static int exorelay_path(char *buf, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n <= 0)
        return -1;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash == NULL)
        return -1;
    *slash = 0;
    return (size_t) snprintf(buf, size, "%s/exorelay", self) < size ? 0 : -1;
}

/* run_exorelay - "exorelay -c CONFIG queue ARGS...", waited for; its output
 * goes to stderr (stdout may be the -bs session) or nowhere */
static int run_exorelay(const struct config *cfg, const char *what, const char *id,
                        int verbose)
{
    char prog[PATH_MAX];
    int status;
    pid_t pid;

    if (exorelay_path(prog, sizeof(prog)) < 0 || access(prog, X_OK) < 0) {
        msg_warn("cannot find the exorelay program next to exorelay-sendmail");
        return EX_UNAVAILABLE;
    }
    sendmail_drop_group();
    fflush(NULL);
    if ((pid = fork()) < 0)
        return EX_OSERR;
    if (pid == 0) {
        if (!verbose && freopen("/dev/null", "w", stderr) == NULL)
            _exit(EX_OSERR);
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execl(prog, "exorelay", "-c", cfg->path, "queue", what, id, (char *) NULL);
        _exit(EX_UNAVAILABLE);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : EX_SOFTWARE;
}

void sendmail_after_submit(const struct config *cfg, const char *id, int fd, int verbose)
{
    long pid = 0;
    char why[512];

    close(fd);                  /* the lock goes with it: the child takes it */
    if (spool_daemon_running(cfg->spool_dir, &pid)) {
        if (verbose)
            fprintf(stderr, "exorelay-sendmail: %s: queued; the exorelay daemon (pid %ld) "
                    "delivers it\n", id, pid);
        return;
    }
    if (!credentials_readable(cfg, why, sizeof(why))) {
        msg_notice("%s: queued; no exorelay daemon is running and this user %s: it "
                   "waits for \"exorelay run\"", id, why);
        return;
    }
    if (verbose)
        fprintf(stderr, "exorelay-sendmail: %s: queued; no daemon runs, delivering now\n",
                id);
    run_exorelay(cfg, "deliver", id, verbose);
}

int sendmail_run_queue(const struct config *cfg, int verbose)
{
    long pid = 0;
    char why[512];

    if (!spool_daemon_running(cfg->spool_dir, &pid)
        && !credentials_readable(cfg, why, sizeof(why))) {
        fprintf(stderr, "exorelay-sendmail: no exorelay daemon is running, and this user "
                "%s: start \"exorelay run\" to deliver the queue\n", why);
        return EX_UNAVAILABLE;
    }
    /* what the flush says goes to stderr: only failures, unless -v */
    return run_exorelay(cfg, "flush", verbose ? "-v" : NULL, 1);
}
