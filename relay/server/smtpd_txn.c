/*
 * smtpd_txn.c - the upstream side of one client transaction.
 *
 * SYNOPSIS (internal, see smtpd_int.h)
 *	txn_begin(s, sender, params) / txn_add_rcpt(s, addr, params)
 *		Record the envelope as the client gives it.
 *	group_local(s, code, enhanced, text) / group_upstream(s, kind, rcpt)
 *		Queue the next reply of the current pipelined group: made
 *		here, or to be read from upstream.
 *	int group_flush(s)
 *		Send the queued upstream commands in one write, read their
 *		replies in order and answer the client every queued reply in
 *		order. The upstream connection is acquired here, for the
 *		group that holds MAIL, from the account guessed for the
 *		sender. When the first reply on a reused connection shows it
 *		dead (I/O error or 421), nothing has been answered yet, so the
 *		group is sent again on another connection. Returns 1 when the
 *		group ended with DATA answered 354 (the caller reads the
 *		message), else 0.
 *	int txn_replay(s, acct)
 *		Move the transaction to acct's connection (the X-Exorelay
 *		header named another account than the one guessed): the old
 *		connection, which is inside DATA, is closed (upstream
 *		discards an unfinished message), and MAIL, the accepted RCPTs
 *		and DATA are pipelined on the new one. 0 when it is ready for
 *		the content; -1 with txn.failed and txn.fail set.
 *	txn_abort(s, in_data)  end the upstream transaction without a message
 *	txn_release(s, how)    hand the connection back to its pool
 *	txn_reset(s)           forget the envelope
 *	txn_map_reply(s, r)    upstream reply -> client reply (quota -> 4xx)
 *
 * An account whose route is Microsoft Graph has no upstream connection:
 * its transaction is held (smtpd_hold.c) and its replies made here. With
 * transport = auto, a connection refused with 535 5.7.139 switches the
 * account to Graph and holds the transaction instead of failing it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "common/log.h"
#include "proto/smtpd_cmd.h"
#include "graph/graph.h"
#include "smtpd_int.h"
#include "support/maillog.h"
#include "upstream/upstream_diag.h"

/* now_seconds - wall clock with microseconds, for the log's delays */
double now_seconds(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double) tv.tv_sec + (double) tv.tv_usec / 1e6;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL) {
        msg_error("out of memory");
        abort();
    }
    return p;
}

/* txn_begin - MAIL FROM was accepted locally */
void txn_begin(struct session *s, const char *sender, const char *params)
{
    struct txn *t = &s->txn;

    txn_reset(s);
    t->active = 1;
    maillog_new_id(t->id, sizeof(t->id));
    t->sender = xstrdup(sender);
    t->mail_params = xstrdup(params);
    t->t_begin = now_seconds();
}

/* txn_add_rcpt - a recipient to relay; returns its index */
int txn_add_rcpt(struct session *s, const char *addr, const char *params)
{
    struct txn *t = &s->txn;

    if (t->nrcpt == t->rcap) {
        size_t cap = t->rcap ? t->rcap * 2 : 8;
        struct rcpt *r = realloc(t->rcpts, cap * sizeof(*r));
        if (r == NULL) {
            msg_error("out of memory");
            abort();
        }
        t->rcpts = r;
        t->rcap = cap;
    }
    t->rcpts[t->nrcpt] = (struct rcpt) { xstrdup(addr), xstrdup(params), 0, NULL };
    return (int) t->nrcpt++;
}

/* txn_release - give the upstream connection back: POOL_CLEAN after a
 * final reply, POOL_RSET when a transaction may be open upstream (the
 * pool pipelines the RSET with the next MAIL), POOL_CLOSE otherwise */
void txn_release(struct session *s, int how)
{
    struct txn *t = &s->txn;

    if (t->up) {
        pool_release(t->pool, t->up, upstream_broken(t->up) ? POOL_CLOSE : how);
        t->up = NULL;
    }
}

