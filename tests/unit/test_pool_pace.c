/*
 * test_pool_pace.c - messages_per_minute pacing in the pool: off by
 * default, a burst of a tenth of the rate, then one message per interval.
 */
#include <string.h>

#include "pool/pool.h"
#include "tap.h"

int main(void)
{
    struct config cfg;
    struct conf_account acct;
    struct pool *p;
    int     burst_free = 1;
    long    waited;

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

    acct.messages_per_minute = 600;     /* one per 100 ms, bursts of 60 */
    p = pool_new(&cfg, &acct, NULL);
    for (int i = 0; i < 60; i++)
        burst_free &= pool_pace(p) == 0;
    ok(burst_free, "600 a minute: the first 60 go at once");
    waited = pool_pace(p);
    ok(waited > 0 && waited <= 100, "the 61st waits for its slot (%ld ms)", waited);
    waited = pool_pace(p);
    ok(waited > 50 && waited <= 100, "and the 62nd one interval more (%ld ms)", waited);
    pool_free(p);

    acct.messages_per_minute = 1;       /* burst at least 1 */
    p = pool_new(&cfg, &acct, NULL);
    ok(pool_pace(p) == 0, "1 a minute: the first goes at once");
    pool_free(p);
    return done_testing();
}
