/*
 * log.h - the one logging interface of all exorelay programs.
 *
 * SYNOPSIS
 *	log_open(progname, to_stderr)	syslog (LOG_MAIL) by default, stderr
 *					with -f (foreground)
 *	log_set_level(level)		drop messages below this level
 *	msg_error/msg_warn/msg_notice/msg_info/msg_debug(fmt, ...)
 *
 * Secrets and tokens are never logged: they live in secret_t (secret.h),
 * which has no printable form but a fingerprint, and printf-style checking
 * (-Wformat -Werror) refuses a secret_t where a string is expected.
 * Each line is written whole (one write per message), so threads do not
 * interleave inside a line. Messages longer than 4 KB are cut. A message
 * is one line of text: control characters in it (ESC, CR, LF in a quoted
 * multi-line reply or a header value) are replaced (log_sanitize).
 *	void log_sanitize(text)	in place: TAB -> space, any other byte
 *				below 0x20 and DEL -> "?"
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

void log_open(const char *progname, int to_stderr);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* log_level_parse - "error", "warning", "notice", "info", "debug"; 0 ok, -1 bad */
int log_level_parse(const char *name, enum log_level *level);
const char *log_level_name(enum log_level level);
void log_sanitize(char *text);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define msg_error(...)  log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define msg_warn(...)   log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define msg_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define msg_info(...)   log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define msg_debug(...)  log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