/* txn_reset - forget the transaction; its connection must be released */
void txn_reset(struct session *s)
{
    struct txn *t = &s->txn;

    txn_release(s, POOL_CLOSE);
    hold_end(s);
    pick_settle(&t->pick, 0, 0);        /* nothing more was sent */
    free(t->sender);
    free(t->mail_params);
    for (size_t i = 0; i < t->nrcpt; i++) {
        free(t->rcpts[i].addr);
        free(t->rcpts[i].params);
        free(t->rcpts[i].late);
    }
    free(t->rcpts);
    memset(t, 0, sizeof(*t));
}

/* txn_abort - end the upstream transaction without submitting anything.
 * Inside DATA only closing the connection is safe: the upstream drops a
 * message that never got its final dot. Before DATA a RSET keeps it. */
void txn_abort(struct session *s, int in_data)
{
    txn_release(s, in_data ? POOL_CLOSE : POOL_RSET);
}

/* txn_fail - the upstream is unusable for the rest of this transaction */
static void txn_fail(struct session *s, const struct smtp_reply *r)
{
    s->txn.failed = 1;
    s->txn.fail = *r;
    if (s->txn.up != NULL && smtp_reply_is_session_limit(r)) {
        pool_refused(s->txn.pool, s->txn.up, r);    /* a replay's MAIL got 432 */
        s->txn.up = NULL;
    }
    txn_release(s, POOL_CLOSE);
}

/* txn_map_reply - upstream reply as the client should see it. Exchange's
 * daily quota refusal is permanent in form only: the mail can go tomorrow,
 * so it becomes 4xx and stays in the client's queue. */
void txn_map_reply(struct session *s, struct smtp_reply *r)
{
    if (r->code >= 500 && strstr(r->text, "SubmissionQuotaExceeded")) {
        s->txn.quota = 1;
        msg_warn("%s: account %s: Exchange sending quota reached, deferring: %d %s %s",
                 s->txn.id, s->txn.acct ? s->txn.acct->name : "?", r->code,
                 r->enhanced, r->text);
        r->code = 452;
        if (r->enhanced[0] == '5')
            r->enhanced[0] = '4';
    }
}

/* acquire - an upstream connection of acct for this transaction */
static int acquire(struct session *s, const struct conf_account *acct)
{
    struct txn *t = &s->txn;
    struct smtp_reply err;
    double t0 = now_seconds();

    t->acct = acct;
    t->pool = pools_get(s->srv->pools, acct);
    if (t->pool && t->paced != acct) {
        pool_pace(t->pool);             /* messages_per_minute, once per account */
        t->paced = acct;
    }
    t->t_pace += now_seconds() - t0;
    t0 = now_seconds();
    t->up = t->pool ? pool_acquire_for(t->pool, s->io.fd, &err, &t->reused) : NULL;
    t->t_conn += now_seconds() - t0;
    if (t->up)
        upstream_relay(t->up, t->relay, sizeof(t->relay));
    if (t->up == NULL && acct->transport == TRANSPORT_AUTO && diag_auth_disabled(&err)) {
        graph_route_switch(s->cfg, acct, "535 5.7.139");
        return hold_begin(s, acct);
    }
    if (t->up == NULL) {
        if (t->pool == NULL)
            smtp_reply_set(&err, 451, "4.3.0", "no connection pool for account %s",
                           acct->name);
        msg_warn("%s: account %s: no upstream connection: %d %s %s", t->id,
                 acct->name, err.code, err.enhanced, err.text);
        txn_fail(s, &err);
        return -1;
    }
    return 0;
}

static int up_has(void *ctx, const char *keyword)
{
    return upstream_has(ctx, keyword);
}

/* send_mail / send_rcpt - one command, with the parameters upstream takes */
static void send_mail(struct session *s)
{
    char params[SMTPD_LINE_MAX];

    smtpd_params_upstream(s->txn.mail_params, up_has, s->txn.up, params, sizeof(params));
    upstream_cmd(s->txn.up, "MAIL FROM:<%s>%s", s->txn.sender, params);
}

static void send_rcpt(struct session *s, size_t i)
{
    char params[SMTPD_LINE_MAX];

    smtpd_params_upstream(s->txn.rcpts[i].params, up_has, s->txn.up, params,
                          sizeof(params));
    upstream_cmd(s->txn.up, "RCPT TO:<%s>%s", s->txn.rcpts[i].addr, params);
}

