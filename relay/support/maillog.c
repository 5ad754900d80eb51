/*
 * maillog.c - Postfix-shaped delivery log lines (see maillog.h).
 *
 * The field order of the "to=" line is the one pflogsumm's pattern
 * expects: to=, relay=, delay=, delays=, dsn=, status=; relay= must hold
 * no comma. Successes are logged at info, deferrals and bounces at notice
 * (log_level = notice keeps only the mail that needs a look).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "common/log.h"
#include "maillog.h"

static const char *const status_words[] = { "sent", "deferred", "bounced" };

/* maillog_new_id - unique in this process, and across a day's restarts
 * in practice: 20 bits of the clock's seconds, 20 of a counter */
void maillog_new_id(char *buf, size_t size)
{
    static unsigned counter;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct timeval tv;
    unsigned n;

    pthread_mutex_lock(&lock);
    n = ++counter;
    pthread_mutex_unlock(&lock);
    gettimeofday(&tv, NULL);
    snprintf(buf, size, "%05lX%05X", (unsigned long) (tv.tv_sec & 0xFFFFF), n & 0xFFFFF);
}

enum maillog_status maillog_status_of(const struct smtp_reply *reply)
{
    return reply->code / 100 == 2 ? MAILLOG_SENT
        : reply->code / 100 == 5 ? MAILLOG_BOUNCED : MAILLOG_DEFERRED;
}

/* client_form - the client as Postfix names it, "name[address]": the
 * relay resolves no names, so "unknown[127.0.0.1]", "unknown[::1]", and
 * "localhost[unix:/path]" for a unix socket */
static const char *client_form(const char *client, char *buf, size_t size)
{
    size_t  n = strlen(client);

    if (strncmp(client, "unix:", 5) == 0)
        snprintf(buf, size, "localhost[%s]", client);
    else if (n >= 2 && client[0] == '[' && client[n - 1] == ']')
        snprintf(buf, size, "unknown%s", client);
    else
        snprintf(buf, size, "unknown[%s]", client);
    return buf;
}

void maillog_client(const char *id, const char *client)
{
    char    name[300];

    log_msg_as("smtpd", LOG_LVL_INFO, "%s: client=%s", id,
               client_form(client, name, sizeof(name)));
}

/* maillog_pickup - no comma after from=<>: this is not the message's
 * from= line (pflogsumm would take it for one) */
void maillog_pickup(const char *id, long uid, const char *sender, long long size,
                    size_t nrcpt)
{
    log_msg_as("pickup", LOG_LVL_INFO, "%s: uid=%ld from=<%s> size=%lld nrcpt=%zu (queued)",
               id, uid, sender ? sender : "", size, nrcpt);
}

void maillog_reject(const char *id, const char *client, const char *cmd,
                    const struct smtp_reply *reply, const char *sender, const char *rcpt)
{
    char    text[SMTP_REPLY_TEXT_MAX + 32], name[300];

    log_msg_as("smtpd", LOG_LVL_NOTICE, "%s: reject: %s from %s: %s; from=<%s>%s%s%s", id,
               cmd, client_form(client, name, sizeof(name)),
               smtp_reply_oneline(reply, text, sizeof(text)),
               sender ? sender : "", rcpt ? " to=<" : "", rcpt ? rcpt : "", rcpt ? ">" : "");
}

void maillog_from(const char *id, const char *sender, long long size, size_t nrcpt,
                  const char *extra)
{
    log_msg_as("smtp", LOG_LVL_INFO, "%s: from=<%s>, size=%lld, nrcpt=%zu%s%s", id,
               sender ? sender : "", size > 0 ? size : 0, nrcpt,
               extra && *extra ? ", " : "", extra ? extra : "");
}

/* non_negative - a difference of clock readings, never below zero */
static double non_negative(double x)
{
    return x > 0 ? x : 0;
}

void maillog_rcpt(const struct maillog_msg *m, const char *rcpt,
                  enum maillog_status status, const struct smtp_reply *reply)
{
    char    text[SMTP_REPLY_TEXT_MAX + 32], dsn[16];
    double  before = non_negative(m->delay - m->pace - m->conn - m->xfer);

    if (reply->enhanced[0])
        snprintf(dsn, sizeof(dsn), "%s", reply->enhanced);
    else    /* no enhanced code: the class of the verdict, as Postfix does */
        snprintf(dsn, sizeof(dsn), "%d.0.0", status == MAILLOG_SENT ? 2
                 : status == MAILLOG_DEFERRED ? 4 : 5);
    log_msg_as("smtp", status == MAILLOG_SENT ? LOG_LVL_INFO : LOG_LVL_NOTICE,
               "%s: to=<%s>, relay=%s, delay=%.2f, delays=%.2f/%.2f/%.2f/%.2f, dsn=%s,"
               " status=%s (%s)", m->id, rcpt, m->relay && *m->relay ? m->relay : "none",
               non_negative(m->delay), before, non_negative(m->pace),
               non_negative(m->conn), non_negative(m->xfer), dsn, status_words[status],
               reply->code ? smtp_reply_oneline(reply, text, sizeof(text)) : reply->text);
}
