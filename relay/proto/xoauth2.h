/*
 * xoauth2.h - the SASL XOAUTH2 initial response Exchange Online expects.
 *
 * SYNOPSIS
 *	secret_t *xoauth2_response(user, token)
 *		base64("user=" user "\1auth=Bearer " token "\1\1"), as a secret
 *		(it carries the token); NULL when out of memory.
 *	int xoauth2_error_text(challenge, buf, size)
 *		Decode the base64 JSON of a 334 error challenge into buf for a
 *		log line (it holds status, schemes and scope, no secret).
 *		0 ok, -1 when it is not base64 text.
 */
#ifndef EXORELAY_XOAUTH2_H
#define EXORELAY_XOAUTH2_H

#include <stddef.h>

#include "common/secret.h"

secret_t *xoauth2_response(const char *user, const secret_t *token);
int xoauth2_error_text(const char *challenge, char *buf, size_t size);

#endif