/* send_group - the upstream commands of the group, in one write */
static void send_group(struct session *s)
{
    if (s->txn.up == NULL)
        return;
    for (size_t i = 0; i < s->ngroup; i++) {
        const struct group_ent *e = &s->group[i];
        if (e->local)
            continue;
        if (e->kind == ENT_MAIL)
            send_mail(s);
        else if (e->kind == ENT_RCPT)
            send_rcpt(s, e->rcpt);
        else
            upstream_cmd(s->txn.up, "DATA");
    }
    upstream_flush(s->txn.up);
}

/* read_reply - next upstream reply; -1 when the connection is gone */
static int read_reply(struct session *s, struct smtp_reply *r)
{
    if (upstream_read_reply(s->txn.up, r) < 0 || r->code == 421)
        return -1;
    txn_map_reply(s, r);
    return 0;
}

/* group_local - queue a locally made reply */
void group_local(struct session *s, int code, const char *enhanced, const char *text)
{
    struct group_ent *e = &s->group[s->ngroup++];

    e->kind = ENT_MAIL;
    e->local = 1;
    e->reply.code = code;
    snprintf(e->reply.enhanced, sizeof(e->reply.enhanced), "%s", enhanced);
    snprintf(e->reply.text, sizeof(e->reply.text), "%s", text);
    if (s->ngroup == GROUP_MAX)
        group_flush(s);
}

/* group_upstream - queue a command whose reply comes from upstream */
void group_upstream(struct session *s, enum ent_kind kind, size_t rcpt)
{
    struct group_ent *e = &s->group[s->ngroup++];

    e->kind = kind;
    e->local = 0;
    e->rcpt = rcpt;
    if (s->ngroup == GROUP_MAX && kind != ENT_DATA)
        group_flush(s);
}

/* first_upstream - index of the first entry answered by upstream */
static size_t first_upstream(const struct session *s)
{
    size_t i = 0;

    while (i < s->ngroup && s->group[i].local)
        i++;
    return i;
}

/* verdict - the reply the client gets for e. Behind a refused MAIL,
 * upstream's replies to the RCPTs and DATA are "503 need MAIL": the MAIL's
 * own reply decides for them (a 432 must not become a 5xx on a recipient).
 * A 503 to a RCPT is about the session, never the recipient: 451. */
static void verdict(const struct group_ent *e, struct smtp_reply *r,
                    const struct smtp_reply *mail_refused)
{
    if (e->kind != ENT_MAIL && mail_refused->code != 0)
        *r = *mail_refused;
    else if (e->kind == ENT_RCPT)
        smtp_reply_defer_sequence(r);
}

/* apply - what an upstream reply means for the transaction */
static int apply(struct session *s, const struct group_ent *e,
                 const struct smtp_reply *r, struct smtp_reply *mail_refused)
{
    if (e->kind == ENT_MAIL && r->code / 100 != 2)
        *mail_refused = *r;
    else if (e->kind == ENT_RCPT && (s->txn.rcpts[e->rcpt].code = r->code) / 100 != 2)
        maillog_reject(s->txn.id, s->peer, "RCPT", r, s->txn.sender,
                       s->txn.rcpts[e->rcpt].addr);
    else if (e->kind == ENT_DATA)
        return r->code == 354;
    return 0;
}

/* answer - one upstream-answered entry: its reply, or the failure */
static int answer(struct session *s, size_t i, size_t first, int *attempts,
                  struct smtp_reply *r)
{
    const struct group_ent *e = &s->group[i];

    if (s->txn.failed) {
        *r = s->txn.fail;
        return 0;
    }
    if (s->txn.held) {
        hold_reply(s, e->kind, r);
        return 0;
    }
    if (read_reply(s, r) == 0)
        return 0;
    if (i == first && e->kind == ENT_MAIL && s->txn.reused && (*attempts)++ < 3) {
        msg_info("%s: reused upstream connection was closed (%d %s): retrying",
                 s->txn.id, r->code, r->text);
        txn_release(s, POOL_CLOSE);
        if (acquire(s, s->txn.acct) == 0)
            send_group(s);
        return -1;                      /* read this entry again */
    }
    txn_fail(s, r);
    return 0;
}

