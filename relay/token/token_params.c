/*
 * token_params.c - a private, owned copy of what one account's token
 * fetch needs, taken from the config, so that a fetch running in a thread
 * never reads a config that a reload (SIGHUP) has freed.
 *
 * SYNOPSIS
 *	struct token_params *token_params_new(cfg, acct, kind)
 *		kind TOKEN_EXCHANGE: the account's scope; TOKEN_GRAPH: its
 *		graph_scope
 *	struct token_params *token_params_dup(p)
 *	void token_params_free(p)
 *	int token_params_same_identity(a, b)
 *		1 when a token of a is a token of b: same tenant, client,
 *		credential files, algorithm, authority, scope and state dir
 *	int token_endpoint(p, buf, len)
 *		"{authority}/{tenant}/oauth2/v2.0/token"; -1 if too long
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token_int.h"

#define DEFAULT_AUTHORITY   "https://login.microsoftonline.com"
#define DEFAULT_SCOPE       "https://outlook.office365.com/.default"
#define DEFAULT_GRAPH_SCOPE "https://graph.microsoft.com/.default"

/* dup_or_null - strdup that keeps NULL, and treats "" as NULL */
static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* strip_slashes - "https://host/" -> "https://host" */
static void strip_slashes(char *s)
{
    size_t n = s ? strlen(s) : 0;

    while (n > 0 && s[n - 1] == '/')
        s[--n] = 0;
}

/* token_params_new - copy acct (and the global keys it uses) out of cfg */
struct token_params *token_params_new(const struct config *cfg,
                                      const struct conf_account *acct,
                                      enum token_scope kind)
{
    struct token_params *p = calloc(1, sizeof(*p));
    const char *scope = kind == TOKEN_GRAPH ? acct->graph_scope : acct->scope;
    const char *def = kind == TOKEN_GRAPH ? DEFAULT_GRAPH_SCOPE : DEFAULT_SCOPE;

    if (p == NULL)
        return NULL;
    p->name = dup_or_null(acct->name);
    p->tenant = dup_or_null(acct->tenant);
    p->client_id = dup_or_null(acct->client_id);
    p->secret_file = dup_or_null(acct->client_secret_file);
    p->cert_file = dup_or_null(acct->certificate_file);
    p->key_file = dup_or_null(acct->private_key_file);
    p->jwt_alg = acct->jwt_alg;
    p->authority = strdup(acct->authority && *acct->authority
                          ? acct->authority : DEFAULT_AUTHORITY);
    p->kind = kind;
    p->scope = strdup(scope && *scope ? scope : def);
    p->proxy = dup_or_null(acct->proxy);
    p->ca_file = dup_or_null(cfg->ca_file);
    p->state_dir = dup_or_null(cfg->state_dir);
    p->connect_timeout = cfg->connect_timeout;
    strip_slashes(p->authority);
    if (p->name == NULL || p->authority == NULL || p->scope == NULL) {
        token_params_free(p);
        return NULL;
    }
    return p;
}

/* token_params_dup - a copy for a fetch outside the engine's lock */
struct token_params *token_params_dup(const struct token_params *p)
{
    struct token_params *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    *d = *p;
    d->name = dup_or_null(p->name);
    d->tenant = dup_or_null(p->tenant);
    d->client_id = dup_or_null(p->client_id);
    d->secret_file = dup_or_null(p->secret_file);
    d->cert_file = dup_or_null(p->cert_file);
    d->key_file = dup_or_null(p->key_file);
    d->authority = dup_or_null(p->authority);
    d->scope = dup_or_null(p->scope);
    d->proxy = dup_or_null(p->proxy);
    d->ca_file = dup_or_null(p->ca_file);
    d->state_dir = dup_or_null(p->state_dir);
    if (d->name == NULL || d->authority == NULL || d->scope == NULL) {
        token_params_free(d);
        return NULL;
    }
    return d;
}

/* token_params_free - free p and its strings */
void token_params_free(struct token_params *p)
{
    if (p == NULL)
        return;
    free(p->name);
    free(p->tenant);
    free(p->client_id);
    free(p->secret_file);
    free(p->cert_file);
    free(p->key_file);
    free(p->authority);
    free(p->scope);
    free(p->proxy);
    free(p->ca_file);
    free(p->state_dir);
    free(p);
}

/* same - strcmp that treats two NULLs as equal */
static int same(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/* token_params_same_identity - would a's token serve b? */
int token_params_same_identity(const struct token_params *a,
                               const struct token_params *b)
{
    return same(a->name, b->name) && a->kind == b->kind && same(a->tenant, b->tenant)
        && same(a->client_id, b->client_id)
        && same(a->secret_file, b->secret_file)
        && same(a->cert_file, b->cert_file) && same(a->key_file, b->key_file)
        && a->jwt_alg == b->jwt_alg && same(a->authority, b->authority)
        && same(a->scope, b->scope) && same(a->state_dir, b->state_dir);
}

/* token_endpoint - the account's token URL */
int token_endpoint(const struct token_params *p, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s/oauth2/v2.0/token", p->authority,
                     p->tenant ? p->tenant : "");

    return n < 0 || (size_t) n >= len ? -1 : 0;
}
