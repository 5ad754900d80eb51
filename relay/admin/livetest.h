/*
 * livetest.h - the step-by-step report of "exorelay test": one line per
 * step with ok/FAILED and its time, then on failure the diagnosis and
 * the fix, and the exit status that names the kind of fault.
 *
 * Progress: a step's name is written (and flushed) when the step starts,
 * and its result completes the same line when it ends, so a server that
 * never answers shows which step waits. The output is the same on a
 * terminal, in a pipe and in a file.
 *
 * SYNOPSIS
 *	void lt_init(lt, out)
 *	void lt_begin(lt, step)
 *		A step of our own starts: show its name, start its clock.
 *	void lt_step(lt, step, ok, detail)
 *		Report a step of our own (config, DNS, message), timed from
 *		lt_begin (which it completes the line of, if it named step).
 *	void lt_trace(arg, step, ok, ms, detail)
 *		The upstream_step_fn for upstream_open_traced (arg = lt); ok
 *		UPSTREAM_STEP_BEGIN shows the name of a step that starts.
 *		A failed step followed by more steps was retried (a refused
 *		token is replaced once): it is shown as "retry", not FAILED.
 *	void lt_end_trace(lt)
 *		The traced session is over: a failure still held is final.
 *	void lt_explain(lt, label, text)
 *		"label: text", wrapped, after the steps ("diagnosis", "fix").
 *	int lt_failed(lt)            a step failed (the last one shown)
 *	const char *lt_failed_step(lt), lt_failed_detail(lt)
 *	int lt_exit_for_reply(step, detail)
 *		The exit status for a step that failed with an SMTP reply (or
 *		a local diagnosis) in detail: 69 unreachable, 77 credentials
 *		or permission (535, 430, SendAs), 78 configuration (504: not
 *		Exchange).
 *	int lt_exit_for_token(diag)
 *		69 for a passing fault (network, throttling, Entra down),
 *		78 for a wrong tenant, client ID or scope, 77 for the
 *		credential itself.
 */
#ifndef EXORELAY_LIVETEST_H
#define EXORELAY_LIVETEST_H

#include <stdio.h>
#include <time.h>

#include "proto/smtp_reply.h"
#include "token/token.h"

#define LT_STEP_MAX 32
#define LT_DETAIL_MAX (SMTP_REPLY_TEXT_MAX + 64)

struct livetest {
    FILE   *out;
    struct timespec t0;         /* start of our own step */
    struct timespec start;      /* start of the whole test */
    int     failed;
    int     held;               /* a failure not shown yet: retried? */
    long    held_ms;
    char    step[LT_STEP_MAX];  /* the failed (or held) step */
    char    detail[LT_DETAIL_MAX];
    char    shown[LT_STEP_MAX]; /* the step whose name ends the output */
};

void lt_init(struct livetest *lt, FILE *out);
void lt_begin(struct livetest *lt, const char *step);
void lt_step(struct livetest *lt, const char *step, int ok, const char *detail);
void lt_trace(void *arg, const char *step, int ok, long ms, const char *detail);
void lt_end_trace(struct livetest *lt);
void lt_explain(struct livetest *lt, const char *label, const char *text);
int lt_failed(const struct livetest *lt);
const char *lt_failed_step(const struct livetest *lt);
const char *lt_failed_detail(const struct livetest *lt);
long lt_total_ms(const struct livetest *lt);
int lt_exit_for_reply(const char *step, const char *detail);
int lt_exit_for_token(const struct token_diag *diag);

#endif
