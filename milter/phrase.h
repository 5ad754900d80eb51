/*
 * phrase.h - make a display name (an RFC 5322 phrase) from free text.
 *
 * SYNOPSIS
 *	char *phrase_make(text, may_encode)
 *		text as a display-name phrase: kept as it is when it already
 *		is one (atoms, RFC 2047 encoded words and 8-bit bytes separated
 *		by white space, or a single quoted string), otherwise put in
 *		a quoted string with '"' and '\' escaped. With may_encode,
 *		text holding non-ASCII bytes becomes RFC 2047 encoded words
 *		(UTF-8, base64, split on character boundaries) instead.
 *		Returns a malloc()ed string, NULL when out of memory.
 *
 * Original display names are never passed through here with may_encode:
 * what a sender wrote is kept byte for byte. Only text from the config
 * (send_as) is encoded, because it has no charset label of its own.
 */
#ifndef EXORELAY_PHRASE_H
#define EXORELAY_PHRASE_H

char *phrase_make(const char *text, int may_encode);

#endif
