/*
 * upstream.c - one authenticated submission session to the upstream server
 * (upstream.h): connect, greeting, EHLO, STARTTLS with a verified
 * certificate, EHLO again, AUTH XOAUTH2; then commands and replies for the
 * caller, pipelined through the write buffer of upstream_io.c.
 *
 * Order matters for security: the token is fetched only once TLS is up and
 * verified, and it is written only into a buffer that is wiped once sent.
 * Every failure during the setup becomes a local 4xx (upstream_diag.c): the
 * admin can fix it, and the client must keep its mail meanwhile.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "upstream.h"
#include "upstream_diag.h"
#include "upstream_int.h"

/* set_stage - remember the verb of a command for diagnoses */
static void set_stage(struct upstream *up, const char *line)
{
    size_t  n = strcspn(line, " \r\n");

    snprintf(up->stage, sizeof(up->stage), "after %.*s", (int) (n < 12 ? n : 12), line);
}

/* upstream_cmd - buffer one command line; CRLF is added */
int upstream_cmd(struct upstream *up, const char *fmt, ...)
{
    char    small[1024], *line = small;
    va_list ap;
    int     n, rc;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n >= (int) sizeof(small) - 2 && (line = malloc((size_t) n + 3)) != NULL) {
        va_start(ap, fmt);
        vsnprintf(line, (size_t) n + 1, fmt, ap);
        va_end(ap);
    }
    if (n < 0 || line == NULL || strpbrk(line, "\r\n") != NULL) {
        /* A CR or LF inside a command would start another command. */
        msg_warn("refusing an upstream command with a line break in it");
        up->broken = 1;
        rc = -1;
    } else {
        set_stage(up, line);
        memcpy(line + n, "\r\n", 3);
        rc = up->broken ? -1 : upio_write(&up->io, line, (size_t) n + 2);
    }
    if (line != small)
        free(line);
    return rc;
}

/* upstream_write - buffer raw bytes (message content) */
int upstream_write(struct upstream *up, const void *buf, size_t len)
{
    snprintf(up->stage, sizeof(up->stage), "sending the message");
    if (up->broken || upio_write(&up->io, buf, len) < 0)
        return up->broken = 1, -1;
    return 0;
}

/* upstream_flush - send what is buffered */
int upstream_flush(struct upstream *up)
{
    if (up->broken || upio_flush(&up->io) < 0)
        return up->broken = 1, -1;
    return 0;
}

/* read_one - read one whole reply; -1 with a local 4xx in r when lost */
static int read_one(struct upstream *up, struct smtp_reply *r)
{
    char    line[UPIO_RBUF];
    size_t  len;
    int     more = 1, rc;

    smtp_reply_start(r);
    while (more) {
        if (up->broken || upio_read_line(&up->io, line, sizeof(line), &len) < 0) {
            up->broken = 1;
            diag_io(r, up->cfg, up->stage, up->io.err);
            return -1;
        }
        if ((rc = smtp_reply_add_line(r, line, len)) < 0) {
            up->broken = 1;
            smtp_reply_set(r, 451, "4.4.2", "exorelay: malformed reply from %s %s; "
                           "the mail waits and is retried", up->cfg->server, up->stage);
            return -1;
        }
        more = rc == 0;
    }
    if (r->code == 421)
        up->broken = 1;                 /* the server is closing the session */
    return 0;
}

/* upstream_read_reply - the next reply of the caller's commands */
int upstream_read_reply(struct upstream *up, struct smtp_reply *r)
{
    while (up->skip_replies > 0) {
        up->skip_replies--;
        if (read_one(up, r) < 0)
            return -1;
        if (r->code != 250) {
            /* The session's state is unknown after a failed RSET: to the
             * caller this is a connection lost before its first reply. */
            char    line[200];

            up->broken = 1;
            smtp_reply_oneline(r, line, sizeof(line));
            smtp_reply_set(r, 451, "4.4.2", "exorelay: %s refused RSET on a pooled "
                           "connection (%s); the mail waits and is retried",
                           up->cfg->server, line);
            return -1;
        }
    }
    return read_one(up, r);
}

/* upstream_queue_rset - pipeline an RSET in front of the next commands */
void upstream_queue_rset(struct upstream *up)
{
    if (upstream_cmd(up, "RSET") == 0)
        up->skip_replies++;
}

/* upstream_has - an EHLO keyword (after TLS), e.g. "PIPELINING" */
int upstream_has(const struct upstream *up, const char *keyword)
{
    size_t  klen = strlen(keyword);
    const char *line = strchr(up->ehlo, '\n');  /* the first line is the name */

    for (; line != NULL; line = strchr(line, '\n')) {
        line++;
        if (strncasecmp(line, keyword, klen) == 0
            && (line[klen] == 0 || line[klen] == ' ' || line[klen] == '\n'))
            return 1;
    }
    return 0;
}

/* upstream_size_limit - the SIZE parameter of EHLO, 0 if none */
long long upstream_size_limit(const struct upstream *up)
{
    const char *p = up->ehlo;

    while ((p = strchr(p, '\n')) != NULL)
        if (strncasecmp(++p, "SIZE ", 5) == 0)
            return atoll(p + 5);
    return 0;
}

/* upstream_broken - 1 after an I/O error, a timeout or a 421 */
int upstream_broken(const struct upstream *up)
{
    return up->broken;
}

/* upstream_token_expiry - when the token this session used expires */
time_t upstream_token_expiry(const struct upstream *up)
{
    return up->token_expiry;
}

/* upstream_relay - "host[IP]:port" of the peer, for the delivery log */
void upstream_relay(const struct upstream *up, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char    ip[INET6_ADDRSTRLEN] = "?";
    const void *addr = NULL;

    if (getpeername(up->io.fd, (struct sockaddr *) &ss, &len) == 0)
        addr = ss.ss_family == AF_INET6 ? (const void *) &((struct sockaddr_in6 *) &ss)->sin6_addr
            : (const void *) &((struct sockaddr_in *) &ss)->sin_addr;
    if (addr == NULL || inet_ntop(ss.ss_family, addr, ip, sizeof(ip)) == NULL)
        snprintf(ip, sizeof(ip), "?");
    snprintf(buf, size, "%s[%s]:%d", up->cfg->server, ip, up->cfg->port);
}

/* upstream_idle_ok - still usable after sitting idle; no round trip */
int upstream_idle_ok(struct upstream *up)
{
    if (!up->broken && !upio_idle_ok(&up->io))
        up->broken = 1;
    return !up->broken;
}

/* upstream_close - QUIT (when asked and possible) and free everything */
void upstream_close(struct upstream *up, int send_quit)
{
    struct smtp_reply r;

    if (up == NULL)
        return;
    if (send_quit && !up->broken) {
        /* Nobody waits on the answer: do not hang on a silent server. */
        up->io.timeout = up->io.timeout > 5 ? 5 : up->io.timeout;
        if (upstream_cmd(up, "QUIT") == 0)
            upstream_read_reply(up, &r);
    }
    upio_close(&up->io);
    free(up);
}
