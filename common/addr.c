/*
 * addr.c - read RFC 5322 address headers as they come (see addr.h).
 *
 * The scanner walks the value once. Quoted strings, comments (nested, with
 * quoted pairs), domain literals and angle addresses are skipped as units,
 * so a ',' ';' ':' or '<' inside them never splits anything. A ':' outside
 * them ends a group name; ',' and ';' end a mailbox. Display names are
 * copied byte for byte: encoded words and UTF-8 are nobody's business here,
 * and keeping them raw is what keeps them intact.
 *
 * Every skip stops at the terminating NUL, which is how malformed input
 * (an unterminated quote, comment or "<") stays safe: it simply ends there.
 */
#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define NONE ((size_t) -1)

/* is_wsp - white space that may appear between tokens (incl. folding) */
static int is_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* skip_delimited - s[i] opens a quoted string or literal: index after it */
static size_t skip_delimited(const char *s, size_t i, char close)
{
    for (i++; s[i]; i++) {
        if (s[i] == '\\' && s[i + 1])
            i++;
        else if (s[i] == close)
            return i + 1;
    }
    return i;
}

/* skip_comment - s[i] == '(': index after the matching ')' */
static size_t skip_comment(const char *s, size_t i)
{
    int     depth = 0;

    for (; s[i]; i++) {
        if (s[i] == '\\' && s[i + 1])
            i++;
        else if (s[i] == '(')
            depth++;
        else if (s[i] == ')' && --depth == 0)
            return i + 1;
    }
    return i;
}

/* skip_unit - index after the token starting at s[i] (quote, comment, literal, or one byte) */
static size_t skip_unit(const char *s, size_t i)
{
    switch (s[i]) {
    case '"':
        return skip_delimited(s, i, '"');
    case '[':
        return skip_delimited(s, i, ']');
    case '(':
        return skip_comment(s, i);
    default:
        return i + 1;
    }
}

/* skip_angle - s[i] == '<': index of the matching '>' (or of the NUL) */
static size_t skip_angle(const char *s, size_t i)
{
    for (i++; s[i] && s[i] != '>';)
        i = skip_unit(s, i);
    return i;
}

/* copy_trimmed - s[a..b) without leading and trailing white space; NULL if empty */
static char *copy_trimmed(const char *s, size_t a, size_t b, int *oom)
{
    char   *out;

    while (a < b && is_wsp(s[a]))
        a++;
    while (b > a && is_wsp(s[b - 1]))
        b--;
    if (a == b)
        return NULL;
    if ((out = strndup(s + a, b - a)) == NULL)
        *oom = 1;
    return out;
}

/* strip_cfws - s[a..b) without comments and white space outside quotes */
static char *strip_cfws(const char *s, size_t a, size_t b, int *oom)
{
    char   *out = malloc(b - a + 1), *o = out;
    size_t  j;

    if (out == NULL) {
        *oom = 1;
        return NULL;
    }
    while (a < b) {
        if (s[a] == '(') {
            a = skip_comment(s, a);
        } else if (is_wsp(s[a])) {
            a++;
        } else {
            j = skip_unit(s, a);
            if (j > b)
                j = b;
            memcpy(o, s + a, j - a);
            o += j - a;
            a = j;
        }
    }
    *o = 0;
    return out;
}

/* comment_text - inside of the comment at s[a..b), quoted pairs undone */
static char *comment_text(const char *s, size_t a, size_t b, int *oom)
{
    char   *raw, *r, *w;

    if (b > a && s[b - 1] == ')')
        b--;
    if ((raw = copy_trimmed(s, a + 1, b, oom)) == NULL)
        return NULL;
    for (r = w = raw; *r; r++) {
        if (*r == '\\' && r[1])
            r++;
        *w++ = *r;
    }
    *w = 0;
    return raw;
}

/* drop_route - "@a,@b:user@host" (obsolete source route) becomes "user@host";
 * a ':' after a quote, literal or escape is not a route's end (cutting there
 * would split that unit and leave its white space bare) */
static void drop_route(char *addr)
{
    size_t  n = strcspn(addr, ":\"[\\");

    if (addr[0] == '@' && addr[n] == ':')
        memmove(addr, addr + n + 1, strlen(addr + n + 1) + 1);
}

