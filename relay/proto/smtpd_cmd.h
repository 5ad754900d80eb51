/*
 * smtpd_cmd.h - parsing of the SMTP/LMTP commands the server accepts.
 *
 * SYNOPSIS
 *	enum smtpd_verb smtpd_verb(line, &args)
 *		The command word of line (case-insensitive) and a pointer to
 *		what follows it (leading spaces skipped).
 *	int smtpd_path(args, keyword, &addr, &params, reply)
 *		Parse "FROM:<addr> params" (keyword "FROM:") or "TO:<addr> ..."
 *		in place: addr points to the address without brackets (""
 *		for the null sender), params to the rest. A space after the
 *		colon is tolerated. 0 ok; -1 with a 501/553 in reply.
 *	int smtpd_params_check(params, is_rcpt, &size, reply)
 *		Validate ESMTP parameters against the extensions the server
 *		offers (MAIL: SIZE, BODY, SMTPUTF8, RET, ENVID; RCPT: NOTIFY,
 *		ORCPT). size receives SIZE=n (0 if absent). 0 ok; -1 with a
 *		555 5.5.4 (or 501) in reply; 501 5.5.4 for any control
 *		character in params (CR, TAB, ESC...).
 *	const char *smtpd_param_value(params, name, buf, size)
 *		The value of NAME=value in a (checked) parameter list, in
 *		buf (cut to size), or NULL when it is absent.
 *	void smtpd_params_upstream(params, has, ctx, out, outlen)
 *		Copy to out the parameters the upstream can take: has(ctx,
 *		"DSN") etc. says which EHLO keywords it offered; parameters of
 *		an extension it lacks are left out (SIZE when it has no SIZE,
 *		BODY=8BITMIME without 8BITMIME, DSN ones without DSN,
 *		SMTPUTF8 without SMTPUTF8). out starts with a space when not
 *		empty.
 */
#ifndef EXORELAY_SMTPD_CMD_H
#define EXORELAY_SMTPD_CMD_H

#include <stddef.h>

#include "smtp_reply.h"

#define SMTPD_LINE_MAX 2048     /* longest command line, CRLF not counted */

enum smtpd_verb {
    V_UNKNOWN, V_HELO, V_EHLO, V_LHLO, V_MAIL, V_RCPT, V_DATA, V_RSET,
    V_NOOP, V_QUIT, V_VRFY, V_HELP, V_STARTTLS, V_AUTH, V_BDAT, V_EXPN
};

enum smtpd_verb smtpd_verb(char *line, char **args);
int smtpd_path(char *args, const char *keyword, char **addr, char **params,
               struct smtp_reply *reply);
int smtpd_params_check(const char *params, int is_rcpt, long long *size,
                       struct smtp_reply *reply);
const char *smtpd_param_value(const char *params, const char *name, char *buf,
                              size_t size);
void smtpd_params_upstream(const char *params,
                           int (*has)(void *ctx, const char *keyword), void *ctx,
                           char *out, size_t outlen);

#endif
