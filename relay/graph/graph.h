/*
 * Part graph (relay/graph/), contract: the second way into Exchange
 * Online, Microsoft Graph sendMail (POST {graph_url}/v1.0/users/{mailbox}/
 * sendMail, the MIME message base64 as the body, 202 Accepted), for
 * accounts with transport = graph, or auto once Exchange answered
 * 535 5.7.139. Promises: the message goes to exactly the envelope
 * recipients (To/Cc/Bcc rewritten, see graph_mime.c); success only on
 * Graph's 202; every other outcome an SMTP reply in the admin's words
 * (4xx temporary or fixable, 5xx only for a permanent refusal); at most
 * GRAPH_MAX_INFLIGHT requests at once per mailbox; after 429/503 no
 * request for that mailbox before Retry-After; HTTPS connections kept
 * and shared by all threads (no TLS handshake per message). Needs only
 * the Mail.Send application permission. Never: logs a token or sends
 * one except over verified TLS.
 *
 * graph.h - Microsoft Graph sendMail client.
 *
 * SYNOPSIS
 *	struct graph_client *graph_client_new(cfg, te)
 *	void graph_client_free(gc)
 *	int graph_send(gc, account, rcpts, nrcpt, fd, &result)
 *		Read the RFC 5322 message from fd (LF or CRLF; not
 *		dot-stuffed), rewrite its recipient headers to the envelope
 *		(rcpts), and submit it as account's mailbox with a Graph
 *		token (token.h, TOKEN_GRAPH); a 401 costs one fresh token
 *		and one retry. 0 when Graph answered 202 (result.final is
 *		250 2.0.0), else -1 and result says why: final (the SMTP
 *		reply for the client), permanent, too_big (the request would
 *		pass Graph's 4 MB limit, or Graph answered 413: the caller
 *		may use SMTP instead).
 *	void graph_client_stats(gc, &stats)
 *	void graph_relay_name(cfg, buf, len)
 *		"HOST[graph]" of graph_url, for the delivery log's relay=
 *
 *	int graph_route_active(cfg, account)
 *		1 when account's mail goes over Graph now: transport =
 *		graph, or auto and switched (below); 0 otherwise.
 *	void graph_route_switch(cfg, account, why)
 *		transport = auto: from now on this account uses Graph. The
 *		switch is kept in {state_dir}/graph-switch-{account} (seen
 *		by every exorelay process, and by status) and logged once,
 *		by the process that made it. Delete the file to try SMTP
 *		again.
 *	int graph_route_since(cfg, account, &since, why, whylen)
 *		1 and when/why it switched, 0 if it has not (for status).
 */
#ifndef EXORELAY_GRAPH_H
#define EXORELAY_GRAPH_H

#include <stddef.h>
#include <time.h>

#include "common/config.h"
#include "proto/smtp_reply.h"
#include "token/token.h"

#define GRAPH_MAX_REQUEST   4194304L    /* Graph's request size limit (4 MB) */
#define GRAPH_MAX_INFLIGHT  4           /* concurrent requests per mailbox */

struct graph_client;

struct graph_result {
    struct smtp_reply final;    /* 250 2.0.0 after 202; else the failure */
    int     permanent;          /* 1: 5xx, do not retry */
    int     too_big;            /* over Graph's request limit */
    long    http_status;        /* Graph's last answer, 0 if none */
    int     requests;           /* HTTP requests made for this message */
};

struct graph_stats {
    unsigned long requests;     /* sendMail requests */
    unsigned long accepted;     /* ... answered 202 */
    unsigned long connects;     /* new connections (TLS handshakes) */
    unsigned long throttled;    /* 429/503 answers */
    unsigned long waited;       /* messages refused locally during Retry-After */
};

struct graph_client *graph_client_new(const struct config *cfg, struct token_engine *te);
void graph_client_free(struct graph_client *gc);
int graph_send(struct graph_client *gc, const struct conf_account *acct,
               char *const *rcpts, size_t nrcpt, int fd, struct graph_result *res);
void graph_client_stats(struct graph_client *gc, struct graph_stats *stats);
void graph_relay_name(const struct config *cfg, char *buf, size_t len);

int graph_route_active(const struct config *cfg, const struct conf_account *acct);
void graph_route_switch(const struct config *cfg, const struct conf_account *acct,
                        const char *why);
int graph_route_since(const struct config *cfg, const struct conf_account *acct,
                      time_t *since, char *why, size_t whylen);

#endif
