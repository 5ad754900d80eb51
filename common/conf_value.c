/*
 * conf_value.c - validators for single config values (see conf_value.h).
 *
 * Messages quote the offending text and show the expected form, because
 * the admin reading "FILE:LINE: KEY: ..." should not need the manual.
 * None of these values is a secret (secrets live in files), so quoting
 * them is safe.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_value.h"

/* cv_guid - 8-4-4-4-12 hex digits */
int cv_guid(const char *s, char *err, size_t errlen)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    size_t  i;

    for (i = 0; shape[i] && s[i]; i++)
        if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
            break;
    if (shape[i] == 0 && s[i] == 0)
        return 0;
    snprintf(err, errlen, "'%s' is not a GUID (want %s, hex digits)", s, shape);
    return -1;
}

/* check_label - one DNS label: letters, digits, inner hyphens, 1-63 */
static const char *check_label(const char *s, size_t len)
{
    if (len == 0)
        return "has an empty label (two dots, or a dot at an end)";
    if (len > 63)
        return "has a label longer than 63 characters";
    if (s[0] == '-' || s[len - 1] == '-')
        return "has a label that starts or ends with '-'";
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char) s[i]) && s[i] != '-')
            return "may contain only letters, digits, '-' and '.'";
    return NULL;
}

/* cv_domain - a host or domain name (single labels such as localhost too) */
int cv_domain(const char *s, char *err, size_t errlen)
{
    const char *why = NULL, *p = s, *dot, *last = s;

    if (*s == 0)
        why = "is empty";
    else if (strlen(s) > 253)
        why = "is longer than 253 characters";
    while (why == NULL) {
        dot = strchr(p, '.');
        why = check_label(p, dot ? (size_t) (dot - p) : strlen(p));
        if (dot == NULL)
            break;
        p = dot + 1;
        last = p;
    }
    if (why == NULL && strspn(last, "0123456789") == strlen(last))
        why = "ends in a numeric label (an IP address is not a domain here)";
    if (why == NULL)
        return 0;
    snprintf(err, errlen, "'%s' is not a valid domain name: it %s", s, why);
    return -1;
}

/* cv_domain_pattern - a domain, or "*.domain" for every subdomain of it */
int cv_domain_pattern(const char *s, char *err, size_t errlen)
{
    return cv_domain(strncmp(s, "*.", 2) == 0 ? s + 2 : s, err, errlen);
}

/* cv_tenant - directory GUID or a domain of the tenant (with a dot) */
int cv_tenant(const char *s, char *err, size_t errlen)
{
    char    tmp[256];

    if (cv_guid(s, tmp, sizeof(tmp)) == 0)
        return 0;
    if (strchr(s, '.') && cv_domain(s, tmp, sizeof(tmp)) == 0)
        return 0;
    snprintf(err, errlen, "'%s' is neither a directory GUID "
             "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) nor a tenant domain "
             "(contoso.onmicrosoft.com)", s);
    return -1;
}

/* cv_mailbox - local@domain with a dot-atom local part (RFC 5322) */
int cv_mailbox(const char *s, char *err, size_t errlen)
{
    static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
    const char *at = strrchr(s, '@');
    const char *why = NULL;
    char    tmp[512];

    if (at == NULL || at == s)
        why = "want local@domain";
    else if (at - s > 64)
        why = "the part before '@' is longer than 64 characters";
    else if (s[0] == '.' || at[-1] == '.' || strstr(s, "..") != NULL)
        why = "a dot at the start or end of the local part, or two dots";
    for (const char *p = s; why == NULL && p < at; p++)
        if (!isalnum((unsigned char) *p) && *p != '.' && strchr(atext, *p) == NULL)
            why = "the part before '@' has a character that needs quoting "
                "(quoted local parts are not supported)";
    if (why == NULL && cv_domain(at + 1, tmp, sizeof(tmp)) < 0)
        why = "the part after '@' is not a domain name";
    if (why == NULL)
        return 0;
    snprintf(err, errlen, "'%s' is not a mailbox address: %s", s, why);
    return -1;
}

