/*
 * smtpd_cmd.c - command parsing for the SMTP server (see smtpd_cmd.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtpd_cmd.h"

static const struct {
    const char *word;
    enum smtpd_verb verb;
} verbs[] = {
    {"HELO", V_HELO}, {"EHLO", V_EHLO}, {"LHLO", V_LHLO}, {"MAIL", V_MAIL},
    {"RCPT", V_RCPT}, {"DATA", V_DATA}, {"RSET", V_RSET}, {"NOOP", V_NOOP},
    {"QUIT", V_QUIT}, {"VRFY", V_VRFY}, {"HELP", V_HELP},
    {"STARTTLS", V_STARTTLS}, {"AUTH", V_AUTH}, {"BDAT", V_BDAT},
    {"EXPN", V_EXPN},
};

/* What each parameter needs from the upstream, and where it may appear. */
static const struct {
    const char *name;
    const char *ext;            /* upstream EHLO keyword it needs */
    int     rcpt;               /* 1: RCPT parameter, 0: MAIL parameter */
} params_known[] = {
    {"SIZE", "SIZE", 0}, {"BODY", "8BITMIME", 0}, {"SMTPUTF8", "SMTPUTF8", 0},
    {"RET", "DSN", 0}, {"ENVID", "DSN", 0},
    {"NOTIFY", "DSN", 1}, {"ORCPT", "DSN", 1},
};

/* smtpd_verb - the command word and its arguments */
enum smtpd_verb smtpd_verb(char *line, char **args)
{
    size_t n = strcspn(line, " ");

    *args = line + n;
    while (**args == ' ')
        (*args)++;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strlen(verbs[i].word) == n && strncasecmp(line, verbs[i].word, n) == 0)
            return verbs[i].verb;
    return V_UNKNOWN;
}

/* smtpd_path - "FROM:<addr> params" or "TO:<addr> params", in place */
int smtpd_path(char *args, const char *keyword, char **addr, char **params,
               struct smtp_reply *reply)
{
    size_t klen = strlen(keyword);
    char *p, *end;

    if (strncasecmp(args, keyword, klen) != 0) {
        smtp_reply_set(reply, 501, "5.5.4", "Syntax: %s<address>", keyword);
        return -1;
    }
    p = args + klen;
    while (*p == ' ')
        p++;
    if (*p != '<' || (end = strchr(p, '>')) == NULL) {
        smtp_reply_set(reply, 501, "5.1.7", "Bad address syntax: use <address>");
        return -1;
    }
    for (char *q = p + 1; q < end; q++) {
        if ((unsigned char) *q <= ' ' || *q == '<' || *q == 0x7f) {
            smtp_reply_set(reply, 553, "5.1.7", "Bad address syntax");
            return -1;
        }
    }
    *end = 0;
    *addr = p + 1;
    p = end + 1;
    if (*p != 0 && *p != ' ') {
        smtp_reply_set(reply, 501, "5.5.4", "Bad syntax after the address");
        return -1;
    }
    while (*p == ' ')
        p++;
    *params = p;
    return 0;
}

/* param_index - which known parameter a "NAME=value" token is, or -1 */
static int param_index(const char *tok, size_t len)
{
    size_t nlen = strcspn(tok, "=");

    if (nlen > len)
        nlen = len;
    for (size_t i = 0; i < sizeof(params_known) / sizeof(params_known[0]); i++)
        if (strlen(params_known[i].name) == nlen
            && strncasecmp(tok, params_known[i].name, nlen) == 0)
            return (int) i;
    return -1;
}

/* smtpd_params_check - only parameters of extensions we offer */
int smtpd_params_check(const char *params, int is_rcpt, long long *size,
                       struct smtp_reply *reply)
{
    const char *p = params;

    *size = 0;
    /* ESMTP parameter values are printable ASCII words (xtext for ENVID
     * and ORCPT, RFC 3461): a control character (CR, ESC, TAB...) is a
     * client error, refused here before any upstream work is done */
    for (const unsigned char *q = (const unsigned char *) params; *q; q++)
        if (*q < ' ' || *q == 0x7f) {
            smtp_reply_set(reply, 501, "5.5.4", "Control character in the parameters "
                           "(byte 0x%02x)", *q);
            return -1;
        }
    while (*p) {
        size_t len = strcspn(p, " ");
        int k = param_index(p, len);

        if (k < 0 || params_known[k].rcpt != is_rcpt) {
            smtp_reply_set(reply, 555, "5.5.4", "Unsupported parameter %.*s",
                           (int) (len > 64 ? 64 : len), p);
            return -1;
        }
        if (strcmp(params_known[k].name, "SIZE") == 0) {
            char *e;
            if (p[4] != '=' || !isdigit((unsigned char) p[5])
                || (*size = strtoll(p + 5, &e, 10), e != p + len)) {
                smtp_reply_set(reply, 501, "5.5.4", "Bad SIZE parameter");
                return -1;
            }
        }
        p += len;
        while (*p == ' ')
            p++;
    }
    return 0;
}

/* smtpd_param_value - the value of NAME= in a parameter list */
const char *smtpd_param_value(const char *params, const char *name, char *buf,
                              size_t size)
{
    size_t  nlen = strlen(name);

    for (const char *p = params; *p; ) {
        size_t  len = strcspn(p, " ");

        if (len > nlen && p[nlen] == '=' && strncasecmp(p, name, nlen) == 0) {
            snprintf(buf, size, "%.*s", (int) (len - nlen - 1), p + nlen + 1);
            return buf;
        }
        p += len;
        while (*p == ' ')
            p++;
    }
    return NULL;
}

/* smtpd_params_upstream - the parameters this upstream understands */
void smtpd_params_upstream(const char *params,
                           int (*has)(void *ctx, const char *keyword), void *ctx,
                           char *out, size_t outlen)
{
    const char *p = params;
    size_t used = 0;

    out[0] = 0;
    while (*p) {
        size_t len = strcspn(p, " ");
        int k = param_index(p, len);
        int body7 = k >= 0 && strcasecmp(params_known[k].name, "BODY") == 0
            && len == 9 && strncasecmp(p + 5, "7BIT", 4) == 0;

        if (k >= 0 && (body7 || has(ctx, params_known[k].ext))
            && used + len + 2 <= outlen) {
            out[used++] = ' ';
            memcpy(out + used, p, len);
            used += len;
            out[used] = 0;
        }
        p += len;
        while (*p == ' ')
            p++;
    }
}
