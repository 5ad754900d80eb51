/*
 * smtpd.c - the SMTP/LMTP server of "exorelay run" (see smtpd.h).
 *
 * One thread per client (listener.c) runs smtpd_session(). The same code
 * speaks ESMTP (EHLO) and LMTP (LHLO: one reply per accepted recipient
 * after the data), so Postfix can use it as relayhost or as an
 * lmtp:unix: transport.
 *
 * The no-loss rule. The client (Postfix, Sendmail) keeps the message until
 * we answer the data with 2xx, so every reply that decides the fate of the
 * message is the upstream's own: MAIL and each RCPT get the upstream's
 * reply, DATA's 354 only follows the upstream's 354, and the final reply is
 * sent only after the upstream's final reply and is that reply. Problems
 * on our side of the upstream (token, connect, TLS, auth) become 4xx with
 * the diagnosis text (pool.h), so the mail waits in the client's queue;
 * upstream 5xx stays 5xx, except Exchange's sending-quota refusal, which
 * is temporary in truth (smtpd_txn.c). Local refusals are the usual
 * protocol ones plus the limits: max_recipients (452 4.5.3), SIZE and
 * max_message_size (552 5.3.4), command lines over 2048 bytes (500 5.5.2),
 * bare CR/LF in the data (550 5.5.2, never submitted: SMTP smuggling).
 *
 * Pipelining. Commands the client pipelined (complete lines already in
 * our input buffer, up to DATA) are collected into a group; the upstream
 * part of the group goes out in one write and the replies come back in
 * order. On a warm pooled connection a message costs two upstream round
 * trips: MAIL+RCPT...+DATA -> replies+354, then content+dot -> final.
 * LMTP takes another path (smtpd_lmtp.c): MAIL, RCPT and DATA are
 * answered here, the message is read whole into a file, and it goes
 * upstream in one flight (BDAT LAST): one round trip; each recipient's
 * verdict is told after the data, as LMTP does anyway.
 *
 * Account choice. The upstream connection must be chosen at MAIL, but the
 * milter's X-Exorelay header arrives only inside the data. So MAIL goes
 * upstream on a guessed account (smtpd_acct.c: the account this sender's
 * last message went to, the account whose mailbox the sender is, else the
 * senders globs / default). Once the header block has been read (held
 * back, at most 64 KB), the contract decides: X-Exorelay, else senders
 * globs, else the default. If that differs from the guess, the guessed
 * connection is closed inside DATA (an upstream never submits a message
 * without its final dot) and MAIL, the accepted RCPTs and DATA are replayed
 * on the right account's connection before any content is sent; this is
 * safe because nothing final was answered yet. With LMTP a recipient the
 * new account refuses gets that refusal after the data; with SMTP a
 * partial refusal defers the whole message (451) since one reply cannot
 * say "some", and the remembered decision makes the retry guess right.
 *
 * Entra outage. While no account can get a token (token_all_failing),
 * the greeting is 421 4.7.0 with the diagnosis: Postfix then suspends the
 * destination ("delivery temporarily suspended") and keeps the mail,
 * instead of trying, and making us log, every message. The token
 * refresher keeps trying (token_refresh.c, at most a minute apart); the
 * first client after it succeeds is greeted with 220. The outage is
 * logged when it begins and ends, the failed requests by the token engine.
 *
 * Shutdown. The stop descriptor (smtpd.h) is watched only between
 * transactions: a session in the middle of a message finishes it first.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "proto/smtpd_cmd.h"
#include "smtpd_int.h"
#include "upstream/upstream_diag.h"

/* smtpd_server_new - one configuration generation (see smtpd.h) */
struct smtpd_server *smtpd_server_new(const struct config *cfg,
                                      struct token_engine *te, int stop_fd,
                                      int owns_cfg)
{
    struct smtpd_server *srv = calloc(1, sizeof(*srv));

    if (srv == NULL)
        return NULL;
    pthread_mutex_init(&srv->lock, NULL);
    srv->refs = 1;
    srv->owns_cfg = owns_cfg;
    srv->cfg = cfg;
    srv->te = te;
    srv->stop_fd = stop_fd;
    srv->pools = pools_new(cfg, te);
    if (gethostname(srv->hostname, sizeof(srv->hostname) - 1) < 0
        || srv->hostname[0] == 0)
        snprintf(srv->hostname, sizeof(srv->hostname), "localhost");
    return srv;
}

