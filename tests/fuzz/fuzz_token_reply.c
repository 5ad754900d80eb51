/*
 * fuzz_token_reply.c - libFuzzer target: the reader of the token
 * endpoint's answer (relay/token/token_reply.c, relay/token/entra_diag.c).
 *
 * Input: byte 0 picks the HTTP status (200 mostly, else 400, 401, 429,
 * 500, 503 or an odd one), byte 1 the Retry-After seconds, the rest is the
 * body (JSON or not) as Entra, a proxy or a captive portal may send it.
 *
 * Invariants:
 *  - success (0) only for a 200 whose JSON holds a non-empty string
 *    access_token: the token is exactly that string, expires_in > 0 and
 *    "now + expires_in" (what token_fetch.c computes) cannot overflow;
 *  - failure (-1) leaves no token and gives a diagnosis: a cause, a fix,
 *    all three texts NUL-terminated within their buffers;
 *  - the access_token of the body never makes its way into a diagnosis
 *    (it is a credential): a text of the diagnosis holds it only if the
 *    same body with another token of the same length gives a diagnosis
 *    that holds it too (the body repeated it in error_description, or it
 *    is a common word like "HTTP").
 */
#include <time.h>

#include <jansson.h>

#include "fuzz.h"
#include "token/token_int.h"

static const long statuses[] = {400, 401, 429, 500, 503, 302, 0, 404};

/* texts_ok - every diagnosis text is a string inside its buffer */
static void texts_ok(const struct token_diag *d)
{
    CHECK(memchr(d->cause, 0, sizeof(d->cause)) != NULL);
    CHECK(memchr(d->fix, 0, sizeof(d->fix)) != NULL);
    CHECK(memchr(d->detail, 0, sizeof(d->detail)) != NULL);
}

/* diagnose - the diagnosis for orig's status with another body */
static void diagnose(const struct http_reply *orig, const char *body,
                     struct token_diag *d)
{
    struct http_reply r;
    secret_t *token = NULL;
    long    secs;

    memset(&r, 0, sizeof(r));
    memset(d, 0, sizeof(*d));
    r.status = orig->status;
    r.retry_after = orig->retry_after;
    r.body = (char *) body;
    r.len = strlen(body);
    if (token_reply_parse(&r, &token, &secs, d) == 0)
        secret_free(token);
}

/* check_no_token_text - the body's access_token is not in the diagnosis,
 * unless the same body with another token of that length (so the same
 * path is taken) gives a diagnosis holding that text too */
static void check_no_token_text(const struct http_reply *r,
                                const struct token_diag *d)
{
    json_t *root = json_loadb(r->body, r->len, 0, NULL);
    json_t *tok = json_object_get(root, "access_token");
    struct token_diag other;
    char   *tok_copy, *repl, *body;
    size_t  len;

    if (!json_is_string(tok) || (len = json_string_length(tok)) == 0
        || strlen(json_string_value(tok)) != len) {
        json_decref(root);
        return;
    }
    tok_copy = strdup(json_string_value(tok));
    repl = malloc(len + 1);
    memset(repl, 0x7f, len);            /* DEL: in no diagnosis text */
    repl[len] = 0;
    json_object_set_new(root, "access_token", json_string(repl));
    body = json_dumps(root, 0);
    diagnose(r, body, &other);
    if (strstr(other.cause, tok_copy) == NULL)
        CHECK(strstr(d->cause, tok_copy) == NULL);
    if (strstr(other.fix, tok_copy) == NULL)
        CHECK(strstr(d->fix, tok_copy) == NULL);
    if (strstr(other.detail, tok_copy) == NULL)
        CHECK(strstr(d->detail, tok_copy) == NULL);
    free(body);
    free(repl);
    free(tok_copy);
    json_decref(root);
}

/* check_success - the token is the body's access_token */
static void check_success(const struct http_reply *r, secret_t *token,
                          long expires_in)
{
    json_t *root = json_loadb(r->body, r->len, 0, NULL);
    json_t *tok = json_object_get(root, "access_token");
    const char *text;
    size_t  len;
    time_t  expires;

    CHECK(r->status == 200 && json_is_string(tok));
    text = secret_reveal(token, &len);
    CHECK(len == json_string_length(tok) && len > 0);
    CHECK(memcmp(text, json_string_value(tok), len) == 0);
    CHECK(expires_in > 0);
    CHECK(!__builtin_add_overflow(time(NULL), expires_in, &expires));
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_reply reply;
    struct token_diag diag;
    secret_t *token = (secret_t *) &reply;     /* must be overwritten */
    long    expires_in = -7;
    int     rc;

    if (size < 2)
        return 0;
    memset(&reply, 0, sizeof(reply));
    memset(&diag, 0, sizeof(diag));
    reply.status = data[0] < 160 ? 200 : statuses[data[0] % 8];
    reply.retry_after = data[1] % 8 == 0 ? data[1] : 0;
    reply.len = size - 2;
    /* The body is NUL-terminated, as token_http.c hands it over. */
    reply.body = malloc(reply.len + 1);
    memcpy(reply.body, data + 2, reply.len);
    reply.body[reply.len] = 0;

    rc = token_reply_parse(&reply, &token, &expires_in, &diag);
    CHECK(rc == 0 || rc == -1);
    texts_ok(&diag);
    if (rc == 0) {
        CHECK(token != NULL);
        check_success(&reply, token, expires_in);
        secret_free(token);
    } else {
        CHECK(token == NULL);
        CHECK(diag.cause[0] != 0 && diag.fix[0] != 0);
        check_no_token_text(&reply, &diag);
    }
    free(reply.body);
    return 0;
}
