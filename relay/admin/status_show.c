/*
 * status_show.c - render the status document (status_show.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/appendf.h"
#include "cred_expiry.h"
#include "support/stats.h"
#include "status_show.h"

/* num - an integer member, def when absent */
static json_int_t num(json_t *o, const char *key, json_int_t def)
{
    json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? json_integer_value(v) : def;
}

/* str - a string member, "" when absent */
static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

/* stamp - "2027-06-25 12:00:00 UTC" */
static char *stamp(json_int_t t, char *buf, size_t size)
{
    time_t  tt = (time_t) t;
    struct tm tm;

    strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&tt, &tm));
    return buf;
}

/* duration - "3d 4h", "2h 5m", "42m", "17s" */
static char *duration(long long s, char *buf, size_t size)
{
    if (s >= 86400)
        snprintf(buf, size, "%lldd %lldh", s / 86400, s % 86400 / 3600);
    else if (s >= 3600)
        snprintf(buf, size, "%lldh %lldm", s / 3600, s % 3600 / 60);
    else if (s >= 60)
        snprintf(buf, size, "%lldm", s / 60);
    else
        snprintf(buf, size, "%llds", s);
    return buf;
}

/* credential_text - "client secret expires in 9 days (2027-07-04)" */
static char *credential_text(json_t *cred, char *buf, size_t size)
{
    char    when[96];

    if (json_object_get(cred, "expires") == NULL)
        snprintf(buf, size, "%s: expiry unknown (%s)", str(cred, "kind"),
                 str(cred, "problem"));
    else
        snprintf(buf, size, "%s %s", str(cred, "kind"),
                 cred_when((long) num(cred, "days_left", 0), (time_t) num(cred, "expires", 0),
                           when, sizeof(when)));
    return buf;
}

/* token_text - the cached token and the last failure */
static void print_token(FILE *fp, json_t *tok, json_int_t now)
{
    char    b1[64], b2[32];
    json_t *fail = json_object_get(tok, "failure");
    json_int_t exp = num(tok, "expires", 0);

    if (json_is_true(json_object_get(tok, "cached")) && exp > now)
        fprintf(fp, "  token       valid until %s (%s left)\n", stamp(exp, b1, sizeof(b1)),
                duration(exp - now, b2, sizeof(b2)));
    else
        fprintf(fp, "  token       none cached (fetched when mail needs one)\n");
    if (fail != NULL)
        fprintf(fp, "  token error %s\n              fix: %s\n", str(fail, "cause"),
                str(fail, "fix"));
}

/* print_transport - SMTP or Graph, and an auto switch */
static void print_transport(FILE *fp, json_t *t)
{
    json_t *sw = json_object_get(t, "switched");
    char    buf[64];

    if (t == NULL)
        return;
    fprintf(fp, "  transport   %s", str(t, "active"));
    if (sw != NULL)
        fprintf(fp, " (auto: switched to Microsoft Graph %s after %s)",
                stamp(num(sw, "time", 0), buf, sizeof(buf)), str(sw, "why"));
    else if (strcmp(str(t, "configured"), str(t, "active")) != 0)
        fprintf(fp, " (%s)", str(t, "configured"));
    fprintf(fp, "\n");
}

/* print_budget - the mailbox's use of Exchange's limits */
static void print_budget(FILE *fp, json_t *b)
{
    char    when[64];

    if (b == NULL)
        return;
    fprintf(fp, "  budget      %lld recipients in 24 h", (long long) num(b, "recipients_24h", 0));
    if (json_object_get(b, "left") != NULL)
        fprintf(fp, " of %lld, %lld left", (long long) num(b, "daily_recipients", 0),
                (long long) num(b, "left", 0));
    fprintf(fp, "; %lld messages this minute\n", (long long) num(b, "messages_minute", 0));
    if (json_is_true(json_object_get(b, "out_of_quota")))
        fprintf(fp, "  quota       OUT: Exchange refused with its daily quota; left out of"
                " its pool until %s\n", stamp(num(b, "out_until", 0), when, sizeof(when)));
    else if (json_object_get(b, "room_at") != NULL)
        fprintf(fp, "  quota       budget spent; room again at %s\n",
                stamp(num(b, "room_at", 0), when, sizeof(when)));
}

