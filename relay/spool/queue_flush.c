/*
 * queue_flush.c - deliveries from a short-lived process: "exorelay queue
 * flush" (the whole queue now, ignoring retry times) and "exorelay queue
 * deliver ID" (exorelay-sendmail's inline delivery).
 *
 * SYNOPSIS
 *	int queue_flush(cfg, out, verbose)
 *		With a daemon running: leave a flush request (maildrop/f.ID)
 *		that its queue runner sees at once through inotify. Without:
 *		deliver here (root or the daemon's user only: the queue and
 *		the credentials are theirs): pick up maildrop/, try every
 *		message of queue/ once, then the reports that made. Quiet, as
 *		Postfix's "sendmail -q" is, for cron: on out only a message
 *		that failed for good with nobody to tell (moved to failed/);
 *		with verbose one line per message and a total; problems on
 *		stderr. Returns a <sysexits.h> status: EX_OK also when some
 *		messages were deferred (they stay queued; the log says why).
 *	int queue_deliver_id(cfg, id, out)
 *		"exorelay queue deliver ID": one attempt at one message, in
 *		queue/ or still in maildrop/ (how exorelay-sendmail delivers
 *		when no daemon runs), and at the report it made, if any
 *	int queue_deliver_open(cfg, &ctx) / void queue_deliver_close(&ctx)
 *		token engine and pools for deliveries from this process
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "support/cred_access.h"
#include "queue_flush.h"
#include "spool.h"
#include "spool_deliver.h"
#include "spool_pickup.h"

int queue_deliver_open(const struct config *cfg, struct queue_delivery *qd)
{
    memset(qd, 0, sizeof(*qd));
    if ((qd->te = token_engine_new(cfg)) == NULL
        || (qd->pools = pools_new(cfg, qd->te)) == NULL) {
        queue_deliver_close(qd);
        return -1;
    }
    spool_ctx_init(&qd->ctx, cfg, qd->pools);
    return 0;
}

void queue_deliver_close(struct queue_delivery *qd)
{
    if (qd->pools)
        pools_free(qd->pools);
    if (qd->te)
        token_engine_free(qd->te);
    qd->pools = NULL;
    qd->te = NULL;
}

static const char *const outcome_names[] = {
    [DELIV_SENT] = "sent", [DELIV_DEFERRED] = "deferred", [DELIV_FAILED] = "failed",
    [DELIV_BUSY] = "busy", [DELIV_GONE] = "gone",
};

/* deliver_report - one attempt at sub/ID; its line on out (NULL: only
 * when it failed for good) */
static enum spool_outcome deliver_report(struct queue_delivery *qd, const char *sub,
                                         const char *id, FILE *out, struct spool_report *rep)
{
    spool_deliver(&qd->ctx, sub, id, -1, rep);
    if (out != NULL || rep->outcome == DELIV_FAILED)
        fprintf(out ? out : stdout, "%s: %s: %s\n", id, outcome_names[rep->outcome],
                rep->text);
    return rep->outcome;
}

/* run_queue_dir - one attempt at every message in queue/; count outcomes */
static void run_queue_dir(struct queue_delivery *qd, FILE *out, int count[])
{
    char dir[4096];
    struct dirent *de;
    struct spool_report rep;
    DIR *d;

    if (spool_path(dir, sizeof(dir), qd->ctx.cfg->spool_dir, SPOOL_QUEUE, NULL, NULL) < 0
        || (d = opendir(dir)) == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (!spool_id_ok(de->d_name))
            continue;
        count[deliver_report(qd, SPOOL_QUEUE, de->d_name, out, &rep)]++;
    }
    closedir(d);
}

/* flush_here - no daemon: deliver from this process */
static int flush_here(const struct config *cfg, FILE *out, int verbose)
{
    struct queue_delivery qd;
    char why[512];
    int count[DELIV_GONE + 1] = {0}, flush = 0;

    if (!credentials_readable(cfg, why, sizeof(why))) {
        fprintf(stderr, "exorelay: no exorelay daemon is running, and this user %s: "
                "start \"exorelay run\", or flush as root\n", why);
        return EX_NOPERM;
    }
    if (queue_deliver_open(cfg, &qd) < 0) {
        fprintf(stderr, "exorelay: cannot start deliveries (out of memory?)\n");
        return EX_SOFTWARE;
    }
    /* twice: the second round takes the reports the first one made */
    for (int round = 0; round < 2; round++)
        if (spool_scan_maildrop(cfg->spool_dir, NULL, NULL, &flush) > 0 || round == 0)
            run_queue_dir(&qd, verbose ? out : NULL, count);
    queue_deliver_close(&qd);
    if (verbose)
        fprintf(out, "%d sent, %d deferred, %d failed\n", count[DELIV_SENT],
                count[DELIV_DEFERRED], count[DELIV_FAILED]);
    return EX_OK;
}

int queue_deliver_id(const struct config *cfg, const char *id, FILE *out)
{
    static const char *const subs[] = {SPOOL_QUEUE, SPOOL_MAILDROP};
    struct queue_delivery qd;
    struct spool_report rep;
    char why[512];
    enum spool_outcome o = DELIV_GONE;

    if (!credentials_readable(cfg, why, sizeof(why))) {
        fprintf(out, "this user %s\n", why);
        return EX_NOPERM;
    }
    if (queue_deliver_open(cfg, &qd) < 0)
        return EX_SOFTWARE;
    for (size_t i = 0; i < 2 && o == DELIV_GONE; i++)
        o = deliver_report(&qd, subs[i], id, out, &rep);
    if (rep.dsn_id[0]) {        /* the report it made: deliver that too */
        char dsn[SPOOL_ID_SIZE];
        snprintf(dsn, sizeof(dsn), "%s", rep.dsn_id);
        deliver_report(&qd, SPOOL_MAILDROP, dsn, out, &rep);
    }
    queue_deliver_close(&qd);
    return o == DELIV_GONE ? EX_NOINPUT : EX_OK;
}

int queue_flush(const struct config *cfg, FILE *out, int verbose)
{
    long pid = 0;

    if (!spool_daemon_running(cfg->spool_dir, &pid))
        return flush_here(cfg, out, verbose);
    if (spool_request_flush(cfg->spool_dir) < 0) {
        fprintf(stderr, "exorelay: cannot request a queue run in %s/%s: %s\n",
                cfg->spool_dir, SPOOL_MAILDROP, strerror(errno));
        return EX_CANTCREAT;
    }
    if (verbose)
        fprintf(out, "queue run requested from the exorelay daemon (pid %ld)\n", pid);
    return EX_OK;
}
