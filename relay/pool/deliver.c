/*
 * deliver.c - submit one whole message over a pooled upstream connection
 * (deliver.h).
 *
 * On the wire, with PIPELINING and CHUNKING (Exchange offers both), a
 * message costs one round trip on a warm connection:
 *
 *	MAIL FROM, RCPT TO..., BDAT <size> LAST, content -> their replies
 *
 * The size must be known first, so the message is read twice (measure);
 * from a pipe, or without CHUNKING, it is DATA in two round trips:
 *
 *	MAIL FROM, RCPT TO..., DATA     -> their replies   (round trip 1)
 *	content, "."                    -> final reply     (round trip 2)
 *
 * Without PIPELINING each command waits for its reply. With BDAT the
 * content goes out before the envelope's replies are known; when they are
 * refusals upstream drops it (RFC 3030 4.2), a waste only on failures. Only a failure at
 * the very first reply of a reused connection is retried (once, on a new
 * connection): then nothing can have been accepted. A connection lost
 * after the final "." is not retried here, because upstream may have taken
 * the message; the 4xx lets the client's queue decide (a possible
 * duplicate rather than a loss, RFC 1047).
 *
 * Accounts whose route is Microsoft Graph go through graph_send() instead
 * (deliver_graph below): one request, all recipients or none.
 * Verdicts. When MAIL is refused, its reply decides for every recipient
 * (4xx defers, 5xx fails): the replies to the RCPTs and BDAT pipelined
 * behind it are the server's "503 need MAIL" and say nothing about them,
 * so they are read and dropped. A 503 to a RCPT is never a verdict either
 * (smtp_reply_defer_sequence). A 432 (the mailbox's session limit) closes
 * the connection and tells the pool (pool_refused).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver.h"
#include "support/iowait.h"
#include "common/log.h"
#include "proto/smtp_data.h"
#include "support/stats.h"
#include "upstream/upstream_diag.h"

#define CHUNK 65536

/* One attempt at one message. */
struct txn {
    const struct conf_account *acct;
    const char *sender;
    char   *const *rcpts;
    size_t  nrcpt;
    int     fd;
    off_t   start;              /* where the message starts in fd; -1: pipe */
    long long size;             /* with CRLF line ends (SIZE=); -1: unknown */
    int     eight_bit;
    struct deliver_result *res;
    size_t  naccepted;
    int     mail_code;          /* reply to MAIL, 0 if none */
    int     data_code;          /* reply to DATA, 0 if none */
    int     lost_first;         /* no reply at all to the first command */
    struct smtp_reply rcpt_fail; /* first temporary RCPT refusal, else first */
    int     release;            /* POOL_CLOSE, POOL_CLEAN or POOL_RSET */
    int     session_refused;    /* the final reply is a 432: pool_refused */
    int     bdat;               /* this attempt sends BDAT, not DATA */
    char   *in, *out;           /* read and encode buffers */
};

/* measure - size (CRLF line ends) and 8-bit content, when fd can be rewound */
static void measure(struct txn *t)
{
    struct smtp_data_enc enc;
    ssize_t n;

    t->size = -1;
    if ((t->start = lseek(t->fd, 0, SEEK_CUR)) < 0)
        return;
    smtp_data_init(&enc);
    while ((n = read(t->fd, t->in, CHUNK)) > 0)
        smtp_data_encode(&enc, t->in, (size_t) n, t->out);
    smtp_data_finish(&enc, t->out);
    if (n == 0 && lseek(t->fd, t->start, SEEK_SET) == t->start) {
        t->size = smtp_data_size(&enc);
        t->eight_bit = enc.eight_bit;
    }
}

/* non_ascii - the address needs SMTPUTF8 */
static int non_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s > 127)
            return 1;
    return 0;
}

/* mail_params - SIZE=, BODY=8BITMIME, SMTPUTF8 as upstream offers them */
static void mail_params(struct upstream *up, const struct txn *t, char *buf, size_t size)
{
    int     utf8 = non_ascii(t->sender);
    size_t  n = 0;

    for (size_t i = 0; i < t->nrcpt; i++)
        utf8 |= non_ascii(t->rcpts[i]);
    buf[0] = 0;
    if (t->size >= 0 && upstream_has(up, "SIZE"))
        n += (size_t) snprintf(buf + n, size - n, " SIZE=%lld", t->size);
    if (t->eight_bit && upstream_has(up, "8BITMIME"))
        n += (size_t) snprintf(buf + n, size - n, " BODY=8BITMIME");
    if (utf8 && upstream_has(up, "SMTPUTF8"))
        snprintf(buf + n, size - n, " SMTPUTF8");
}

/* send_body - the content: CRLF line ends, and for DATA dot-stuffed and
 * ended by "."; for BDAT exactly t->size bytes. -1 (final set) if unsent */
