/*
 * test_pool_pick.c - account pools (pool/pick.h, pool/budget.h): the
 * first account with room wins; a spent daily_recipients budget, a
 * messages_per_minute pace that would wait and a mailbox out of quota
 * hand the message to the next; reservations keep concurrent messages
 * from overdrawing; when every mailbox is spent the 452 says when room
 * comes back; the counts are written to state_dir and read back.
 * No network: pools are made but never asked for a connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pool/pick.h"
#include "tap.h"

static struct config *load(const char *dir)
{
    char path[512], secret[512];
    int nerr = 0;
    FILE *fp;

    snprintf(secret, sizeof(secret), "%s/pick.secret", dir);
    fp = fopen(secret, "w");
    fputs("s3cret\n", fp);
    fclose(fp);
    chmod(secret, 0600);
    snprintf(path, sizeof(path), "%s/pick.conf", dir);
    fp = fopen(path, "w");
    fprintf(fp, "[relay]\nuser =\nstate_dir = %s\nspool_dir = %s\n", dir, dir);
    for (int i = 1; i <= 3; i++)
        fprintf(fp, "[account relay%d]\ntenant = contoso.onmicrosoft.com\n"
                "client_id = 5d4be59c-2ee2-4131-87c5-4ed854c19cef\n"
                "client_secret_file = %s\nmailbox = relay%d@contoso.onmicrosoft.com\n"
                "daily_recipients = 4\n%s", i, secret, i,
                i == 3 ? "messages_per_minute = 6\n" : "");
    fprintf(fp, "[class bulk]\nmatch_from = bulk@*\naccount = relay1, relay2, relay3\n"
            "send_as = alerts@contoso.onmicrosoft.com\n");
    fclose(fp);
    return config_load(path, stderr, &nerr);
}

static const char *pick_name(struct pools *pools, const struct route *r, size_t nrcpt,
                             struct pick *pk, struct smtp_reply *err)
{
    return pool_pick(pools, r, nrcpt, NULL, pk, err) == 0 ? pk->acct->name : "none";
}

int main(void)
{
    const char *dir = getenv("TESTS_TMP") ? getenv("TESTS_TMP") : "/tmp";
    struct config *cfg;
    struct pools *pools;
    struct route r;
    struct pick a, b, c;
    struct smtp_reply err;
    struct budget_view v;
    const struct conf_class *cls;

    budget_persist(dir);
    cfg = load(dir);
    ok(cfg != NULL, "a config with a pool of three accounts loads");
    if (cfg == NULL)
        return done_testing();
    cls = config_class(cfg, "bulk");
    is_int(cls->accounts.n, 3, "class account = relay1, relay2, relay3: three names");
    is_str(cls->account, "relay1", "... the first one is still class.account");
    is_int(cfg->accounts[0].daily_recipients, 4, "daily_recipients is read");
    pools = pools_new(cfg, NULL);
    r.n = 0;
    for (size_t i = 0; i < cls->accounts.n; i++)
        r.v[r.n++] = config_account(cfg, cls->accounts.v[i]);

    is_str(pick_name(pools, &r, 3, &a, &err), "relay1", "light load: the first account");
    is_str(pick_name(pools, &r, 2, &b, &err), "relay2",
           "its budget is reserved by a message in flight: the next account");
    /* "this minute" is the clock's minute: note the minute around each
     * message's count, so a minute boundary inside the test changes the
     * expectation, not the verdict */
    time_t  before1, after1, before2, after2, now;
    int     least, most;

    before1 = time(NULL);
    pick_settle(&a, 3, 0);
    after1 = time(NULL);
    is_str(pick_name(pools, &r, 1, &a, &err), "relay1", "1 of its 4 left: relay1 again");
    before2 = time(NULL);
    pick_settle(&a, 1, 0);
    after2 = time(NULL);
    pick_settle(&b, 2, 0);
    now = time(NULL);
    budget_get(budget_of("relay1@contoso.onmicrosoft.com"), 4, now, &v);
    is_int(v.used, 4, "relay1: 4 recipients counted");
    is_int(v.left, 0, "relay1: none left");
    least = (before1 / 60 == now / 60) + (before2 / 60 == now / 60);
    most = (after1 / 60 == now / 60) + (after2 / 60 == now / 60);
    ok(v.messages_minute >= least && v.messages_minute <= most,
       "relay1: its 2 messages, as far as they fall in this minute (%ld)",
       v.messages_minute);

    is_str(pick_name(pools, &r, 2, &a, &err), "relay2", "relay1 spent: relay2");
    ok(pick_keep(&a, 3) < 0, "pick_keep: 3 recipients do not fit relay2's 2 left");
    ok(pick_keep(&a, 1) == 0, "pick_keep: 1 does");
    pick_settle(&a, 0, 1);
    budget_get(budget_of("relay2@contoso.onmicrosoft.com"), 4, time(NULL), &v);
    ok(v.out_until > time(NULL), "a quota refusal takes relay2 out");
    ok(v.out_until <= time(NULL) + BUDGET_WINDOW, "... until its window frees up");

    is_str(pick_name(pools, &r, 1, &a, &err), "relay3", "relay1 spent, relay2 out: relay3");
    pool_pace(a.pool);                  /* the message is paced */
    ok(pool_pace_delay(a.pool) > 0, "relay3's pace (6 a minute) would now wait");
    is_str(pick_name(pools, &r, 1, &b, &err), "relay3",
           "... still picked: the only one with budget waits for its pace");
    pick_settle(&b, 0, 0);
    pick_settle(&a, 1, 0);
    is_str(pick_name(pools, &r, 4, &c, &err), "none",
           "4 recipients: no mailbox of the pool has room");
    is_int(err.code, 452, "... 452");
    ok(strstr(err.text, "room again at 20") != NULL && strstr(err.text, " UTC") != NULL,
       "... saying when room comes back: %s", err.text);
    is_str(pick_name(pools, &r, 5, &c, &err), "none", "5 recipients: more than any budget");
    ok(strstr(err.text, "more than the daily_recipients budget") != NULL,
       "... says so: %s", err.text);

    budget_flush(1);
    ok(budget_load_view(dir, "relay1@contoso.onmicrosoft.com", 4, time(NULL), &v) == 0
       && v.used == 4, "relay1's count is in state_dir (%ld)", v.used);
    ok(budget_load_view(dir, "RELAY2@contoso.onmicrosoft.com", 4, time(NULL), &v) == 0
       && v.out_until > time(NULL), "relay2's out-of-quota time too");
    ok(budget_load_view(dir, "nobody@contoso.onmicrosoft.com", 4, time(NULL), &v) < 0,
       "no file for a mailbox never used");

    pools_free(pools);
    config_free(cfg);
    return done_testing();
}
