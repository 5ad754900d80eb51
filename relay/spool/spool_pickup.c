/*
 * spool_pickup.c - take new messages from maildrop/ into the private
 * queue/ (the daemon's job, and "exorelay queue flush" without a daemon).
 *
 * SYNOPSIS
 *	int spool_pickup(spool_dir, name)
 *		maildrop/ID -> queue/ID, after checking it (a regular file with
 *		one link and a valid envelope; otherwise it goes to failed/)
 *		and writing its state file (the summary mailq shows). The
 *		file is flock'ed meanwhile, so a submitter still delivering
 *		it inline keeps it. 1 moved, 0 not now, -1 broken.
 *	int spool_pickup_name(spool_dir, name, now, &flush)
 *		what to do with one directory entry name of maildrop/:
 *		ID -> spool_pickup(); f.ID (a flush request) -> removed,
 *		*flush set; t.ID older than an hour (a submitter died while
 *		writing) -> removed. Returns what spool_pickup() returned,
 *		or 0.
 *	int spool_scan_maildrop(spool_dir, fn, arg, &flush)
 *		spool_pickup_name() on every entry; fn(id, arg) for each
 *		message moved. Returns the number moved, -1 when maildrop/
 *		cannot be read.
 *	int spool_request_flush(spool_dir)
 *		create maildrop/f.ID: the daemon runs the whole queue at once
 *
 * The rename keeps the submitter as the file's owner, and that owner is
 * what the daemon trusts as the submitting uid (the envelope's "uid" line
 * is only what the submitter claimed). No fsync after the rename: a crash
 * leaves the file under one of its two names, and both get delivered.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "spool.h"
#include "spool_deliver.h"
#include "spool_pickup.h"
#include "support/maillog.h"

#define ABANDONED_AFTER 3600    /* t.ID older than this: its writer died */

/* check_file - only what exorelay-sendmail writes is accepted */
static int check_file(int fd, const char *id, struct spool_env *env, char *why, size_t len)
{
    char err[512];
    struct stat st;

    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        snprintf(why, len, "not a regular file with one link");
        return -1;
    }
    if (spool_env_read(fd, env, err, sizeof(err)) < 0) {
        snprintf(why, len, "corrupt spool file: %s", err);
        return -1;
    }
    env->uid = st.st_uid;
    if (strcmp(env->id, id) != 0)
        snprintf(env->id, sizeof(env->id), "%s", id);
    return 0;
}

/* write_summary - the state file mailq reads; keeps what an earlier
 * inline attempt recorded there */
static void write_summary(const char *spool_dir, struct spool_env *env)
{
    spool_state_read(spool_dir, env->id, env);
    if (env->next_attempt == 0)
        env->next_attempt = time(NULL);
    spool_state_write(spool_dir, env, 0);
}

int spool_pickup(const char *spool_dir, const char *id)
{
    char from[4096], to[4096], why[600];
    struct spool_env env;
    int fd, rc = 1;

    if (spool_path(from, sizeof(from), spool_dir, SPOOL_MAILDROP, id, NULL) < 0
        || spool_path(to, sizeof(to), spool_dir, SPOOL_QUEUE, id, NULL) < 0)
        return 0;
    if ((fd = spool_open_locked(from, O_RDONLY)) < 0)
        return 0;
    if (check_file(fd, id, &env, why, sizeof(why)) < 0) {
        close(fd);
        return spool_move_failed(spool_dir, SPOOL_MAILDROP, id, why) == 0 ? -1 : 0;
    }
    write_summary(spool_dir, &env);
    if (rename(from, to) < 0) {
        msg_warn("%s: cannot move %s to %s: %s", id, from, to, strerror(errno));
        rc = 0;
    } else {
        maillog_pickup(id, (long) env.uid, env.sender, env.size, env.nrcpt);
    }
    spool_env_free(&env);
    close(fd);
    return rc;
}

/* remove_if_old - an abandoned t.ID */
static void remove_if_old(const char *spool_dir, const char *name, time_t now)
{
    char path[4096];
    struct stat st;

    if (spool_path(path, sizeof(path), spool_dir, SPOOL_MAILDROP, name, NULL) == 0
        && lstat(path, &st) == 0 && now - st.st_mtime > ABANDONED_AFTER) {
        msg_warn("removing %s: abandoned by its writer", path);
        unlink(path);
    }
}

int spool_pickup_name(const char *spool_dir, const char *name, time_t now, int *flush)
{
    char path[4096];

    if (strncmp(name, "f.", 2) == 0) {
        if (spool_path(path, sizeof(path), spool_dir, SPOOL_MAILDROP, name, NULL) == 0)
            unlink(path);
        *flush = 1;
        return 0;
    }
    if (strncmp(name, "t.", 2) == 0) {
        remove_if_old(spool_dir, name, now);
        return 0;
    }
    return spool_id_ok(name) ? spool_pickup(spool_dir, name) : 0;
}

int spool_scan_maildrop(const char *spool_dir, void (*fn)(const char *, void *), void *arg,
                        int *flush)
{
    char dir[4096];
    struct dirent *de;
    time_t now = time(NULL);
    int moved = 0;
    DIR *d;

    if (spool_path(dir, sizeof(dir), spool_dir, SPOOL_MAILDROP, NULL, NULL) < 0
        || (d = opendir(dir)) == NULL)
        return -1;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (spool_pickup_name(spool_dir, de->d_name, now, flush) > 0) {
            moved++;
            if (fn)
                fn(de->d_name, arg);
        }
    }
    closedir(d);
    return moved;
}

int spool_request_flush(const char *spool_dir)
{
    char id[SPOOL_ID_SIZE], dir[4096], path[4200];
    int fd;

    spool_new_id(id);
    if (spool_path(dir, sizeof(dir), spool_dir, SPOOL_MAILDROP, NULL, NULL) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/f.%s", dir, id);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
        return -1;
    close(fd);
    return 0;
}
