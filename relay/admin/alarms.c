/*
 * alarms.c - when to warn about an expiring credential, and remembering
 * that it was done (alarms.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alarm_mail.h"
#include "alarms.h"
#include "cred_expiry.h"
#include "support/file_replace.h"
#include "common/log.h"
#include "support/stats.h"

/* alarms_level - the smallest threshold that days has reached */
int alarms_level(const struct config *cfg, long days)
{
    int     level = -1;

    for (size_t i = 0; i < cfg->nalarm_days; i++)
        if (days <= cfg->alarm_days[i] && (level < 0 || cfg->alarm_days[i] < level))
            level = cfg->alarm_days[i];
    return level;
}

/* state_path - {state_dir}/alarms.json */
static void state_path(const struct config *cfg, char *buf, size_t size)
{
    snprintf(buf, size, "%s/alarms.json", cfg->state_dir);
}

/* state_load - the "sent" map; an empty one when there is no file yet */
static json_t *state_load(const struct config *cfg)
{
    char    path[4096];
    json_error_t jerr;
    json_t *root, *sent;

    state_path(cfg, path, sizeof(path));
    root = json_load_file(path, 0, &jerr);
    if (root == NULL && errno != ENOENT)
        msg_warn("alarms: %s: %s (starting afresh)", path, jerr.text);
    sent = json_object_get(root, "sent");
    sent = json_is_object(sent) ? json_incref(sent) : json_object();
    json_decref(root);
    return sent;
}

/* state_save - write the map back, whole */
static void state_save(const struct config *cfg, json_t *sent)
{
    char    path[4096];
    json_t *root = json_pack("{s:i, s:O}", "version", 1, "sent", sent);
    char   *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;

    state_path(cfg, path, sizeof(path));
    if (text == NULL || file_replace(path, text, strlen(text), 0600) < 0)
        msg_error("alarms: cannot write %s: %m; alarms may be repeated", path);
    free(text);
    json_decref(root);
}

/* announced - level is in the list of thresholds done */
static int announced(json_t *done, int level)
{
    size_t  i;
    json_t *v;

    json_array_foreach(done, i, v)
        if (json_integer_value(v) == level)
            return 1;
    return 0;
}

/* mark_done - this level and every larger threshold are done */
static void mark_done(const struct config *cfg, json_t *sent, const char *key, int level)
{
    json_t *done = json_array();

    for (size_t i = 0; i < cfg->nalarm_days; i++)
        if (cfg->alarm_days[i] >= level)
            json_array_append_new(done, json_integer(cfg->alarm_days[i]));
    json_object_set_new(sent, key, done);
}

/* announce - the log line and the mail; 0 when the threshold is done */
static int announce(const struct config *cfg, struct pools *pools,
                    const struct conf_account *acct, const struct cred_expiry *ce,
                    long days)
{
    char    when[96], err[512];

    cred_when(days, ce->expires, when, sizeof(when));
    log_msg(days > 0 ? LOG_LVL_WARNING : LOG_LVL_ERROR, "credential expiry: the %s "
            "of account %s (%s) %s: renew it (exorelay(8), CREDENTIAL ROTATION)",
            ce->kind, acct->name, acct->mailbox, when);
    if (cfg->alarm_notify.n == 0)
        return 0;
    if (alarm_mail_send(cfg, pools, acct, ce, days, err, sizeof(err)) < 0) {
        msg_error("credential expiry: alarm mail for account %s not sent (%s); "
                  "trying again later", acct->name, err);
        stats_error(acct->name, err);
        return -1;
    }
    msg_notice("credential expiry: alarm mail for account %s sent to %zu "
               "recipient%s", acct->name, cfg->alarm_notify.n,
               cfg->alarm_notify.n == 1 ? "" : "s");
    return 0;
}

/* check_account - one account; 1 when the state changed */
static int check_account(const struct config *cfg, struct pools *pools,
                         const struct conf_account *acct, json_t *sent,
                         json_t *keep, time_t now)
{
    struct cred_expiry ce;
    char    key[256];
    long    days;
    int     level;

    if (!cred_expiry_get(acct, &ce))
        return 0;
    snprintf(key, sizeof(key), "%s %s", acct->name, ce.id);
    json_object_set_new(keep, key, json_true());
    days = cred_days_left(ce.expires, now);
    if ((level = alarms_level(cfg, days)) < 0
        || announced(json_object_get(sent, key), level))
        return 0;
    if (announce(cfg, pools, acct, &ce, days) < 0)
        return 0;
    mark_done(cfg, sent, key, level);
    return 1;
}

/* has_account - obj has a key "ACCOUNT ..." for the n-byte name at key */
static int has_account(json_t *obj, const char *key, size_t n)
{
    const char *k;
    json_t *v;

    json_object_foreach(obj, k, v)
        if (strncmp(k, key, n + 1) == 0)
            return 1;
    return 0;
}

/* prune - drop entries of credentials no longer configured; 1 if any */
static int prune(json_t *sent, json_t *keep, json_t *accounts)
{
    const char *key;
    json_t *v, *tmp;
    int     changed = 0;

    json_object_foreach_safe(sent, tmp, key, v) {
        size_t  n = strcspn(key, " ");

        /* An account whose certificate could not be read this time keeps
         * its entries: only a readable, different credential replaces. */
        if (json_object_get(keep, key) == NULL
            && (!has_account(accounts, key, n) || has_account(keep, key, n))) {
            json_object_del(sent, key);
            changed = 1;
        }
    }
    return changed;
}

/* alarms_check - see alarms.h */
void alarms_check(const struct config *cfg, struct pools *pools, time_t now)
{
    json_t *sent = state_load(cfg), *keep = json_object(), *accounts = json_object();
    char    name[256];
    int     changed = 0;

    for (size_t i = 0; i < cfg->naccounts; i++) {
        snprintf(name, sizeof(name), "%s ", cfg->accounts[i].name);
        json_object_set_new(accounts, name, json_true());
        changed |= check_account(cfg, pools, &cfg->accounts[i], sent, keep, now);
    }
    changed |= prune(sent, keep, accounts);
    if (changed)
        state_save(cfg, sent);
    json_decref(sent);
    json_decref(keep);
    json_decref(accounts);
}