/* print_account - one account's block */
static void print_account(FILE *fp, json_t *a, json_int_t now)
{
    char    buf[512];
    json_t *pool = json_object_get(a, "pool"), *c = json_object_get(a, "counters");
    json_t *err = json_object_get(a, "last_error");

    fprintf(fp, "\naccount %s (%s)\n", str(a, "name"), str(a, "mailbox"));
    fprintf(fp, "  credential  %s\n", credential_text(json_object_get(a, "credential"),
                                                   buf, sizeof(buf)));
    print_token(fp, json_object_get(a, "token"), now);
    print_transport(fp, json_object_get(a, "transport"));
    print_budget(fp, json_object_get(a, "budget"));
    if (pool != NULL)
        fprintf(fp, "  pool        %lld open, %lld busy\n", (long long) num(pool, "open", 0),
                (long long) num(pool, "busy", 0));
    if (c != NULL) {
        fprintf(fp, "  messages   ");
        for (int i = 0; i < STATS_NCOUNTERS; i++)
            fprintf(fp, "%s %lld %s", i ? "," : "",
                    (long long) num(c, stats_counter_name(i), 0), stats_counter_name(i));
        fprintf(fp, "\n");
    }
    if (err != NULL)
        fprintf(fp, "  last error  %s: %s\n", stamp(num(err, "time", 0), buf, sizeof(buf)),
                str(err, "text"));
}

/* status_print - see status_show.h */
void status_print(FILE *fp, json_t *st)
{
    json_t *d = json_object_get(st, "daemon"), *spool = json_object_get(st, "spool");
    json_int_t now = num(st, "now", 0);
    size_t  i;
    json_t *a;
    char    b[32];

    if (json_is_object(d))
        fprintf(fp, "exorelay %s running, pid %lld, up %s, %lld client session%s\n",
                str(d, "version"), (long long) num(d, "pid", 0),
                duration(now - num(d, "started", now), b, sizeof(b)),
                (long long) num(d, "sessions", 0), num(d, "sessions", 0) == 1 ? "" : "s");
    else if (json_is_true(json_object_get(st, "unanswered")))
        fprintf(fp, "exorelay runs but does not answer (%s); what is on disk:\n",
                str(st, "why"));
    else
        fprintf(fp, "exorelay is not running (%s); what is on disk:\n", str(st, "why"));
    fprintf(fp, "config      %s\n", str(st, "config"));
    if (json_object_size(spool) > 0)
        fprintf(fp, "spool       %lld waiting, %lld queued, %lld failed\n",
                (long long) num(spool, "waiting", 0), (long long) num(spool, "queued", 0),
                (long long) num(spool, "failed", 0));
    json_array_foreach(json_object_get(st, "accounts"), i, a)
        print_account(fp, a, now);
}

/* What --check found: the worst level, the problems, the figures. */
struct verdict {
    int     level;
    char    text[1024];
    char    perf[1024];
};

/* problem - note one finding at level */
static void problem(struct verdict *v, int level, const char *account, const char *what)
{
    appendf(v->text, sizeof(v->text), "%s%s%s%s", v->text[0] ? "; " : "",
           account ? account : "", account ? ": " : "", what);
    if (level > v->level)
        v->level = level;
}

/* check_credential - expiry against [alarms] */
static void check_credential(const struct config *cfg, struct verdict *v, json_t *a)
{
    json_t *cred = json_object_get(a, "credential");
    const char *name = str(a, "name");
    long    days = (long) num(cred, "days_left", 0);
    int     warn = -1;
    char    buf[512];

    for (size_t i = 0; i < cfg->nalarm_days; i++)
        if (cfg->alarm_days[i] > warn)
            warn = cfg->alarm_days[i];
    credential_text(cred, buf, sizeof(buf));
    if (json_object_get(cred, "expires") == NULL) {
        if (strcmp(str(cred, "kind"), "certificate") == 0)
            problem(v, CHECK_WARNING, name, buf);
        return;
    }
    appendf(v->perf, sizeof(v->perf), "%s'%s_credential_days'=%ld;%d;%d",
           v->perf[0] ? " " : "", name, days, warn, cfg->alarm_critical_days);
    if (days <= cfg->alarm_critical_days)
        problem(v, CHECK_CRITICAL, name, buf);
    else if (days <= warn)
        problem(v, CHECK_WARNING, name, buf);
}

/* check_token - a failing token request */
static void check_token(struct verdict *v, json_t *a, json_int_t now)
{
    json_t *tok = json_object_get(a, "token"), *fail = json_object_get(tok, "failure");
    int     usable = json_is_true(json_object_get(tok, "cached"))
        && num(tok, "expires", 0) > now;
    char    buf[400];

    if (fail == NULL)
        return;
    snprintf(buf, sizeof(buf), "token request fails: %s", str(fail, "cause"));
    problem(v, json_is_true(json_object_get(fail, "temporary")) || usable
            ? CHECK_WARNING : CHECK_CRITICAL, str(a, "name"), buf);
}