/* cv_send_as - "addr", "<addr>", "Display Name <addr>" */
int cv_send_as(const char *s, char *err, size_t errlen)
{
    const char *lt = strrchr(s, '<');
    char    addr[320];
    size_t  len;

    if (lt == NULL)
        return cv_mailbox(s, err, errlen);
    len = strlen(lt + 1);
    if (len == 0 || lt[len] != '>' || len > sizeof(addr)) {
        snprintf(err, errlen, "'%s' is not 'Display Name <address>': "
                 "the address must end with '>'", s);
        return -1;
    }
    memcpy(addr, lt + 1, len - 1);
    addr[len - 1] = 0;
    for (const char *p = s; p < lt; p++) {
        if (*p == '<' || *p == '>' || (unsigned char) *p < ' ' || *p == 0x7f) {
            snprintf(err, errlen, "'%s': the display name may not contain "
                     "'<', '>' or control characters", s);
            return -1;
        }
    }
    return cv_mailbox(addr, err, errlen);
}

/* cv_date - YYYY-MM-DD; t is 23:59:59 UTC of that day */
int cv_date(const char *s, time_t *t, char *err, size_t errlen)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct tm tm;
    int     y, m, d, ok = strlen(s) == 10 && s[4] == '-' && s[7] == '-';

    for (int i = 0; ok && i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char) s[i]))
            ok = 0;
    if (ok) {
        y = atoi(s);
        m = atoi(s + 5);
        d = atoi(s + 8);
        ok = y >= 1970 && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1]
            && !(m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)));
    }
    if (!ok) {
        snprintf(err, errlen, "'%s' is not a date (want YYYY-MM-DD, e.g. 2027-03-31)", s);
        return -1;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_hour = 23;
    tm.tm_min = 59;
    tm.tm_sec = 59;
    *t = timegm(&tm);
    return 0;
}

/* scaled - digits then one optional unit letter from units (scales alike) */
static int scaled(const char *s, const char *units, const long long *scale,
                  long long *n)
{
    char   *end;
    const char *u;
    long long v;

    if (!isdigit((unsigned char) *s))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno == ERANGE)
        return -1;
    if (*end == 0) {
        *n = v;
        return 0;
    }
    if (end[1] != 0 || (u = strchr(units, tolower((unsigned char) *end))) == NULL)
        return -1;
    if (v > LLONG_MAX / scale[u - units])
        return -1;
    *n = v * scale[u - units];
    return 0;
}

/* cv_size - bytes with K/M/G suffix */
int cv_size(const char *s, long long *n, char *err, size_t errlen)
{
    static const long long scale[] = {1024LL, 1024LL * 1024, 1024LL * 1024 * 1024};

    if (scaled(s, "kmg", scale, n) == 0)
        return 0;
    snprintf(err, errlen, "'%s' is not a size (want a number of bytes, "
             "optionally with K, M or G: 512K, 35M)", s);
    return -1;
}

/* cv_duration - seconds with s/m/h/d suffix */
int cv_duration(const char *s, long long *n, char *err, size_t errlen)
{
    static const long long scale[] = {1, 60, 3600, 86400};

    if (scaled(s, "smhd", scale, n) == 0)
        return 0;
    snprintf(err, errlen, "'%s' is not a duration (want seconds, or a number "
             "with s, m, h or d: 90, 5m, 2h, 5d)", s);
    return -1;
}

/* cv_number - a decimal integer within [min, max] */
int cv_number(const char *s, long long min, long long max, long long *n,
              char *err, size_t errlen)
{
    char   *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (*s == 0 || *end != 0 || errno == ERANGE || isspace((unsigned char) *s)) {
        snprintf(err, errlen, "'%s' is not a number", s);
        return -1;
    }
    if (v < min || v > max) {
        snprintf(err, errlen, "%s is out of range (%lld to %lld)", s, min, max);
        return -1;
    }
    *n = v;
    return 0;
}

/* cv_mode - octal permission bits */
int cv_mode(const char *s, long long *n, char *err, size_t errlen)
{
    char   *end;
    long    v = strtol(s, &end, 8);

    if (*s == 0 || *end != 0 || v < 0 || v > 07777 || strspn(s, "01234567") != strlen(s)) {
        snprintf(err, errlen, "'%s' is not an octal file mode (e.g. 0660)", s);
        return -1;
    }
    *n = v;
    return 0;
}

/* cv_glob - an address pattern for fnmatch(3) */
int cv_glob(const char *s, char *err, size_t errlen)
{
    for (const char *p = s; *p; p++) {
        if ((unsigned char) *p <= ' ' || *p == 0x7f) {
            snprintf(err, errlen, "'%s': a pattern may not contain white space "
                     "or control characters", s);
            return -1;
        }
    }
    if (strcmp(s, "*") != 0 && strchr(s, '@') == NULL) {
        snprintf(err, errlen, "'%s' has no '@': did you mean '*@%s'?", s, s);
        return -1;
    }
    return 0;
}