/* group_rcpts - recipients pipelined with MAIL (at least 1: the guess) */
static size_t group_rcpts(const struct session *s)
{
    size_t n = 0;

    for (size_t i = 0; i < s->ngroup; i++)
        n += s->group[i].kind == ENT_RCPT && !s->group[i].local;
    return n ? n : 1;
}

/* txn_pick - choose an account of r with room for nrcpt recipients and
 * reserve them (pick.h); the old choice is released. -1: txn.failed set
 * to the 452 that says when room comes back */
int txn_pick(struct session *s, const struct route *r, size_t nrcpt)
{
    struct txn *t = &s->txn;
    struct smtp_reply err;
    char names[256];

    pick_settle(&t->pick, 0, 0);
    if (pool_pick(s->srv->pools, r, nrcpt, t->acct, &t->pick, &err) == 0)
        return 0;
    msg_warn("%s: pool %s: %d %s %s", t->id, route_text(r, names, sizeof(names)),
             err.code, err.enhanced, err.text);
    txn_fail(s, &err);
    return -1;
}

/* txn_pick_guess - at MAIL, before the header names the pool: the guessed
 * pool, else any account with room (the header decides later, and a
 * spent guess must not refuse mail meant for another pool) */
static int txn_pick_guess(struct session *s, const struct route *guess, size_t nrcpt)
{
    struct route any = { .n = 0 };
    struct smtp_reply err;

    if (pool_pick(s->srv->pools, guess, nrcpt, NULL, &s->txn.pick, &err) == 0)
        return 0;
    for (size_t i = 0; i < s->cfg->naccounts && any.n < ROUTE_MAX; i++)
        any.v[any.n++] = &s->cfg->accounts[i];
    if (pool_pick(s->srv->pools, &any, nrcpt, NULL, &s->txn.pick, &err) == 0)
        return 0;
    return txn_pick(s, guess, nrcpt);   /* the guess's 452 */
}

/* txn_settle - the message is decided: count what upstream accepted in
 * the mailbox's budget; a quota refusal takes the mailbox out */
void txn_settle(struct session *s, const struct smtp_reply *final)
{
    struct txn *t = &s->txn;
    size_t accepted = 0;

    for (size_t i = 0; final->code / 100 == 2 && i < t->nrcpt; i++)
        accepted += t->rcpts[i].code / 100 == 2 && t->rcpts[i].late == NULL;
    pick_settle(&t->pick, accepted, t->quota);
}

/* end_refused - the transaction ended before the data (MAIL or DATA
 * refused): log it and hand the connection back; closed after a 432 */
static void end_refused(struct session *s, const struct smtp_reply *r)
{
    txn_log(s, -1, r);
    if (s->txn.up != NULL && smtp_reply_is_session_limit(r)) {
        pool_refused(s->txn.pool, s->txn.up, r);
        s->txn.up = NULL;
    }
    txn_release(s, POOL_RSET);
    txn_reset(s);
}

/* group_flush - relay the queued group and answer the client in order */
int group_flush(struct session *s)
{
    size_t first = first_upstream(s);
    int attempts = 0, go_data = 0;
    struct smtp_reply r, mail_refused = { 0, "", "" };

    if (first < s->ngroup && s->txn.up == NULL && !s->txn.failed && !s->txn.held) {
        if (s->group[first].kind == ENT_MAIL) {
            struct route guess;
            route_guess(s->cfg, s->txn.sender, &guess);
            if (txn_pick_guess(s, &guess, group_rcpts(s)) == 0) {
                if (hold_wanted(s, s->txn.pick.acct))
                    hold_begin(s, s->txn.pick.acct);    /* Microsoft Graph */
                else
                    acquire(s, s->txn.pick.acct);
            }
        } else {
            smtp_reply_set(&r, 451, "4.3.0", "upstream connection lost; try again");
            txn_fail(s, &r);
        }
    }
    send_group(s);
    for (size_t i = 0; i < s->ngroup; i++) {
        const struct group_ent *e = &s->group[i];

        if (e->local) {
            struct smtp_reply lr;
            smtp_reply_set(&lr, e->reply.code, e->reply.enhanced, "%s", e->reply.text);
            cio_reply(&s->io, &lr);
            continue;
        }
        if (answer(s, i, first, &attempts, &r) < 0) {
            i--;
            continue;
        }
        verdict(e, &r, &mail_refused);
        go_data |= apply(s, e, &r, &mail_refused);
        cio_reply(&s->io, &r);
        if (e->kind == ENT_DATA && !go_data)
            end_refused(s, &r);
    }
    s->ngroup = 0;
    if (mail_refused.code && s->txn.active) {
        maillog_reject(s->txn.id, s->peer, "MAIL", &mail_refused, s->txn.sender, NULL);
        end_refused(s, &mail_refused);
    }
    return go_data;
}

