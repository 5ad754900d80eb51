/*
 * mail_date.h - the date of a message header (RFC 5322 3.3), as the
 * sendmail front end and the DSNs of the spool write it.
 *
 * SYNOPSIS
 *	void mail_date(t, buf, size)
 *		"Thu, 03 Dec 2026 11:36:26 +0100": t in the local zone.
 */
#ifndef EXORELAY_MAIL_DATE_H
#define EXORELAY_MAIL_DATE_H

#include <stddef.h>
#include <time.h>

void mail_date(time_t t, char *buf, size_t size);

#endif
