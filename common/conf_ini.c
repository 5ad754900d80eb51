/*
 * conf_ini.c - INI tokenizer for exorelay.conf (see conf_ini.h).
 *
 * Each call to ini_next() reads lines until one carries an item; blank and
 * comment lines are skipped. Items point into the reader's line buffer and
 * stay valid until the next call.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_ini.h"

struct ini_reader {
    FILE   *fp;
    char   *buf;
    size_t  cap;
    int     lineno;
};

/* ini_open - open path for reading */
struct ini_reader *ini_open(const char *path, char *err, size_t errlen)
{
    FILE   *fp = fopen(path, "re");

    if (fp == NULL) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    return ini_open_fp(fp, err, errlen);
}

/* ini_open_fp - read an open file (the reader closes it) */
struct ini_reader *ini_open_fp(FILE *fp, char *err, size_t errlen)
{
    struct ini_reader *r;

    if ((r = calloc(1, sizeof(*r))) == NULL) {
        fclose(fp);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->fp = fp;
    return r;
}

/* ini_lineno - the number of the last line read */
int ini_lineno(const struct ini_reader *r)
{
    return r->lineno;
}

/* ini_close - close the file and free the reader */
void ini_close(struct ini_reader *r)
{
    if (r == NULL)
        return;
    fclose(r->fp);
    free(r->buf);
    free(r);
}

/* strip_comment - cut a comment that starts the text or follows white space */
static void strip_comment(char *s)
{
    for (char *p = s; *p; p++) {
        if ((*p == '#' || *p == ';') && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
            *p = 0;
            return;
        }
    }
}

/* trim - drop leading and trailing white space in place */
static char *trim(char *s)
{
    char   *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char) end[-1]))
        *--end = 0;
    return s;
}

/* valid_word - section and key names: letters, digits, "_", "-", "." */
static int valid_word(const char *s)
{
    if (*s == 0)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char) *s) && *s != '_' && *s != '-' && *s != '.')
            return 0;
    return 1;
}

/* parse_section - "[name]" or "[name ARG]" (line starts with "[") */
static void parse_section(char *line, struct ini_item *it)
{
    char   *close = strchr(line, ']');
    char   *name, *arg;

    it->kind = INI_ERROR;
    it->header = 1;
    if (close == NULL) {
        it->error = "section header without closing ']'";
        return;
    }
    *close = 0;
    if (*trim(close + 1) != 0) {
        it->error = "text after the section header's ']'";
        return;
    }
    name = trim(line + 1);
    arg = name + strcspn(name, " \t");
    if (*arg) {
        *arg++ = 0;
        arg = trim(arg);
    }
    if (!valid_word(name)) {
        it->error = *name ? "bad section name (letters, digits, '_', '-', '.')"
            : "empty section header '[]'";
        return;
    }
    if (*arg && (strpbrk(arg, " \t") || !valid_word(arg))) {
        it->error = "bad section name: want [section] or [section NAME], NAME "
            "made of letters, digits, '_', '-', '.'";
        return;
    }
    it->kind = INI_SECTION;
    it->name = name;
    it->arg = *arg ? arg : NULL;
}

/* parse_line - classify one comment-free, trimmed, non-empty line */
static void parse_line(char *line, struct ini_item *it)
{
    char   *eq;

    if (*line == '[') {
        parse_section(line, it);
        return;
    }
    it->kind = INI_ERROR;
    if ((eq = strchr(line, '=')) == NULL) {
        it->error = "expected 'key = value' or '[section]'";
        return;
    }
    *eq = 0;
    it->name = trim(line);
    it->arg = trim(eq + 1);
    if (!valid_word(it->name)) {
        it->error = *it->name ? "bad key name (letters, digits, '_', '-', '.')"
            : "missing key name before '='";
        return;
    }
    it->kind = INI_KEY;
}

/* ini_next - the next section header, key or malformed line */
int ini_next(struct ini_reader *r, struct ini_item *it)
{
    ssize_t len;
    char   *line;

    while ((len = getline(&r->buf, &r->cap, r->fp)) >= 0) {
        r->lineno++;
        line = r->buf;
        if (r->lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
            line += 3;
        if (strlen(line) != (size_t) len - (size_t) (line - r->buf)) {
            memset(it, 0, sizeof(*it));
            it->kind = INI_ERROR;
            it->lineno = r->lineno;
            it->error = "NUL byte in line (is this a text file?)";
            return 1;
        }
        strip_comment(line);
        line = trim(line);
        if (*line == 0)
            continue;
        memset(it, 0, sizeof(*it));
        it->lineno = r->lineno;
        parse_line(line, it);
        return 1;
    }
    return 0;
}
