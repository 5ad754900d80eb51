/*
 * listener.h - the listening sockets of "exorelay run" and the client
 * threads behind them.
 *
 * SYNOPSIS
 *	struct listener *listener_open(cfg, err, errlen)
 *		Bind every [relay] listen address: host:port (IPv4),
 *		[v6]:port (IPv6 only, no mapped IPv4), unix:/path (a stale
 *		socket file is replaced, a live one is an error; created
 *		with mode 0600, then given socket_mode and socket_owner /
 *		socket_group). Must run before privileges are dropped.
 *	size_t listener_count(l) / int listener_fd(l, i)
 *		The descriptors, for the caller's poll loop.
 *	void listener_accept(l, i, srv)
 *		Accept one client on socket i and serve it on its own
 *		thread with srv (held for the session). A TCP client whose
 *		address is outside allow gets "554 5.7.1" and is closed;
 *		beyond max_clients a client gets "421 4.3.2" and is closed.
 *		Both are logged. Unix socket clients are always allowed
 *		(the file mode decides who may connect).
 *	int listener_clients(l)        sessions running now
 *	void listener_wait_idle(l)     wait until no session runs
 *	void listener_stop(l)          stop listening (unlink unix sockets);
 *				       running sessions go on
 *	void listener_close(l)         listener_stop, then free (after
 *				       listener_wait_idle)
 *	int cidr_allows(allow, n, sa)  is the address in one of the networks
 */
#ifndef EXORELAY_LISTENER_H
#define EXORELAY_LISTENER_H

#include <stddef.h>
#include <sys/socket.h>

#include "common/config.h"
#include "smtpd.h"

struct listener;

struct listener *listener_open(const struct config *cfg, char *err, size_t errlen);
size_t listener_count(const struct listener *l);
int listener_fd(const struct listener *l, size_t i);
void listener_accept(struct listener *l, size_t i, struct smtpd_server *srv);
int listener_clients(struct listener *l);
void listener_wait_idle(struct listener *l);
void listener_stop(struct listener *l);
void listener_close(struct listener *l);
int cidr_allows(const struct cidr *allow, size_t n, const struct sockaddr *sa);

#endif
