/*
 * msock.c - the milter's listening socket, around libmilter's (see msock.h).
 *
 * libmilter itself can remove an old socket file (smfi_opensocket(true)),
 * but it would as well remove the socket of a milter that still runs, which
 * then goes deaf without noticing. So a socket file is removed only when
 * nothing answers on it.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "msock.h"

/* msock_unix_path - the file of a unix socket spec, NULL for inet */
const char *msock_unix_path(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return spec + 5;
    if (strncmp(spec, "local:", 6) == 0)
        return spec + 6;
    if (spec[0] == '/')
        return spec;
    return NULL;
}

/* make_dirs - create the missing directories of the socket's path */
static int make_dirs(const char *path, uid_t uid, gid_t gid)
{
    char    dir[PATH_MAX];
    char   *slash;

    if (snprintf(dir, sizeof(dir), "%s", path) >= (int) sizeof(dir))
        return -1;
    if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
        return 0;
    *slash = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(dir, 0755) == 0) {
        if (chown(dir, uid, gid) < 0)
            return -1;
    } else if (errno != EEXIST) {
        return -1;
    }
    return 0;
}

/* someone_listens - a process accepts connections on the unix socket */
static int someone_listens(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int     fd, ok;

    if (strlen(path) >= sizeof(sun.sun_path))
        return 0;
    strcpy(sun.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return 0;
    ok = connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0;
    close(fd);
    return ok;
}

/* msock_prepare - directories, live-socket check, stale socket removal */
int msock_prepare(const char *spec, uid_t uid, gid_t gid)
{
    const char *path = msock_unix_path(spec);
    struct stat st;

    if (path == NULL)
        return 0;
    if (make_dirs(path, uid, gid) < 0) {
        msg_error("cannot create the directory of %s: %m", path);
        return -1;
    }
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        msg_error("%s exists and is not a socket; not touching it", path);
        return -1;
    }
    if (someone_listens(path)) {
        msg_error("%s: another milter is already listening there", path);
        return -1;
    }
    if (unlink(path) < 0) {
        msg_error("cannot remove the stale socket %s: %m", path);
        return -1;
    }
    msg_info("removed the stale socket %s", path);
    return 0;
}

/* msock_secure - the group and mode of a unix socket */
int msock_secure(const char *spec, const char *group, int mode)
{
    const char *path = msock_unix_path(spec);
    struct group *gr;

    if (path == NULL)
        return 0;
    if (group && *group) {
        if ((gr = getgrnam(group)) == NULL) {
            msg_error("socket_group %s: no such group", group);
            return -1;
        }
        if (chown(path, (uid_t) -1, gr->gr_gid) < 0) {
            msg_error("chown %s to group %s: %m", path, group);
            return -1;
        }
    }
    if (chmod(path, (mode_t) mode) < 0) {
        msg_error("chmod %s: %m", path);
        return -1;
    }
    return 0;
}
