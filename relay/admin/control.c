/*
 * control.c - the control socket, both sides (control.h).
 *
 * Security: the socket is made mode 0600 (owner: the daemon's user), so
 * only that user and root can ask; what it tells is no secret anyway (no
 * token, no credential), but the mail flow of the host is nobody else's
 * business. The mode is set right after bind(2); the default place,
 * state_dir, is itself 0700, so there is no moment when others could
 * connect.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

/* unix_addr - sockaddr_un for path; -1 when the path is too long */
static int unix_addr(const char *path, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun->sun_path))
        return -1;
    memcpy(sun->sun_path, path, strlen(path) + 1);
    return 0;
}

/* set_timeouts - no read or write waits longer than CONTROL_TIMEOUT */
static void set_timeouts(int fd)
{
    struct timeval tv = { CONTROL_TIMEOUT, 0 };

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* dial - a connected client socket, or -1 with errno */
static int dial(const char *path)
{
    struct sockaddr_un sun;
    int     fd, saved;

    if (unix_addr(path, &sun) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    set_timeouts(fd);
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* control_listen - see control.h */
int control_listen(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    int     fd;

    if (unix_addr(path, &sun) < 0) {
        snprintf(err, errlen, "control socket %s: path too long", path);
        return -1;
    }
    if ((fd = dial(path)) >= 0) {
        close(fd);
        snprintf(err, errlen, "control socket %s: another exorelay daemon "
                 "answers there", path);
        return -1;
    }
    (void) unlink(path);                /* left behind by a dead daemon */
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
        || bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
        || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
        snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* read_command - the client's line, without its newline */
static int read_command(int fd, char *buf, size_t size)
{
    size_t  len = 0;
    ssize_t n;

    while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0) {
        len += (size_t) n;
        if (memchr(buf, '\n', len) != NULL)
            break;
    }
    buf[len] = 0;
    buf[strcspn(buf, "\r\n")] = 0;
    return len > 0 ? 0 : -1;
}

/* write_all - the whole text, or give up */
static void write_all(int fd, const char *p, size_t len)
{
    ssize_t n;

    while (len > 0 && (n = send(fd, p, len, MSG_NOSIGNAL)) > 0) {
        p += n;
        len -= (size_t) n;
    }
}

/* control_answer - see control.h */
void control_answer(int lfd, control_collect_fn collect, void *arg)
{
    int     fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    char    cmd[64], *text;
    json_t *answer;

    if (fd < 0)
        return;
    set_timeouts(fd);
    if (read_command(fd, cmd, sizeof(cmd)) == 0) {
        answer = strcmp(cmd, "status") == 0 ? collect(arg)
            : json_pack("{s:s}", "error", "unknown command");
        text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
        if (text != NULL) {
            write_all(fd, text, strlen(text));
            write_all(fd, "\n", 1);
        }
        free(text);
        json_decref(answer);
    }
    close(fd);
}

/* read_answer - everything until EOF; NULL on a timeout or error */
static char *read_answer(int fd)
{
    size_t  len = 0, cap = 0;
    char   *buf = NULL, *grown;
    ssize_t n;

    for (;;) {
        if (len + 1 >= cap) {
            if ((grown = realloc(buf, cap = cap ? 2 * cap : 4096)) == NULL) {
                free(buf);
                return NULL;
            }
            buf = grown;
        }
        if ((n = read(fd, buf + len, cap - len - 1)) <= 0)
            break;
        len += (size_t) n;
    }
    if (n < 0) {
        free(buf);
        return NULL;
    }
    buf[len] = 0;
    return buf;
}

/* control_query - see control.h */
json_t *control_query(const char *path, int *connected, char *err, size_t errlen)
{
    int     fd = dial(path);
    json_error_t jerr;
    json_t *answer = NULL;
    char   *text;

    *connected = fd >= 0;
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (send(fd, "status\n", 7, MSG_NOSIGNAL) != 7 || (text = read_answer(fd)) == NULL) {
        snprintf(err, errlen, "%s: no answer within %d s: %s", path, CONTROL_TIMEOUT,
                 strerror(errno));
        close(fd);
        return NULL;
    }
    close(fd);
    answer = json_loads(text, 0, &jerr);
    free(text);
    if (answer == NULL || !json_is_object(answer)
        || json_object_get(answer, "error") != NULL) {
        snprintf(err, errlen, "%s: unusable answer (%s)", path,
                 answer ? "refused" : jerr.text);
        json_decref(answer);
        return NULL;
    }
    return answer;
}