void smtpd_server_hold(struct smtpd_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    srv->refs++;
    pthread_mutex_unlock(&srv->lock);
}

/* smtpd_server_drop - the last reference closes the pools */
void smtpd_server_drop(struct smtpd_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    int last = --srv->refs == 0;
    pthread_mutex_unlock(&srv->lock);
    if (!last)
        return;
    pools_free(srv->pools);
    if (srv->owns_cfg)
        config_free((struct config *) srv->cfg);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

const struct config *smtpd_server_config(const struct smtpd_server *srv)
{
    return srv->cfg;
}

struct pools *smtpd_server_pools(const struct smtpd_server *srv)
{
    return srv->pools;
}

void smtpd_server_reap(struct smtpd_server *srv)
{
    pools_reap(srv->pools);
}

/* stopping - has the daemon been asked to shut down? */
static int stopping(const struct session *s)
{
    struct pollfd pfd = { s->srv->stop_fd, POLLIN, 0 };

    return s->srv->stop_fd >= 0 && poll(&pfd, 1, 0) > 0;
}

/* reply - a local reply, in order with any pipelined group */
static void reply(struct session *s, int code, const char *enhanced, const char *text)
{
    group_local(s, code, enhanced, text);
}

/* do_hello - HELO, EHLO, LHLO: greet, reset, list the extensions */
static void do_hello(struct session *s, enum smtpd_verb v, const char *args)
{
    const struct config *cfg = s->cfg;
    struct cio *io = &s->io;
    const char *host = s->srv->hostname;

    if (*args == 0) {
        reply(s, 501, "5.5.4", "Syntax: EHLO hostname");
        return;
    }
    if (s->txn.active)
        txn_abort(s, 0);
    txn_reset(s);
    snprintf(s->helo, sizeof(s->helo), "%s", args);
    s->greeted = 1;
    s->lmtp = v == V_LHLO;
    if (v == V_HELO) {
        cio_printf(io, "250 %s", host);
        return;
    }
    cio_printf(io, "250-%s", host);
    cio_printf(io, "250-PIPELINING");
    if (cfg->max_message_size > 0)
        cio_printf(io, "250-SIZE %lld", cfg->max_message_size);
    else
        cio_printf(io, "250-SIZE");
    cio_printf(io, "250-8BITMIME");
    cio_printf(io, "250-SMTPUTF8");
    if (!s->lmtp)       /* LMTP's one flight does not pass DSN on: the
                         * client keeps that duty (smtpd_lmtp.c) */
        cio_printf(io, "250-DSN");
    cio_printf(io, "250 ENHANCEDSTATUSCODES");
}

/* do_mail - MAIL FROM: local checks, then relayed in the group */
static void do_mail(struct session *s, char *args)
{
    struct smtp_reply r;
    char *addr, *params;
    long long size;

    if (!s->greeted)
        reply(s, 503, "5.5.1", "Send EHLO first");
    else if (s->txn.active)
        reply(s, 503, "5.5.1", "Nested MAIL command");
    else if (smtpd_path(args, "FROM:", &addr, &params, &r) < 0
             || smtpd_params_check(params, 0, &size, &r) < 0)
        reply(s, r.code, r.enhanced, r.text);
    else if (s->cfg->max_message_size > 0 && size > s->cfg->max_message_size)
        reply(s, 552, "5.3.4", "Message size exceeds the fixed limit");
    else {
        txn_begin(s, addr, params);
        if (s->lmtp)
            reply(s, 250, "2.1.0", "Sender OK");   /* upstream after the data */
        else
            group_upstream(s, ENT_MAIL, 0);
    }
}

/* do_rcpt - RCPT TO: local checks, then relayed in the group */
static void do_rcpt(struct session *s, char *args)
{
    struct smtp_reply r;
    char *addr, *params;
    long long size;

    if (!s->txn.active)
        reply(s, 503, "5.5.1", "Need MAIL command");
    else if (smtpd_path(args, "TO:", &addr, &params, &r) < 0
             || smtpd_params_check(params, 1, &size, &r) < 0)
        reply(s, r.code, r.enhanced, r.text);
    else if (*addr == 0)
        reply(s, 501, "5.1.3", "Bad recipient address syntax");
    else if (s->cfg->max_recipients > 0
             && s->txn.nrcpt >= (size_t) s->cfg->max_recipients) {
        s->txn.nlocal_refused++;
        reply(s, 452, "4.5.3", "Too many recipients");
    } else if (s->lmtp) {
        /* LMTP: accepted here; upstream's verdict comes after the data */
        int i = txn_add_rcpt(s, addr, params);
        s->txn.rcpts[i].code = 250;
        reply(s, 250, "2.1.5", "Recipient OK");
    } else
        group_upstream(s, ENT_RCPT, (size_t) txn_add_rcpt(s, addr, params));
}

/* any_recipient - a recipient accepted, or still waiting for its reply */
static int any_recipient(const struct session *s)
{
    for (size_t i = 0; i < s->txn.nrcpt; i++)
        if (s->txn.rcpts[i].code == 0 || s->txn.rcpts[i].code / 100 == 2)
            return 1;
    return 0;
}

/* do_data - DATA: relayed with the group; 354 from upstream starts it */
static int do_data(struct session *s, const char *args)
{
    if (*args)
        reply(s, 501, "5.5.4", "Syntax: DATA");
    else if (!s->txn.active)
        reply(s, 503, "5.5.1", "Need MAIL command");
    else if (!any_recipient(s))
        reply(s, 554, "5.5.1", "No valid recipients");
    else if (s->lmtp) {
        group_flush(s);
        cio_printf(&s->io, "354 End data with <CR><LF>.<CR><LF>");
        return lmtp_data_phase(s);
    } else {
        group_upstream(s, ENT_DATA, 0);
        if (group_flush(s) == 1)
            return data_phase(s);
    }
    return 0;
}

/* do_rset - RSET: end any transaction, upstream too */
static void do_rset(struct session *s)
{
    group_flush(s);
    if (s->txn.active)
        txn_abort(s, 0);
    txn_reset(s);
    cio_printf(&s->io, "250 2.0.0 Ok");
}

/* dispatch - one command line; 1 when the session is over */
static int dispatch(struct session *s, char *line)
{
    char *args;
    enum smtpd_verb v = smtpd_verb(line, &args);

    if (v != V_MAIL && v != V_RCPT && v != V_DATA)
        group_flush(s);                 /* MAIL/RCPT gathered up to DATA */
    switch (v) {
    case V_HELO: case V_EHLO: case V_LHLO:
        do_hello(s, v, args);
        break;
    case V_MAIL:
        do_mail(s, args);
        break;
    case V_RCPT:
        do_rcpt(s, args);
        break;
    case V_DATA:
        return do_data(s, args) < 0;
    case V_RSET:
        do_rset(s);
        break;
    case V_NOOP:
        reply(s, 250, "2.0.0", "Ok");
        break;
    case V_QUIT:
        reply(s, 221, "2.0.0", "Bye");
        return 1;
    case V_VRFY:
        reply(s, 252, "2.5.2", "Cannot VRFY user, but will accept message");
        break;
    case V_HELP:
        reply(s, 214, "2.0.0", "See exorelay(8)");
        break;
    case V_UNKNOWN:
        reply(s, 500, "5.5.2", "Error: command not recognized");
        break;
    default:
        reply(s, 502, "5.5.1", "Error: command not implemented");
        break;
    }
    return 0;
}

/* next_line - the next command, flushing the group before waiting */
static int next_line(struct session *s)
{
    if (!cio_has_line(&s->io) && !(cio_try_fill(&s->io) && cio_has_line(&s->io)))
        group_flush(s);
    if (!s->txn.active && stopping(s))
        return CIO_STOP;
    return cio_getline(&s->io, s->line, sizeof(s->line) - 1, s->cfg->idle_timeout,
                       !s->txn.active);
}

/* session_end - the reason the session ends, told to the client */
static void session_end(struct session *s, int rc)
{
    if (rc == CIO_TIMEOUT)
        cio_printf(&s->io, "421 4.4.2 %s Error: timeout exceeded", s->srv->hostname);
    else if (rc == CIO_STOP)
        cio_printf(&s->io, "421 4.3.2 %s Service shutting down", s->srv->hostname);
    if (s->txn.active) {
        struct smtp_reply r;
        txn_abort(s, 0);
        smtp_reply_set(&r, 421, "4.4.2", "client left before the end of the transaction");
        txn_log(s, -1, &r);
    }
    txn_reset(s);
    cio_flush(&s->io);
}

/* Client sessions being served now, every generation (for status). */
static int sessions_now;

/* smtpd_sessions - see smtpd.h */
int smtpd_sessions(void)
{
    return __atomic_load_n(&sessions_now, __ATOMIC_RELAXED);
}

/* token_outage - 1 while no account can get a token, with the diagnosis
 * in r; the change of state is logged, not each client */
static int token_outage(struct smtpd_server *srv, struct smtp_reply *r)
{
    struct token_diag td;
    const struct conf_account *acct;
    char    name[128];
    int     out = token_all_failing(srv->te, name, sizeof(name), &td), changed;

    if (out && (acct = config_account(srv->cfg, name)) != NULL)
        diag_token(r, acct, &td);
    else if (out)
        smtp_reply_set(r, 454, "4.7.0", "exorelay: no access token for any account");
    pthread_mutex_lock(&srv->lock);
    changed = out != srv->token_outage;
    srv->token_outage = out;
    pthread_mutex_unlock(&srv->lock);
    if (changed && out)
        msg_warn("smtpd: no account can get an access token: clients are greeted "
                 "with 421 until one can (%s)", r->text);
    else if (changed)
        msg_info("smtpd: an access token is available again: accepting mail");
    return out;
}

/* smtpd_session - serve one client (see smtpd.h) */
void smtpd_session(struct smtpd_server *srv, int fd, const char *peer)
{
    struct session *s = calloc(1, sizeof(*s));
    struct smtp_reply r;
    int rc;

    if (s == NULL) {
        close(fd);
        return;
    }
    s->srv = srv;
    s->cfg = srv->cfg;
    s->spill_fd = -1;
    snprintf(s->peer, sizeof(s->peer), "%s", peer);
    cio_init(&s->io, fd, srv->stop_fd);
    msg_debug("connect from %s", s->peer);
    if (token_outage(srv, &r)) {
        cio_printf(&s->io, "421 4.7.0 %s %s", srv->hostname, r.text);
        cio_flush(&s->io);
        close(fd);
        free(s);
        return;
    }
    __atomic_add_fetch(&sessions_now, 1, __ATOMIC_RELAXED);
    cio_printf(&s->io, "220 %s ESMTP exorelay", srv->hostname);
    for (;;) {
        rc = next_line(s);
        if (rc == CIO_TOOLONG) {
            reply(s, 500, "5.5.2", "Error: line too long");
            continue;
        }
        if (rc != CIO_OK || dispatch(s, s->line))
            break;
        if (s->io.broken) {
            rc = CIO_ERR;
            break;
        }
    }
    group_flush(s);
    session_end(s, rc);
    lmtp_close(s);
    msg_debug("disconnect from %s", s->peer);
    close(fd);
    free(s);
    __atomic_sub_fetch(&sessions_now, 1, __ATOMIC_RELAXED);
}
