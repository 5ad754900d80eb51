/*
 * sendmail_inline.c - what exorelay-sendmail does once a message is safe in
 * the spool, and its -q.
 *
 * SYNOPSIS
 *	void sendmail_after_submit(cfg, id, fd, verbose)
 *		A running daemon (spool_daemon_running()) sees the new file
 *		through inotify: nothing more to do. Otherwise the message
 *		waits in maildrop/ for the daemon. Closes fd.
 *	int sendmail_run_queue(cfg, verbose)
 *		-q: queue_flush() (a request to the daemon)
 */
#include <stdio.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "queue_flush.h"
#include "sendmail_submit.h"

void sendmail_after_submit(const struct config *cfg, const char *id, int fd, int verbose)
{
    long pid = 0;
    int running = spool_daemon_running(cfg->spool_dir, &pid);

    close(fd);
    if (verbose && running)
        fprintf(stderr, "exorelay-sendmail: %s: queued; the exorelay daemon (pid %ld) "
                "delivers it\n", id, pid);
    else if (verbose)
        fprintf(stderr, "exorelay-sendmail: %s: queued; no exorelay daemon is running, "
                "it waits for \"exorelay run\"\n", id);
}

int sendmail_run_queue(const struct config *cfg, int verbose)
{
    return queue_flush(cfg, verbose ? stderr : stdout);
}
