/*
 * test_token_sched.c - when tokens are refreshed and how failures back off.
 */
#include <stdio.h>

#include "tap.h"
#include "token/token_int.h"

int main(void)
{
    time_t t0 = 1700000000;

    is_int(token_refresh_at(t0, t0 + 3600) - t0, 2700, "1 h token: refresh at 75% (45 min)");
    is_int(token_refresh_at(t0, t0 + 3599) - t0, 2700, "3599 s token: at 75%");
    is_int(token_refresh_at(t0, t0 + 86400) - t0, 64800, "1 day token: at 75%");
    is_int(token_refresh_at(t0, t0 + 600) - t0, 300, "10 min token: 5 min before expiry");
    is_int(token_refresh_at(t0, t0 + 1200) - t0, 900, "20 min token: 5 min before expiry");
    ok(token_refresh_at(t0, t0 + 120) - t0 == 30, "2 min token: at 30 s, leaving 90 s");
    for (long life = 100; life <= 90000; life += 7) {
        time_t at = token_refresh_at(t0, t0 + life);
        if (at < t0 || t0 + life - at < TOKEN_MIN_VALID + 30
            || (life >= 1200 && (t0 + life - at < 300 || at - t0 > life * 3 / 4 + 1))) {
            ok(0, "lifetime %ld: refresh at %ld is out of policy", life, (long) (at - t0));
            break;
        }
        if (life + 7 > 90000)
            ok(1, "every lifetime 100 s..25 h: refresh after start, >= 90 s before expiry, "
               "and (>= 20 min) by 75%% and >= 5 min before expiry");
    }
    is_int(token_refresh_at(t0, t0) , t0, "zero lifetime: at once");

    int prev_max = 0, ok_growth = 1, ok_bounds = 1;
    for (int f = 1; f <= 12; f++) {
        int lo = 1 << 30, hi = 0;
        for (int k = 0; k < 200; k++) {
            int d = token_backoff(f, 0, 1, 100000);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        if (hi > 300 || lo < 2)
            ok_bounds = 0;
        if (f <= 6 && hi < prev_max)
            ok_growth = 0;
        prev_max = hi;
        if (f == 1)
            ok(lo >= 2 && hi <= 5, "first backoff is 2-5 s (%d-%d)", lo, hi);
        if (f == 4)
            ok(lo < hi, "backoff has jitter (%d-%d)", lo, hi);
    }
    ok(ok_bounds, "outage backoff stays within 2..300 s");
    ok(ok_growth, "backoff grows with each failure");
    ok(token_backoff(20, 0, 0, 0) <= 60, "credential errors back off at most a minute");
    int worst = 0;
    for (int k = 0; k < 200; k++) {
        int d = token_backoff(20, 0, 1, 0);
        worst = d > worst ? d : worst;
    }
    ok(worst <= 60 && worst >= 30, "no token at all: an outage backs off at most a minute (%d)", worst);
    is_int(token_backoff(1, 120, 1, 0), 120, "Retry-After is honoured");
    is_int(token_backoff(1, 120, 1, 30), 120, "Retry-After wins even when the token runs short");
    ok(token_backoff(30, 1, 1, 0) > 1, "a small Retry-After does not shorten the backoff");
    ok(token_backoff(10, 0, 1, 20) <= 10, "at most half the room the current token has left");
    is_int(token_backoff(10, 0, 1, 1), 1, "but at least a second");
    ok(token_backoff(10, 0, 1, 100000) >= 150, "plenty of room: the normal backoff");
    return done_testing();
}
