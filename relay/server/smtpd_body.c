/*
 * smtpd_body.c - the DATA phase of a session: read the message from the
 * client, stream it to the upstream, and answer with the upstream's final
 * reply.
 *
 * SYNOPSIS (internal, see smtpd_int.h)
 *	int data_phase(s)
 *		Called after the upstream answered DATA with 354 and the
 *		client got it. Holds back the message (at most HDR_MAX
 *		bytes) until it is complete, lets the X-Exorelay header pick
 *		the pool and an account of it (txn_replay when it differs
 *		from the guess); a longer message streams on as it arrives.
 *		A message held whole that Exchange refuses with its quota
 *		goes again through another mailbox of the pool, inside the
 *		same client transaction. At CRLF.CRLF: a bare CR/LF
 *		(550 5.5.2) or an oversize message (552 5.3.4) is not
 *		submitted, the upstream connection is closed inside DATA so
 *		nothing can reach a mailbox; else the final dot goes upstream
 *		and its reply is the client's reply (LMTP: one per accepted
 *		recipient). -1 when the client is gone (session ends).
 *		A transaction of an account on Microsoft Graph is held
 *		whole (smtpd_hold.c) and submitted at CRLF.CRLF.
 *	void txn_log(s, size, final)
 *		The delivery log lines of the message (support/maillog.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/iowait.h"
#include "common/log.h"
#include "proto/smtpd_data.h"
#include "smtpd_int.h"
#include "support/maillog.h"
#include "support/stats.h"

/* The held-back header block. */
struct hdr {
    char   *buf;
    size_t  len, cap;
    size_t  end;                /* length of the header block, once found */
    int     done;               /* account decided, buf sent upstream */
};

/* up_write - message bytes to the upstream, unless it already failed */
static void up_write(struct session *s, const char *buf, size_t len)
{
    struct smtp_reply r;

    if (s->txn.failed || len == 0)
        return;
    if (s->txn.held) {
        hold_write(s, buf, len);        /* Microsoft Graph: kept for the end */
        return;
    }
    if (s->txn.up == NULL)
        return;
    if (upstream_write(s->txn.up, buf, len) < 0) {
        smtp_reply_set(&r, 451, "4.4.2", "upstream connection lost while sending"
                       " the message; try again");
        s->txn.failed = 1;
        s->txn.fail = r;
        txn_release(s, POOL_CLOSE);
    }
}

/* accepted_rcpts - recipients upstream accepted so far */
static size_t accepted_rcpts(const struct txn *t)
{
    size_t n = 0;

    for (size_t i = 0; i < t->nrcpt; i++)
        n += t->rcpts[i].code / 100 == 2;
    return n;
}

/* choose_account - the X-Exorelay header, else the envelope sender, names
 * a pool; the account guessed at MAIL stays when it is one of the pool and
 * its budget holds the recipients, else another is picked and replayed */
static void choose_account(struct session *s, const struct hdr *h)
{
    struct route want;
    struct smtp_reply err;
    int rc = route_from_header(s->cfg, h->buf, h->end, &want, &err);
    size_t n = accepted_rcpts(&s->txn);

    if (rc < 0) {
        msg_warn("%s: %s", s->txn.id, err.text);
        s->txn.failed = 1;
        s->txn.fail = err;
        txn_release(s, POOL_CLOSE);
        return;
    }
    if (rc == 0)
        want.n = config_accounts_for_sender(s->cfg, s->txn.sender, want.v, ROUTE_MAX);
    route_learn(s->txn.sender, &want);
    s->txn.route = want;
    if (s->txn.failed || (route_has(&want, s->txn.acct) && pick_keep(&s->txn.pick, n) == 0))
        return;
    if (txn_pick(s, &want, n) == 0)
        txn_replay(s, s->txn.pick.acct);
}

/* header_end - length of the header block if buf holds all of it, else 0 */
static size_t header_end(const struct hdr *h, size_t from)
{
    if (h->len >= 2 && memcmp(h->buf, "\r\n", 2) == 0)
        return 2;                       /* no header at all */
    for (size_t i = from > 3 ? from - 3 : 0; i + 4 <= h->len; i++)
        if (memcmp(h->buf + i, "\r\n\r\n", 4) == 0)
            return i + 4;
    return 0;
}

