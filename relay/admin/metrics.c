/*
 * metrics.c - Prometheus text format from the status document
 * (metrics.h). Each metric family is written once with its HELP and TYPE
 * lines, then one sample per account, as the format requires.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/file_replace.h"
#include "metrics.h"

/* One per-account gauge: the family, and where its value sits. */
static const struct gauge {
    const char *name;
    const char *help;
    const char *object;         /* member of the account, NULL: the account */
    const char *field;
} gauges[] = {
    {"exorelay_credential_expiry_timestamp_seconds",
     "When the account's client secret or certificate expires.", "credential", "expires"},
    {"exorelay_credential_days_left",
     "Whole days until the credential expires (negative: expired).", "credential", "days_left"},
    {"exorelay_token_expiry_timestamp_seconds",
     "When the cached access token expires.", "token", "expires"},
    {"exorelay_last_error_timestamp_seconds",
     "When the account's last deferral or refusal happened.", "last_error", "time"},
    {"exorelay_mailbox_recipients_last_day",
     "Recipients Exchange accepted for the mailbox in the last 24 hours.",
     "budget", "recipients_24h"},
    {"exorelay_mailbox_recipients_left",
     "Recipients left of the mailbox's daily_recipients budget.", "budget", "left"},
    {"exorelay_mailbox_messages_this_minute",
     "Messages the mailbox submitted in the current minute.", "budget", "messages_minute"},
    {"exorelay_mailbox_out_of_quota",
     "1 while the mailbox is left out of its pool after Exchange's quota refusal.",
     "budget", "out_of_quota"},
};

/* label - a label value escaped as the format wants (\\, \", \n) */
static void label(FILE *fp, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fprintf(fp, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", fp);
        else
            fputc(*s, fp);
    }
}

/* family - the HELP and TYPE lines */
static void family(FILE *fp, const char *name, const char *type, const char *help)
{
    fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* sample - NAME{account="A"[,KEY="V"]} VALUE */
static void sample(FILE *fp, const char *name, const char *account, const char *key,
                   const char *value, json_int_t n)
{
    fprintf(fp, "%s{account=\"", name);
    label(fp, account);
    if (key != NULL) {
        fprintf(fp, "\",%s=\"", key);
        label(fp, value);
    }
    fprintf(fp, "\"} %lld\n", (long long) n);
}

/* gauge_lines - one family over all accounts that have the value */
static void gauge_lines(FILE *fp, json_t *accounts, const struct gauge *g)
{
    size_t  i;
    json_t *a;

    family(fp, g->name, "gauge", g->help);
    json_array_foreach(accounts, i, a) {
        json_t *v = json_object_get(json_object_get(a, g->object), g->field);

        if (json_is_integer(v) || json_is_boolean(v))
            sample(fp, g->name, json_string_value(json_object_get(a, "name")),
                   NULL, NULL, json_is_boolean(v) ? json_is_true(v) : json_integer_value(v));
    }
}

/* map_lines - one family whose samples are the members of an object */
static void map_lines(FILE *fp, json_t *accounts, const char *name, const char *type,
                      const char *help, const char *object, const char *key)
{
    size_t  i;
    json_t *a, *v;
    const char *k;

    family(fp, name, type, help);
    json_array_foreach(accounts, i, a) {
        json_object_foreach(json_object_get(a, object), k, v)
            sample(fp, name, json_string_value(json_object_get(a, "name")), key, k,
                   json_integer_value(v));
    }
}

/* failing_lines - 1 for each account whose last token request failed */
static void failing_lines(FILE *fp, json_t *accounts)
{
    size_t  i;
    json_t *a;

    family(fp, "exorelay_token_failing", "gauge",
           "1 while the account's last token request failed.");
    json_array_foreach(accounts, i, a)
        sample(fp, "exorelay_token_failing", json_string_value(json_object_get(a, "name")),
               NULL, NULL, json_object_get(json_object_get(a, "token"), "failure") != NULL);
}

/* spool_lines - messages in the exorelay-sendmail spool */
static void spool_lines(FILE *fp, json_t *spool)
{
    const char *k;
    json_t *v;

    family(fp, "exorelay_spool_messages", "gauge",
           "Messages in the exorelay-sendmail spool.");
    json_object_foreach(spool, k, v)
        fprintf(fp, "exorelay_spool_messages{state=\"%s\"} %lld\n", k,
                (long long) json_integer_value(v));
}

/* metrics_render - see metrics.h */
char *metrics_render(json_t *status)
{
    json_t *accounts = json_object_get(status, "accounts");
    char   *text = NULL;
    size_t  len = 0;
    FILE   *fp = open_memstream(&text, &len);

    if (fp == NULL)
        return NULL;
    json_t *daemon = json_object_get(status, "daemon");

    family(fp, "exorelay_up", "gauge",
           "1 while the exorelay daemon runs, 0 once it stopped cleanly.");
    fprintf(fp, "exorelay_up %d\n", !json_is_true(json_object_get(daemon, "stopping")));
    if (json_object_get(daemon, "sessions") != NULL) {
        family(fp, "exorelay_client_sessions", "gauge",
               "SMTP client sessions being served (each holds a thread).");
        fprintf(fp, "exorelay_client_sessions %lld\n",
                (long long) json_integer_value(json_object_get(daemon, "sessions")));
    }
    family(fp, "exorelay_metrics_timestamp_seconds", "gauge",
           "When this file was written.");
    fprintf(fp, "exorelay_metrics_timestamp_seconds %lld\n",
            (long long) json_integer_value(json_object_get(status, "now")));
    map_lines(fp, accounts, "exorelay_messages_total", "counter",
              "Messages by outcome since the daemon started.", "counters", "outcome");
    for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
        gauge_lines(fp, accounts, &gauges[i]);
    failing_lines(fp, accounts);
    map_lines(fp, accounts, "exorelay_pool_connections", "gauge",
              "Upstream connections of the account's pool.", "pool", "state");
    spool_lines(fp, json_object_get(status, "spool"));
    if (fclose(fp) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* metrics_write - see metrics.h */
int metrics_write(const char *path, json_t *status)
{
    char   *text = metrics_render(status);
    int     rc;

    if (text == NULL)
        return -1;
    rc = file_replace(path, text, strlen(text), 0644);
    free(text);
    return rc;
}
