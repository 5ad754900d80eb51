/*
 * conf_diag.c - config diagnostics: collect "FILE:LINE: message" lines,
 * print them sorted by line, and find "did you mean" candidates.
 *
 * Messages are collected rather than printed at once because some checks
 * run after the whole file was read (a class naming an account defined
 * further down); the admin still reads them top to bottom.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_impl.h"

/* conf_err - record one problem at line (0 = the file as a whole) */
void conf_err(struct conf_diag *d, int line, const char *fmt, ...)
{
    va_list ap;
    char   *text = NULL;

    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    if (d->n == d->cap) {
        size_t  cap = d->cap ? d->cap * 2 : 16;
        struct conf_msg *v = realloc(d->v, cap * sizeof(*v));

        if (v == NULL) {
            free(text);
            return;
        }
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n].line = line;
    d->v[d->n].seq = d->n;
    d->v[d->n].text = text;
    d->n++;
}

/* msg_cmp - order messages by line, then as they were found */
static int msg_cmp(const void *a, const void *b)
{
    const struct conf_msg *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* conf_diag_flush - print every message as FILE:LINE: text; free them */
void conf_diag_flush(struct conf_diag *d, FILE *errs)
{
    if (d->n > 1)
        qsort(d->v, d->n, sizeof(d->v[0]), msg_cmp);
    for (size_t i = 0; i < d->n; i++) {
        if (errs)
            fprintf(errs, "%s:%d: %s\n", d->path, d->v[i].line,
                    d->v[i].text ? d->v[i].text : "out of memory");
        free(d->v[i].text);
    }
    free(d->v);
    d->v = NULL;
    d->n = d->cap = 0;
}

/* edit_distance - Damerau-Levenshtein (optimal string alignment) */
static int edit_distance(const char *a, const char *b)
{
    size_t  la = strlen(a), lb = strlen(b);
    int    *d;
    int     r;

    if (la > 64 || lb > 64)
        return 1000;
    d = calloc((la + 1) * (lb + 1), sizeof(int));
    if (d == NULL)
        return 1000;
#define D(i, j) d[(i) * (lb + 1) + (j)]
    for (size_t i = 0; i <= la; i++)
        D(i, 0) = (int) i;
    for (size_t j = 0; j <= lb; j++)
        D(0, j) = (int) j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int     cost = a[i - 1] != b[j - 1];
            int     best = D(i - 1, j) + 1;

            if (D(i, j - 1) + 1 < best)
                best = D(i, j - 1) + 1;
            if (D(i - 1, j - 1) + cost < best)
                best = D(i - 1, j - 1) + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
                && D(i - 2, j - 2) + 1 < best)
                best = D(i - 2, j - 2) + 1;
            D(i, j) = best;
        }
    }
    r = D(la, lb);
#undef D
    free(d);
    return r;
}

/* conf_suggest_init - start looking for the closest candidate to word */
void conf_suggest_init(struct conf_suggest *s, const char *word)
{
    s->word = word;
    s->best = NULL;
    s->dist = 0;
}

/* conf_suggest_try - keep candidate if it is a plausible misspelling.
 * Plausible: few edits for the length, or one name is a prefix of the
 * other ("client_secret" for "client_secret_file"). */
void conf_suggest_try(struct conf_suggest *s, const char *cand)
{
    size_t  lw = strlen(s->word), lc = strlen(cand);
    int     dist = edit_distance(s->word, cand);
    int     limit = lw < 6 ? 1 : (int) (lw / 3 > 2 ? lw / 3 : 2);

    if (lw >= 4 && (strncmp(s->word, cand, lw < lc ? lw : lc) == 0))
        dist = dist < 2 ? dist : 2;     /* a prefix counts as close */
    else if (dist > limit)
        return;
    if (s->best == NULL || dist < s->dist) {
        s->best = cand;
        s->dist = dist;
    }
}
