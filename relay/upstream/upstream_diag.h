/*
 * upstream_diag.h - every failure to reach, secure or authenticate to the
 * upstream server as a local 4xx reply whose text names the cause and the
 * fix in the admin's terms (it ends up in the client's queue, e.g. mailq).
 *
 * All texts are one line and at most DIAG_TEXT_MAX characters, start with
 * "exorelay:" (so nobody takes them for upstream's words), and never carry a
 * secret. Each function fills r.
 *
 * SYNOPSIS
 *	diag_dns(r, cfg, gai_error_text)
 *	diag_connect(r, cfg, address, errno_value)   ETIMEDOUT = no answer
 *	diag_tls(r, cfg, &tls_failure)                chain, name, handshake
 *	diag_no_starttls(r, cfg, reply_or_NULL)       not offered / refused
 *	diag_greeting(r, cfg, acct, reply)            no 220 (421, 432, 554)
 *	diag_no_greeting(r, cfg)                      silent within connect_timeout
 *	diag_token(r, acct, &token_diag)
 *	diag_auth(r, cfg, acct, reply)                504, 535 5.7.3/5.7.139 ...
 *	diag_io(r, cfg, stage, errno_value)           lost or timed out
 *	diag_unexpected(r, cfg, stage, reply)         any other setup refusal
 *	void diag_unexpected(struct smtp_reply *r, const struct config *cfg,
                     const char *stage, const struct smtp_reply *reply);
int diag_soften_quota(r, acct)                554 quota -> 452, 1 if done
 *
 * Added for "exorelay test --to" (and any caller that explains a refused
 * message):
 *	int diag_sendas(r, acct, sender, reply)
 *		1 when reply is Exchange's SendAs refusal (554 5.2.252
 *		SendAsDenied, older 554 5.2.0 ...SendAsDeniedException...,
 *		550 5.7.60): r gets the same code with the cause and the fix
 *		(the milter's sender rewrite, or Add-RecipientPermission);
 *		0 otherwise, r untouched.
 *	int diag_auth_disabled(r)
 *		1 when r is diag_auth's reply to 535 5.7.139 (SMTP AUTH
 *		disabled for the tenant or mailbox): transport = auto then
 *		switches the account to Microsoft Graph.
 */
#ifndef EXORELAY_UPSTREAM_DIAG_H
#define EXORELAY_UPSTREAM_DIAG_H

#include "common/config.h"
#include "proto/smtp_reply.h"
#include "token/token.h"
#include "upstream_tls.h"

#define DIAG_TEXT_MAX 400

void diag_dns(struct smtp_reply *r, const struct config *cfg, const char *why);
void diag_connect(struct smtp_reply *r, const struct config *cfg,
                  const char *address, int err);
void diag_tls(struct smtp_reply *r, const struct config *cfg,
              const struct tls_failure *f);
void diag_no_starttls(struct smtp_reply *r, const struct config *cfg,
                      const struct smtp_reply *reply);
void diag_greeting(struct smtp_reply *r, const struct config *cfg,
                   const struct conf_account *acct, const struct smtp_reply *reply);
void diag_no_greeting(struct smtp_reply *r, const struct config *cfg);
void diag_token(struct smtp_reply *r, const struct conf_account *acct,
                const struct token_diag *td);
void diag_auth(struct smtp_reply *r, const struct config *cfg,
               const struct conf_account *acct, const struct smtp_reply *reply);
void diag_io(struct smtp_reply *r, const struct config *cfg, const char *stage,
             int err);
void diag_unexpected(struct smtp_reply *r, const struct config *cfg,
                     const char *stage, const struct smtp_reply *reply);
int diag_soften_quota(struct smtp_reply *r, const struct conf_account *acct);
int diag_sendas(struct smtp_reply *r, const struct conf_account *acct,
                const char *sender, const struct smtp_reply *reply);

int diag_auth_disabled(const struct smtp_reply *r);

#endif
