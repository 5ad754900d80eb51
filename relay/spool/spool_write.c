/*
 * spool_write.c - the durable write of one spool file (see spool.h).
 *
 * SYNOPSIS
 *	int spool_submit(spool_dir, env, msg, len, &fd, err, errlen)
 *	int spool_write_file(dir, env, msg, len, mode, &fd, err, errlen)
 *	int spool_fsync_dir(dir)
 *
 * The order is what makes a crash harmless: t.ID is written and fsynced
 * before it gets its real name, and the directory is fsynced after the
 * rename, so when spool_submit() returns EX_OK the message survives a power
 * cut; before that point the caller has not been told "accepted". A reader
 * never sees a half-written ID file: it ignores t.* names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sysexits.h>
#include <unistd.h>

#include "spool.h"

/* spool_fsync_dir - make a rename or unlink in dir durable */
int spool_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* write_all - header and message, looping over short writes */
static int write_all(int fd, const char *head, size_t hlen, const char *msg, size_t len)
{
    struct iovec iov[2] = {{(void *) head, hlen}, {(void *) msg, len}};
    int i = 0;

    while (i < 2) {
        ssize_t n = writev(fd, iov + i, 2 - i);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        while (i < 2 && (size_t) n >= iov[i].iov_len)
            n -= (ssize_t) iov[i++].iov_len;
        if (i < 2) {
            iov[i].iov_base = (char *) iov[i].iov_base + n;
            iov[i].iov_len -= (size_t) n;
        }
    }
    return 0;
}

/* errno_status - temporary trouble (disk full) or a setup problem */
static int errno_status(int err)
{
    return err == ENOSPC || err == EDQUOT || err == EIO || err == ENOMEM || err == EINTR
        ? EX_TEMPFAIL : EX_CANTCREAT;
}

/* fail - say what failed, clean up the temp file, give the exit status */
static int fail(const char *what, const char *path, int fd, const char *tmp,
                char *err, size_t errlen)
{
    int saved = errno;

    snprintf(err, errlen, "%s %s: %s", what, path, strerror(saved));
    if (fd >= 0)
        close(fd);
    if (tmp)
        unlink(tmp);
    return errno_status(saved);
}

/* spool_write_file - write dir/t.ID, fsync, rename to dir/ID, fsync dir */
int spool_write_file(const char *dir, struct spool_env *env, const char *msg,
                     size_t len, mode_t mode, int *fd_out, char *err, size_t errlen)
{
    char tmp[4096], final[4096], *head;
    size_t hlen;
    int fd;

    if (env->id[0] == 0)
        spool_new_id(env->id);
    env->size = (long long) len;
    if (spool_env_format(env, 0, &head, &hlen) < 0) {
        snprintf(err, errlen, "envelope has a line break in a value or out of memory");
        return EX_DATAERR;
    }
    if ((size_t) snprintf(tmp, sizeof(tmp), "%s/t.%s", dir, env->id) >= sizeof(tmp)) {
        free(head);
        snprintf(err, errlen, "spool path too long: %s", dir);
        return EX_CANTCREAT;
    }
    snprintf(final, sizeof(final), "%s/%s", dir, env->id);
    fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        free(head);
        return fail("cannot create", tmp, -1, NULL, err, errlen);
    }
    /* Lock before the rename, so a queue runner cannot take the file
     * between the rename and our inline delivery. */
    if (fchmod(fd, mode) < 0 || (fd_out && flock(fd, LOCK_EX) < 0)
        || write_all(fd, head, hlen, msg, len) < 0 || fsync(fd) < 0) {
        free(head);
        return fail("cannot write", tmp, fd, tmp, err, errlen);
    }
    free(head);
    if (rename(tmp, final) < 0)
        return fail("cannot rename", tmp, fd, tmp, err, errlen);
    if (spool_fsync_dir(dir) < 0) {
        /* Not known to be durable: do not claim it is queued. */
        return fail("cannot fsync", dir, fd, final, err, errlen);
    }
    if (fd_out)
        *fd_out = fd;
    else
        close(fd);
    return EX_OK;
}

/* spool_submit - a new message into spool_dir/maildrop (mode 0604: see
 * spool.h); creates the spool layout when it does not exist yet */
int spool_submit(const char *spool_dir, struct spool_env *env, const char *msg,
                 size_t len, int *fd_out, char *err, size_t errlen)
{
    char dir[4096];

    if (spool_path(dir, sizeof(dir), spool_dir, SPOOL_MAILDROP, NULL, NULL) < 0) {
        snprintf(err, errlen, "spool_dir too long");
        return EX_CANTCREAT;
    }
    if (access(dir, F_OK) < 0 && errno == ENOENT) {
        /* First use on a host where no daemon ever ran (a container that
         * only sends): make the layout. An ordinary user cannot, and gets
         * the error below. */
        char why[512];
        spool_make_dirs(spool_dir, why, sizeof(why));
    }
    return spool_write_file(dir, env, msg, len, 0604, fd_out, err, errlen);
}

/* spool_make_dirs - create what is missing of the layout in spool.h, with
 * its modes (existing directories are left as the admin made them) */
int spool_make_dirs(const char *spool_dir, char *err, size_t errlen)
{
    static const struct { const char *sub; mode_t mode; } dirs[] = {
        {NULL, 0755}, {SPOOL_MAILDROP, 01770}, {SPOOL_QUEUE, 0700},
        {SPOOL_STATE, 02750}, {SPOOL_FAILED, 0700},
    };
    char path[4096];

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        if (spool_path(path, sizeof(path), spool_dir, dirs[i].sub, NULL, NULL) < 0)
            return -1;
        if (mkdir(path, dirs[i].mode) == 0) {
            if (chmod(path, dirs[i].mode) < 0)
                return snprintf(err, errlen, "chmod %s: %s", path, strerror(errno)), -1;
        } else if (errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}
