/*
 * apply.h - ask the MTA for the changes of a message, at end of message.
 *
 * SYNOPSIS
 *	int apply_remove_tags(ctx, &msg)
 *		Remove every X-Exorelay and X-Exorelay-* header that arrived
 *		with the message (counted by msg.c).
 *	int apply_plan(ctx, &msg, &plan)
 *		The changes rewrite_plan() computed: envelope sender
 *		(smfi_chgfrom), the first From replaced and any further From
 *		removed (or a From added when there was none), Reply-To,
 *		X-Exorelay-Original-From (one per original From),
 *		X-Exorelay-Original-Sender, and the X-Exorelay tag.
 *	Both return 0, or -1 when the MTA refused a request (the caller
 *	answers 4xx: the MTA then discards the changes made so far).
 */
#ifndef EXORELAY_APPLY_H
#define EXORELAY_APPLY_H

#include <libmilter/mfapi.h>

#include "msg.h"
#include "rewrite.h"

int apply_remove_tags(SMFICTX *ctx, const struct msg *m);
int apply_plan(SMFICTX *ctx, const struct msg *m, const struct rewrite_out *p);

#endif
