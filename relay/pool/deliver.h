/*
 * deliver.h - the pools of all accounts, and one-shot delivery of a whole
 * message through them (for the spool's queue runner, exorelay-sendmail's
 * inline delivery, alarm mail and "exorelay test --to"). The SMTP server
 * streams its messages through pool.h/upstream.h directly instead.
 *
 * SYNOPSIS
 *	struct pools *pools_new(cfg, te)   one pool per account, made lazily
 *	struct pool *pools_get(pools, account)
 *	void pools_reap(pools)             close idle connections (call often)
 *	void pools_free(pools)
 *	struct graph_client *pools_graph(pools)
 *		the Microsoft Graph client of all accounts, made on first use
 *	const struct config *pools_config(pools)   the config it was made with
 *	int deliver_message(pools, account, sender, rcpts, nrcpt, fd, &result)
 *		Submit the RFC 5322 message read from fd (LF or CRLF line
 *		ends; it is sent with CRLF and dot-stuffed) from sender to the
 *		recipients over a pooled connection of account, with one retry
 *		on a fresh connection when a reused one turns out closed.
 *		Returns 0 when upstream accepted it for at least one recipient
 *		(result says which recipients were refused and why), -1 when
 *		not delivered: result.final holds the reply (upstream's, or a
 *		local 4xx naming the cause) and result.permanent says whether
 *		retrying can help.
 *
 * Details: fd should be a regular file (it is read twice: once for SIZE=
 * and BODY=8BITMIME, once to send; and rewound for the retry); a pipe works
 * but goes without those. rcpt_code[i] is 0 for a recipient never asked
 * about (the transaction failed before); rcpt_text[i] is the reply text
 * with its enhanced code ("5.1.1 User unknown"), NULL with code 0.
 * Exchange's quota refusal (554 5.2.0 ...SubmissionQuotaExceeded...) comes
 * back as 452 4.2.0 with permanent = 0: the mail must wait, not bounce.
 * result.reused and result.waited_ms are for the caller's log line.
 *
 * The way in: an account whose route is Graph (graph.h: transport =
 * graph, or auto after 535 5.7.139) submits through Microsoft Graph
 * sendMail to exactly the envelope recipients (all accepted or none,
 * result.via_graph set); transport = auto switches when the SMTP attempt
 * meets 535 5.7.139 and sends the same message over Graph at once; a
 * message too large for Graph goes over SMTP when transport = auto (if
 * SMTP AUTH is off that fails too, and the client gets Graph's 552).
 * back as 452 4.2.0 with permanent = 0: the mail must wait, not bounce;
 * result.quota = 1 then, so that a pool (pick.h) takes the mailbox out.
 * result.reused, waited_ms, conn_ms, xfer_ms and relay are for the
 * caller's delivery log lines (support/maillog.h): deliver_message logs no
 * delivery itself, as only its caller knows the message's queue ID.
 */
#ifndef EXORELAY_DELIVER_H
#define EXORELAY_DELIVER_H

#include "common/config.h"
#include "graph/graph.h"
#include "pool.h"
#include "proto/smtp_reply.h"
#include "token/token.h"

struct pools;

struct deliver_result {
    struct smtp_reply final;        /* final reply after data, or the failure */
    int     permanent;              /* 1: 5xx, do not retry */
    size_t  nrefused;               /* recipients refused at RCPT */
    int    *rcpt_code;              /* per recipient reply code (caller frees
                                     * with deliver_result_free) */
    char  **rcpt_text;              /* per recipient reply text */
    size_t  nrcpt;                  /* entries in rcpt_code and rcpt_text */
    int     reused;                 /* sent over a pooled connection */
    int     retried;                /* the reused one was gone: sent again */
    long    waited_ms;              /* messages_per_minute pacing */
    int     via_graph;              /* sent (or tried) through Microsoft Graph */
    int     quota;                  /* Exchange refused with its quota */
    long    conn_ms;                /* getting a connection (pooled, or new) */
    long    xfer_ms;                /* sending it and reading the replies */
    char    relay[320];             /* "host[IP]:port" of the last attempt */
};

struct pools *pools_new(const struct config *cfg, struct token_engine *te);
struct pool *pools_get(struct pools *pools, const struct conf_account *acct);
void pools_reap(struct pools *pools);
void pools_free(struct pools *pools);
struct graph_client *pools_graph(struct pools *pools);
const struct config *pools_config(struct pools *pools);
int deliver_message(struct pools *pools, const struct conf_account *acct,
                    const char *sender, char *const *rcpts, size_t nrcpt,
                    int fd, struct deliver_result *result);
void deliver_result_free(struct deliver_result *result);

#endif
