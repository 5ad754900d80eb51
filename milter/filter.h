/*
 * filter.h - the libmilter callbacks of exorelay-milter.
 *
 * SYNOPSIS
 *	struct smfiDesc filter_desc
 *		What to pass to smfi_register(). The filter asks the MTA for
 *		connect, MAIL, RCPT, the headers and the end of message only,
 *		with no reply expected for connect, MAIL and headers when the
 *		MTA allows it,
 *		and for the actions "add header", "change header" and "change
 *		envelope sender". An MTA that cannot change the envelope sender
 *		is refused at negotiation: the MTA then applies its own failure
 *		policy (Postfix milter_default_action, Sendmail F=T/F=R).
 *
 * Per connection: a context made at negotiation and freed in close.
 * Per message: state from MAIL to end of message or abort, holding one
 * reference to the config current at MAIL (mconf.h).
 */
#ifndef EXORELAY_FILTER_H
#define EXORELAY_FILTER_H

#include <libmilter/mfapi.h>

extern struct smfiDesc filter_desc;

#endif
