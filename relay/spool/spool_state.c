/*
 * spool_state.c - per-message state files and the daemon liveness test
 * (see spool.h for the layout).
 *
 * SYNOPSIS
 *	int spool_state_load(spool_dir, id, env)
 *		the whole state file (envelope summary and state) into env;
 *		1 found, 0 none, -1 unreadable or corrupt
 *	int spool_state_read(spool_dir, id, env)
 *		merge only the state part (attempts, times, error, done) of
 *		state/ID into an envelope read from the spool file; same
 *		return values
 *	int spool_state_write(spool_dir, env, sync)
 *		state/t.ID then rename to state/ID (mode 0640: the setgid
 *		mailq reads it through the group); sync also fsyncs
 *	void spool_state_remove(spool_dir, id)
 *	int spool_daemon_running(spool_dir, &pid)
 *		1 when a process holds the write lock on spool_dir/pid
 *
 * Why a lock and not just a pid: a pid file outlives a SIGKILL, and its pid
 * can be reused; a lock dies with its process. F_GETLK needs only read
 * access, so the unprivileged exorelay-sendmail can ask.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

/* read_small_file - a whole (state) file into memory */
static char *read_small_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    char *buf = NULL;

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < SPOOL_ENV_MAX
        && (buf = malloc((size_t) st.st_size + 1)) != NULL) {
        ssize_t n = read(fd, buf, (size_t) st.st_size);
        if (n != st.st_size) {
            free(buf);
            buf = NULL;
        } else {
            *len = (size_t) n;
        }
    }
    close(fd);
    return buf;
}

int spool_state_load(const char *spool_dir, const char *id, struct spool_env *env)
{
    char path[4096], err[256];
    size_t len = 0;
    char *text;
    int rc;

    memset(env, 0, sizeof(*env));
    if (spool_path(path, sizeof(path), spool_dir, SPOOL_STATE, id, NULL) < 0)
        return -1;
    if ((text = read_small_file(path, &len)) == NULL)
        return errno == ENOENT ? 0 : -1;
    rc = spool_env_parse(text, len, env, err, sizeof(err));
    free(text);
    if (rc < 0) {
        spool_env_free(env);
        return -1;
    }
    return 1;
}

/* spool_state_read - adopt the state part of state/ID */
int spool_state_read(const char *spool_dir, const char *id, struct spool_env *env)
{
    struct spool_env st;
    int rc = spool_state_load(spool_dir, id, &st);

    if (rc <= 0)
        return rc;
    env->attempts = st.attempts;
    env->first_attempt = st.first_attempt;
    env->last_attempt = st.last_attempt;
    env->next_attempt = st.next_attempt;
    free(env->error);
    env->error = st.error;
    st.error = NULL;
    for (size_t i = 0; i < env->ndone; i++)
        free(env->done[i]);
    free(env->done);
    env->done = st.done;
    env->ndone = st.ndone;
    st.done = NULL;
    st.ndone = 0;
    for (size_t i = 0; i < env->nfailed; i++)
        free(env->failed[i]);
    free(env->failed);
    env->failed = st.failed;
    env->nfailed = st.nfailed;
    st.failed = NULL;
    st.nfailed = 0;
    spool_env_free(&st);
    return 1;
}

int spool_state_write(const char *spool_dir, const struct spool_env *env, int sync)
{
    char tmp[4096], path[4096], dir[4096];
    char *text;
    size_t len;
    int fd, rc = -1;

    if (spool_path(dir, sizeof(dir), spool_dir, SPOOL_STATE, NULL, NULL) < 0
        || spool_path(path, sizeof(path), spool_dir, SPOOL_STATE, env->id, NULL) < 0
        || (size_t) snprintf(tmp, sizeof(tmp), "%s/t.%s", dir, env->id) >= sizeof(tmp))
        return -1;
    if (spool_env_format(env, 1, &text, &len) < 0)
        return -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd >= 0) {
        if (fchmod(fd, 0640) == 0 && write(fd, text, len) == (ssize_t) len
            && (!sync || fsync(fd) == 0) && rename(tmp, path) == 0)
            rc = 0;
        else
            unlink(tmp);
        close(fd);
    }
    free(text);
    if (rc == 0 && sync)
        rc = spool_fsync_dir(dir);
    return rc;
}

void spool_state_remove(const char *spool_dir, const char *id)
{
    char path[4096];

    if (spool_path(path, sizeof(path), spool_dir, SPOOL_STATE, id, NULL) == 0)
        unlink(path);
}

int spool_daemon_running(const char *spool_dir, long *pid)
{
    char path[4096];
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int fd, running = 0;

    if (spool_path(path, sizeof(path), spool_dir, SPOOL_PIDFILE, NULL, NULL) < 0)
        return 0;
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return 0;
    /* A read lock is not the daemon's (it takes a write lock): ignore it. */
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type == F_WRLCK) {
        char buf[32] = {0};
        running = 1;
        /* the daemon's lock is an OFD lock, which has no pid: read it */
        if (pid)
            *pid = fl.l_pid > 0 ? (long) fl.l_pid
                 : pread(fd, buf, sizeof(buf) - 1, 0) > 0 ? atol(buf) : 0;
    }
    close(fd);
    return running;
}
