/*
 * upstream_open.c - set up an authenticated session (upstream.h):
 *
 *	connect -> 220 -> EHLO -> STARTTLS -> TLS, chain and name verified
 *	-> EHLO -> token -> AUTH XOAUTH2 <initial response> -> 235
 *
 * The token is asked for only once the verified TLS session is up, so it
 * can never leave over anything else. A 535 is answered once by dropping
 * the token (token_invalidate) and trying a fresh one, since tokens can be
 * revoked before they expire; 535 5.7.139 (SMTP AUTH disabled) is not about
 * the token and is not retried.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support/iowait.h"
#include "common/log.h"
#include "upstream_diag.h"
#include "upstream_int.h"
#include "proto/xoauth2.h"

/* elapsed_ms - since the start of the current step; restart the clock */
static long elapsed_ms(struct upstream *up)
{
    long long now = mono_ms();
    long    ms = (long) (now - up->t0);

    up->t0 = now;
    return ms;
}

/* begin - tell the tracer a step starts now */
static void begin(struct upstream *up, const char *step)
{
    elapsed_ms(up);
    if (up->step != NULL)
        up->step(up->step_arg, step, UPSTREAM_STEP_BEGIN, 0, NULL);
}

/* report_text - tell the tracer how a step went, in words */
static void report_text(struct upstream *up, const char *step, int ok, const char *text)
{
    long    ms = elapsed_ms(up);

    if (up->step != NULL)
        up->step(up->step_arg, step, ok, ms, text);
}

/* report - tell the tracer how a step went; detail is a reply or a diagnosis */
static void report(struct upstream *up, const char *step, int ok,
                   const struct smtp_reply *detail)
{
    char    line[SMTP_REPLY_TEXT_MAX + 32];

    report_text(up, step, ok, detail ? smtp_reply_oneline(detail, line, sizeof(line)) : "");
}

/* expect - read the reply to a setup step; 0 when it has code want */
static int expect(struct upstream *up, const char *step, int want,
                  struct smtp_reply *r, struct smtp_reply *err)
{
    if (upstream_read_reply(up, r) < 0) {
        if (up->io.deadline != 0 && up->io.err == ETIMEDOUT)
            diag_no_greeting(r, up->cfg);   /* connect_timeout ran out */
        *err = *r;                      /* the local 4xx of a lost connection */
        report(up, step, 0, err);
        return -1;
    }
    report(up, step, r->code == want, r);
    if (r->code == want)
        return 0;
    /* A default the caller may refine; without it a 421 (which marks the
     * connection broken, so callers skip their diagnosis) left err empty. */
    smtp_reply_set(err, 451, "4.4.0", "exorelay: %s: %s answered %d %s%s%s", step,
                   up->cfg->server, r->code, r->enhanced, *r->enhanced ? " " : "", r->text);
    return -1;
}

/* helo_name - [upstream] helo_name, else this host's name */
static const char *helo_name(const struct config *cfg, char *buf, size_t size)
{
    if (cfg->helo_name && *cfg->helo_name)
        return cfg->helo_name;
    if (gethostname(buf, size) < 0 || !*buf)
        snprintf(buf, size, "localhost");
    buf[size - 1] = 0;
    return buf;
}

/* ehlo - EHLO and keep the keywords; -1 with err filled */
static int ehlo(struct upstream *up, const char *step, struct smtp_reply *err)
{
    struct smtp_reply r;
    char    name[256];

    begin(up, step);
    upstream_cmd(up, "EHLO %s", helo_name(up->cfg, name, sizeof(name)));
    if (expect(up, step, 250, &r, err) < 0) {
        if (r.code != 0 && !up->broken)
            diag_unexpected(err, up->cfg, "EHLO", &r);
        return -1;
    }
    snprintf(up->ehlo, sizeof(up->ehlo), "%s", r.text);
    return 0;
}