/* header_done - the header block is complete (or too big to hold) */
static void header_done(struct session *s, struct hdr *h)
{
    if (h->end == 0)
        h->end = h->len;
    choose_account(s, h);
    up_write(s, h->buf, h->len);
    h->done = 1;
    free(h->buf);
    h->buf = NULL;
}

/* forward - bytes the scanner let through */
static void forward(struct session *s, struct hdr *h, const char *buf, size_t len)
{
    if (h->done) {
        up_write(s, buf, len);
        return;
    }
    if (h->len + len > h->cap) {
        size_t cap = h->cap ? h->cap : 4096;
        while (cap < h->len + len)
            cap *= 2;
        char *p = realloc(h->buf, cap);
        if (p == NULL)
            abort();
        h->buf = p;
        h->cap = cap;
    }
    memcpy(h->buf + h->len, buf, len);
    size_t from = h->len;
    h->len += len;
    if (h->end == 0)
        h->end = header_end(h, from);
    if (h->len >= HDR_MAX)
        header_done(s, h);              /* too big to hold: stream the rest */
}

/* submit_held - the held message and its final dot; 0 with the upstream's
 * reply in r, -1 when the connection failed (r says so) */
static int submit_held(struct session *s, const struct hdr *h, struct smtp_reply *r)
{
    int rc;

    if (h != NULL)
        up_write(s, h->buf, h->len);
    if (!s->txn.failed && s->txn.held) {
        hold_submit(s, r);              /* through Microsoft Graph */
        return 0;
    }
    if (s->txn.failed || s->txn.up == NULL) {
        *r = s->txn.fail;
        return -1;
    }
    upstream_write(s->txn.up, ".\r\n", 3);
    rc = upstream_read_reply(s->txn.up, r);
    if (rc == 0)
        txn_map_reply(s, r);
    txn_release(s, rc == 0 && r->code != 421 ? POOL_CLEAN : POOL_CLOSE);
    return rc;
}

/* fail_over - Exchange refused the held message with its quota: take the
 * mailbox out and replay the transaction on another one of its pool,
 * still inside the client's transaction (nothing final was answered).
 * 0 when the transaction is ready for the content again */
static int fail_over(struct session *s, struct smtp_reply *r)
{
    struct txn *t = &s->txn;
    const struct conf_account *was = t->acct;
    size_t n = 0;

    for (size_t i = 0; i < t->nrcpt; i++)
        n += t->rcpts[i].code / 100 == 2 && t->rcpts[i].late == NULL;
    pick_settle(&t->pick, 0, 1);
    t->quota = 0;
    if (txn_pick(s, &t->route, n) < 0 || txn_replay(s, t->pick.acct) < 0) {
        *r = t->fail;
        return -1;
    }
    msg_info("%s: mailbox %s is out of quota; sending through %s of the same pool",
             t->id, was ? was->mailbox : "?", t->acct->mailbox);
    return 0;
}

/* final_reply - submit (or not) and get the reply for the client. A
 * message held whole (h) can go through another mailbox of the pool after
 * a quota refusal; a streamed one (h NULL) gets the 4xx, and the client's
 * retry lands on another mailbox. */
static void final_reply(struct session *s, const struct data_scan *ds,
                        const struct hdr *h, struct smtp_reply *r)
{
    if (ds->bare || ds->oversize) {
        txn_abort(s, 1);
        if (ds->bare)
            smtp_reply_set(r, 550, "5.5.2", "Message refused: bare CR or LF in"
                           " the data (only CRLF line ends are allowed)");
        else
            smtp_reply_set(r, 552, "5.3.4", "Message size exceeds the limit of"
                           " %lld bytes", ds->max_size);
        return;
    }
    for (size_t tries = 0; tries < ROUTE_MAX; tries++)
        if (submit_held(s, h, r) < 0 || !s->txn.quota || h == NULL || fail_over(s, r) < 0)
            return;
}

/* answer_client - SMTP: one reply; LMTP: one per accepted recipient */
static void answer_client(struct session *s, const struct smtp_reply *r)
{
    if (!s->lmtp) {
        cio_reply(&s->io, r);
        return;
    }
    for (size_t i = 0; i < s->txn.nrcpt; i++) {
        const struct rcpt *rc = &s->txn.rcpts[i];
        if (rc->code / 100 == 2)
            cio_reply(&s->io, rc->late ? rc->late : r);
    }
}