static int send_body(struct upstream *up, struct txn *t)
{
    struct smtp_data_enc enc;
    ssize_t n;
    size_t  len;
    long long left = t->size;

    (t->bdat ? smtp_data_init_bdat : smtp_data_init)(&enc);
    while ((n = read(t->fd, t->in, CHUNK)) > 0) {
        len = smtp_data_encode(&enc, t->in, (size_t) n, t->out);
        if (t->bdat && (long long) len > left)
            break;                      /* grew since measured */
        left -= (long long) len;
        if (upstream_write(up, t->out, len) < 0)
            return 0;                   /* the reply read says it */
    }
    len = n == 0 ? smtp_data_finish(&enc, t->out) : 0;
    if (n != 0 || (t->bdat && (long long) len != left)) {
        /* Never end a message we could not read whole, or that changed
         * under us: drop the session, and upstream discards the part. */
        smtp_reply_set(&t->res->final, 451, "4.3.0", "exorelay: cannot read the "
                       "message whole: %s", n < 0 ? strerror(errno) : "it changed "
                       "while being sent");
        t->release = POOL_CLOSE;
        return -1;
    }
    upstream_write(up, t->out, len);
    return 0;
}

/* queue_command - command i of the envelope: MAIL, RCPT..., DATA or BDAT */
static int queue_command(struct upstream *up, struct txn *t, size_t i)
{
    char    params[80];

    if (i == 0) {
        mail_params(up, t, params, sizeof(params));
        upstream_cmd(up, "MAIL FROM:<%s>%s", t->sender, params);
    } else if (i <= t->nrcpt) {
        upstream_cmd(up, "RCPT TO:<%s>", t->rcpts[i - 1]);
    } else if (!t->bdat) {
        upstream_cmd(up, "DATA");
    } else {
        /* The whole message in one chunk, in the same packets as the
         * envelope: one round trip (RFC 3030). */
        upstream_cmd(up, "BDAT %lld LAST", t->size);
        return send_body(up, t);
    }
    return 0;
}

/* note_rcpt - keep a recipient's reply */
static void note_rcpt(struct txn *t, size_t i, const struct smtp_reply *reply)
{
    struct deliver_result *res = t->res;
    char    line[SMTP_REPLY_TEXT_MAX + 32];
    struct smtp_reply soft = *reply, *r = &soft;
    const char *text;

    diag_soften_quota(r, t->acct);      /* a quota refusal is temporary */
    smtp_reply_defer_sequence(r);       /* so is a 503: it is about the session */
    text = smtp_reply_oneline(r, line, sizeof(line)) + 3;

    res->rcpt_code[i] = r->code;
    free(res->rcpt_text[i]);
    res->rcpt_text[i] = strdup(*text == ' ' ? text + 1 : text);
    if (r->code / 100 == 2) {
        t->naccepted++;
        return;
    }
    res->nrefused++;
    if (t->rcpt_fail.code == 0 || (t->rcpt_fail.code >= 500 && r->code < 500))
        t->rcpt_fail = *r;
}

/* read_envelope_reply - read and note the reply to command i; -1 if lost */
static int read_envelope_reply(struct upstream *up, struct txn *t, size_t i,
                               struct smtp_reply *r)
{
    if (upstream_read_reply(up, r) < 0 || (r->code == 421 && i == 0)) {
        t->lost_first = i == 0;
        t->res->final = *r;
        return -1;
    }
    if (i == 0)
        t->mail_code = r->code;
    else if (i > t->nrcpt)
        t->data_code = r->code;
    else if (t->mail_code / 100 == 2)
        note_rcpt(t, i - 1, r);
    /* else behind a refused MAIL: a 503, no verdict on the recipient */
    if (i == 0 && r->code / 100 != 2)
        t->res->final = *r;
    if (i > t->nrcpt && r->code != 354 && t->mail_code / 100 == 2 && t->naccepted > 0)
        t->res->final = *r;
    return 0;
}

/* envelope - MAIL, RCPT..., DATA or BDAT+content, pipelined when offered;
 * -1 when the connection was lost or the content could not be sent */
static int envelope(struct upstream *up, struct txn *t)
{
    int     pipelining = upstream_has(up, "PIPELINING");
    size_t  ncmd = t->nrcpt + 2, sent = 0;
    struct smtp_reply r;

    for (size_t i = 0; i < ncmd; i++) {
        if (!pipelining && i > 0 && (t->mail_code / 100 != 2
                                     || (i == ncmd - 1 && t->naccepted == 0)))
            break;                      /* no use asking further */
        if (queue_command(up, t, i) < 0)
            return -1;
        sent++;
        if (!pipelining && read_envelope_reply(up, t, i, &r) < 0)
            return -1;
    }
    for (size_t i = 0; pipelining && i < sent; i++)
        if (read_envelope_reply(up, t, i, &r) < 0)
            return -1;
    return 0;
}

