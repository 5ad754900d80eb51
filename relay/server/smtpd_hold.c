/*
 * smtpd_hold.c - a transaction whose account sends through Microsoft
 * Graph: the server holds the message instead of streaming it upstream,
 * and submits it whole at the end of data.
 *
 * SYNOPSIS (internal, see smtpd_int.h)
 *	int hold_wanted(s, acct)
 *		1 when acct's route is Graph now (graph_route_active)
 *	int hold_begin(s, acct)
 *		Hold this transaction for acct: MAIL, RCPT and DATA are
 *		answered here (250, 250, 354: Graph knows no envelope, the
 *		recipients are checked locally as always), the content goes
 *		to a memory file. 0, or -1 with txn.failed set.
 *	void hold_write(s, buf, len)
 *		content as the client sent it (dot-stuffed, CRLF): stored
 *		unstuffed, as deliver_message() takes it
 *	void hold_reply(s, kind, &r)
 *		the local reply to a MAIL, RCPT or DATA of a held transaction
 *	void hold_submit(s, &r)
 *		At the end of data: deliver_message() over Graph (or SMTP, if
 *		the X-Exorelay header named an SMTP account after all); r is
 *		its final reply. Graph takes all recipients or none, so every
 *		accepted recipient shares it (LMTP too).
 *	void hold_end(s)
 *		drop what is held (txn_reset, txn_replay)
 *
 * No mail is lost: the 354 promises nothing, and the client's final
 * reply is Graph's 202 (as 250) or the failure, after submission.
 * XXX The held content lives in memory (memfd), up to max_message_size
 * per session; Graph itself takes at most about 3 MB of message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "graph/graph.h"
#include "smtpd_int.h"

/* hold_wanted - see above */
int hold_wanted(struct session *s, const struct conf_account *acct)
{
    return acct != NULL && graph_route_active(s->cfg, acct);
}

/* hold_begin - see above */
int hold_begin(struct session *s, const struct conf_account *acct)
{
    struct txn *t = &s->txn;
    struct smtp_reply r;

    t->acct = acct;
    if (t->held)
        return 0;
    if ((t->hold_fd = memfd_create("exorelay-held", MFD_CLOEXEC)) < 0) {
        smtp_reply_set(&r, 451, "4.3.0", "exorelay: cannot hold the message: %s",
                       strerror(errno));
        t->failed = 1;
        t->fail = r;
        return -1;
    }
    t->held = 1;
    t->hold_bol = 1;
    return 0;
}

/* hold_write - see above */
void hold_write(struct session *s, const char *buf, size_t len)
{
    struct txn *t = &s->txn;
    size_t  from = 0;

    for (size_t i = 0; i < len && !t->failed; i++) {
        if (t->hold_bol && buf[i] == '.') {     /* the client's dot-stuffing */
            if (i > from && write(t->hold_fd, buf + from, i - from) != (ssize_t) (i - from))
                t->failed = 1;
            from = i + 1;
        }
        t->hold_bol = buf[i] == '\n';
    }
    if (!t->failed && len > from
        && write(t->hold_fd, buf + from, len - from) != (ssize_t) (len - from))
        t->failed = 1;
    if (t->failed && t->fail.code == 0)
        smtp_reply_set(&t->fail, 451, "4.3.0", "exorelay: cannot hold the message: %s",
                       strerror(errno));
}

/* hold_reply - see above */
void hold_reply(struct session *s, int kind, struct smtp_reply *r)
{
    (void) s;
    if (kind == ENT_MAIL)
        smtp_reply_set(r, 250, "2.1.0", "Sender OK");
    else if (kind == ENT_RCPT)
        smtp_reply_set(r, 250, "2.1.5", "Recipient OK");
    else
        smtp_reply_set(r, 354, "", "Start mail input; end with <CRLF>.<CRLF>");
}

/* hold_submit - see above */
void hold_submit(struct session *s, struct smtp_reply *r)
{
    struct txn *t = &s->txn;
    struct deliver_result res;
    char  **rcpts = calloc(t->nrcpt ? t->nrcpt : 1, sizeof(*rcpts));
    size_t  n = 0;

    if (rcpts == NULL || lseek(t->hold_fd, 0, SEEK_SET) != 0) {
        smtp_reply_set(r, 451, "4.3.0", "exorelay: cannot read the held message");
        free(rcpts);
        return;
    }
    for (size_t i = 0; i < t->nrcpt; i++)
        if (t->rcpts[i].code / 100 == 2)
            rcpts[n++] = t->rcpts[i].addr;
    deliver_message(s->srv->pools, t->acct, t->sender, rcpts, n, t->hold_fd, &res);
    *r = res.final;
    snprintf(t->relay, sizeof(t->relay), "%s", res.relay);
    txn_map_reply(s, r);
    deliver_result_free(&res);
    free(rcpts);
}

/* hold_end - see above */
void hold_end(struct session *s)
{
    if (s->txn.held)
        close(s->txn.hold_fd);
    s->txn.held = 0;
    s->txn.hold_fd = -1;
}
