/*
 * test_ops.c - the pure parts of the operations commands: days left and
 * their wording, alarm thresholds, exit statuses of "exorelay test", the
 * SendAs diagnosis, message counters, the metrics text and the --check
 * verdict.
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "admin/alarms.h"
#include "admin/cred_expiry.h"
#include "admin/livetest.h"
#include "admin/metrics.h"
#include "support/stats.h"
#include "admin/status_show.h"
#include "tap.h"
#include "upstream/upstream_diag.h"

/* days - the expiry arithmetic around the end of a day (23:59:59 UTC) */
static void days(void)
{
    time_t  end = 1909094399;           /* 2030-06-30 23:59:59 UTC */
    char    buf[96];

    is_int(cred_days_left(end, end - 12 * 3600), 0, "noon of the last day: 0 days");
    is_int(cred_days_left(end, end), 0, "its last second: 0 days");
    is_int(cred_days_left(end, end + 1), -1, "a second later: expired (-1)");
    is_int(cred_days_left(end, end - 86400 - 12 * 3600), 1, "noon the day before: 1");
    is_int(cred_days_left(end, end - 30 * 86400 - 3600), 30, "30 days and an hour: 30");
    is_int(cred_days_left(end, end + 2 * 86400 + 1), -3, "2 days and a second after: -3");
    is_str(cred_when(7, end, buf, sizeof(buf)), "expires in 7 days (2030-06-30)", "7 days");
    is_str(cred_when(1, end, buf, sizeof(buf)), "expires in 1 day (2030-06-30)", "1 day");
    is_str(cred_when(0, end, buf, sizeof(buf)), "expires today (2030-06-30)", "today");
    is_str(cred_when(-2, end, buf, sizeof(buf)), "EXPIRED 2 days ago (2030-06-30)", "expired");
}

/* levels - the most urgent threshold reached, thresholds in any order */
static void levels(void)
{
    int     d[] = {7, 30, 0, 14};
    struct config cfg = { .alarm_days = d, .nalarm_days = 4 };

    is_int(alarms_level(&cfg, 31), -1, "31 days: no threshold");
    is_int(alarms_level(&cfg, 30), 30, "30 days: 30");
    is_int(alarms_level(&cfg, 15), 30, "15 days: still 30");
    is_int(alarms_level(&cfg, 5), 7, "5 days: 7 (one alarm, not three)");
    is_int(alarms_level(&cfg, 0), 0, "0 days: 0");
    is_int(alarms_level(&cfg, -4), 0, "expired: 0");
}

/* exits - which kind of fault ends "exorelay test" */
static void exits(void)
{
    struct token_diag td = {0};

    is_int(lt_exit_for_reply("config", ""), EX_CONFIG, "config: 78");
    is_int(lt_exit_for_reply("connect", "451 4.4.1 exorelay: no answer"), EX_UNAVAILABLE,
           "connect: 69");
    is_int(lt_exit_for_reply("AUTH", "535 5.7.3 Authentication unsuccessful"), EX_NOPERM,
           "AUTH 535: 77");
    is_int(lt_exit_for_reply("AUTH", "432 4.3.2 Concurrent connections limit exceeded."),
           EX_UNAVAILABLE, "AUTH 432: 69");
    is_int(lt_exit_for_reply("AUTH", "504 5.7.4 Unrecognized authentication type"),
           EX_CONFIG, "AUTH 504 (not Exchange): 78");
    is_int(lt_exit_for_reply("message", "554 5.2.252 SendAsDenied; x"), EX_NOPERM,
           "message SendAs: 77");
    is_int(lt_exit_for_reply("message", "550 5.1.10 RESOLVER.ADR.RecipientNotFound"),
           EX_UNAVAILABLE, "message, other refusal: 69");
    td.aadsts = 7000215;
    is_int(lt_exit_for_token(&td), EX_NOPERM, "AADSTS7000215: 77");
    td.aadsts = 90002;
    is_int(lt_exit_for_token(&td), EX_CONFIG, "AADSTS90002: 78");
    td.aadsts = 1002012;
    is_int(lt_exit_for_token(&td), EX_CONFIG, "AADSTS1002012: 78");
    td.temporary = 1;
    is_int(lt_exit_for_token(&td), EX_UNAVAILABLE, "temporary: 69");
}

/* sendas - the 554 5.2.252 diagnosis keeps the code and names both fixes */
static void sendas(void)
{
    struct conf_account acct = { .name = "main",
        .mailbox = "notifications-it-department@contoso.onmicrosoft.com" };
    struct smtp_reply up, r = {0}, old;

    smtp_reply_set(&up, 554, "5.2.252", "SendAsDenied; %s not allowed to send as x", acct.mailbox);
    ok(diag_sendas(&r, &acct, "monitoring-alerts.datacenter@example-holding.com", &up),
       "5.2.252 is a SendAs refusal");
    ok(r.code == 554 && strcmp(r.enhanced, "5.2.252") == 0, "its code stays 554 5.2.252");
    ok(strstr(r.text, "Add-RecipientPermission") && strstr(r.text, "-AccessRights SendAs")
       && strstr(r.text, "rewrite the sender") && strlen(r.text) <= DIAG_TEXT_MAX
       && strcmp(r.text + strlen(r.text) - 3, "..."),
       "names the milter rewrite and Add-RecipientPermission, whole (%zu chars)", strlen(r.text));
    smtp_reply_set(&old, 554, "5.2.0", "STOREDRV.Submission.Exception:SendAsDeniedException.Mapi");
    ok(diag_sendas(&r, &acct, "a@example.com", &old), "the older 5.2.0 SendAsDeniedException too");
    smtp_reply_set(&old, 550, "5.1.10", "RESOLVER.ADR.RecipientNotFound");
    ok(!diag_sendas(&r, &acct, "a@example.com", &old), "a recipient refusal is not SendAs");
}

