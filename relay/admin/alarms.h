/*
 * alarms.h - credential-expiry warnings: a log line and one alarm mail per
 * threshold of [alarms] days, per credential, remembered across restarts.
 *
 * SYNOPSIS
 *	void alarms_check(cfg, pools, now)
 *		For every account whose credential expiry is known: when its
 *		days left have reached a threshold not yet announced, log a
 *		warning (an error from 0 days on) and mail [alarms] notify
 *		through the relay's own pools (alarm_mail.h). A threshold
 *		counts as announced once its mail went out (or at once when
 *		notify is empty); a failed mail is retried at the next check.
 *		Reaching several thresholds at once (the daemon was down, or
 *		the credential is new and short-lived) gives one alarm, for
 *		the most urgent, and marks the others done.
 *	int alarms_level(cfg, days)
 *		The most urgent threshold reached by days left (the smallest
 *		t of [alarms] days with days <= t), -1 when none is.
 *
 * State: {state_dir}/alarms.json (0600), {"sent": {"ACCOUNT CREDENTIAL-ID":
 * [30, 14, ...]}}; see cred_expiry.h for the credential IDs, so a renewed
 * credential starts afresh. Entries of accounts no longer configured are
 * dropped.
 *
 * XXX While no account can deliver the alarm (Exchange unreachable, every
 * credential expired) it is tried, and the failure logged, at every check
 * (OPS_ALARM_INTERVAL); there is no backoff.
 */
#ifndef EXORELAY_ALARMS_H
#define EXORELAY_ALARMS_H

#include <time.h>

#include "common/config.h"
#include "pool/deliver.h"

void alarms_check(const struct config *cfg, struct pools *pools, time_t now);
int alarms_level(const struct config *cfg, long days);

#endif
