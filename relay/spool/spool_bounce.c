/*
 * spool_bounce.c - what happens to recipients that failed for good:
 * a DSN to the sender, or the failed/ folder.
 *
 * SYNOPSIS
 *	int spool_send_dsn(ctx, env, fd, acct, rcpts, n, success, rep)
 *		Build a report (dsn.c) about rcpts and spool it durably into
 *		maildrop as a message of its own (so it is retried like any
 *		other, and survives a crash); sent from the account's mailbox
 *		(Exchange accepts no other sender) to env's sender, marked
 *		"dsn 1" and NOTIFY=NEVER so a report never causes a report.
 *		0 when spooled (rep->dsn_id names it), -1 otherwise.
 *	int spool_move_failed(spool_dir, sub, id, reason)
 *		rename sub/ID to failed/ID, write failed/ID.reason, drop the
 *		state file, log an error line. 0 or -1.
 *	void spool_note_failed(env, addr, reason)
 *		remember a recipient that failed with nobody to tell
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dsn.h"
#include "common/log.h"
#include "spool_bounce.h"

int spool_send_dsn(const struct spool_ctx *ctx, const struct spool_env *env, int fd,
                   const struct conf_account *acct, const struct dsn_rcpt *rcpts,
                   size_t n, int success, struct spool_report *rep)
{
    struct spool_env denv = {0};
    char dir[4096], err[512], *msg = NULL;
    char *to = env->sender;
    size_t len = 0;

    if (acct == NULL || acct->mailbox == NULL
        || spool_path(dir, sizeof(dir), ctx->cfg->spool_dir, SPOOL_MAILDROP, NULL, NULL) < 0
        || lseek(fd, env->body_offset, SEEK_SET) < 0)
        return -1;
    spool_new_id(denv.id);
    struct dsn_info info = {
        .env = env, .reporting_mta = ctx->hostname, .remote_mta = ctx->cfg->server,
        .from = acct->mailbox, .id = denv.id, .success = success,
        .rcpt = rcpts, .nrcpt = n, .now = time(NULL),
    };
    if (dsn_build(&info, fd, &msg, &len) < 0)
        return -1;
    denv.time = info.now;
    denv.uid = geteuid();
    denv.sender = acct->mailbox;
    denv.rcpt = &to;
    denv.nrcpt = 1;
    denv.notify = DSN_NOTIFY_NEVER;
    denv.is_dsn = 1;
    int rc = spool_write_file(dir, &denv, msg, len, 0604, NULL, err, sizeof(err));
    free(msg);
    if (rc != 0) {
        msg_error("%s: cannot spool the delivery report: %s", env->id, err);
        return -1;
    }
    snprintf(rep->dsn_id, sizeof(rep->dsn_id), "%s", denv.id);
    msg_info("%s: sender delivery status notification: %s", env->id, denv.id);
    return 0;
}

void spool_note_failed(struct spool_env *env, const char *addr, const char *reason)
{
    char *line = NULL;

    if (asprintf(&line, "%s\t%s", addr, reason) < 0)
        return;
    for (char *p = line; *p; p++)       /* the reason must stay one line */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    spool_env_add(&env->failed, &env->nfailed, line);
    free(line);
}

/* write_reason - failed/ID.reason, readable by the admin only */
static int write_reason(const char *spool_dir, const char *id, const char *reason)
{
    char path[4096];
    int fd;

    if (spool_path(path, sizeof(path), spool_dir, SPOOL_FAILED, id, ".reason") < 0)
        return -1;
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
        return -1;
    size_t n = strlen(reason);
    int rc = write(fd, reason, n) == (ssize_t) n && write(fd, "\n", 1) == 1
             && fsync(fd) == 0 ? 0 : -1;
    close(fd);
    return rc;
}

int spool_move_failed(const char *spool_dir, const char *sub, const char *id,
                      const char *reason)
{
    char from[4096], to[4096], dir[4096];

    if (spool_path(from, sizeof(from), spool_dir, sub, id, NULL) < 0
        || spool_path(to, sizeof(to), spool_dir, SPOOL_FAILED, id, NULL) < 0
        || spool_path(dir, sizeof(dir), spool_dir, SPOOL_FAILED, NULL, NULL) < 0)
        return -1;
    /* reason first: a crash leaves a reason without message, never a
     * message nobody can explain */
    if (write_reason(spool_dir, id, reason) < 0 || rename(from, to) < 0) {
        msg_error("%s: cannot move to %s: %s (reason was: %s)", id, dir,
                  strerror(errno), reason);
        return -1;
    }
    spool_fsync_dir(dir);
    spool_state_remove(spool_dir, id);
    msg_error("%s: moved to %s: %s", id, dir, reason);
    return 0;
}
