/*
 * status_info.h - what "exorelay status" reports, as one JSON document:
 * made by the daemon for its control socket, or by the status command
 * itself from what is on disk when no daemon answers.
 *
 * SYNOPSIS
 *	json_t *status_collect(cfg, pools, now)
 *		{"config": PATH, "now": T, "daemon": null,
 *		 "spool": {"waiting": N, "queued": N, "failed": N},
 *		 "accounts": [{"name", "mailbox",
 *			"credential": {"kind", "expires": T, "days_left": N,
 *				       "level": threshold reached or -1}
 *				      or {"kind", "problem": TEXT},
 *			"token": {"cached": BOOL, "expires": T, "obtained": T,
 *				  "failure": {"cause", "fix", "temporary"}},
 *			"budget": {"daily_recipients": N, "recipients_24h": N,
 *				   "in_flight": N, "left": N (absent: no limit),
 *				   "messages_minute": N, "out_of_quota": BOOL,
 *				   "out_until": T, "room_at": T},
 *				(the mailbox's use of Exchange's limits,
 *				 pool/budget.h; from the state file when
 *				 no daemon answers)
 *			and only when pools != NULL (the daemon's view):
 *			"pool": {"open": N, "busy": N},
 *			"counters": {"accepted": N, "relayed": N,
 *				     "deferred": N, "refused": N},
 *			"last_error": {"time": T, "text": TEXT}}]}
 *		The caller (the daemon) fills "daemon" with
 *		{"pid", "version", "started", "sessions"} (client sessions
 *		served now), and "stopping": true in its last metrics. Times are UNIX seconds; a
 *		field is absent when unknown. Never a token or secret.
 */
#ifndef EXORELAY_STATUS_INFO_H
#define EXORELAY_STATUS_INFO_H

#include <time.h>

#include <jansson.h>

#include "common/config.h"
#include "pool/deliver.h"

json_t *status_collect(const struct config *cfg, struct pools *pools, time_t now);

#endif
