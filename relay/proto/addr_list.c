/*
 * addr_list.c - the addresses of an RFC 5322 address list (To:, Cc:, Bcc:,
 * and sendmail's recipient arguments, which may be comma lists too).
 *
 * SYNOPSIS
 *	int addr_list_parse(value, &vec, &n)
 *		Append every addr-spec found in value to vec (strdup'ed):
 *		"Name <a@b>", "a@b (comment)", "\"Doe, J\" <j@d>",
 *		"group: a@b, c@d;", "<@route:a@b>". Returns the number
 *		appended, or -1 when out of memory or when an address holds
 *		a control character.
 *	int addr_vec_add(&vec, &n, s)
 *		append a copy of s to a growing string vector; 0 or -1
 *
 * It is a scanner with four states (plain, quoted string, comment, angle
 * address), not a full RFC 5322 grammar: it accepts what real headers
 * contain and drops what is not an address (display names, comments).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr_list.h"

struct scan {
    char   *item;       /* current item's text outside comments/angles */
    size_t  ilen;
    char   *angle;      /* text inside <...>, NULL when none */
    size_t  alen;
    int     bad;
};

/* push - append c to a growable buffer of the scan */
static void push(char **buf, size_t *len, char c)
{
    char *nb = realloc(*buf, *len + 2);

    if (nb == NULL)
        return;
    nb[(*len)++] = c;
    nb[*len] = 0;
    *buf = nb;
}

/* trim - strip white space at both ends, in place */
static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char) *s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char) end[-1]))
        *--end = 0;
    return s;
}

/* strip_route - "@a,@b:user@d" -> "user@d" (obsolete source routes) */
static char *strip_route(char *s)
{
    if (*s == '@') {
        char *colon = strchr(s, ':');
        if (colon)
            return colon + 1;
    }
    return s;
}

/* addr_vec_add - see above */
int addr_vec_add(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 1) * sizeof(**v));
    char *copy = strdup(s);

    if (nv == NULL || copy == NULL) {
        free(copy);
        if (nv)
            *v = nv;
        return -1;
    }
    nv[(*n)++] = copy;
    *v = nv;
    return 0;
}

/* has_control - CR, LF, NUL and other controls never belong in an address */
static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* finish_item - the address of the item just ended, if any */
static int finish_item(struct scan *sc, char ***vec, size_t *n)
{
    char *src = sc->angle ? sc->angle : sc->item;
    char *addr = src ? strip_route(trim(src)) : NULL;
    int added = 0;

    if (addr && *addr) {
        if (has_control(addr))
            sc->bad = 1;
        else if (addr_vec_add(vec, n, addr) < 0)
            sc->bad = 1;
        else
            added = 1;
    }
    free(sc->item);
    free(sc->angle);
    sc->item = sc->angle = NULL;
    sc->ilen = sc->alen = 0;
    return added;
}

/* skip_comment - past a (possibly nested) comment starting at *p == '(' */
static const char *skip_comment(const char *p)
{
    int depth = 0;

    for (; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '(')
            depth++;
        else if (*p == ')' && --depth == 0)
            return p + 1;
    }
    return p;
}

/* copy_quoted - a quoted string, quotes and escapes kept, into buf */
static const char *copy_quoted(const char *p, char **buf, size_t *len)
{
    push(buf, len, *p++);
    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            push(buf, len, *p++);
        push(buf, len, *p);
    }
    if (*p == '"')
        push(buf, len, *p++);
    return p;
}

int addr_list_parse(const char *value, char ***vec, size_t *n)
{
    struct scan sc = {0};
    int count = 0;
    const char *p = value;

    while (*p && !sc.bad) {
        if (*p == '(') {
            p = skip_comment(p);
        } else if (*p == '"') {
            p = sc.angle ? copy_quoted(p, &sc.angle, &sc.alen)
                         : copy_quoted(p, &sc.item, &sc.ilen);
        } else if (*p == '<') {
            free(sc.angle);
            sc.angle = strdup("");
            sc.alen = 0;
            for (p++; *p && *p != '>'; p++)
                if (*p == '"')
                    p = copy_quoted(p, &sc.angle, &sc.alen) - 1;
                else
                    push(&sc.angle, &sc.alen, *p);
            if (*p == '>')
                p++;
        } else if (*p == ',' || *p == ';') {
            count += finish_item(&sc, vec, n);
            p++;
        } else if (*p == ':' && sc.angle == NULL) {
            /* "group-name:" - what came before was the group's name */
            free(sc.item);
            sc.item = NULL;
            sc.ilen = 0;
            p++;
        } else {
            push(&sc.item, &sc.ilen, *p++);
        }
    }
    count += finish_item(&sc, vec, n);
    return sc.bad ? -1 : count;
}
