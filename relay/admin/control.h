/*
 * control.h - the daemon's control socket: a local UNIX socket (mode
 * 0600) on which "exorelay status" asks the running daemon what only it
 * knows (pools, counters, last error).
 *
 * Protocol: the client sends one line, "status"; the daemon answers one
 * JSON document (status_info.h) and closes. Anything else gets
 * {"error": "..."}.
 *
 * SYNOPSIS
 *	int control_listen(path, err, errlen)
 *		The listening socket, or -1 with err. A socket file left by a
 *		dead daemon is replaced; one that answers (another daemon
 *		runs) is not.
 *	void control_answer(lfd, collect, arg)
 *		Accept one client and answer it with collect(arg); a client
 *		that stalls is dropped after CONTROL_TIMEOUT seconds.
 *	json_t *control_query(path, &connected, err, errlen)
 *		Client side: the daemon's answer, or NULL with err (no daemon,
 *		no permission, no answer in time); connected says whether a
 *		daemon took the connection (it runs, but did not answer).
 */
#ifndef EXORELAY_CONTROL_H
#define EXORELAY_CONTROL_H

#include <stddef.h>

#include <jansson.h>

#define CONTROL_TIMEOUT 10      /* seconds, for either side */

typedef json_t *(*control_collect_fn)(void *arg);

int control_listen(const char *path, char *err, size_t errlen);
void control_answer(int lfd, control_collect_fn collect, void *arg);
json_t *control_query(const char *path, int *connected, char *err, size_t errlen);

#endif