/* outcome - final reply, permanence and return value of the attempt */
static int outcome(struct txn *t, struct upstream *up)
{
    struct deliver_result *res = t->res;

    if (t->mail_code / 100 == 2 && t->naccepted == 0 && t->rcpt_fail.code != 0)
        res->final = t->rcpt_fail;      /* every recipient was refused */
    if (upstream_broken(up))
        t->release = POOL_CLOSE;
    t->session_refused = smtp_reply_is_session_limit(&res->final);
    if (diag_soften_quota(&res->final, t->acct))
        res->quota = 1;                 /* the pool takes this mailbox out */
    res->permanent = res->final.code >= 500;
    return res->final.code / 100 == 2 && t->naccepted > 0 ? 0 : -1;
}

/* too_big - upstream's SIZE says no: a permanent refusal, nothing sent */
static int too_big(struct upstream *up, struct txn *t)
{
    long long limit = upstream_size_limit(up);

    if (t->size <= 0 || limit <= 0 || t->size <= limit)
        return 0;
    smtp_reply_set(&t->res->final, 552, "5.3.4", "exorelay: the message has %lld "
                   "bytes, more than the %lld that %s accepts", t->size, limit,
                   "upstream");
    return 1;
}

/* attempt - one try on connection up; the pool mode for it in t->release */
static int attempt(struct upstream *up, struct txn *t)
{
    struct smtp_reply r;

    t->release = POOL_RSET;             /* until a final reply says better */
    t->session_refused = 0;
    t->bdat = t->size >= 0 && upstream_has(up, "CHUNKING");
    if (too_big(up, t)) {
        t->release = POOL_CLEAN;
    } else if (envelope(up, t) < 0) {
        t->release = POOL_CLOSE;
        return -1;
    } else if (t->bdat) {
        t->release = t->res->final.code == 250 ? POOL_CLEAN : POOL_RSET;
    } else if (t->data_code == 354 && (t->mail_code / 100 != 2 || t->naccepted == 0)) {
        /* A server that opened DATA with nobody to deliver to: end it empty. */
        upstream_cmd(up, ".");
        if (upstream_read_reply(up, &r) < 0)
            t->release = POOL_CLOSE;
    } else if (t->data_code == 354 && send_body(up, t) == 0) {
        if (upstream_read_reply(up, &t->res->final) == 0)
            t->release = POOL_CLEAN;
    }
    return outcome(t, up);
}

/* reset_attempt - forget what a failed attempt noted, for the retry */
static void reset_attempt(struct txn *t)
{
    for (size_t i = 0; i < t->nrcpt; i++) {
        free(t->res->rcpt_text[i]);
        t->res->rcpt_text[i] = NULL;
        t->res->rcpt_code[i] = 0;
    }
    t->res->nrefused = 0;
    t->naccepted = 0;
    t->mail_code = t->data_code = 0;
    t->lost_first = 0;
    t->rcpt_fail.code = 0;
}

/* rewind_fd - back to the start of the message; 0 when it cannot */
static int rewind_fd(const struct txn *t)
{
    return t->start >= 0 && lseek(t->fd, t->start, SEEK_SET) == t->start;
}

/* deliver_through - up to two attempts over the pool; buffers given */
static int deliver_through(struct pool *pool, struct txn *t)
{
    struct upstream *up;
    int     rc, reused;

    for (int n = 0;; n++) {
        long long t0 = mono_ms();
        up = pool_acquire(pool, &t->res->final, &reused);
        t->res->conn_ms += (long) (mono_ms() - t0);
        if (up == NULL)
            return -1;
        t->res->reused = reused;
        upstream_relay(up, t->res->relay, sizeof(t->res->relay));
        t0 = mono_ms();
        rc = attempt(up, t);
        t->res->xfer_ms += (long) (mono_ms() - t0);
        if (t->session_refused)
            pool_refused(pool, up, &t->res->final);
        else
            pool_release(pool, up, t->release);
        if (rc == 0 || !t->lost_first || !reused || n > 0 || !rewind_fd(t))
            return rc;
        /* The pooled connection had died while idle: once more, new. */
        msg_info("deliver: a pooled connection of %s had been closed by the "
                 "server; sending again on a new one", t->acct->name);
        reset_attempt(t);
        t->res->retried = 1;
    }
}

