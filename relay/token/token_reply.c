/*
 * token_reply.c - read Entra's answer to a token request.
 *
 * SYNOPSIS
 *	int token_reply_parse(reply, &token, &expires_in, &diag)
 *		HTTP 200 with {"token_type":"Bearer","expires_in":N,
 *		"access_token":"..."}: 0, a new secret and N (seconds).
 *		Anything else: -1 and a diagnosis. An OAuth error body
 *		({"error", "error_description", "error_codes":[..],
 *		"trace_id", "correlation_id"}) is looked up by its first AADSTS
 *		code; a body that is not JSON, or a 200 without a token, is
 *		"not an Entra answer" (a proxy or portal in the way).
 *
 * expires_in is accepted as a JSON integer or, since some endpoints
 * quote it, a string of digits. Above a day (Entra's tokens live 60-90
 * minutes, a lifetime policy allows at most a day) it is cut to a day: the
 * caller computes "now + expires_in", which a huge value would overflow,
 * and a token renewed early does no harm. The body is never logged or copied into
 * a diagnosis beyond the first line of error_description.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "token_int.h"

#define EXPIRES_IN_MAX 86400L

/* json_seconds - an integer, or a string of digits, or -1 */
static long json_seconds(json_t *v)
{
    char *end;
    long n;

    if (json_is_integer(v))
        return (long) json_integer_value(v);
    if (json_is_string(v)) {
        n = strtol(json_string_value(v), &end, 10);
        if (end != json_string_value(v) && *end == 0)
            return n;
    }
    return -1;
}

/* diag_not_entra - a body that is not what Entra sends */
static void diag_not_entra(struct token_diag *diag, long status,
                           const char *what)
{
    char detail[128];

    snprintf(detail, sizeof(detail), "HTTP %ld, %s", status, what);
    entra_diag_set(diag, 1, "the token endpoint's answer is not an Entra ID "
                   "token reply", "check authority = and, if a proxy is in "
                   "the way, that it passes the request through unchanged",
                   detail);
    diag->http_status = (int) status;
}

/* parse_success - the token and its lifetime from a 200 body */
static int parse_success(json_t *root, secret_t **token, long *expires_in,
                         struct token_diag *diag)
{
    json_t *tok = json_object_get(root, "access_token");
    const char *type = json_string_value(json_object_get(root, "token_type"));
    long secs = json_seconds(json_object_get(root, "expires_in"));

    if (!json_is_string(tok) || json_string_length(tok) == 0 || secs <= 0) {
        diag_not_entra(diag, 200, "no access_token or expires_in");
        return -1;
    }
    if (type && strcasecmp(type, "Bearer") != 0) {
        diag_not_entra(diag, 200, "token_type is not Bearer");
        return -1;
    }
    *token = secret_new(json_string_value(tok), json_string_length(tok));
    *expires_in = secs < EXPIRES_IN_MAX ? secs : EXPIRES_IN_MAX;
    return *token ? 0 : -1;
}

/* parse_error - an OAuth error body */
static void parse_error(json_t *root, long status, struct token_diag *diag)
{
    json_t *codes = json_object_get(root, "error_codes");
    long aadsts = json_is_array(codes) && json_array_size(codes) > 0
        ? (long) json_integer_value(json_array_get(codes, 0)) : 0;

    entra_diag_error(diag, status,
                     json_string_value(json_object_get(root, "error")), aadsts,
                     json_string_value(json_object_get(root, "error_description")),
                     json_string_value(json_object_get(root, "trace_id")),
                     json_string_value(json_object_get(root, "correlation_id")));
}

/* token_reply_parse - see above */
int token_reply_parse(const struct http_reply *reply, secret_t **token,
                      long *expires_in, struct token_diag *diag)
{
    json_t *root = NULL;
    int rc = -1;

    *token = NULL;
    diag->retry_after = reply->retry_after;
    if (reply->body && reply->len > 0)
        root = json_loadb(reply->body, reply->len, 0, NULL);
    if (reply->status == 200 && json_is_object(root))
        rc = parse_success(root, token, expires_in, diag);
    else if (reply->status == 200)
        diag_not_entra(diag, 200, "not JSON");
    else if (json_is_object(root) && json_is_string(json_object_get(root, "error")))
        parse_error(root, reply->status, diag);
    else if (reply->status == 429 || reply->status >= 500)
        entra_diag_error(diag, reply->status, NULL, 0, NULL, NULL, NULL);
    else
        diag_not_entra(diag, reply->status, root ? "JSON without error"
                       : "not JSON");
    json_decref(root);
    return rc;
}
