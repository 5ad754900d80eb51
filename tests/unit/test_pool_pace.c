/*
 * test_pool_pace.c - messages_per_minute pacing in the pool: off by
 * default, a burst of a tenth of the rate, then one message per interval.
 */
#include <string.h>

#include "pool/pace.h"
#include "pool/pool.h"
#include "tap.h"

int main(void)
{
    struct config cfg;
    struct conf_account acct;
    struct pool *p;
    int     burst_free = 1;

    memset(&cfg, 0, sizeof(cfg));
    memset(&acct, 0, sizeof(acct));
    cfg.pool_idle = 60;
    acct.name = "main";
    acct.max_connections = 3;

    p = pool_new(&cfg, &acct, NULL);
    for (int i = 0; i < 100; i++)
        burst_free &= pool_pace(p) == 0;
    ok(burst_free, "messages_per_minute = 0: never waits");
    pool_free(p);

    /* the pace itself, on a clock of the test's own: no dependence on
     * how fast this machine runs the loop */
    {
        double  tat = 0, now = 1000.0, w;

        for (int i = 0; i < 60; i++)
            burst_free &= pace_slot(&tat, 600, now, 1) < 1e-9;
        ok(burst_free, "600 a minute: the first 60 go at once");
        w = pace_slot(&tat, 600, now, 1);
        ok(w > 0.099 && w < 0.101, "the 61st waits one interval (%.3f s)", w);
        w = pace_slot(&tat, 600, now, 1);
        ok(w > 0.199 && w < 0.201, "and the 62nd one more (%.3f s)", w);
        ok(pace_slot(&tat, 600, now + 0.3, 0) < 1e-9 &&
           pace_slot(&tat, 600, now + 0.25, 0) > 0,
           "the slot comes when its time does, not before");
        now += 60;
        w = pace_slot(&tat, 600, now, 0);
        ok(w <= 0, "a minute later a new burst may go (%.3f s)", w);
        /* senders as eager as allowed: each goes when its slot comes */
        {
            double  t = now, sent_at;
            int     in_minute = 0;

            tat = 0;
            for (int i = 0; i < 2000; i++) {
                w = pace_slot(&tat, 600, t, 1);
                sent_at = w > 0 ? t + w : t;
                t = sent_at;
                if (sent_at < now + 60.0)
                    in_minute++;
            }
            ok(in_minute >= 600 && in_minute <= 660,
               "eager senders: %d in the first 60 s (rate 600, burst 60)", in_minute);
        }
    }

    acct.messages_per_minute = 1;       /* burst at least 1 */
    p = pool_new(&cfg, &acct, NULL);
    ok(pool_pace(p) == 0, "1 a minute: the first goes at once");
    pool_free(p);
    return done_testing();
}