/* txn_log - the delivery log lines of the transaction (support/maillog.h):
 * client=, from= and one to= per recipient upstream accepted, each with
 * the reply its client got. Refused commands were logged as they were
 * refused (reject lines); a transaction left without recipients adds none. */
void txn_log(struct session *s, long long size, const struct smtp_reply *final)
{
    const struct txn *t = &s->txn;
    size_t  accepted = 0;
    char    extra[600], sw[160] = "";
    double  now = now_seconds();
    struct maillog_msg m = {.id = t->id, .relay = t->relay, .delay = now - t->t_begin,
                            .pace = t->t_pace, .conn = t->t_conn,
                            .xfer = t->t_data > 0 ? now - t->t_data : 0.0};

    stats_message(t->acct ? t->acct->name : NULL, final);   /* exorelay status */
    for (size_t i = 0; i < t->nrcpt; i++)
        accepted += t->rcpts[i].code / 100 == 2;
    if (accepted == 0)
        return;
    if (t->first_acct && t->first_acct != t->acct)
        snprintf(sw, sizeof(sw), " (switched from %s)", t->first_acct->name);
    snprintf(extra, sizeof(extra), "client=%s, account=%s%s, mailbox=%s, conn=%s", s->peer,
             t->acct ? t->acct->name : "-", sw, t->acct ? t->acct->mailbox : "-",
             t->reused ? "reused" : "new");
    maillog_client(t->id, s->peer);
    maillog_from(t->id, t->sender, size, accepted, extra);
    for (size_t i = 0; i < t->nrcpt; i++) {
        const struct rcpt *rc = &t->rcpts[i];
        const struct smtp_reply *r = s->lmtp && rc->late ? rc->late : final;
        if (rc->code / 100 == 2)
            maillog_rcpt(&m, rc->addr, maillog_status_of(r), r);
    }
}

/* client_lost - EOF or timeout inside DATA: nothing was answered, so the
 * client still holds the message; drop the upstream side unsent.
 * overtime: the data took longer than data_total_timeout. */
static int client_lost(struct session *s, int rc, int overtime)
{
    struct smtp_reply r;

    txn_abort(s, 1);
    if (overtime)
        smtp_reply_set(&r, 421, "4.4.2", "message data not complete within %d s "
                       "(data_total_timeout)", s->cfg->data_total_timeout);
    else
        smtp_reply_set(&r, 421, "4.4.2", "%s while reading the message",
                       rc == CIO_TIMEOUT ? "timeout" : "client connection lost");
    txn_log(s, -1, &r);
    if (rc == CIO_TIMEOUT) {
        cio_reply(&s->io, &r);
        cio_flush(&s->io);
    }
    txn_reset(s);
    return -1;
}

/* data_phase - read, check and relay the message */
int data_phase(struct session *s)
{
    struct data_scan ds;
    struct hdr h = { NULL, 0, 0, 0, 0 };
    struct smtp_reply r;

    /* Two limits: data_timeout of silence, data_total_timeout in all (a
     * trickle of a byte now and then must not hold a session for hours). */
    long long total_end = mono_ms() + 1000LL * s->cfg->data_total_timeout;

    data_scan_init(&ds, s->cfg->max_message_size);
    s->txn.t_data = now_seconds();
    while (!ds.done) {
        size_t len, outlen;
        const char *p = cio_data(&s->io, &len);

        if (len == 0) {
            long long silent_end = mono_ms() + 1000LL * s->cfg->data_timeout;
            int rc = cio_fill_until(&s->io, silent_end < total_end ? silent_end
                                    : total_end, 0);
            if (rc != CIO_OK) {
                free(h.buf);
                return client_lost(s, rc, rc == CIO_TIMEOUT && mono_ms() >= total_end);
            }
            continue;
        }
        cio_consume(&s->io, data_scan(&ds, p, len, s->dataout, &outlen));
        forward(s, &h, s->dataout, outlen);
    }
    if (!h.done && !ds.bare && !ds.oversize) {
        if (h.end == 0)
            h.end = h.len;
        choose_account(s, &h);          /* the whole message is held */
    }
    final_reply(s, &ds, h.done ? NULL : &h, &r);
    free(h.buf);
    txn_settle(s, &r);
    answer_client(s, &r);
    txn_log(s, ds.size, &r);
    txn_reset(s);
    return 0;
}
