/*
 * sd_notify.c - the sd_notify(3) protocol: a datagram on the UNIX socket
 * named by $NOTIFY_SOCKET ("@name" is an abstract socket).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sd_notify.h"

/* sd_notify_send - see sd_notify.h */
void sd_notify_send(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sun;
    socklen_t len;
    int     fd;

    if (path == NULL || (*path != '/' && *path != '@')
        || strlen(path) >= sizeof(sun.sun_path))
        return;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path));
    if (*path == '@')
        sun.sun_path[0] = 0;
    len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path));
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return;
    (void) sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *) &sun, len);
    close(fd);
}