/* check_counters - figures only: monitors graph them */
static void check_counters(struct verdict *v, json_t *a)
{
    json_t *c = json_object_get(a, "counters");

    for (int i = 1; c != NULL && i < STATS_NCOUNTERS; i++)
        appendf(v->perf, sizeof(v->perf), " '%s_%s'=%lldc", str(a, "name"),
               stats_counter_name(i), (long long) num(c, stats_counter_name(i), 0));
}

/* find_account - the status entry of account name */
static json_t *find_account(json_t *st, const char *name)
{
    size_t  i;
    json_t *a;

    json_array_foreach(json_object_get(st, "accounts"), i, a)
        if (strcmp(str(a, "name"), name) == 0)
            return a;
    return NULL;
}

/* check_pool - recipients used of a pool's budget (its accounts' sum):
 * WARNING from 80 %, CRITICAL when spent; a mailbox out of quota WARNING */
static void check_pool(struct verdict *v, json_t *st, const char *what,
                       char *const *names, size_t n)
{
    long long used = 0, limit = 0;
    char    buf[300];

    for (size_t i = 0; i < n; i++) {
        json_t *b = json_object_get(find_account(st, names[i]), "budget");

        if (json_is_true(json_object_get(b, "out_of_quota"))) {
            snprintf(buf, sizeof(buf), "out of Exchange's daily quota");
            problem(v, CHECK_WARNING, names[i], buf);
        }
        if (num(b, "daily_recipients", 0) <= 0)
            return;                     /* no limit: nothing to run out of */
        used += num(b, "recipients_24h", 0) + num(b, "in_flight", 0);
        limit += num(b, "daily_recipients", 0);
    }
    if (limit <= 0 || used * 100 < limit * 80)
        return;
    snprintf(buf, sizeof(buf), "%lld of %lld daily recipients used (%lld%%)", used,
             limit, used * 100 / limit);
    problem(v, used >= limit ? CHECK_CRITICAL : CHECK_WARNING, what, buf);
}

/* in_pool - is account name one of a class's pool of several? */
static int in_pool(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nclasses; i++)
        for (size_t j = 0; cfg->classes[i].accounts.n > 1 && j < cfg->classes[i].accounts.n; j++)
            if (strcmp(cfg->classes[i].accounts.v[j], name) == 0)
                return 1;
    return 0;
}

/* check_pools - every class's pool, and each other account on its own */
static void check_pools(const struct config *cfg, struct verdict *v, json_t *st)
{
    char    what[160];

    for (size_t i = 0; i < cfg->nclasses; i++) {
        const struct conf_class *c = &cfg->classes[i];

        if (c->accounts.n < 2)
            continue;
        snprintf(what, sizeof(what), "pool of class %s", c->name);
        check_pool(v, st, what, c->accounts.v, c->accounts.n);
    }
    for (size_t i = 0; i < cfg->naccounts; i++)
        if (!in_pool(cfg, cfg->accounts[i].name))
            check_pool(v, st, cfg->accounts[i].name, &cfg->accounts[i].name, 1);
}

/* status_check - see status_show.h */
int status_check(const struct config *cfg, json_t *st, char *line, size_t size)
{
    static const char *const names[] = {"OK", "WARNING", "CRITICAL"};
    struct verdict v = { CHECK_OK, "", "" };
    json_int_t now = num(st, "now", 0);
    size_t  i;
    json_t *a;

    if (json_is_true(json_object_get(st, "unanswered")))
        problem(&v, CHECK_CRITICAL, NULL, "relay does not answer on its control socket");
    else if (!json_is_object(json_object_get(st, "daemon")))
        problem(&v, CHECK_CRITICAL, NULL, "relay not running");
    json_array_foreach(json_object_get(st, "accounts"), i, a) {
        check_credential(cfg, &v, a);
        check_token(&v, a, now);
        check_counters(&v, a);
    }
    check_pools(cfg, &v, st);
    if (v.level == CHECK_OK)
        snprintf(v.text, sizeof(v.text), "%zu account%s, credentials and tokens fine",
                 json_array_size(json_object_get(st, "accounts")),
                 json_array_size(json_object_get(st, "accounts")) == 1 ? "" : "s");
    snprintf(line, size, "EXORELAY %s - %s%s%s", names[v.level], v.text,
             v.perf[0] ? " | " : "", v.perf);
    return v.level;
}