/* deliver_graph - the message through Microsoft Graph: all or nothing */
static int deliver_graph(struct pools *pools, struct txn *t)
{
    struct graph_client *gc = pools_graph(pools);
    struct graph_result gr;
    long long t0;
    int     rc;

    t->res->via_graph = 1;
    if (gc == NULL) {
        smtp_reply_set(&t->res->final, 451, "4.3.0", "exorelay: out of memory");
        return -1;
    }
    t0 = mono_ms();
    rc = graph_send(gc, t->acct, t->rcpts, t->nrcpt, t->fd, &gr);
    t->res->xfer_ms += (long) (mono_ms() - t0);
    graph_relay_name(pools_config(pools), t->res->relay, sizeof(t->res->relay));
    t->res->final = gr.final;
    t->res->permanent = gr.permanent;
    for (size_t i = 0; i < t->nrcpt; i++) {
        t->res->rcpt_code[i] = gr.final.code;
        t->res->rcpt_text[i] = strdup(gr.final.text);
    }
    if (rc == 0)
        t->naccepted = t->nrcpt;
    else if (gr.too_big && t->acct->transport == TRANSPORT_AUTO)
        return 1;                       /* the caller tries SMTP */
    return rc;
}

/* deliver_by_transport - Graph or SMTP as the account's route says; auto
 * switches on 535 5.7.139 and falls back to SMTP for Graph's size limit */
static int deliver_by_transport(struct pools *pools, struct pool *pool, struct txn *t)
{
    const struct config *cfg = pools_config(pools);
    struct smtp_reply graph_refusal;
    int     rc;

    if (graph_route_active(cfg, t->acct)) {
        if ((rc = deliver_graph(pools, t)) <= 0 || !rewind_fd(t))
            return rc < 0 || rc == 1 ? -1 : 0;
        graph_refusal = t->res->final;  /* too big: SMTP may take it */
        reset_attempt(t);
        t->res->via_graph = 0;
        if ((rc = deliver_through(pool, t)) < 0 && diag_auth_disabled(&t->res->final)) {
            t->res->final = graph_refusal;
            t->res->permanent = 1;
        }
        return rc;
    }
    rc = deliver_through(pool, t);
    if (rc < 0 && t->acct->transport == TRANSPORT_AUTO
        && diag_auth_disabled(&t->res->final) && rewind_fd(t)) {
        graph_route_switch(cfg, t->acct, "535 5.7.139");
        reset_attempt(t);
        rc = deliver_graph(pools, t);
    }
    return rc < 0 || rc == 1 ? -1 : 0;
}

/* result_init - empty result with room for nrcpt recipients; -1 if OOM */
static int result_init(struct deliver_result *res, size_t nrcpt)
{
    memset(res, 0, sizeof(*res));
    res->rcpt_code = calloc(nrcpt ? nrcpt : 1, sizeof(*res->rcpt_code));
    res->rcpt_text = calloc(nrcpt ? nrcpt : 1, sizeof(*res->rcpt_text));
    res->nrcpt = res->rcpt_text ? nrcpt : 0;
    if (res->rcpt_code == NULL || res->rcpt_text == NULL) {
        smtp_reply_set(&res->final, 451, "4.3.0", "exorelay: out of memory");
        return -1;
    }
    return 0;
}

/* deliver_message - submit one whole message; see deliver.h */
int deliver_message(struct pools *pools, const struct conf_account *acct,
                    const char *sender, char *const *rcpts, size_t nrcpt,
                    int fd, struct deliver_result *result)
{
    struct txn t = {.acct = acct, .sender = sender, .rcpts = rcpts, .nrcpt = nrcpt,
                    .fd = fd, .res = result};
    struct pool *pool;
    int     rc = -1;

    t.in = malloc(CHUNK);
    t.out = malloc(2 * CHUNK + SMTP_DATA_FINISH_MAX);
    if (result_init(result, nrcpt) == 0 && t.in != NULL && t.out != NULL) {
        if ((pool = pools_get(pools, acct)) == NULL) {
            smtp_reply_set(&result->final, 451, "4.3.0", "exorelay: out of memory");
        } else if (nrcpt == 0) {
            smtp_reply_set(&result->final, 554, "5.5.1", "exorelay: no recipients");
            result->permanent = 1;
        } else {
            measure(&t);
            result->waited_ms = pool_pace(pool);
            rc = deliver_by_transport(pools, pool, &t);
        }
    } else if (result->final.code == 0) {
        smtp_reply_set(&result->final, 451, "4.3.0", "exorelay: out of memory");
    }
    free(t.in);
    free(t.out);
    stats_message(acct->name, &result->final);    /* exorelay status */
    return rc;
}

/* deliver_result_free - free the per-recipient replies */
void deliver_result_free(struct deliver_result *result)
{
    for (size_t i = 0; result->rcpt_text != NULL && i < result->nrcpt; i++)
        free(result->rcpt_text[i]);
    free(result->rcpt_code);
    free(result->rcpt_text);
    result->rcpt_code = NULL;
    result->rcpt_text = NULL;
}
