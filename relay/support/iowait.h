/*
 * iowait.h - monotonic time and waiting on one descriptor with a deadline,
 * for the upstream client's non-blocking I/O.
 *
 * SYNOPSIS
 *	long long mono_ms(void)           monotonic clock, milliseconds
 *	int fd_wait(fd, events, deadline) poll fd for POLLIN/POLLOUT until
 *		deadline (mono_ms() time): 0 ready (or error/hangup pending,
 *		which the next read or write reports), -1 timed out
 */
#ifndef EXORELAY_IOWAIT_H
#define EXORELAY_IOWAIT_H

long long mono_ms(void);
int fd_wait(int fd, short events, long long deadline_ms);

#endif
