/*
 * test_token_reply.c - reading Entra's success answer: the token goes into
 * a secret, expires_in is honoured (not assumed to be an hour), and long
 * tokens (several KB) pass whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "token/token_int.h"

static int parse(const char *body, secret_t **tok, long *exp)
{
    struct http_reply r = {0};
    struct token_diag d = {0};

    r.status = 200;
    r.body = (char *) body;
    r.len = strlen(body);
    return token_reply_parse(&r, tok, exp, &d);
}

int main(void)
{
    secret_t *tok = NULL;
    long exp = 0;
    size_t len;
    char *big = malloc(10000), *body = malloc(10200);

    ok(parse("{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,"
             "\"access_token\":\"eyJ0eXAi.abc.def\"}", &tok, &exp) == 0, "a real-shaped reply parses");
    is_int(exp, 3599, "expires_in as given");
    is_str(secret_reveal(tok, NULL), "eyJ0eXAi.abc.def", "the token");
    secret_free(tok);

    ok(parse("{\"token_type\":\"Bearer\",\"expires_in\":\"120\",\"access_token\":\"t\"}",
             &tok, &exp) == 0, "expires_in as a string of digits");
    is_int(exp, 120, "a 2-minute lifetime is kept, not assumed to be an hour");
    secret_free(tok);

    memset(big, 'A', 8191);
    big[8191] = 0;
    snprintf(body, 10200, "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"%s\"}", big);
    ok(parse(body, &tok, &exp) == 0, "an 8 KB token parses");
    secret_reveal(tok, &len);
    is_int(len, 8191, "and is kept whole");
    secret_free(tok);

    /* Found by tests/fuzz/fuzz_token_reply: the caller adds expires_in to
     * the time, a huge value overflowed it. */
    ok(parse("{\"token_type\":\"Bearer\",\"expires_in\":9223372036854775807,"
             "\"access_token\":\"t\"}", &tok, &exp) == 0 && exp == 86400,
       "a huge expires_in is cut to a day");
    secret_free(tok);
    ok(parse("{\"token_type\":\"Bearer\",\"expires_in\":\"99999999999999999999\","
             "\"access_token\":\"t\"}", &tok, &exp) == 0 && exp == 86400,
       "a huge quoted expires_in too");
    secret_free(tok);
    ok(parse("{\"token_type\":\"Bearer\",\"expires_in\":0,\"access_token\":\"t\"}",
             &tok, &exp) < 0 && tok == NULL, "expires_in 0 is refused");
    ok(parse("{\"token_type\":\"mac\",\"expires_in\":10,\"access_token\":\"t\"}",
             &tok, &exp) < 0, "a non-Bearer token is refused");
    ok(parse("{\"token_type\":\"Bearer\",\"expires_in\":10,\"access_token\":\"\"}",
             &tok, &exp) < 0, "an empty token is refused");
    ok(parse("{\"token_type\":\"Bearer\",\"expires_in\":10,\"access_token\":\"t\"", &tok, &exp) < 0,
       "truncated JSON is refused");
    free(big);
    free(body);
    return done_testing();
}