/* replay_rcpts - read the RCPT replies of a replay; SMTP needs all */
static int replay_rcpts(struct session *s, struct smtp_reply *r)
{
    struct txn *t = &s->txn;
    size_t refused = 0, accepted = 0;
    const struct rcpt *first = NULL;

    for (size_t i = 0; i < t->nrcpt; i++) {
        struct rcpt *rc = &t->rcpts[i];
        if (rc->code / 100 != 2)
            continue;
        accepted++;
        if (read_reply(s, r) < 0)
            return -1;
        smtp_reply_defer_sequence(r);   /* a 503 is no verdict on the recipient */
        if (r->code / 100 != 2) {
            rc->late = malloc(sizeof(*rc->late));
            if (rc->late == NULL)
                abort();
            *rc->late = *r;
            refused++;
            first = first ? first : rc;
        }
    }
    if (refused == 0 || s->lmtp)
        return 0;
    /* One final reply must cover all recipients: a partial refusal would
     * lose the refused ones (250) or duplicate the others (4xx after
     * sending). Send nothing and defer; the guess cache routes the retry
     * to this account at MAIL time, where each RCPT gets its own reply. */
    if (refused == accepted)
        *r = *first->late;
    else
        smtp_reply_set(r, 451, "4.3.0", "recipient <%s> refused by account %s (%d %s %s);"
                       " try again", first->addr, t->acct->name, first->late->code,
                       first->late->enhanced, first->late->text);
    return -1;
}

/* replay_once - MAIL, accepted RCPTs and DATA on the current connection */
static int replay_once(struct session *s, struct smtp_reply *r)
{
    struct txn *t = &s->txn;

    send_mail(s);
    for (size_t i = 0; i < t->nrcpt; i++)
        if (t->rcpts[i].code / 100 == 2)
            send_rcpt(s, i);
    upstream_cmd(t->up, "DATA");
    upstream_flush(t->up);
    if (read_reply(s, r) < 0)
        return -2;                      /* dead connection: may retry */
    if (r->code / 100 != 2)
        return -1;
    if (replay_rcpts(s, r) < 0)
        return -1;
    if (read_reply(s, r) < 0 || r->code != 354)
        return -1;
    return 0;
}

/* txn_replay - restart the transaction on acct's connection */
int txn_replay(struct session *s, const struct conf_account *acct)
{
    struct txn *t = &s->txn;
    struct smtp_reply r;

    msg_info("%s: switching from account %s to %s", t->id,
             t->acct ? t->acct->name : "?", acct->name);
    t->first_acct = t->acct;
    txn_release(s, POOL_CLOSE);
    hold_end(s);
    if (hold_wanted(s, acct))
        return hold_begin(s, acct);     /* Microsoft Graph: hold from here on */
    for (int attempt = 0; attempt < 4; attempt++) {
        if (acquire(s, acct) < 0)
            return -1;
        int rc = replay_once(s, &r);
        if (rc == 0)
            return 0;
        if (rc == -2 && t->reused) {
            txn_release(s, POOL_CLOSE);
            continue;
        }
        /* A 503 (DATA after refused RCPTs) is no verdict: the retry goes
         * to this account at MAIL, where each RCPT gets its own reply. */
        smtp_reply_defer_sequence(&r);
        txn_fail(s, &r);
        return -1;
    }
    txn_fail(s, &r);
    return -1;
}
