/*
 * Part token (relay/token/), contract: Entra ID access tokens per account
 * (client secret or certificate assertion), cached in memory and in a 0600
 * state file, refreshed before expiry one request at a time across threads
 * and processes, with the Entra error diagnoses. Never: logs a token or a
 * secret; never gates a message on a refresh that a cached token covers.
 *
 * token.h - Entra ID access tokens for the accounts of exorelay.conf.
 *
 * SYNOPSIS
 *	struct token_engine *token_engine_new(cfg)
 *	void token_engine_free(te)
 *	int token_get(te, account, &token, &expires, &diag)
 *		A token valid for at least 60 more seconds: from memory, else
 *		the account's state file under state_dir, else a request to
 *		{authority}/{tenant}/oauth2/v2.0/token. Only the last case
 *		waits on the network. Across threads and processes one request
 *		is made at a time per account (lock on the state file). On
 *		success returns 0 and a new secret_t the caller frees. On
 *		failure returns -1 and fills diag.
 *	void token_invalidate(te, account, token)
 *		Upstream refused this token (535): forget it (memory and state
 *		file, if it is still the cached one) so the next token_get
 *		fetches a fresh one.
 *	int token_engine_start_refresher(te)
 *		A background thread that refreshes each account's token well
 *		before expiry (75% of its lifetime, never later than 5 minutes
 *		before), with backoff and jitter, honouring Retry-After.
 *	void token_engine_reload(te, cfg)
 *		Adopt a reloaded config (SIGHUP); cached tokens of accounts
 *		whose identity (tenant, client, credentials) is unchanged stay.
 *	void token_engine_stats(te, &stats)
 *		counters since token_engine_new (for status and tests)
 *	int token_peek(cfg, account, &expires, &obtained, &last_failure)
 *		What the account's state file says, without network or lock
 *		(for status): 1 a token is cached (expires, obtained set),
 *		0 none. last_failure (may be NULL) gets the last failed
 *		request's diagnosis, cause[0] == 0 when there was none.
 *	int token_get_scope(te, account, scope, &token, &expires, &diag)
 *	void token_invalidate_scope(te, account, scope, token)
 *	int token_peek_scope(cfg, account, scope, &expires, &obtained, &last)
 *		The same for one scope: TOKEN_EXCHANGE (the account's scope,
 *		https://outlook.office365.com/.default, for SMTP AUTH) or
 *		TOKEN_GRAPH (graph_scope, https://graph.microsoft.com/.default,
 *		for Microsoft Graph). Each scope of each account has its own
 *		token, state file and lock; token_get() is the Exchange scope.
 *		The refresher keeps a scope fresh once it is in use: from the
 *		start for the scope the account's transport needs (graph:
 *		Graph; smtp, auto: Exchange), else from its first token_get.
 *	int token_all_failing(te, account, size, &diag)
 *		1 while no account can get a token: every account's last
 *		fetch failed and none holds a usable token, and the
 *		refresher runs (it is what notices Entra's return); account
 *		and diag then name the first such account and its last
 *		failure. Never waits on the network. 0 otherwise.
 *	int token_diag_exit(diag)
 *	void token_curl_trust(curl, ca_file)
 *		Set up a libcurl handle of another HTTPS client of the relay
 *		(Microsoft Graph) with the token requests' TLS rules: https
 *		only, no redirects, peer and host name verified, ca_file
 *		(may be NULL; must outlive the handle) added to the system
 *		store.
 *	int token_claims_roles(token, role, aud, audlen)
 *		Reads the payload of a JWT access token (no signature check:
 *		for diagnosis only): 1 when its "roles" claim holds role, 0
 *		when not, -1 when the token is not a readable JWT. aud (may
 *		be NULL) gets its "aud" claim.
 *		the exit status for a diagnosis: 75 (EX_TEMPFAIL) or 77
 *		(EX_NOPERM)
 *	void token_diag_line(diag, account, buf, len)
 *		The cause in one line that names the culprit, for "exorelay
 *		test" and the relay's 4xx: "Entra ID (login.microsoftonline.com):
 *		the client secret is wrong (AADSTS7000215)" when Entra ID
 *		answered with an AADSTS error; "CAUSE (token endpoint HOST)"
 *		for its other answers (429, 5xx, a page that is not Entra's);
 *		the cause alone when it was not reached (the cause then names
 *		the proxy, the host or the credential file).
 */
#ifndef EXORELAY_TOKEN_H
#define EXORELAY_TOKEN_H

#include <stddef.h>
#include <time.h>

#include <curl/curl.h>

#include "common/config.h"
#include "common/secret.h"

struct token_engine;

enum token_scope { TOKEN_EXCHANGE = 0, TOKEN_GRAPH = 1 };

/* What went wrong, in the admin's words. */
struct token_diag {
    int     temporary;          /* 1: retry later (exit 75, SMTP 4xx);
                                 * 0: credentials/permission (exit 77) - an
                                 * SMTP client still gets 4xx: fixable */
    int     http_status;        /* 0 when no HTTP answer */
    long    aadsts;             /* first of error_codes, 0 if none */
    char    cause[256];         /* "the client secret is wrong" */
    char    fix[512];           /* "use the secret's Value, not its Secret ID ..." */
    char    detail[512];        /* Entra trace/correlation IDs, curl error: for logs */
    int     retry_after;        /* seconds from a 429, 0 if none */
};

/* Counters of one engine (one process). */
struct token_stats {
    unsigned long gets;         /* token_get calls */
    unsigned long from_memory;  /* ... answered from memory at once */
    unsigned long inline_fetches;/* ... that fetched (state file or network) */
    unsigned long waited;       /* ... that waited for another thread's fetch */
    unsigned long requests;     /* requests sent to Entra ID (any thread) */
    unsigned long inline_requests;/* ... of them while a token_get waited */
    unsigned long failures;     /* failed fetches */
    unsigned long refreshes;    /* fetches by the background refresher */
};

struct token_engine *token_engine_new(const struct config *cfg);
void token_engine_free(struct token_engine *te);
int token_get(struct token_engine *te, const struct conf_account *acct,
              secret_t **token, time_t *expires, struct token_diag *diag);
void token_invalidate(struct token_engine *te, const struct conf_account *acct,
                      const secret_t *token);
int token_engine_start_refresher(struct token_engine *te);
void token_engine_reload(struct token_engine *te, const struct config *cfg);
void token_engine_stats(struct token_engine *te, struct token_stats *stats);
int token_peek(const struct config *cfg, const struct conf_account *acct,
               time_t *expires, time_t *obtained, struct token_diag *last_failure);
int token_get_scope(struct token_engine *te, const struct conf_account *acct,
                    enum token_scope scope, secret_t **token, time_t *expires,
                    struct token_diag *diag);
void token_invalidate_scope(struct token_engine *te, const struct conf_account *acct,
                            enum token_scope scope, const secret_t *token);
int token_peek_scope(const struct config *cfg, const struct conf_account *acct,
                     enum token_scope scope, time_t *expires, time_t *obtained,
                     struct token_diag *last_failure);
int token_all_failing(struct token_engine *te, char *account, size_t size,
                      struct token_diag *diag);
int token_diag_exit(const struct token_diag *diag);
void token_curl_trust(CURL *curl, const char *ca_file);
int token_claims_roles(const secret_t *token, const char *role, char *aud, size_t audlen);
void token_diag_line(const struct token_diag *diag, const struct conf_account *acct,
                     char *buf, size_t len);

#endif
