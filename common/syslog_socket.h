/*
 * syslog_socket.h - send lines to the local syslog daemon's datagram
 * socket (/dev/log), as syslog(3) does, but with a tag per line and a
 * socket path of our choosing (syslog(3) allows neither).
 *
 * SYNOPSIS
 *	void syslog_socket_open(path)
 *		Remember path (kept, not copied) and try to connect now,
 *		before a chroot or privilege drop could hide the socket.
 *	void syslog_socket_send(line, len)
 *		Send one datagram ("<PRI>Mmm dd hh:mm:ss tag[pid]: text", the
 *		caller builds it). A daemon restart is survived: on a refused
 *		or unconnected send it reconnects once and resends. With no
 *		listener the line is dropped, as syslog(3) drops it.
 *
 * Thread-safe: one socket per process, sends under a lock.
 */
#ifndef EXORELAY_SYSLOG_SOCKET_H
#define EXORELAY_SYSLOG_SOCKET_H

#include <stddef.h>

void syslog_socket_open(const char *path);
void syslog_socket_send(const char *line, size_t len);

#endif