/* cv_regex - compile a POSIX extended regex; re must be regfree()d */
int cv_regex(const char *s, regex_t *re, int flags, char *err, size_t errlen)
{
    char    why[200];
    int     rc = regcomp(re, s, REG_EXTENDED | REG_NOSUB | flags);

    if (rc == 0)
        return 0;
    regerror(rc, re, why, sizeof(why));
    regfree(re);
    snprintf(err, errlen, "'%s' is not a valid POSIX extended regex: %s", s, why);
    return -1;
}

/* host_port - "host[:port]" or "[v6][:port]" up to end or '/' */
static int host_port(const char *s, char *err, size_t errlen)
{
    char    host[256];
    size_t  len = strcspn(s, "/");
    char   *colon, *hend;
    long long port;

    if (len >= sizeof(host))
        return -1;
    memcpy(host, s, len);
    host[len] = 0;
    if (host[0] == '[') {
        hend = strchr(host, ']');
        colon = hend && hend[1] == ':' ? hend + 1 : NULL;
        if (hend == NULL || (hend[1] && !colon))
            return -1;
        *hend = 0;
        if (cv_host(host + 1, err, errlen) < 0 || strchr(host + 1, ':') == NULL)
            return -1;
    } else {
        if ((colon = strchr(host, ':')) != NULL)
            *colon = 0;
        if (cv_host(host, err, errlen) < 0)
            return -1;
    }
    if (colon && cv_number(colon + 1, 1, 65535, &port, err, errlen) < 0)
        return -1;
    return 0;
}

/* cv_https_url - an https:// URL: host, optional port, optional path */
int cv_https_url(const char *s, char *err, size_t errlen)
{
    if (strncasecmp(s, "https://", 8) != 0 || strpbrk(s, " \t\"<>\\") != NULL
        || strchr(s + 8, '@') != NULL || host_port(s + 8, err, errlen) < 0) {
        snprintf(err, errlen, "'%s' is not an https:// URL (want "
                 "https://host[:port][/path]; tokens travel only over TLS)", s);
        return -1;
    }
    return 0;
}

/* cv_proxy_url - [scheme://]host[:port][/] as libcurl takes it */
int cv_proxy_url(const char *s, char *err, size_t errlen)
{
    static const char *const schemes[] = {
        "http://", "https://", "socks4://", "socks4a://", "socks5://", "socks5h://"
    };
    const char *rest = s;

    if (strstr(s, "://") != NULL) {
        rest = NULL;
        for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
            if (strncasecmp(s, schemes[i], strlen(schemes[i])) == 0)
                rest = s + strlen(schemes[i]);
    }
    if (rest && strchr(rest, '@') != NULL) {
        /* Do not quote it: it holds a password. */
        snprintf(err, errlen, "user and password in the proxy URL are not "
                 "supported (they would be a secret in a config file)");
        return -1;
    }
    if (rest == NULL || strpbrk(s, " \t") || host_port(rest, err, errlen) < 0
        || strspn(rest + strcspn(rest, "/"), "/") != strlen(rest + strcspn(rest, "/"))) {
        snprintf(err, errlen, "'%s' is not a proxy URL (want "
                 "[http|https|socks5h://]host:port)", s);
        return -1;
    }
    return 0;
}

/* cv_username - a POSIX portable user/group name, or a numeric id */
int cv_username(const char *s, char *err, size_t errlen)
{
    size_t  len = strlen(s);
    int     ok = len > 0 && len <= 32;

    if (ok && strspn(s, "0123456789") != len) {
        ok = isalpha((unsigned char) s[0]) || s[0] == '_';
        for (size_t i = 1; ok && i < len; i++)
            ok = isalnum((unsigned char) s[i]) || strchr("_.-", s[i])
                || (s[i] == '$' && i == len - 1);
    }
    if (ok)
        return 0;
    snprintf(err, errlen, "'%s' is not a user or group name", s);
    return -1;
}

/* cv_name - names of [account NAME] and [class NAME] */
int cv_name(const char *s, char *err, size_t errlen)
{
    size_t  len = strlen(s);

    if (len > 0 && len <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == len)
        return 0;
    snprintf(err, errlen, "'%s' is not a name (letters, digits, '_', '-', '.')", s);
    return -1;
}
