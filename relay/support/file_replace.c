/*
 * file_replace.c - write a temporary file, then rename it into place
 * (file_replace.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_replace.h"

/* fd_write_all - the whole buffer, across short writes */
int fd_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

/* file_replace - see file_replace.h */
int file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
    size_t  size = strlen(path) + 16;
    char   *tmp = malloc(size);
    int     fd, saved;

    if (tmp == NULL)
        return -1;
    snprintf(tmp, size, "%s.tmpXXXXXX", path);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        free(tmp);
        return -1;
    }
    if (fchmod(fd, mode) == 0 && fd_write_all(fd, data, len) == 0 && fsync(fd) == 0
        && close(fd) == 0) {
        fd = -1;
        if (rename(tmp, path) == 0) {
            free(tmp);
            return 0;
        }
    }
    saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    errno = saved;
    return -1;
}
