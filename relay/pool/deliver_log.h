/*
 * deliver_log.h - the delivery log lines of a deliver_message() result
 * (support/maillog.h gives their shape).
 *
 * SYNOPSIS
 *	void deliver_rcpt_reply(res, i, &reply)
 *		The reply that decided recipient i: its own refusal at RCPT,
 *		else the message's final reply.
 *	void deliver_log(id, sender, rcpts, nrcpt, size, arrived, res, extra)
 *		"ID: from=<...>" and one "ID: to=<...>" line per recipient,
 *		each with the status its reply says (sent only when the
 *		message was accepted); arrived is when the message came
 *		(time(NULL) for one made now); extra as maillog_from.
 *	void deliver_log_msg(&m, id, arrived, res)
 *		Fill the maillog_msg of res (relay, delays), for a caller
 *		that decides each recipient's status itself (the spool).
 */
#ifndef EXORELAY_DELIVER_LOG_H
#define EXORELAY_DELIVER_LOG_H

#include <time.h>

#include "deliver.h"
#include "support/maillog.h"

void deliver_rcpt_reply(const struct deliver_result *res, size_t i, struct smtp_reply *reply);
void deliver_log_msg(struct maillog_msg *m, const char *id, time_t arrived,
                     const struct deliver_result *res);
void deliver_log(const char *id, const char *sender, char *const *rcpts, size_t nrcpt,
                 long long size, time_t arrived, const struct deliver_result *res,
                 const char *extra);

#endif
