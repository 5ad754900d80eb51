/*
 * conf_ini.h - the INI tokenizer of exorelay.conf: lines in, sections and
 * key/value pairs out, each with its line number. Knows nothing of keys.
 *
 * SYNOPSIS
 *	struct ini_reader *ini_open(path, err, errlen)
 *		NULL + err (errno text) when the file cannot be opened
 *	struct ini_reader *ini_open_fp(fp, err, errlen)
 *		the same for a file already open (ini_close closes it)
 *	int ini_next(reader, &item)
 *		1 and the next item, 0 at end of file
 *	int ini_lineno(reader)	lines read so far
 *	void ini_close(reader)
 *
 * Syntax: "[name]" or "[name ARG]" section headers; "key = value";
 * comments start with "#" or ";" at the start of a line (after optional
 * white space) or after white space inside a line (so "a#b" is a value,
 * "a #b" is "a"). Values are trimmed; there is no quoting and no
 * continuation line: an indented line is an ordinary line. A UTF-8 byte
 * order mark and CR before LF are ignored.
 *
 * XXX A value cannot contain " #" or " ;" (white space then a comment
 * character); a regex can write [#] instead.
 */
#ifndef EXORELAY_CONF_INI_H
#define EXORELAY_CONF_INI_H

#include <stddef.h>
#include <stdio.h>

enum ini_kind { INI_SECTION, INI_KEY, INI_ERROR };

struct ini_item {
    enum ini_kind kind;
    int     lineno;
    const char *name;           /* section name, or key */
    const char *arg;            /* section ARG (NULL if none), or value */
    const char *error;          /* INI_ERROR: what is wrong with the line */
    int     header;             /* INI_ERROR: the line was a [section] header */
};

struct ini_reader;

struct ini_reader *ini_open(const char *path, char *err, size_t errlen);
struct ini_reader *ini_open_fp(FILE *fp, char *err, size_t errlen);
int ini_next(struct ini_reader *r, struct ini_item *item);
int ini_lineno(const struct ini_reader *r);
void ini_close(struct ini_reader *r);

#endif
