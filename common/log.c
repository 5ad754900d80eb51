/*
 * log.c - leveled log lines to the journal, stderr or syslog (see log.h).
 *
 * The journal is recognised as systemd documents it: JOURNAL_STREAM holds
 * "device:inode" of the stream it connected to our stderr; a match with
 * fstat(2) of fd 2 means stderr still goes there (a shell started from a
 * unit may have redirected it). Severities follow syslog(3) in all three.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "syslog_socket.h"

#define LOG_TEXT_MAX 4096

enum log_dest { DEST_STDERR, DEST_JOURNAL, DEST_SYSLOG };

static const char *log_service = "relay";
static enum log_dest log_dest = DEST_STDERR;
static enum log_level log_threshold = LOG_LVL_INFO;
static int log_copy = -1;               /* syslog: this level and worse to stderr too */
static char log_host[64] = "localhost";

static const char *const level_names[] = {
    "error", "warning", "notice", "info", "debug"
};
static const int level_syslog[] = {
    LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG
};

/* journal_is_stderr - JOURNAL_STREAM names the file our stderr is */
static int journal_is_stderr(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
        return 0;
    return fstat(STDERR_FILENO, &st) == 0 && (unsigned long long) st.st_dev == dev
        && (unsigned long long) st.st_ino == ino;
}

/* log_open - choose the destination; service is kept, not copied */
void log_open(const char *service, int foreground)
{
    const char *path = secure_getenv("EXORELAY_SYSLOG_SOCKET");

    log_service = service;
    if (gethostname(log_host, sizeof(log_host) - 1) < 0 || !log_host[0])
        snprintf(log_host, sizeof(log_host), "localhost");
    log_host[strcspn(log_host, ".")] = 0;       /* the short name, as syslog */
    if (journal_is_stderr()) {
        log_dest = DEST_JOURNAL;
    } else if (foreground) {
        log_dest = DEST_STDERR;
    } else {
        log_dest = DEST_SYSLOG;
        syslog_socket_open(path && *path ? path : "/dev/log");
    }
}

/* log_copy_to_stderr - a command run by hand or by cron: its problems show
 * where it ran, the rest goes to syslog only */
void log_copy_to_stderr(enum log_level worst)
{
    log_copy = (int) worst;
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

/* log_sanitize - see log.h: one message, one line of printable text */
void log_sanitize(char *text)
{
    for (unsigned char *p = (unsigned char *) text; *p; p++)
        if (*p == '\t')
            *p = ' ';
        else if (*p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* stamp - the time as each destination wants it at the start of a line */
static void stamp(char *buf, size_t size)
{
    struct timespec ts;
    struct tm tm;
    char when[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    if (log_dest == DEST_SYSLOG) {      /* local time, like syslog(3) */
        localtime_r(&ts.tv_sec, &tm);
        strftime(buf, size, "%b %e %H:%M:%S", &tm);
        return;
    }
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03ldZ", when, ts.tv_nsec / 1000000);
}

void log_vmsg(const char *service, enum log_level level, const char *fmt, va_list ap)
{
    char    text[LOG_TEXT_MAX], when[48], line[LOG_TEXT_MAX + 160];
    /* Like Postfix: "warning: text"; notice and info lines start with the
     * text itself, so a delivery line reads the same at either level. */
    int     bare = level == LOG_LVL_INFO || level == LOG_LVL_NOTICE;
    const char *lvl = bare ? "" : level_names[level];
    const char *sep = bare ? "" : ": ";
    int     len;

    if (level > log_threshold)
        return;
    vsnprintf(text, sizeof(text), fmt, ap);
    log_sanitize(text);
    if (log_dest == DEST_JOURNAL) {
        len = snprintf(line, sizeof(line), "<%d>%s%s%s\n", level_syslog[level], lvl, sep,
                       text);
    } else {
        stamp(when, sizeof(when));
        if (log_dest == DEST_SYSLOG)
            len = snprintf(line, sizeof(line), "<%d>%s exorelay/%s[%ld]: %s%s%s",
                           LOG_MAIL | level_syslog[level], when, service,
                           (long) getpid(), lvl, sep, text);
        else
            len = snprintf(line, sizeof(line), "%s %s exorelay/%s[%ld]: %s%s%s\n", when,
                           log_host, service, (long) getpid(), lvl, sep, text);
    }
    if (len > (int) sizeof(line) - 1) {
        len = sizeof(line) - 1;
        if (log_dest != DEST_SYSLOG)
            line[len - 1] = '\n';
    }
    if (log_dest == DEST_SYSLOG) {
        syslog_socket_send(line, (size_t) len);
        if ((int) level > log_copy)
            return;
        /* the copy: "exorelay/token: warning: text", no time or pid */
        len = snprintf(line, sizeof(line), "exorelay/%s: %s%s%s\n", service, lvl, sep, text);
        if (len > (int) sizeof(line) - 1) {
            len = sizeof(line) - 1;
            line[len - 1] = '\n';
        }
    }
    /* One write per line; a short write to stderr is not worth a retry loop. */
    if (write(STDERR_FILENO, line, (size_t) len) < 0)
        return;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(log_service, level, fmt, ap);
    va_end(ap);
}

void log_msg_as(const char *service, enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(service, level, fmt, ap);
    va_end(ap);
}