/* starttls - STARTTLS and a verified handshake; -1 with err filled */
static int starttls(struct upstream *up, struct smtp_reply *err)
{
    struct smtp_reply r;
    struct tls_failure f;
    char    why[512];
    SSL_CTX *ctx;

    begin(up, "STARTTLS");
    if (!upstream_has(up, "STARTTLS")) {
        diag_no_starttls(err, up->cfg, NULL);
        report(up, "STARTTLS", 0, err);
        return -1;
    }
    upstream_cmd(up, "STARTTLS");
    if (expect(up, "STARTTLS", 220, &r, err) < 0) {
        if (r.code != 0 && !up->broken)
            diag_no_starttls(err, up->cfg, &r);
        return -1;
    }
    begin(up, "TLS");
    if ((ctx = tls_client_ctx(up->cfg->ca_file, why, sizeof(why))) == NULL) {
        smtp_reply_set(err, 454, "4.7.5", "exorelay: %s; fix ca_file in [upstream]", why);
        report(up, "TLS", 0, err);
        return up->broken = 1, -1;
    }
    if (upio_starttls(&up->io, ctx, up->cfg->server, &f) < 0) {
        up->broken = 1;
        diag_tls(err, up->cfg, &f);
        report(up, "TLS", 0, err);
        SSL_CTX_free(ctx);
        return -1;
    }
    SSL_CTX_free(ctx);                  /* the SSL keeps its own reference */
    if (up->step != NULL) {             /* "exorelay test" shows the session */
        tls_describe(up->io.ssl, why, sizeof(why));
        report_text(up, "TLS", 1, why);
    }
    return 0;
}

/* write_response - the base64 XOAUTH2 response, then CRLF */
static void write_response(struct upstream *up, const secret_t *resp)
{
    size_t  len;
    const char *b64 = secret_reveal(resp, &len);

    if (upio_write_secret(&up->io, b64, len) < 0 || upio_write(&up->io, "\r\n", 2) < 0)
        up->broken = 1;
}

/* send_auth - AUTH XOAUTH2 with the initial response; the final reply in r */
static int send_auth(struct upstream *up, const secret_t *token, struct smtp_reply *r)
{
    secret_t *resp = xoauth2_response(up->acct->mailbox, token);
    char    json[512];
    int     rc = 0;

    if (resp == NULL) {
        smtp_reply_set(r, 451, "4.3.0", "exorelay: out of memory");
        return -1;
    }
    snprintf(up->stage, sizeof(up->stage), "after AUTH");
    if (upio_write(&up->io, "AUTH XOAUTH2 ", 13) < 0)
        up->broken = 1;
    write_response(up, resp);
    if ((rc = upstream_read_reply(up, r)) == 0 && r->code == 334) {
        if (r->text[0] == 0) {
            /* A server that wants the response in a step of its own. */
            write_response(up, resp);
        } else {
            /* XOAUTH2's error step: a base64 JSON status, acknowledged with
             * an empty line; the final reply follows. */
            if (xoauth2_error_text(r->text, json, sizeof(json)) == 0)
                msg_info("%s: XOAUTH2 error for %s: %s", up->cfg->server,
                         up->acct->mailbox, json);
            upstream_cmd(up, "%s", "");
        }
        rc = upstream_read_reply(up, r);
    }
    secret_free(resp);
    return rc;
}

/* authenticate - a token, AUTH; on 535 one fresh token; -1 with err filled */
static int authenticate(struct upstream *up, struct token_engine *te,
                        struct smtp_reply *err)
{
    struct token_diag td;
    struct smtp_reply r;
    secret_t *token;
    time_t  expires;

    for (int attempt = 0; attempt < 2; attempt++) {
        memset(&td, 0, sizeof(td));
        begin(up, "token");
        if (token_get(te, up->acct, &token, &expires, &td) < 0) {
            diag_token(err, up->acct, &td);
            report(up, "token", 0, err);
            return -1;
        }
        report(up, "token", 1, NULL);
        begin(up, "AUTH");
        if (send_auth(up, token, &r) < 0) {
            secret_free(token);
            *err = r;
            report(up, "AUTH", 0, err);
            return -1;
        }
        report(up, "AUTH", r.code == 235, &r);
        if (r.code == 235) {
            up->token_expiry = expires;
            secret_free(token);
            return 0;
        }
        if (attempt == 0 && r.code == 535 && strcmp(r.enhanced, "5.7.139") != 0) {
            /* Revoked early, or a stale cache: drop it, try a fresh one. */
            msg_info("%s: token %s refused for %s (%d %s): trying a fresh token",
                     up->cfg->server, secret_fingerprint(token), up->acct->mailbox,
                     r.code, r.enhanced);
            token_invalidate(te, up->acct, token);
            secret_free(token);
            continue;
        }
        secret_free(token);
        break;
    }
    diag_auth(err, up->cfg, up->acct, &r);
    return -1;
}

