/*
 * phrase.h - make a display name (an RFC 5322 phrase) from free text.
 *
 * SYNOPSIS
 *	char *phrase_make(text, may_encode)
 *		text as a display-name phrase: kept as it is when it already
 *		is one (atoms, RFC 2047 encoded words and 8-bit bytes separated
 *		by white space, or a single quoted string), otherwise put in
 *		a quoted string with '"' and '\' escaped. With may_encode,
 *		text holding non-ASCII bytes or control characters becomes
 *		RFC 2047 encoded words (UTF-8, base64, split on character
 *		boundaries so that no word is over 75 characters) instead.
 *		Returns a malloc()ed string, NULL when out of memory.
 *
 * Original display names are never passed through here with may_encode:
 * what a sender wrote is kept byte for byte. Only text without a charset
 * label of its own is encoded: send_as from the config (exorelay-milter),
 * -F or the GECOS name (exorelay-sendmail).
 */
#ifndef EXORELAY_PHRASE_H
#define EXORELAY_PHRASE_H

char *phrase_make(const char *text, int may_encode);

#endif
