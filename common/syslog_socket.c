/*
 * syslog_socket.c - datagrams to the syslog daemon (see syslog_socket.h).
 *
 * A syslog daemon that restarts makes a new socket at the same path: the
 * old connection then fails with ECONNREFUSED (or ENOTCONN), and one
 * reconnect finds the new one. A full socket buffer blocks the sender
 * briefly, as with syslog(3); lines are never queued in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "syslog_socket.h"

static pthread_mutex_t sock_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *sock_path = "/dev/log";
static int sock_fd = -1;

/* sock_connect - (re)connect to sock_path; called with the lock held */
static void sock_connect(void)
{
    struct sockaddr_un sun;

    if (sock_fd >= 0)
        close(sock_fd);
    sock_fd = -1;
    if (strlen(sock_path) >= sizeof(sun.sun_path))
        return;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, sock_path);
    if ((sock_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return;
    if (connect(sock_fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
        close(sock_fd);
        sock_fd = -1;
    }
}

void syslog_socket_open(const char *path)
{
    pthread_mutex_lock(&sock_lock);
    sock_path = path;
    sock_connect();
    pthread_mutex_unlock(&sock_lock);
}

void syslog_socket_send(const char *line, size_t len)
{
    pthread_mutex_lock(&sock_lock);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (sock_fd < 0)
            sock_connect();
        if (sock_fd < 0)
            break;
        if (send(sock_fd, line, len, MSG_NOSIGNAL) >= 0)
            break;
        if (errno != ECONNREFUSED && errno != ENOTCONN && errno != ECONNRESET)
            break;
        close(sock_fd);
        sock_fd = -1;
    }
    pthread_mutex_unlock(&sock_lock);
}
