/*
 * iowait.c - monotonic clock and poll() with a deadline (iowait.h).
 */
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "iowait.h"

/* mono_ms - monotonic milliseconds */
long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fd_wait - poll fd for events until the deadline; 0 ready, -1 timed out */
int fd_wait(int fd, short events, long long deadline_ms)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    long long left;
    int     n;

    do {
        if ((left = deadline_ms - mono_ms()) <= 0)
            return -1;
        n = poll(&pfd, 1, left > 60000 ? 60000 : (int) left);
    } while (n == 0 || (n < 0 && errno == EINTR));
    return n > 0 ? 0 : -1;
}