/* add_mailbox - append one mailbox; takes ownership of the strings */
static int add_mailbox(struct addr_list *list, char *display, char *comment,
                       char *addr)
{
    struct mailbox *v = realloc(list->v, (list->n + 1) * sizeof(*v));

    if (v == NULL) {
        free(display);
        free(comment);
        free(addr);
        return -1;
    }
    list->v = v;
    v[list->n].display = display;
    v[list->n].comment = comment;
    v[list->n].addr = addr;
    list->n++;
    return 0;
}

/* parse_mailbox - one element ending at ',' ';' or NUL; advances *pos */
static int parse_mailbox(const char *s, size_t *pos, struct addr_list *list)
{
    size_t  i = *pos, start = i, lt = NONE, close = NONE;
    size_t  c_at = NONE, c_end = NONE;
    char   *display = NULL, *comment = NULL, *addr;
    int     oom = 0;

    while (s[i] && s[i] != ',' && s[i] != ';') {
        if (s[i] == '<' && lt == NONE) {
            lt = i;
            close = skip_angle(s, i);
            i = s[close] ? close + 1 : close;
        } else if (s[i] == ':' && lt == NONE) {
            start = i + 1;              /* a group name ends here */
            c_at = NONE;
            i++;
        } else {
            if (s[i] == '(' && c_at == NONE) {
                c_at = i;
                c_end = skip_comment(s, i);
            }
            i = skip_unit(s, i);
        }
    }
    *pos = s[i] ? i + 1 : i;

    if (lt != NONE) {
        display = copy_trimmed(s, start, lt, &oom);
        addr = strip_cfws(s, lt + 1, close, &oom);
    } else {
        addr = strip_cfws(s, start, i, &oom);
        if (c_at != NONE)
            comment = comment_text(s, c_at, c_end, &oom);
    }
    if (oom || addr == NULL) {
        free(display);
        free(comment);
        free(addr);
        return -1;
    }
    drop_route(addr);
    if (*addr == 0 && display == NULL && lt == NONE) {
        free(comment);                  /* empty element: ",," or "group:;" */
        free(addr);
        return 0;
    }
    return add_mailbox(list, display, comment, addr);
}

/* addr_parse - split a header value into mailboxes */
int addr_parse(const char *value, struct addr_list *list)
{
    size_t  pos = 0;

    list->v = NULL;
    list->n = 0;
    while (value[pos]) {
        if (parse_mailbox(value, &pos, list) < 0) {
            addr_list_free(list);
            return -1;
        }
    }
    return 0;
}

/* addr_list_free - release what addr_parse() made */
void addr_list_free(struct addr_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free(list->v[i].display);
        free(list->v[i].comment);
        free(list->v[i].addr);
    }
    free(list->v);
    list->v = NULL;
    list->n = 0;
}

/* addr_pick - the mailbox a sender header names */
const struct mailbox *addr_pick(const struct addr_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        if (strchr(list->v[i].addr, '@') != NULL)
            return &list->v[i];
    for (size_t i = 0; i < list->n; i++)
        if (list->v[i].addr[0] != 0)
            return &list->v[i];
    return NULL;
}

/* addr_unfold - header value without CR and LF */
char *addr_unfold(const char *value)
{
    char   *out = malloc(strlen(value) + 1), *o = out;

    if (out == NULL)
        return NULL;
    for (; *value; value++)
        if (*value != '\r' && *value != '\n')
            *o++ = *value;
    *o = 0;
    return out;
}

/* addr_envelope - SMTP path as a bare address */
char *addr_envelope(const char *arg)
{
    size_t  len;
    char   *out;

    while (is_wsp(*arg))
        arg++;
    if (*arg == '<')
        arg++;
    len = strlen(arg);
    while (len > 0 && (is_wsp(arg[len - 1]) || arg[len - 1] == '>'))
        len--;
    if ((out = strndup(arg, len)) != NULL)
        drop_route(out);
    return out;
}

/* addr_domain - domain part of an address, NULL if it has none */
const char *addr_domain(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return at ? at + 1 : NULL;
}
