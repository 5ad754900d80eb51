/*
 * status_show.h - the status document (status_info.h) for people and for
 * monitors.
 *
 * SYNOPSIS
 *	void status_print(fp, status)
 *		The report of "exorelay status": daemon, spool, and per
 *		account credential, token, pool, counters, last error.
 *	int status_check(cfg, status, line, size)
 *		The one line of "exorelay status --check" (Nagios plugin
 *		format: "EXORELAY OK - text | perfdata") and its status:
 *		0 OK, 1 WARNING, 2 CRITICAL.
 *		CRITICAL: no daemon answers; a credential with at most
 *		[alarms] critical_days left (or expired); a failing token
 *		request for credentials (not a passing network fault) with
 *		no valid token left. WARNING: a credential past the largest
 *		of [alarms] days; an unreadable certificate; any other
 *		failing token request.
 */
#ifndef EXORELAY_STATUS_SHOW_H
#define EXORELAY_STATUS_SHOW_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "common/config.h"

#define CHECK_OK        0
#define CHECK_WARNING   1
#define CHECK_CRITICAL  2

void status_print(FILE *fp, json_t *status);
int status_check(const struct config *cfg, json_t *status, char *line, size_t size);

#endif