/* connect_server - TCP to [upstream] server and port; -1 with err filled */
static int connect_server(struct upstream *up, struct smtp_reply *err)
{
    struct net_failure nf;
    int     fd;

    begin(up, "connect");
    fd = net_connect(up->cfg->server, up->cfg->port, up->cfg->connect_timeout, &nf);
    if (fd < 0) {
        if (nf.gai_error != 0)
            diag_dns(err, up->cfg, gai_strerror(nf.gai_error));
        else
            diag_connect(err, up->cfg, nf.address, nf.err);
        report(up, "connect", 0, err);
        return up->broken = 1, -1;
    }
    upio_init(&up->io, fd, up->cfg->command_timeout);
    report(up, "connect", 1, NULL);
    return 0;
}

/* setup - every step from connect to 235; -1 with err filled */
static int setup(struct upstream *up, struct token_engine *te, struct smtp_reply *err)
{
    struct smtp_reply r;
    long long connect_by = mono_ms() + (long long) up->cfg->connect_timeout * 1000;
    int     rc;

    if (connect_server(up, err) < 0)
        return -1;
    /* connect_timeout, not command_timeout, bounds the connection and the
     * greeting together: a server that accepts and never speaks must not
     * hold us for the much longer command_timeout. */
    snprintf(up->stage, sizeof(up->stage), "waiting for the greeting");
    begin(up, "greeting");
    up->io.timeout = up->cfg->connect_timeout;
    up->io.deadline = connect_by;
    rc = expect(up, "greeting", 220, &r, err);
    up->io.deadline = 0;
    up->io.timeout = up->cfg->command_timeout;
    if (rc < 0) {
        if (r.code != 0 && !up->broken)
            diag_greeting(err, up->cfg, up->acct, &r);
        return -1;
    }
    if (ehlo(up, "EHLO", err) < 0 || starttls(up, err) < 0
        || ehlo(up, "EHLO after TLS", err) < 0)
        return -1;
    return authenticate(up, te, err);
}

/* upstream_open_traced - a new authenticated session, reporting each step */
struct upstream *upstream_open_traced(const struct config *cfg,
                                      const struct conf_account *acct,
                                      struct token_engine *te,
                                      struct smtp_reply *err,
                                      upstream_step_fn fn, void *arg)
{
    struct upstream *up = calloc(1, sizeof(*up));

    if (up == NULL) {
        smtp_reply_set(err, 451, "4.3.0", "exorelay: out of memory");
        return NULL;
    }
    up->io.fd = -1;
    up->cfg = cfg;
    up->acct = acct;
    up->step = fn;
    up->step_arg = arg;
    up->t0 = mono_ms();
    if (setup(up, te, err) < 0) {
        upstream_close(up, 1);
        return NULL;
    }
    return up;
}

/*
 * upstream_open - a new authenticated session. The token comes first: with
 * no token there is nothing to authenticate with, and during an Entra
 * outage connecting anyway would cost Exchange a TCP + TLS session per
 * delivery attempt (the fault suite counted 18,655 sessions for 2,000
 * messages before this). The token is cached, so asking twice is free.
 */
struct upstream *upstream_open(const struct config *cfg,
                               const struct conf_account *acct,
                               struct token_engine *te, struct smtp_reply *err)
{
    struct token_diag td;
    secret_t *token;
    time_t  expires;

    memset(&td, 0, sizeof(td));
    if (token_get(te, acct, &token, &expires, &td) < 0) {
        diag_token(err, acct, &td);
        return NULL;
    }
    secret_free(token);
    return upstream_open_traced(cfg, acct, te, err, NULL, NULL);
}
