/*
 * tool_token_loop.c - a long-lived process that uses the token engine as
 * the relay does (refresher thread on) and asks for a token at a fixed
 * interval; for tests/t_token.sh and bench/token_soak.sh.
 *
 *	tool_token_loop CONF ACCOUNT SECONDS INTERVAL_MS [invalidate]
 *
 * Runs for SECONDS (by the process's own clock, so libfaketime can speed
 * it up) calling token_get() every INTERVAL_MS. Prints one summary line,
 * never a token:
 *	calls=N failures=N min_left=S distinct=N slow_calls=N max_call_ms=M
 *	gets=.. from_memory=.. inline_fetches=.. waited=.. requests=..
 *	inline_requests=.. fetch_failures=.. refreshes=..
 * min_left is the least validity (seconds, at the time of asking) of any
 * token handed out;
 * slow_calls counts calls after the first that took over 50 ms of the
 * process's clock. With "invalidate", it instead gets a token, calls
 * token_invalidate() on it, gets again and prints "changed=0|1 requests=N".
 * Exit 0 when it could run, 1 on usage or config errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "token/token.h"

#define MAX_DISTINCT 4096

/* now_ms - the process's monotonic clock in milliseconds */
static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* sleep_ms - nanosleep (libfaketime scales it with the clock) */
static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* remember - count distinct tokens by fingerprint */
static void remember(char (*seen)[32], int *n, const secret_t *tok)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(seen[i], secret_fingerprint(tok)) == 0)
            return;
    if (*n < MAX_DISTINCT)
        snprintf(seen[(*n)++], 32, "%s", secret_fingerprint(tok));
}

static void print_stats(struct token_engine *te)
{
    struct token_stats s;

    token_engine_stats(te, &s);
    printf("gets=%lu from_memory=%lu inline_fetches=%lu waited=%lu requests=%lu "
           "inline_requests=%lu fetch_failures=%lu refreshes=%lu\n", s.gets, s.from_memory,
           s.inline_fetches, s.waited, s.requests, s.inline_requests, s.failures,
           s.refreshes);
}

static int loop(struct token_engine *te, const struct conf_account *acct,
                long seconds, long interval)
{
    static char seen[MAX_DISTINCT][32];
    int distinct = 0, failures = 0, slow = 0;
    long calls = 0, min_left = 1L << 30;
    double max_call = 0, end = now_ms() + seconds * 1000.0;
    struct token_diag diag;

    while (now_ms() < end) {
        secret_t *tok = NULL;
        time_t expires = 0;
        double t0 = now_ms();
        time_t asked = time(NULL);
        int rc = token_get(te, acct, &tok, &expires, &diag);
        double took = now_ms() - t0;
        long left = (long) (expires - asked);
        if (rc != 0) {
            failures++;
            fprintf(stderr, "tool_token_loop: call %ld failed: %s\n", calls, diag.cause);
        } else {
            remember(seen, &distinct, tok);
            if (left < min_left)
                min_left = left;
        }
        if (calls > 0 && took > max_call)
            max_call = took;
        if (calls > 0 && took > 50)
            slow++;
        calls++;
        secret_free(tok);
        sleep_ms(interval);
    }
    printf("calls=%ld failures=%d min_left=%ld distinct=%d slow_calls=%d max_call_ms=%.1f\n",
           calls, failures, min_left, distinct, slow, max_call);
    print_stats(te);
    return 0;
}

static int invalidate(struct token_engine *te, const struct conf_account *acct)
{
    secret_t *a = NULL, *b = NULL;
    struct token_diag diag;
    time_t exp;
    struct token_stats s;

    if (token_get(te, acct, &a, &exp, &diag) != 0)
        return 1;
    token_invalidate(te, acct, a);
    if (token_get(te, acct, &b, &exp, &diag) != 0)
        return 1;
    token_engine_stats(te, &s);
    printf("changed=%d requests=%lu\n", !secret_equal(a, b), s.requests);
    secret_free(a);
    secret_free(b);
    return 0;
}

int main(int argc, char **argv)
{
    struct config *cfg;
    const struct conf_account *acct;
    struct token_engine *te;
    int nerr = 0, rc;

    if (argc < 5) {
        fprintf(stderr, "usage: tool_token_loop CONF ACCOUNT SECONDS INTERVAL_MS [invalidate]\n");
        return 1;
    }
    log_open("tool_token_loop", 1);
    if ((cfg = config_load(argv[1], stderr, &nerr)) == NULL
        || (acct = config_account(cfg, argv[2])) == NULL)
        return 1;
    log_set_level(cfg->log_level);
    te = token_engine_new(cfg);
    if (argc > 5 && strcmp(argv[5], "invalidate") == 0) {
        rc = invalidate(te, acct);
    } else {
        token_engine_start_refresher(te);
        rc = loop(te, acct, atol(argv[3]), atol(argv[4]));
    }
    token_engine_free(te);
    config_free(cfg);
    return rc;
}
