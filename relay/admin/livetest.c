/*
 * livetest.c - lines, diagnoses and exit statuses of "exorelay test"
 * (livetest.h). The texts of the diagnoses are not here: they come from
 * upstream_diag.c and entra_diag.c, the same words the relay puts in its
 * 4xx replies and logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "livetest.h"
#include "upstream/upstream.h"

#define DETAIL_SHOWN 150        /* a step line stays readable */
#define WRAP 76

/* ms_since - milliseconds since t */
static long ms_since(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* lt_init - nothing shown yet */
void lt_init(struct livetest *lt, FILE *out)
{
    memset(lt, 0, sizeof(*lt));
    lt->out = out;
    clock_gettime(CLOCK_MONOTONIC, &lt->start);
    lt->t0 = lt->start;
}

/* show_name - the start of a step's line, flushed: the step runs now */
static void show_name(struct livetest *lt, const char *step)
{
    fprintf(lt->out, "  %-15s ", step);
    fflush(lt->out);
    snprintf(lt->shown, sizeof(lt->shown), "%s", step);
}

/* lt_begin - a step of our own starts */
void lt_begin(struct livetest *lt, const char *step)
{
    show_name(lt, step);
    clock_gettime(CLOCK_MONOTONIC, &lt->t0);
}

/* restart - a new clock for whatever comes next */
static void restart(struct livetest *lt)
{
    clock_gettime(CLOCK_MONOTONIC, &lt->t0);
}

/* show - one step's result, on the line its name began (or a new one);
 * a failed step shows its whole reply, but only the code of a diagnosis of
 * ours (the diagnosis follows in full) */
static void show(struct livetest *lt, const char *step, const char *verdict, long ms,
                 const char *detail)
{
    const char *ours = strstr(detail, "exorelay: ");
    int     failed = strcmp(verdict, "FAILED") == 0;
    int     len = (int) strlen(detail);
    const char *more = "";

    if (failed && ours != NULL && ours - detail <= 10) {
        len = (int) (ours - detail);
        more = "(diagnosis below)";
    } else if (!failed && len > DETAIL_SHOWN) {
        len = DETAIL_SHOWN;
        more = "...";
    }
    if (strcmp(lt->shown, step) != 0) {
        if (lt->shown[0])               /* a begun line nobody finished */
            fputc('\n', lt->out);
        show_name(lt, step);
    }
    fprintf(lt->out, "%-7s %6ld ms  %.*s%s\n", verdict, ms, len, detail, more);
    fflush(lt->out);
    lt->shown[0] = 0;
}

/* note_failure - remember what failed */
static void note_failure(struct livetest *lt, const char *step, const char *detail)
{
    lt->failed = 1;
    snprintf(lt->step, sizeof(lt->step), "%s", step);
    snprintf(lt->detail, sizeof(lt->detail), "%s", detail);
}

/* lt_step - a step of our own */
void lt_step(struct livetest *lt, const char *step, int ok, const char *detail)
{
    show(lt, step, ok ? "ok" : "FAILED", ms_since(&lt->t0), detail);
    if (!ok)
        note_failure(lt, step, detail);
    restart(lt);
}

/* lt_trace - a step of upstream_open_traced */
void lt_trace(void *arg, const char *step, int ok, long ms, const char *detail)
{
    struct livetest *lt = arg;

    if (lt->held) {                     /* it went on: that was retried */
        show(lt, lt->step, "retry", lt->held_ms, lt->detail);
        lt->held = lt->failed = 0;
    }
    if (ok == UPSTREAM_STEP_BEGIN) {
        show_name(lt, step);
    } else if (ok) {
        show(lt, step, "ok", ms, detail);
    } else {
        note_failure(lt, step, detail);
        lt->held = 1;
        lt->held_ms = ms;
    }
    restart(lt);
}

/* lt_end_trace - a failure still held is the final one */
void lt_end_trace(struct livetest *lt)
{
    if (lt->held)
        show(lt, lt->step, "FAILED", lt->held_ms, lt->detail);
    lt->held = 0;
    restart(lt);
}

/* lt_explain - "label: text", wrapped at word boundaries */
void lt_explain(struct livetest *lt, const char *label, const char *text)
{
    int     indent = (int) strlen(label) + 2, col = indent;
    const char *p = text;

    if (strncmp(p, "exorelay: ", 10) == 0)
        p += 10;
    fprintf(lt->out, "%s:", label);
    while (*p) {
        size_t  n;

        while (*p == ' ')
            p++;
        n = strcspn(p, " ");
        if (n == 0)
            break;
        if (col > indent && col + 1 + (int) n > WRAP) {
            fprintf(lt->out, "\n%*s", indent, "");
            col = indent;
        } else {
            fputc(' ', lt->out);
            col++;
        }
        fprintf(lt->out, "%.*s", (int) n, p);
        col += (int) n;
        p += n;
    }
    fputc('\n', lt->out);
}

int lt_failed(const struct livetest *lt)
{
    return lt->failed;
}

const char *lt_failed_step(const struct livetest *lt)
{
    return lt->step;
}

const char *lt_failed_detail(const struct livetest *lt)
{
    return lt->detail;
}

/* lt_total_ms - since lt_init */
long lt_total_ms(const struct livetest *lt)
{
    return ms_since(&lt->start);
}

/* lt_exit_for_reply - which kind of fault a failed step was */
int lt_exit_for_reply(const char *step, const char *detail)
{
    int     code = atoi(detail);
    const char *enhanced = strlen(detail) > 4 ? detail + 4 : "";

    if (strcmp(step, "config") == 0)
        return EX_CONFIG;
    if (strcmp(step, "AUTH") == 0 || strcmp(step, "message") == 0) {
        if (code == 535 || code == 430 || strncmp(enhanced, "5.2.252", 7) == 0
            || strncmp(enhanced, "5.7.60", 6) == 0 || strstr(detail, "SendAsDenied"))
            return EX_NOPERM;
        if (code == 504)
            return EX_CONFIG;
    }
    return EX_UNAVAILABLE;
}

/* lt_exit_for_token - a failed token request */
int lt_exit_for_token(const struct token_diag *diag)
{
    static const long config_codes[] = {90002, 900023, 700016, 1002012, 70011};

    if (diag->temporary)
        return EX_UNAVAILABLE;
    for (size_t i = 0; i < sizeof(config_codes) / sizeof(config_codes[0]); i++)
        if (diag->aadsts == config_codes[i])
            return EX_CONFIG;
    return EX_NOPERM;
}
