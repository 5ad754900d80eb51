/*
 * status_info.c - collect the facts of "exorelay status" (status_info.h).
 *
 * Token facts come from the state files (token_peek), which the daemon
 * keeps current, so they read the same with or without it; pools,
 * counters and the last error live only in the daemon.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms.h"
#include "cred_expiry.h"
#include "graph/graph.h"
#include "pool/budget.h"
#include "pool/pool.h"
#include "spool/spool.h"
#include "support/stats.h"
#include "status_info.h"
#include "token/token.h"

/* count_ids - spool files in spool_dir/sub; -1 when unreadable */
static json_int_t count_ids(const char *spool_dir, const char *sub)
{
    char    dir[4096];
    struct dirent *de;
    DIR    *d;
    json_int_t n = 0;

    snprintf(dir, sizeof(dir), "%s/%s", spool_dir, sub);
    if ((d = opendir(dir)) == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        n += spool_id_ok(de->d_name);
    closedir(d);
    return n;
}

/* spool_json - how many messages wait in each part of the spool */
static json_t *spool_json(const struct config *cfg)
{
    static const char *const parts[][2] = {
        {"waiting", "maildrop"}, {"queued", "queue"}, {"failed", "failed"},
    };
    json_t *o = json_object();

    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        json_int_t n = count_ids(cfg->spool_dir, parts[i][1]);

        if (n >= 0)
            json_object_set_new(o, parts[i][0], json_integer(n));
    }
    return o;
}

/* credential_json - kind, expiry and days left */
static json_t *credential_json(const struct config *cfg, const struct conf_account *acct,
                               time_t now)
{
    struct cred_expiry ce;
    long    days;

    if (!cred_expiry_get(acct, &ce))
        return json_pack("{s:s, s:s}", "kind", ce.kind, "problem", ce.problem);
    days = cred_days_left(ce.expires, now);
    return json_pack("{s:s, s:I, s:I, s:i}", "kind", ce.kind,
                     "expires", (json_int_t) ce.expires, "days_left", (json_int_t) days,
                     "level", alarms_level(cfg, days));
}

/* token_json - what the account's token state file says */
static json_t *token_json(const struct config *cfg, const struct conf_account *acct)
{
    struct token_diag fail;
    time_t  expires = 0, obtained = 0;
    int     cached = token_peek(cfg, acct, &expires, &obtained, &fail);
    json_t *o = json_pack("{s:b}", "cached", cached);
    char    cause[600];

    if (cached) {
        json_object_set_new(o, "expires", json_integer((json_int_t) expires));
        json_object_set_new(o, "obtained", json_integer((json_int_t) obtained));
    }
    if (fail.cause[0]) {
        token_diag_line(&fail, acct, cause, sizeof(cause));    /* who failed */
        json_object_set_new(o, "failure", json_pack("{s:s, s:s, s:b}",
                            "cause", cause, "fix", fail.fix,
                            "temporary", fail.temporary));
    }
    return o;
}

/* transport_json - the way in: configured, in use now, and since when */
static json_t *transport_json(const struct config *cfg, const struct conf_account *acct)
{
    static const char *const names[] = {"smtp", "graph", "auto"};
    json_t *o = json_pack("{s:s, s:s}", "configured", names[acct->transport],
                          "active", graph_route_active(cfg, acct) ? "graph" : "smtp");
    time_t  since = 0, expires = 0, obtained = 0;
    char    why[256];

    if (graph_route_since(cfg, acct, &since, why, sizeof(why)))
        json_object_set_new(o, "switched", json_pack("{s:I, s:s}", "time",
                            (json_int_t) since, "why", why));
    if (acct->transport != TRANSPORT_SMTP
        && token_peek_scope(cfg, acct, TOKEN_GRAPH, &expires, &obtained, NULL) == 1)
        json_object_set_new(o, "graph_token_expires", json_integer((json_int_t) expires));
    return o;
}

/* budget_json - the mailbox's use of Exchange's limits: the daemon's
 * figures (pools != NULL), else what its state file says */
static json_t *budget_json(const struct config *cfg, const struct conf_account *acct,
                           int live, time_t now)
{
    struct budget_view v = {0};
    struct budget *b;
    json_t *o = json_pack("{s:i}", "daily_recipients", acct->daily_recipients);

    if (live && (b = budget_of(acct->mailbox)) != NULL)
        budget_get(b, acct->daily_recipients, now, &v);
    else if (budget_load_view(cfg->state_dir, acct->mailbox, acct->daily_recipients,
                              now, &v) < 0)
        v.left = acct->daily_recipients;    /* no state file: nothing used yet */
    json_object_set_new(o, "recipients_24h", json_integer(v.used));
    json_object_set_new(o, "in_flight", json_integer(v.reserved));
    if (acct->daily_recipients > 0)
        json_object_set_new(o, "left", json_integer(v.left));
    json_object_set_new(o, "messages_minute", json_integer(v.messages_minute));
    json_object_set_new(o, "out_of_quota", json_boolean(v.out_until > 0));
    if (v.out_until > 0)
        json_object_set_new(o, "out_until", json_integer((json_int_t) v.out_until));
    if (v.room_at > 0)
        json_object_set_new(o, "room_at", json_integer((json_int_t) v.room_at));
    return o;
}

/* live_json - pool, counters, last error of the daemon */
static void live_json(json_t *a, struct pools *pools, const struct conf_account *acct,
                      const struct stats_account *st)
{
    struct pool *pool = pools_get(pools, acct);
    json_t *counters = json_object();
    int     open = 0, busy = 0;

    if (pool != NULL)
        pool_stats(pool, &open, &busy);
    json_object_set_new(a, "pool", json_pack("{s:i, s:i}", "open", open, "busy", busy));
    for (int c = 0; c < STATS_NCOUNTERS; c++)
        json_object_set_new(counters, stats_counter_name(c),
                            json_integer(st ? (json_int_t) st->count[c] : 0));
    json_object_set_new(a, "counters", counters);
    if (st && st->error_time)
        json_object_set_new(a, "last_error", json_pack("{s:I, s:s}", "time",
                            (json_int_t) st->error_time, "text", st->error));
}

/* find_stats - the counters of name in the snapshot, NULL when none */
static const struct stats_account *find_stats(const struct stats_account *v, size_t n,
                                              const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* status_collect - see status_info.h */
json_t *status_collect(const struct config *cfg, struct pools *pools, time_t now)
{
    struct stats_account *snap = NULL;      /* 40 KB: not for a thread's stack */
    json_t *accounts = json_array();
    size_t  nsnap = 0;

    if (pools != NULL && (snap = calloc(STATS_MAX_ACCOUNTS, sizeof(*snap))) != NULL)
        nsnap = stats_snapshot(snap, STATS_MAX_ACCOUNTS);
    for (size_t i = 0; i < cfg->naccounts; i++) {
        const struct conf_account *acct = &cfg->accounts[i];
        json_t *a = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "name", acct->name,
                              "mailbox", acct->mailbox,
                              "credential", credential_json(cfg, acct, now),
                              "token", token_json(cfg, acct),
                              "budget", budget_json(cfg, acct, pools != NULL, now),
                              "transport", transport_json(cfg, acct));

        if (pools != NULL)
            live_json(a, pools, acct, find_stats(snap, nsnap, acct->name));
        json_array_append_new(accounts, a);
    }
    free(snap);
    return json_pack("{s:s, s:I, s:n, s:o, s:o}", "config", cfg->path,
                     "now", (json_int_t) now, "daemon", "spool", spool_json(cfg),
                     "accounts", accounts);
}
