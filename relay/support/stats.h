/*
 * Part support (relay/support/), contract: small services several parts
 * use: message counters (stats), the delivery log (maillog.h), atomic
 * file replacement, waiting on a descriptor with a deadline, the
 * credential-readability check. Each has one job and depends on nothing
 * above proto/ and common/.
 *
 * stats.h - message counters and the last error, per account, for
 * "exorelay status" and the metrics file (one process: the daemon).
 *
 * SYNOPSIS
 *	void stats_message(account, final)
 *		One message ended with reply final (upstream's, or the local
 *		4xx/5xx its client got): accepted, and relayed (2xx),
 *		deferred (4xx) or refused (5xx). A 4xx/5xx also becomes the
 *		account's last error. account may be NULL ("-": no account
 *		was chosen yet).
 *	void stats_error(account, text)
 *		Note a failure that is not a message's (e.g. an alarm mail).
 *	size_t stats_snapshot(out, max)
 *		Copy up to max per-account records; returns how many.
 *
 * Counters only grow (Prometheus counters); they start at zero with the
 * process. Accounts are told apart by name, so a reload that keeps the
 * name keeps the counts.
 */
#ifndef EXORELAY_STATS_H
#define EXORELAY_STATS_H

#include <stddef.h>
#include <time.h>

#include "proto/smtp_reply.h"

#define STATS_MAX_ACCOUNTS 64
#define STATS_NAME_MAX     64
#define STATS_ERROR_MAX    512

enum stats_counter {
    STATS_ACCEPTED = 0,
    STATS_RELAYED,
    STATS_DEFERRED,
    STATS_REFUSED,
    STATS_NCOUNTERS
};

struct stats_account {
    char    name[STATS_NAME_MAX];
    unsigned long count[STATS_NCOUNTERS];
    time_t  error_time;         /* 0: no error yet */
    char    error[STATS_ERROR_MAX];
};

void stats_message(const char *account, const struct smtp_reply *final);
void stats_error(const char *account, const char *text);
size_t stats_snapshot(struct stats_account *out, size_t max);
const char *stats_counter_name(enum stats_counter c);

#endif