/* counters - per account, by final reply */
static void counters(void)
{
    struct stats_account v[4];
    struct smtp_reply r;
    size_t  n;

    smtp_reply_set(&r, 250, "2.0.0", "OK");
    stats_message("a", &r);
    stats_message("a", &r);
    smtp_reply_set(&r, 451, "4.4.1", "exorelay: no answer");
    stats_message("a", &r);
    smtp_reply_set(&r, 554, "5.6.0", "Corrupt");
    stats_message("b", &r);
    n = stats_snapshot(v, 4);
    is_int(n, 2, "two accounts counted");
    ok(v[0].count[STATS_ACCEPTED] == 3 && v[0].count[STATS_RELAYED] == 2
       && v[0].count[STATS_DEFERRED] == 1 && v[0].count[STATS_REFUSED] == 0,
       "a: 3 accepted, 2 relayed, 1 deferred");
    is_str(v[0].error, "451 4.4.1 exorelay: no answer", "a: last error is the 451");
    ok(v[1].count[STATS_REFUSED] == 1 && v[1].error_time != 0, "b: 1 refused, with its time");
}

/* sample - a status document like the daemon's */
static json_t *sample(long days_left, int failing)
{
    json_t *st = json_loads("{\"now\": 1800000000, \"daemon\": {\"pid\": 1},"
        " \"spool\": {\"queued\": 2},"
        " \"accounts\": [{\"name\": \"main\", \"mailbox\": \"m@x\","
        "   \"credential\": {\"kind\": \"client secret\", \"expires\": 1900000000},"
        "   \"token\": {\"cached\": true, \"expires\": 1800003000},"
        "   \"pool\": {\"open\": 2, \"busy\": 1},"
        "   \"counters\": {\"accepted\": 5, \"relayed\": 4, \"deferred\": 1, \"refused\": 0}}]}",
        0, NULL);
    json_t *a = json_array_get(json_object_get(st, "accounts"), 0);

    json_object_set_new(json_object_get(a, "credential"), "days_left", json_integer(days_left));
    if (failing)
        json_object_set_new(json_object_get(a, "token"), "failure",
                            json_pack("{s:s, s:s, s:b}", "cause", "the client secret is wrong",
                                      "fix", "f", "temporary", 0));
    return st;
}

/* metrics - the text format */
static void metrics(void)
{
    json_t *st = sample(100, 0);
    char   *text = metrics_render(st);

    ok(text && strstr(text, "# TYPE exorelay_messages_total counter\n"
                      "exorelay_messages_total{account=\"main\",outcome=\"accepted\"} 5\n"),
       "counters: one family, one sample per outcome");
    ok(text && strstr(text, "exorelay_credential_days_left{account=\"main\"} 100\n")
       && strstr(text, "exorelay_credential_expiry_timestamp_seconds{account=\"main\"} 1900000000\n")
       && strstr(text, "exorelay_pool_connections{account=\"main\",state=\"busy\"} 1\n")
       && strstr(text, "exorelay_spool_messages{state=\"queued\"} 2\n")
       && strstr(text, "exorelay_token_failing{account=\"main\"} 0\n"),
       "gauges: credential, pool, spool, token");
    ok(text && strstr(text, "# TYPE exorelay_last_error_timestamp_seconds gauge\n# HELP"),
       "a gauge without samples is just its HELP and TYPE");
    free(text);
    json_decref(st);
}

/* verdicts - status --check */
static void verdicts(void)
{
    int     d[] = {30, 14, 7, 3, 1, 0};
    struct config cfg = { .alarm_days = d, .nalarm_days = 6, .alarm_critical_days = 7 };
    char    line[2200];
    json_t *st;

    st = sample(31, 0);
    is_int(status_check(&cfg, st, line, sizeof(line)), CHECK_OK, "31 days: OK");
    ok(strncmp(line, "EXORELAY OK - 1 account, credentials and tokens fine | 'main_credential_days'=31;30;7 'main_relayed'=4c", 95) == 0, "%s", line);
    json_decref(st);
    st = sample(30, 0);
    is_int(status_check(&cfg, st, line, sizeof(line)), CHECK_WARNING, "30 days: WARNING");
    json_decref(st);
    st = sample(7, 0);
    is_int(status_check(&cfg, st, line, sizeof(line)), CHECK_CRITICAL, "7 days: CRITICAL");
    json_decref(st);
    st = sample(100, 1);
    is_int(status_check(&cfg, st, line, sizeof(line)), CHECK_WARNING,
           "a failing token request with a valid token left: WARNING");
    json_object_set_new(json_object_get(json_array_get(json_object_get(st, "accounts"), 0),
                                        "token"), "cached", json_false());
    is_int(status_check(&cfg, st, line, sizeof(line)), CHECK_CRITICAL,
           "... and with none left: CRITICAL");
    json_object_set_new(st, "daemon", json_null());
    json_object_del(json_object_get(json_array_get(json_object_get(st, "accounts"), 0),
                                    "token"), "failure");
    is_int(status_check(&cfg, st, line, sizeof(line)), CHECK_CRITICAL, "no daemon: CRITICAL");
    ok(strstr(line, "relay not running") != NULL, "%s", line);
    json_decref(st);
}

int main(void)
{
    days();
    levels();
    exits();
    sendas();
    counters();
    metrics();
    verdicts();
    return done_testing();
}
