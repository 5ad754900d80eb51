/*
 * deliver_log.c - log what deliver_message() did, per recipient
 * (deliver_log.h). deliver_message() logs nothing itself: the queue ID
 * and the arrival time belong to its caller.
 */
#include <stdio.h>
#include <string.h>

#include "deliver_log.h"

void deliver_rcpt_reply(const struct deliver_result *res, size_t i, struct smtp_reply *reply)
{
    int     code = res->rcpt_code && i < res->nrcpt ? res->rcpt_code[i] : 0;
    const char *text = code && res->rcpt_text[i] ? res->rcpt_text[i] : "";
    char    enhanced[16] = "";
    int     a, b, c, n = 0;

    if (code < 400) {
        *reply = res->final;
        return;
    }
    /* rcpt_text starts with the enhanced code when upstream gave one */
    if (sscanf(text, "%d.%d.%d%n", &a, &b, &c, &n) == 3 && a == code / 100) {
        snprintf(enhanced, sizeof(enhanced), "%d.%d.%d", a, b, c);
        text += n + (text[n] == ' ');
    }
    smtp_reply_set(reply, code, enhanced, "%s", text);
}

void deliver_log_msg(struct maillog_msg *m, const char *id, time_t arrived,
                     const struct deliver_result *res)
{
    *m = (struct maillog_msg) {.id = id, .relay = res->relay,
                               .delay = (double) (time(NULL) - arrived),
                               .pace = res->waited_ms / 1e3, .conn = res->conn_ms / 1e3,
                               .xfer = res->xfer_ms / 1e3};
    if (m->delay < m->pace + m->conn + m->xfer)   /* arrived: whole seconds */
        m->delay = m->pace + m->conn + m->xfer;
}

void deliver_log(const char *id, const char *sender, char *const *rcpts, size_t nrcpt,
                 long long size, time_t arrived, const struct deliver_result *res,
                 const char *extra)
{
    struct maillog_msg m;
    struct smtp_reply r;
    int     accepted = res->final.code / 100 == 2;

    deliver_log_msg(&m, id, arrived, res);
    maillog_from(id, sender, size, nrcpt, extra);
    for (size_t i = 0; i < nrcpt; i++) {
        deliver_rcpt_reply(res, i, &r);
        enum maillog_status st = maillog_status_of(&r);
        if (st == MAILLOG_SENT && !accepted)
            st = res->permanent ? MAILLOG_BOUNCED : MAILLOG_DEFERRED;
        maillog_rcpt(&m, rcpts[i], st, &r);
    }
}
