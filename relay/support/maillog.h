/*
 * maillog.h - the delivery log: every line that says what happened to a
 * message or a recipient, in the shape of Postfix's, so pflogsumm
 * (--syslog-name=exorelay) and an admin's greps count exorelay's mail as
 * they count Postfix's. The SMTP relay, the spool runner and the alarm
 * mail all log through here; nothing else writes such lines.
 *
 * SYNOPSIS
 *	maillog_client(id, client)
 *		"ID: client=127.0.0.1" (tag exorelay/smtpd): a message was
 *		received from an SMTP client (pflogsumm: "received").
 *	maillog_pickup(id, uid, sender, size, nrcpt)
 *		"ID: uid=0 from=<s> size=N nrcpt=N (queued)" (tag
 *		exorelay/pickup): the queue runner took a message of
 *		exorelay-sendmail into the queue (pflogsumm: "received").
 *	maillog_reject(id, client, cmd, reply, sender, rcpt)
 *		"ID: reject: RCPT from 127.0.0.1: 550 5.1.1 text;
 *		from=<s> to=<r>" (tag exorelay/smtpd): upstream refused a
 *		command, and the client was told so (pflogsumm: "rejected");
 *		rcpt may be NULL.
 *	maillog_from(id, sender, size, nrcpt, extra)
 *		"ID: from=<s>, size=N, nrcpt=N, EXTRA" (tag exorelay/smtp):
 *		one per message and delivery attempt; extra (may be NULL)
 *		adds exorelay's own fields ("account=main, ...").
 *	maillog_rcpt(&m, rcpt, status, reply)
 *		"ID: to=<r>, relay=host[IP]:587, delay=1.23,
 *		delays=a/b/c/d, dsn=2.0.0, status=sent (250 2.0.0 OK ...)"
 *		(tag exorelay/smtp): one per recipient and attempt.
 *	void maillog_new_id(buf, size)
 *		A queue ID ("C3D5D00002", 10 hex digits; size >= 11) for a
 *		message that has none from the spool.
 *	enum maillog_status maillog_status_of(reply)
 *		sent (2xx), deferred (4xx) or bounced (5xx)
 *
 * struct maillog_msg holds what a message's recipient lines share: relay
 * is "none" when no connection was made; the delays are seconds: delay
 * since the message arrived, and within it (Postfix's delays=a/b/c/d)
 * pace (messages_per_minute), conn (a pooled connection, or connect,
 * TLS and AUTH) and xfer (sending the message and reading the replies);
 * a is the rest (the spool's queue time, the relay's envelope exchange).
 * Reply texts are put on one line (a reply with code 0 is a local verdict
 * and prints as its text only); no token can be in one.
 */
#ifndef EXORELAY_MAILLOG_H
#define EXORELAY_MAILLOG_H

#include <stddef.h>

#include "proto/smtp_reply.h"

enum maillog_status { MAILLOG_SENT, MAILLOG_DEFERRED, MAILLOG_BOUNCED };

struct maillog_msg {
    const char *id;
    const char *relay;          /* "host[IP]:port"; NULL or "": none */
    double  delay;              /* since the message arrived */
    double  pace, conn, xfer;   /* parts of it (above) */
};

void maillog_client(const char *id, const char *client);
void maillog_pickup(const char *id, long uid, const char *sender, long long size,
                    size_t nrcpt);
void maillog_reject(const char *id, const char *client, const char *cmd,
                    const struct smtp_reply *reply, const char *sender,
                    const char *rcpt);
void maillog_from(const char *id, const char *sender, long long size, size_t nrcpt,
                  const char *extra);
void maillog_rcpt(const struct maillog_msg *m, const char *rcpt,
                  enum maillog_status status, const struct smtp_reply *reply);
enum maillog_status maillog_status_of(const struct smtp_reply *reply);
void maillog_new_id(char *buf, size_t size);

#endif
