/*
 * Part server (relay/server/), contract: the SMTP/LMTP server side of
 * "exorelay run": listeners, client sessions, commands, DATA/BDAT, and
 * the reply each client gets. Promises: the final 2xx only after upstream
 * answered 2xx; a temporary fault is a 4xx; clients outside allow are
 * refused; bare CR/LF in DATA are refused. Never: talks to Exchange
 * directly (the pool and deliver do).
 *
 * smtpd.h - the SMTP/LMTP server side of "exorelay run": one client
 * session, relayed transaction by transaction to pooled upstream
 * connections (pool.h, upstream.h).
 *
 * SYNOPSIS
 *	struct smtpd_server *smtpd_server_new(cfg, te, stop_fd, owns_cfg)
 *		One configuration generation: the config, its pools, the
 *		token engine. Reference-counted: a SIGHUP makes a new one for
 *		new clients while sessions of the old one finish on it.
 *		owns_cfg: config_free(cfg) when the last reference goes.
 *		stop_fd becomes readable at shutdown: sessions then end
 *		between transactions (421), never inside one.
 *	void smtpd_server_hold(srv) / smtpd_server_drop(srv)
 *	const struct config *smtpd_server_config(srv)
 *	struct pools *smtpd_server_pools(srv)
 *		The upstream pools of this generation: whoever else submits
 *		(the spool's queue runner) should share them, so the
 *		per-mailbox connection limit holds for the whole daemon.
 *	void smtpd_server_reap(srv)
 *		Close upstream connections idle past pool_idle.
 *	void smtpd_session(srv, fd, peer)
 *		Serve one accepted client until QUIT, EOF, a timeout or
 *		shutdown; closes fd. peer names the client in logs
 *		("127.0.0.1", "[::1]", "unix:/path").
 *	int smtpd_sessions(void)
 *		Client sessions being served right now (all generations).
 *
 * The protocol rules (pipelining, the no-loss reply rule, account choice,
 * DATA hygiene) are described at the top of smtpd.c.
 */
#ifndef EXORELAY_SMTPD_H
#define EXORELAY_SMTPD_H

#include "common/config.h"
#include "pool/deliver.h"
#include "token/token.h"

struct smtpd_server;

struct smtpd_server *smtpd_server_new(const struct config *cfg,
                                      struct token_engine *te, int stop_fd,
                                      int owns_cfg);
void smtpd_server_hold(struct smtpd_server *srv);
void smtpd_server_drop(struct smtpd_server *srv);
const struct config *smtpd_server_config(const struct smtpd_server *srv);
struct pools *smtpd_server_pools(const struct smtpd_server *srv);
void smtpd_server_reap(struct smtpd_server *srv);
void smtpd_session(struct smtpd_server *srv, int fd, const char *peer);
int smtpd_sessions(void);

#endif
