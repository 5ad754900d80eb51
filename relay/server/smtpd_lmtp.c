/*
 * smtpd_lmtp.c - LMTP in one flight: the message of an LMTP client goes
 * upstream as MAIL, RCPT... and "BDAT <size> LAST" with its content in one
 * write, so it costs one upstream round trip on a warm connection.
 *
 * SYNOPSIS (internal, see smtpd_int.h)
 *	int lmtp_data_phase(s)
 *		After the local 354 of an LMTP transaction: read the message
 *		into the session's spill file (unstuffed, so it can be sent
 *		with BDAT), then choose the pool from its X-Exorelay header
 *		(else the envelope sender), and submit it through
 *		deliver_routed() (pool/pick.h): an account with room, MAIL,
 *		the RCPTs and BDAT with the content pipelined, per-recipient
 *		replies after the data, and on Exchange's quota refusal the
 *		next mailbox of the pool. Answers one reply per recipient.
 *		-1 when the client is gone.
 *	void lmtp_close(s)   the spill file, at the end of the session
 *
 * Why only LMTP: LMTP answers each recipient after the data, so the relay
 * may accept RCPT locally (after its own checks) and still tell the
 * client about a recipient Exchange refuses. SMTP has one reply for the
 * whole message and must relay each RCPT's reply before DATA: two round
 * trips (smtpd.c).
 *
 * The spill file is an unnamed file in state_dir (O_TMPFILE; a memfd when
 * that is not possible), reused message after message: memory stays
 * small whatever the message size, the size is known before the first
 * byte goes upstream (BDAT LAST needs it), and a message that Exchange
 * refused with its quota can be sent again through another mailbox.
 * XXX DSN parameters (NOTIFY=, RET=, ENVID=) are not passed upstream on
 * this path, so LHLO does not announce DSN: the client keeps the duty
 * (Postfix then sends "relayed" notices for NOTIFY=SUCCESS itself and
 * honours NOTIFY=NEVER for its bounces) instead of having it dropped here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "pool/deliver_log.h"
#include "proto/smtpd_data.h"
#include "smtpd_int.h"
#include "support/file_replace.h"
#include "support/maillog.h"

/* spill_open - the session's spill file, emptied; -1 when none */
static int spill_open(struct session *s)
{
    if (s->spill_fd < 0) {
        s->spill_fd = open(s->cfg->state_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (s->spill_fd < 0)
            s->spill_fd = memfd_create("exorelay-lmtp", MFD_CLOEXEC);
        if (s->spill_fd < 0)
            return -1;
    }
    if (ftruncate(s->spill_fd, 0) < 0 || lseek(s->spill_fd, 0, SEEK_SET) != 0)
        return -1;
    return s->spill_fd;
}

/* lmtp_close - see above */
void lmtp_close(struct session *s)
{
    if (s->spill_fd >= 0)
        close(s->spill_fd);
    s->spill_fd = -1;
}

/* read_message - the client's data into fd; 0 at the end of data, else
 * a cio status (client gone); *werr when fd could not take it */
static int read_message(struct session *s, struct data_scan *ds, int fd, int *werr)
{
    while (!ds->done) {
        size_t len, outlen;
        const char *p = cio_data(&s->io, &len);

        if (len == 0) {
            int rc = cio_fill(&s->io, s->cfg->data_timeout, 0);
            if (rc != CIO_OK)
                return rc;
            continue;
        }
        cio_consume(&s->io, data_scan(ds, p, len, s->dataout, &outlen));
        if (!*werr && fd >= 0 && fd_write_all(fd, s->dataout, outlen) < 0)
            *werr = errno ? errno : EIO;
    }
    return 0;
}

/* choose_route - the X-Exorelay header at the start of fd, else the
 * envelope sender's pool; -1 with err */
static int choose_route(struct session *s, int fd, struct route *r, struct smtp_reply *err)
{
    char   *hdr = malloc(HDR_MAX);
    ssize_t n = hdr ? pread(fd, hdr, HDR_MAX, 0) : -1;
    size_t  end = 0;
    int     rc = 0;

    for (ssize_t i = 0; i + 4 <= n && end == 0; i++)
        if (memcmp(hdr + i, "\r\n\r\n", 4) == 0)
            end = (size_t) i + 4;
    if (n > 0)
        rc = route_from_header(s->cfg, hdr, end ? end : (size_t) n, r, err);
    free(hdr);
    if (rc == 0)
        r->n = config_accounts_for_sender(s->cfg, s->txn.sender, r->v, ROUTE_MAX);
    return rc < 0 ? -1 : 0;
}

/* answer_each - one reply per recipient, in RCPT order */
static void answer_each(struct session *s, const struct deliver_result *res,
                        const struct smtp_reply *all)
{
    struct smtp_reply r;

    for (size_t i = 0; i < s->txn.nrcpt; i++) {
        if (all != NULL)
            r = *all;
        else
            deliver_rcpt_reply(res, i, &r);   /* its refusal, else final */
        cio_reply(&s->io, &r);
    }
}

/* submit - the spilled message through its pool; the replies */
static void submit(struct session *s, int fd, long long size)
{
    struct txn *t = &s->txn;
    struct deliver_result res = {0};
    struct smtp_reply err;
    struct route r;
    char  **rcpts = calloc(t->nrcpt ? t->nrcpt : 1, sizeof(*rcpts));
    char    extra[400];
    const struct conf_account *acct = NULL;

    if (rcpts == NULL) {
        smtp_reply_set(&err, 451, "4.3.0", "exorelay: out of memory");
        answer_each(s, NULL, &err);
        return;
    }
    for (size_t i = 0; i < t->nrcpt; i++)
        rcpts[i] = t->rcpts[i].addr;
    if (choose_route(s, fd, &r, &err) < 0) {
        msg_warn("%s: %s", t->id, err.text);
        answer_each(s, NULL, &err);
    } else if (lseek(fd, 0, SEEK_SET) != 0) {
        smtp_reply_set(&err, 451, "4.3.0", "exorelay: cannot read the message back: %s",
                       strerror(errno));
        answer_each(s, NULL, &err);
    } else {
        deliver_routed(s->srv->pools, &r, t->sender, rcpts, t->nrcpt, fd, &res, &acct);
        snprintf(extra, sizeof(extra), "account=%s, mailbox=%s, lmtp=one flight",
                 acct ? acct->name : "-", acct ? acct->mailbox : "-");
        maillog_client(t->id, s->peer);
        deliver_log(t->id, t->sender, rcpts, t->nrcpt, size, (time_t) t->t_begin, &res,
                    extra);
        answer_each(s, &res, NULL);
    }
    deliver_result_free(&res);
    free(rcpts);
}

/* lmtp_data_phase - see above */
int lmtp_data_phase(struct session *s)
{
    struct data_scan ds;
    struct smtp_reply r;
    int     fd = spill_open(s), werr = fd < 0 ? errno : 0, rc;

    data_scan_init(&ds, s->cfg->max_message_size);
    ds.unstuff = 1;
    s->txn.t_data = now_seconds();
    if ((rc = read_message(s, &ds, fd, &werr)) != 0) {
        msg_info("%s: client=%s, %s while reading the message; nothing sent", s->txn.id,
                 s->peer, rc == CIO_TIMEOUT ? "timeout" : "connection lost");
        if (rc == CIO_TIMEOUT) {
            cio_printf(&s->io, "421 4.4.2 timeout while reading the message");
            cio_flush(&s->io);
        }
        txn_reset(s);
        return -1;
    }
    if (ds.bare || ds.oversize || werr) {
        if (ds.bare)
            smtp_reply_set(&r, 550, "5.5.2", "Message refused: bare CR or LF in"
                           " the data (only CRLF line ends are allowed)");
        else if (ds.oversize)
            smtp_reply_set(&r, 552, "5.3.4", "Message size exceeds the limit of"
                           " %lld bytes", ds.max_size);
        else
            smtp_reply_set(&r, 451, "4.3.0", "exorelay: cannot hold the message (%s)",
                           strerror(werr));
        answer_each(s, NULL, &r);
    } else {
        submit(s, fd, ds.size);
    }
    txn_reset(s);
    return 0;
}
