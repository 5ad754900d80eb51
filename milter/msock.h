/*
 * msock.h - the milter's listening socket, around libmilter's own.
 *
 * SYNOPSIS
 *	const char *msock_unix_path(spec)
 *		The path of "unix:/path", "local:/path" or "/path"; NULL for
 *		"inet:PORT@HOST" and "inet6:PORT@HOST".
 *	int msock_prepare(spec, uid, gid)
 *		Before smfi_opensocket(): for a unix socket, create its missing
 *		directories (0755; the last one owned by uid:gid, so the milter
 *		can remove its socket after dropping root), refuse when a live
 *		milter already answers on it, and remove a stale socket file.
 *		0, or -1 with the reason logged.
 *	int msock_secure(spec, group, mode)
 *		After smfi_opensocket(): give a unix socket its group (NULL =
 *		keep) and mode, so the MTA's unprivileged processes (Postfix's
 *		cleanup and smtpd run as "postfix") can connect. 0 or -1.
 */
#ifndef EXORELAY_MSOCK_H
#define EXORELAY_MSOCK_H

#include <sys/types.h>

const char *msock_unix_path(const char *spec);
int msock_prepare(const char *spec, uid_t uid, gid_t gid);
int msock_secure(const char *spec, const char *group, int mode);

#endif
