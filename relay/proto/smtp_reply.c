/*
 * smtp_reply.c - parse SMTP replies read from upstream, and make local ones
 * (smtp_reply.h).
 *
 * The parser is fed one line at a time so that the caller owns the I/O and
 * its timeouts; it never reads past the reply's last line, which keeps
 * pipelined replies apart.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "smtp_reply.h"

/* smtp_reply_set - fill r with a locally made reply */
void smtp_reply_set(struct smtp_reply *r, int code, const char *enhanced,
                    const char *fmt, ...)
{
    va_list ap;

    r->code = code;
    snprintf(r->enhanced, sizeof(r->enhanced), "%s", enhanced ? enhanced : "");
    va_start(ap, fmt);
    vsnprintf(r->text, sizeof(r->text), fmt, ap);
    va_end(ap);
}

/* smtp_reply_start - empty r before the first smtp_reply_add_line */
void smtp_reply_start(struct smtp_reply *r)
{
    r->code = 0;
    r->enhanced[0] = 0;
    r->text[0] = 0;
}

/* enhanced_len - length of an RFC 3463 code "c.sss.ddd" at s, 0 if none */
static size_t enhanced_len(const char *s, size_t len, int klass)
{
    size_t i = 0, digits;

    if (len < 5 || s[0] - '0' != klass || s[1] != '.')
        return 0;
    for (i = 2, digits = 0; i < len && isdigit((unsigned char) s[i]); i++)
        digits++;
    if (digits < 1 || digits > 3 || i >= len || s[i] != '.')
        return 0;
    for (i++, digits = 0; i < len && isdigit((unsigned char) s[i]); i++)
        digits++;
    if (digits < 1 || digits > 3 || (i < len && s[i] != ' '))
        return 0;
    return i;
}

/* append_text - add len bytes to r->text, silently cut when full */
static void append_text(struct smtp_reply *r, const char *s, size_t len)
{
    size_t have = strlen(r->text);
    size_t room = sizeof(r->text) - 1 - have;

    if (len > room)
        len = room;
    memcpy(r->text + have, s, len);
    r->text[have + len] = 0;
}

/* smtp_reply_add_line - add one line; 1 = last line, 0 = more, -1 = bad */
int smtp_reply_add_line(struct smtp_reply *r, const char *line, size_t len)
{
    int     code, more;
    size_t  elen;

    if (len < 3 || !isdigit((unsigned char) line[0])
        || !isdigit((unsigned char) line[1]) || !isdigit((unsigned char) line[2])
        || (len > 3 && line[3] != ' ' && line[3] != '-'))
        return -1;
    code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (code < 200 || code > 599 || (r->code != 0 && code != r->code))
        return -1;
    more = len > 3 && line[3] == '-';
    if (r->code != 0)
        append_text(r, "\n", 1);
    line += 3, len -= 3;
    if (len > 0)                                /* the ' ' or '-' */
        line++, len--;
    if ((elen = enhanced_len(line, len, code / 100)) > 0) {
        if (r->code == 0)
            snprintf(r->enhanced, sizeof(r->enhanced), "%.*s", (int) elen, line);
        line += elen, len -= elen;
        if (len > 0)
            line++, len--;
    }
    r->code = code;
    append_text(r, line, len);
    return more ? 0 : 1;
}

/* smtp_reply_oneline - "code enhanced text" on one line, for logs/clients */
char *smtp_reply_oneline(const struct smtp_reply *r, char *buf, size_t size)
{
    size_t  n;
    char   *nl;

    n = (size_t) snprintf(buf, size, "%d%s%s%s%s", r->code,
                          r->enhanced[0] ? " " : "", r->enhanced,
                          r->text[0] ? " " : "", r->text);
    if (n >= size)
        n = size - 1;
    /* Lines of a multi-line reply become "; "-separated when room allows. */
    while ((nl = strchr(buf, '\n')) != NULL) {
        if (n + 2 < size) {
            memmove(nl + 2, nl + 1, n - (size_t) (nl + 1 - buf) + 1);
            nl[0] = ';', nl[1] = ' ';
            n++;
        } else {
            *nl = ' ';
        }
    }
    for (char *p = buf; *p; p++)                /* never a CR or control */
        if ((unsigned char) *p < ' ')
            *p = ' ';
    return buf;
}

/* smtp_reply_is_quota - Exchange's SubmissionQuotaExceeded refusal */
int smtp_reply_is_quota(const struct smtp_reply *r)
{
    return r->code >= 500 && strstr(r->text, "SubmissionQuotaExceeded") != NULL;
}

/* smtp_reply_is_session_limit - Exchange's "one session too many" */
int smtp_reply_is_session_limit(const struct smtp_reply *r)
{
    return r->code == 432
        || (r->code / 100 == 4 && strcmp(r->enhanced, "4.3.2") == 0
            && (strstr(r->text, "Concurrent connections limit") != NULL
                || strstr(r->text, "thread limit exceeded") != NULL));
}

/* smtp_reply_defer_sequence - a 503 is never a verdict on a recipient */
int smtp_reply_defer_sequence(struct smtp_reply *r)
{
    char    was[200];

    if (r->code != 503)
        return 0;
    smtp_reply_oneline(r, was, sizeof(was));
    smtp_reply_set(r, 451, "4.5.1", "exorelay: upstream answered out of sequence "
                   "(%s); the mail waits and is retried", was);
    return 1;
}
