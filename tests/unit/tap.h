/*
 * tap.h - minimal TAP output for the C unit tests (tests/run counts it).
 *
 *	ok(cond, fmt, ...)	one test line: "ok N - ..." or "not ok N - ..."
 *	is_int(got, want, name), is_str(got, want, name)
 *	done_testing()		"1..N" and the exit status (non-zero on failure)
 */
#ifndef EXORELAY_TAP_H
#define EXORELAY_TAP_H

#include <stdio.h>
#include <stdarg.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static inline void __attribute__((format(printf, 4, 5)))
tap_ok(int good, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    printf("%sok %d - ", good ? "" : "not ", ++tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!good) {
        tap_failed++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
}

#define is_int(got, want, name) do { long long g_ = (got), w_ = (want); \
    ok(g_ == w_, "%s", name); \
    if (g_ != w_) printf("#   got %lld, want %lld\n", g_, w_); } while (0)

#define is_str(got, want, name) do { const char *g_ = (got), *w_ = (want); \
    int same_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_; \
    ok(same_, "%s", name); \
    if (!same_) printf("#   got  '%s'\n#   want '%s'\n", g_ ? g_ : "(null)", \
                       w_ ? w_ : "(null)"); } while (0)

#define done_testing() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

#endif
