/*
 * file_replace.h - replace a small file whole, so a reader sees either the
 * old or the new content, never a mix (alarm state, metrics file).
 *
 * SYNOPSIS
 *	int file_replace(path, data, len, mode)
 *		Write data to a temporary file in path's directory, fsync,
 *		chmod to mode, rename over path. 0, or -1 with errno set and
 *		the temporary file removed.
 *	int fd_write_all(fd, buf, len)
 *		The whole buffer, across short writes and EINTR; 0, or -1
 *		with errno set.
 */
#ifndef EXORELAY_FILE_REPLACE_H
#define EXORELAY_FILE_REPLACE_H

#include <stddef.h>
#include <sys/types.h>

int file_replace(const char *path, const void *data, size_t len, mode_t mode);
int fd_write_all(int fd, const void *buf, size_t len);

#endif
