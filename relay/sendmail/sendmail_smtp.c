/*
 * sendmail_smtp.c - "exorelay-sendmail -bs": an SMTP session on standard
 * input and output, as sendmail -bs offers to programs that prefer to
 * speak SMTP to a local command (some MUAs, Perl's Mail::Mailer smtp).
 *
 * SYNOPSIS
 *	int sendmail_smtp(cfg, opts, in, out)
 *		Serve one session until QUIT or end of input. Each message
 *		accepted at the final dot is durably spooled first (250 only
 *		then), with the same header completion as -bm. Returns EX_OK,
 *		or EX_IOERR when the output breaks.
 *
 * Commands: HELO, EHLO (PIPELINING, 8BITMIME, DSN, SIZE,
 * ENHANCEDSTATUSCODES), MAIL (SIZE, BODY, RET, ENVID), RCPT (NOTIFY,
 * ORCPT), DATA, RSET, NOOP, VRFY (252), HELP, QUIT. Command lines are
 * read by the relay's own parser (proto/smtpd_cmd.h, fuzzed): the same
 * verbs, paths and ESMTP parameters, an unknown parameter refused with
 * 555 5.5.4 as the relay does, lines up to the same length.
 * XXX NOTIFY is per message in the spool: the first recipient's counts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "proto/smtpd_cmd.h"
#include "sendmail_msg.h"
#include "sendmail_smtp.h"
#include "sendmail_submit.h"

struct session {
    const struct config *cfg;
    const struct sendmail_opts *opts;
    FILE   *in, *out;
    char    host[256];
    int     have_mail;
    char   *sender;
    char  **rcpt;
    size_t  nrcpt;
    unsigned notify;
    enum dsn_ret ret;
    char   *envid;
};

/* reply - one reply line; flushed at once (the client may wait for it) */
static void reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void reply(struct session *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(s->out, fmt, ap);
    va_end(ap);
    fputs("\r\n", s->out);
    fflush(s->out);
}

/* reset - forget the transaction */
static void reset(struct session *s)
{
    free(s->sender);
    for (size_t i = 0; i < s->nrcpt; i++)
        free(s->rcpt[i]);
    free(s->rcpt);
    free(s->envid);
    s->sender = s->envid = NULL;
    s->rcpt = NULL;
    s->nrcpt = 0;
    s->have_mail = 0;
    s->notify = 0;
    s->ret = DSN_RET_DEFAULT;
}

/* reply_smtp - a reply made by the command parser */
static void reply_smtp(struct session *s, const struct smtp_reply *r)
{
    reply(s, "%d %s %s", r->code, r->enhanced, r->text);
}

/* path - "FROM:<addr> params" or "TO:<addr> params" through the relay's
 * parser (proto/smtpd_cmd.h): the same syntax, the same parameters
 * refused; NULL after a refusal was sent */
static char *path(struct session *s, char *arg, const char *keyword, int is_rcpt,
                  char **params)
{
    struct smtp_reply r;
    long long size;
    char   *addr;

    if (smtpd_path(arg, keyword, &addr, params, &r) < 0
        || smtpd_params_check(*params, is_rcpt, &size, &r) < 0) {
        reply_smtp(s, &r);
        return NULL;
    }
    if (s->cfg->max_message_size > 0 && size > s->cfg->max_message_size) {
        reply(s, "552 5.3.4 Message size exceeds fixed limit");
        return NULL;
    }
    return addr;
}

static void cmd_mail(struct session *s, char *arg)
{
    char *params = NULL, buf[256];
    char *addr;

    if (s->have_mail)
        return reply(s, "503 5.5.1 Error: nested MAIL command");
    if ((addr = path(s, arg, "FROM:", 0, &params)) == NULL)
        return;
    if (!sendmail_addr_ok(addr))
        return reply(s, "501 5.1.7 Bad sender address syntax");
    s->sender = strdup(addr);
    if (smtpd_param_value(params, "RET", buf, sizeof(buf)))
        s->ret = strcasecmp(buf, "FULL") == 0 ? DSN_RET_FULL : DSN_RET_HDRS;
    if (smtpd_param_value(params, "ENVID", buf, sizeof(buf)))
        s->envid = strdup(buf);
    s->have_mail = 1;
    reply(s, "250 2.1.0 Ok");
}

static void cmd_rcpt(struct session *s, char *arg)
{
    char *params = NULL, buf[256];
    char *addr;

    if (!s->have_mail)
        return reply(s, "503 5.5.1 Error: need MAIL command");
    if ((addr = path(s, arg, "TO:", 1, &params)) == NULL)
        return;
    if (!*addr || !sendmail_addr_ok(addr))
        return reply(s, "501 5.1.3 Bad recipient address syntax");
    if (smtpd_param_value(params, "NOTIFY", buf, sizeof(buf)) && s->nrcpt == 0
        && spool_parse_notify(buf, &s->notify) < 0)
        return reply(s, "501 5.5.4 Bad NOTIFY parameter");
    spool_env_add(&s->rcpt, &s->nrcpt, addr);
    reply(s, "250 2.1.5 Ok");
}

/* read_data - the message up to ".", dot-unstuffed, LF line ends. Past
 * max_message_size it reads on to the "." but keeps nothing more: memory
 * stays bounded whatever the client sends. */
