/*
 * log.c - syslog or stderr logging with levels (see log.h).
 *
 * syslog: facility LOG_MAIL, ident = program name, pid included.
 * stderr: "2026-11-29T14:30:15Z exorelay[123]: warning: text", one write(2)
 * per line so lines from threads never interleave.
 *
 * Every text is one line of printable text whatever it quotes (a header
 * value, an upstream reply, a client's command): a control character
 * (ESC, CR, LF, ...) becomes "?", a TAB a space, here and only here, so no
 * caller can forget it and nobody can forge a log line or drive the
 * terminal of whoever reads the log.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_progname = "exorelay";
static int log_to_stderr = 1;
static enum log_level log_threshold = LOG_LVL_INFO;

static const char *const level_names[] = {
    "error", "warning", "notice", "info", "debug"
};
static const int level_syslog[] = {
    LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG
};

/* log_open - choose the destination; progname is kept, not copied */
void log_open(const char *progname, int to_stderr)
{
    log_progname = progname;
    log_to_stderr = to_stderr;
    if (!to_stderr)
        openlog(progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_level(enum log_level level)
{
    log_threshold = level;
}

enum log_level log_get_level(void)
{
    return log_threshold;
}

int log_level_parse(const char *name, enum log_level *level)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *level = (enum log_level) i;
            return 0;
        }
    }
    if (strcasecmp(name, "warn") == 0) {
        *level = LOG_LVL_WARNING;
        return 0;
    }
    return -1;
}

const char *log_level_name(enum log_level level)
{
    if ((int) level < 0 || level > LOG_LVL_DEBUG)
        return "?";
    return level_names[level];
}

/* log_sanitize - see log.h */
void log_sanitize(char *text)
{
    for (unsigned char *p = (unsigned char *) text; *p; p++)
        if (*p == '\t')
            *p = ' ';
        else if (*p < ' ' || *p == 0x7f)
            *p = '?';
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    char text[4096];
    char line[4096 + 128];
    int len;

    if (level > log_threshold)
        return;
    vsnprintf(text, sizeof(text), fmt, ap);
    log_sanitize(text);
    if (!log_to_stderr) {
        if (level == LOG_LVL_INFO)
            syslog(level_syslog[level], "%s", text);
        else
            syslog(level_syslog[level], "%s: %s", level_names[level], text);
        return;
    }
    struct timespec ts;
    struct tm tm;
    char stamp[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    if (level == LOG_LVL_INFO)
        len = snprintf(line, sizeof(line), "%s.%03ldZ %s[%ld]: %s\n", stamp,
                       ts.tv_nsec / 1000000, log_progname, (long) getpid(), text);
    else
        len = snprintf(line, sizeof(line), "%s.%03ldZ %s[%ld]: %s: %s\n", stamp,
                       ts.tv_nsec / 1000000, log_progname, (long) getpid(),
                       level_names[level], text);
    if (len > (int) sizeof(line) - 1) {
        len = sizeof(line) - 1;
        line[len - 1] = '\n';
    }
    /* One write per line; a short write to stderr is not worth a retry loop. */
    if (write(STDERR_FILENO, line, (size_t) len) < 0)
        return;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}
