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
 * ORCPT), DATA, RSET, NOOP, VRFY (252), HELP, QUIT.
 * XXX NOTIFY is per message in the spool: the first recipient's counts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

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

/* path_arg - "<addr>" after "FROM:" or "TO:"; params follow; NULL if bad */
static char *path_arg(char *p, char **params)
{
    while (*p == ' ')
        p++;
    if (*p != '<')
        return NULL;
    char *end = strchr(p, '>');
    if (end == NULL)
        return NULL;
    *end = 0;
    *params = end + 1;
    return p + 1;
}

/* param - value of KEY= in a parameter list, or NULL */
static char *param(char *params, const char *key, char *buf, size_t size)
{
    size_t klen = strlen(key);

    for (char *p = params; p && *p; ) {
        while (*p == ' ')
            p++;
        if (strncasecmp(p, key, klen) == 0 && p[klen] == '=') {
            snprintf(buf, size, "%.*s", (int) strcspn(p + klen + 1, " "), p + klen + 1);
            return buf;
        }
        p += strcspn(p, " ");
    }
    return NULL;
}

static void cmd_mail(struct session *s, char *arg)
{
    char *params = NULL, buf[256];
    char *addr = strncasecmp(arg, "FROM:", 5) == 0 ? path_arg(arg + 5, &params) : NULL;

    if (s->have_mail)
        return reply(s, "503 5.5.1 Error: nested MAIL command");
    if (addr == NULL || !sendmail_addr_ok(addr))
        return reply(s, "501 5.1.7 Bad sender address syntax");
    s->sender = strdup(addr);
    if (param(params, "RET", buf, sizeof(buf)))
        s->ret = strcasecmp(buf, "FULL") == 0 ? DSN_RET_FULL : DSN_RET_HDRS;
    if (param(params, "ENVID", buf, sizeof(buf)))
        s->envid = strdup(buf);
    s->have_mail = 1;
    reply(s, "250 2.1.0 Ok");
}

static void cmd_rcpt(struct session *s, char *arg)
{
    char *params = NULL, buf[256];
    char *addr = strncasecmp(arg, "TO:", 3) == 0 ? path_arg(arg + 3, &params) : NULL;

    if (!s->have_mail)
        return reply(s, "503 5.5.1 Error: need MAIL command");
    if (addr == NULL || !*addr || !sendmail_addr_ok(addr))
        return reply(s, "501 5.1.3 Bad recipient address syntax");
    if (param(params, "NOTIFY", buf, sizeof(buf)) && s->nrcpt == 0
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
    char *arg = line + strcspn(line, " ");

    if (*arg)
        *arg++ = 0;
    if (strcasecmp(line, "EHLO") == 0) {
        reset(s);
        reply(s, "250-%s\r\n250-PIPELINING\r\n250-SIZE %lld\r\n250-8BITMIME\r\n250-DSN\r\n"
              "250 ENHANCEDSTATUSCODES", s->host, s->cfg->max_message_size);
    } else if (strcasecmp(line, "HELO") == 0) {
        reset(s);
        reply(s, "250 %s", s->host);
    } else if (strcasecmp(line, "MAIL") == 0) {
        cmd_mail(s, arg);
    } else if (strcasecmp(line, "RCPT") == 0) {
        cmd_rcpt(s, arg);
    } else if (strcasecmp(line, "DATA") == 0) {
        cmd_data(s);
    } else if (strcasecmp(line, "RSET") == 0) {
        reset(s);
        reply(s, "250 2.0.0 Ok");
    } else if (strcasecmp(line, "NOOP") == 0) {
        reply(s, "250 2.0.0 Ok");
    } else if (strcasecmp(line, "VRFY") == 0) {
        reply(s, "252 2.0.0 Cannot VRFY, but will try to deliver");
    } else if (strcasecmp(line, "HELP") == 0) {
        reply(s, "214 2.0.0 HELO EHLO MAIL RCPT DATA RSET NOOP VRFY QUIT");
    } else if (strcasecmp(line, "QUIT") == 0) {
        reply(s, "221 2.0.0 Bye");
        return 1;
    } else {
        reply(s, "502 5.5.2 Error: command not recognized");
    }
    return 0;
}

int sendmail_smtp(const struct config *cfg, const struct sendmail_opts *opts, FILE *in,
                  FILE *out)
{
    struct session s = {.cfg = cfg, .opts = opts, .in = in, .out = out};
    char    line[4096];
    int     rc;

    if (gethostname(s.host, sizeof(s.host) - 1) < 0 || !s.host[0])
        snprintf(s.host, sizeof(s.host), "localhost");
    reply(&s, "220 %s ESMTP exorelay-sendmail", s.host);
    while ((rc = read_command(in, line, sizeof(line))) >= 0) {
        if (rc == 1)
            reply(&s, "500 5.5.2 Error: line too long");
        else if (dispatch(&s, line))
            break;
    }
    reset(&s);
    return ferror(out) ? EX_IOERR : EX_OK;
}
