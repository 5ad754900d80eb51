/*
 * log.h - the one logging interface of all exorelay programs.
 *
 * SYNOPSIS
 *	log_open(service, foreground)	choose where lines go (below); the
 *					tag is "exorelay/SERVICE"
 *	log_set_level(level)		drop messages below this level
 *	log_copy_to_stderr(worst)	syslog: lines of this level and worse
 *					also go to stderr, as "exorelay/SERVICE:
 *					warning: text" (a command's problems show
 *					where it ran; its other lines do not)
 *	msg_error/msg_warn/msg_notice/msg_info/msg_debug(fmt, ...)
 *	log_msg_as(service, level, fmt, ...)
 *		one line under another service's tag ("exorelay/smtp" for
 *		the delivery lines, as Postfix's smtp(8) logs them)
 *
 * Where lines go, in this order:
 *	the journal	JOURNAL_STREAM names our stderr (systemd): "<N>text",
 *			N the syslog severity, no timestamp (journald adds
 *			it, and the unit's SyslogIdentifier/SyslogFacility)
 *	stderr		foreground: "2026-11-29T14:30:15.123Z host
 *			exorelay/relay[123]: warning: text" (RFC 3339, the
 *			shape rsyslog writes and pflogsumm reads)
 *	syslog		otherwise: facility mail, "<PRI>Nov 29 14:30:15
 *			exorelay/relay[123]: text" datagrams to /dev/log, or
 *			to $EXORELAY_SYSLOG_SOCKET (ignored by set-id programs)
 *
 * Errors, warnings and debug lines start with "error: ", "warning: ",
 * "debug: "; notice and info lines with the text (as Postfix's).
 *
 * Secrets and tokens are never logged: they live in secret_t (secret.h),
 * which has no printable form but a fingerprint, and printf-style checking
 * (-Wformat -Werror) refuses a secret_t where a string is expected.
 * Control characters in a message (ESC, CR/LF of a multi-line reply or a
 * header value) become '?' and a TAB a space (log_sanitize(text), in
 * place, done here for every line), so no text from a peer can forge a
 * line or drive the terminal of whoever reads the log. Each line is written whole (one write per message), so
 * threads do not interleave inside a line. Messages longer than 4 KB are
 * cut.
 */
#ifndef EXORELAY_LOG_H
#define EXORELAY_LOG_H

#include <stdarg.h>

enum log_level {
    LOG_LVL_ERROR = 0,
    LOG_LVL_WARNING,
    LOG_LVL_NOTICE,
    LOG_LVL_INFO,
    LOG_LVL_DEBUG
};

void log_open(const char *service, int foreground);
void log_set_level(enum log_level level);
void log_copy_to_stderr(enum log_level worst);
enum log_level log_get_level(void);
/* log_level_parse - "error", "warning", "notice", "info", "debug"; 0 ok, -1 bad */
int log_level_parse(const char *name, enum log_level *level);
const char *log_level_name(enum log_level level);
void log_sanitize(char *text);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_msg_as(const char *service, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(const char *service, enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define msg_error(...)  log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define msg_warn(...)   log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define msg_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define msg_info(...)   log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define msg_debug(...)  log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
