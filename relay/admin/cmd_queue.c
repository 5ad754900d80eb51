/*
 * cmd_queue.c - "exorelay queue [list|flush|delete ID]": the spool written
 * by exorelay-sendmail (see spool.h).
 *
 *	list		every queued message: ID, size, age, attempts, sender,
 *			last error, recipients left; then the failed/ folder
 *	flush [-v]	deliver everything now, ignoring retry times; silent
 *			unless something fails (-v: a line per message)
 *	delete ID	remove a message (queued, waiting in maildrop, or in
 *			failed/) and its state
 *	deliver ID	one delivery attempt at one message now (what
 *			exorelay-sendmail runs when no daemon does)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "commands.h"
#include "spool/queue_flush.h"
#include "spool/spool.h"
#include "spool/spool_list.h"

/* delete_in - remove sub/ID if there; 1 removed, 0 absent, -1 busy */
static int delete_in(const char *spool_dir, const char *sub, const char *id)
{
    char path[4096];
    int fd;

    if (spool_path(path, sizeof(path), spool_dir, sub, id, NULL) < 0)
        return 0;
    /* the lock: never pull a file from under a delivery in progress */
    if ((fd = spool_open_locked(path, O_RDONLY)) < 0)
        return errno == EWOULDBLOCK ? -1 : 0;
    int rc = unlink(path) == 0 ? 1 : 0;
    close(fd);
    return rc;
}

static int queue_delete(const struct config *cfg, const char *id)
{
    static const char *const subs[] = {SPOOL_QUEUE, SPOOL_MAILDROP, SPOOL_FAILED};
    char path[4096];
    int found = 0;

    if (!spool_id_ok(id)) {
        fprintf(stderr, "exorelay: queue delete: '%s' is not a queue ID (20 hex digits, "
                "as \"exorelay queue list\" shows)\n", id);
        return EX_USAGE;
    }
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        int rc = delete_in(cfg->spool_dir, subs[i], id);
        if (rc < 0) {
            fprintf(stderr, "exorelay: %s is being delivered right now; try again in a "
                    "moment\n", id);
            return EX_TEMPFAIL;
        }
        found += rc;
    }
    if (spool_path(path, sizeof(path), cfg->spool_dir, SPOOL_FAILED, id, ".reason") == 0)
        unlink(path);
    spool_state_remove(cfg->spool_dir, id);
    if (!found) {
        fprintf(stderr, "exorelay: no message %s in %s\n", id, cfg->spool_dir);
        return EX_NOINPUT;
    }
    printf("%s: deleted\n", id);
    return EX_OK;
}

int cmd_queue(struct config *cfg, int argc, char **argv)
{
    static const struct option none[] = {{NULL, 0, NULL, 0}};
    const char *what, *id;
    int     nargs;

    if (getopt_long(argc, argv, "+", none, NULL) != -1)     /* it has no options */
        return command_usage_error("queue");
    nargs = argc - optind;              /* the action and its ID */
    what = nargs > 0 ? argv[optind] : "list";
    id = nargs == 2 ? argv[optind + 1] : NULL;
    if (strcmp(what, "list") == 0 && nargs <= 1) {
        if (spool_list(cfg->spool_dir, stdout, 1) < 0) {
            fprintf(stderr, "exorelay: cannot read the queue in %s: %s\n", cfg->spool_dir,
                    strerror(errno));
            return EX_NOPERM;
        }
        return EX_OK;
    }
    if (strcmp(what, "flush") == 0 && (nargs == 1 || (id && strcmp(id, "-v") == 0)))
        return queue_flush(cfg, stdout, nargs == 2);    /* -v: say it all */
    if (strcmp(what, "delete") == 0 && id != NULL)
        return queue_delete(cfg, id);
    if (strcmp(what, "deliver") == 0 && id != NULL) {
        if (!spool_id_ok(id)) {
            fprintf(stderr, "exorelay: queue deliver: '%s' is not a queue ID\n", id);
            return EX_USAGE;
        }
        return queue_deliver_id(cfg, id, stdout);
    }
    return command_usage_error("queue");
}