static int read_data(struct session *s, char **msg, size_t *len, int *too_big)
{
    FILE   *m = open_memstream(msg, len);
    char    piece[SM_PIECE];
    size_t  n;
    long long total = 0, max = s->cfg->max_message_size;
    int     ended = 0, bol = 1;

    if (m == NULL)
        return -1;
    while ((n = sendmail_read_piece(s->in, piece, sizeof(piece))) > 0) {
        int     had_nl = piece[n - 1] == '\n';
        size_t  body = n - (size_t) had_nl;
        const char *p = piece;

        if (had_nl && body > 0 && piece[body - 1] == '\r')
            body--;
        if (bol && had_nl && body == 1 && piece[0] == '.') {
            ended = 1;
            break;
        }
        if (bol && body > 0 && piece[0] == '.') {       /* dot-stuffing */
            p++;
            body--;
        }
        total += (long long) body + had_nl;
        if (max > 0 && total > max)
            *too_big = 1;
        else if (fwrite(p, 1, body, m) != body || (had_nl && fputc('\n', m) == EOF))
            *too_big = 1;
        bol = had_nl;
    }
    fclose(m);
    return ended ? 0 : -1;
}

/* read_command - one command line into buf, without its end: 0, 1 when
 * it was too long (read to its end, nothing kept), -1 at end of input */
static int read_command(FILE *in, char *buf, size_t size)
{
    size_t  n = sendmail_read_piece(in, buf, size - 1);
    int     too_long = 0;

    if (n == 0)
        return -1;
    while (buf[n - 1] != '\n' && n == size - 1) {      /* the rest of a long line */
        too_long = 1;
        if ((n = sendmail_read_piece(in, buf, size - 1)) == 0)
            return -1;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = 0;
    return too_long;
}

static void cmd_data(struct session *s)
{
    char *msg = NULL, id[SPOOL_ID_SIZE], err[512];
    size_t len = 0;
    int too_big = 0;

    if (!s->have_mail || s->nrcpt == 0)
        return reply(s, "503 5.5.1 Error: need %s command", s->have_mail ? "RCPT" : "MAIL");
    reply(s, "354 End data with <CR><LF>.<CR><LF>");
    if (read_data(s, &msg, &len, &too_big) < 0) {
        free(msg);
        return;                 /* input ended inside DATA: nothing accepted */
    }
    struct sm_submission sub = {
        .sender = s->sender, .rcpt = s->rcpt, .nrcpt = s->nrcpt, .notify = s->notify,
        .ret = s->ret, .envid = s->envid, .fullname = s->opts->fullname,
    };
    int rc = too_big ? EX_DATAERR
             : sendmail_submit(s->cfg, &sub, msg, len, s->opts->verbose, id, err, sizeof(err));
    free(msg);
    if (too_big)
        reply(s, "552 5.3.4 Message too big for system");
    else if (rc == EX_OK)
        reply(s, "250 2.0.0 Ok: queued as %s", id);
    else if (rc == EX_TEMPFAIL || rc == EX_CANTCREAT || rc == EX_OSERR)
        reply(s, "451 4.3.0 Cannot queue the message: %s", err);
    else
        reply(s, "554 5.6.0 %s", err);
    reset(s);
}

/* dispatch - one command line; 0 to go on, 1 after QUIT */
static int dispatch(struct session *s, char *line)
{
    char *arg;

    switch (smtpd_verb(line, &arg)) {
    case V_EHLO:
        reset(s);
        reply(s, "250-%s\r\n250-PIPELINING\r\n250-SIZE %lld\r\n250-8BITMIME\r\n250-DSN\r\n"
              "250 ENHANCEDSTATUSCODES", s->host, s->cfg->max_message_size);
        break;
    case V_HELO:
        reset(s);
        reply(s, "250 %s", s->host);
        break;
    case V_MAIL:
        cmd_mail(s, arg);
        break;
    case V_RCPT:
        cmd_rcpt(s, arg);
        break;
    case V_DATA:
        cmd_data(s);
        break;
    case V_RSET:
        reset(s);
        reply(s, "250 2.0.0 Ok");
        break;
    case V_NOOP:
        reply(s, "250 2.0.0 Ok");
        break;
    case V_VRFY:
        reply(s, "252 2.0.0 Cannot VRFY, but will try to deliver");
        break;
    case V_HELP:
        reply(s, "214 2.0.0 HELO EHLO MAIL RCPT DATA RSET NOOP VRFY QUIT");
        break;
    case V_QUIT:
        reply(s, "221 2.0.0 Bye");
        return 1;
    default:
        reply(s, "502 5.5.2 Error: command not recognized");
    }
    return 0;
}

int sendmail_smtp(const struct config *cfg, const struct sendmail_opts *opts, FILE *in,
                  FILE *out)
{
    struct session s = {.cfg = cfg, .opts = opts, .in = in, .out = out};
    char    line[SMTPD_LINE_MAX + 3];   /* the relay's limit, CRLF, NUL */
    int     rc;

    if (gethostname(s.host, sizeof(s.host) - 1) < 0 || !s.host[0])
        snprintf(s.host, sizeof(s.host), "localhost");
    reply(&s, "220 %s ESMTP exorelay-sendmail", s.host);
    while ((rc = read_command(in, line, sizeof(line))) >= 0) {
        if (rc == 1 || strlen(line) > SMTPD_LINE_MAX)   /* the relay's limit, too */
            reply(&s, "500 5.5.2 Line too long");
        else if (dispatch(&s, line))
            break;
    }
    reset(&s);
    return ferror(out) ? EX_IOERR : EX_OK;
}
