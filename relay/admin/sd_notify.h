/*
 * sd_notify.h - tell systemd (Type=notify) how the daemon is doing,
 * without linking libsystemd: one datagram to $NOTIFY_SOCKET.
 *
 * SYNOPSIS
 *	void sd_notify_send(state)
 *		"READY=1", "RELOADING=1", "STOPPING=1", "STATUS=..." (lines
 *		may be combined with \n). Does nothing outside systemd.
 */
#ifndef EXORELAY_SD_NOTIFY_H
#define EXORELAY_SD_NOTIFY_H

void sd_notify_send(const char *state);

#endif
