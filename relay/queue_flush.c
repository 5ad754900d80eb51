/*
 * queue_flush.c - run the whole queue now, ignoring retry times.
 *
 * SYNOPSIS
 *	int queue_flush(cfg, out)
 *		With a daemon running: leave a flush request (maildrop/f.ID)
 *		that its queue runner sees at once through inotify, and say
 *		so on out. Returns a <sysexits.h> status.
 */
#include <errno.h>
#include <string.h>
#include <sysexits.h>

#include "queue_flush.h"
#include "spool.h"
#include "spool_pickup.h"

int queue_flush(const struct config *cfg, FILE *out)
{
    long pid = 0;

    if (!spool_daemon_running(cfg->spool_dir, &pid)) {
        fprintf(out, "no exorelay daemon is running: start \"exorelay run\" to deliver "
                "the queue\n");
        return EX_UNAVAILABLE;
    }
    if (spool_request_flush(cfg->spool_dir) < 0) {
        fprintf(out, "cannot request a queue run in %s/%s: %s\n", cfg->spool_dir,
                SPOOL_MAILDROP, strerror(errno));
        return EX_CANTCREAT;
    }
    fprintf(out, "queue run requested from the exorelay daemon (pid %ld)\n", pid);
    return EX_OK;
}
