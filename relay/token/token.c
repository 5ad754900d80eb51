/*
 * token.c - the token engine: one slot per account and scope (Exchange,
 * Graph) holding the current token in memory, and token_get() (see
 * token.h for the contract).
 *
 * A token_get() that finds a token valid TOKEN_MIN_VALID more seconds in
 * memory returns a copy at once. Otherwise one thread per slot fetches
 * (token_fetch.c: state file under its lock, else Entra) while the others
 * wait for that fetch and share its outcome, so N threads make one
 * request. After a failure the slot backs off: token_get() returns the
 * last diagnosis without a new request until the backoff ends, so a burst
 * of mail during an outage does not become a burst of requests.
 *
 * The lock order is: engine mutex, then (never while holding the mutex)
 * the state file's flock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "common/log.h"
#include "token_int.h"

/* slot_find - the slot of an account's scope, by name */
static struct token_slot *slot_find(struct token_engine *te, const char *name,
                                    enum token_scope kind)
{
    for (size_t i = 0; i < te->nslots; i++)
        if (!te->slots[i]->retired && te->slots[i]->params->kind == kind
            && strcmp(te->slots[i]->params->name, name) == 0)
            return te->slots[i];
    return NULL;
}

/* scope_needed - does the account's transport use this scope from the start? */
static int scope_needed(const struct conf_account *acct, enum token_scope kind)
{
    return kind == TOKEN_GRAPH ? acct->transport == TRANSPORT_GRAPH
        : acct->transport != TRANSPORT_GRAPH;
}

/* slot_add - a new slot for params (taken over); NULL if out of memory */
static struct token_slot *slot_add(struct token_engine *te, struct token_params *p)
{
    struct token_slot **grown = realloc(te->slots, (te->nslots + 1) * sizeof(*grown));
    struct token_slot *slot = calloc(1, sizeof(*slot));

    if (grown)
        te->slots = grown;
    if (grown == NULL || slot == NULL) {
        free(slot);
        token_params_free(p);
        return NULL;
    }
    slot->params = p;
    te->slots[te->nslots++] = slot;
    return slot;
}

/* slot_drop_token - forget the token in memory */
static void slot_drop_token(struct token_slot *slot)
{
    secret_free(slot->token);
    slot->token = NULL;
    slot->expires = slot->obtained = 0;
}

/* slot_usable - can this slot's token be handed out now? */
static int slot_usable(const struct token_slot *slot, time_t now)
{
    return slot->token != NULL && slot->expires - now >= TOKEN_MIN_VALID;
}

/* slot_install - take a fetch's outcome (mu held) */
static void slot_install(struct token_engine *te, struct token_slot *slot,
                         unsigned epoch, struct token_state *st, int rc)
{
    time_t now = time(NULL);

    slot->fetching = 0;
    slot->generation++;
    if (epoch == slot->epoch && !slot->retired) {
        if (st->token && (slot->token == NULL || st->expires >= slot->expires)) {
            slot_drop_token(slot);
            slot->token = st->token;
            slot->expires = st->expires;
            slot->obtained = st->obtained;
            st->token = NULL;
        }
        if (rc == 0) {
            slot->failures = 0;
            slot->retry_at = 0;
        } else {
            te->stats.failures++;
            slot->failures = st->failures > slot->failures ? st->failures
                : slot->failures + 1;
            slot->retry_at = st->retry_at > now ? st->retry_at
                : now + token_backoff(slot->failures, st->diag.retry_after,
                                      st->diag.temporary, slot->token
                                      ? slot->expires - TOKEN_MIN_VALID - now : 0);
            slot->last_diag = st->diag;
        }
    }
    token_state_clear(st);
    pthread_cond_broadcast(&te->fetched);
    pthread_cond_signal(&te->wake);
}

/* token_slot_fetch - one fetch for slot; mu is held on entry and exit */
int token_slot_fetch(struct token_engine *te, struct token_slot *slot,
                     int want_fresh, int *requested)
{
    struct token_params *p = token_params_dup(slot->params);
    unsigned epoch = slot->epoch;
    struct token_state st;
    int rc;

    *requested = 0;
    if (p == NULL)
        return -1;
    slot->fetching = 1;
    pthread_mutex_unlock(&te->mu);
    rc = token_fetch(p, want_fresh, &st, requested);
    token_params_free(p);
    pthread_mutex_lock(&te->mu);
    if (*requested)
        te->stats.requests++;
    slot_install(te, slot, epoch, &st, rc);
    return rc;
}

/* token_engine_new - a slot per account; no network yet */
struct token_engine *token_engine_new(const struct config *cfg)
{
    struct token_engine *te = calloc(1, sizeof(*te));

    if (te == NULL)
        return NULL;
    token_http_global_init();
    pthread_mutex_init(&te->mu, NULL);
    pthread_cond_init(&te->fetched, NULL);
    pthread_cond_init(&te->wake, NULL);
    for (size_t i = 0; i < 2 * cfg->naccounts; i++) {
        const struct conf_account *acct = &cfg->accounts[i / 2];
        struct token_params *p = token_params_new(cfg, acct, (enum token_scope) (i % 2));
        struct token_slot *slot = p ? slot_add(te, p) : NULL;
        if (slot == NULL) {
            token_engine_free(te);
            return NULL;
        }
        slot->in_use = scope_needed(acct, p->kind);
    }
    return te;
}

/* token_engine_free - stop the refresher, wipe and free every token */
void token_engine_free(struct token_engine *te)
{
    if (te == NULL)
        return;
    token_refresher_stop(te);
    for (size_t i = 0; i < te->nslots; i++) {
        slot_drop_token(te->slots[i]);
        token_params_free(te->slots[i]->params);
        free(te->slots[i]);
    }
    free(te->slots);
    pthread_cond_destroy(&te->wake);
    pthread_cond_destroy(&te->fetched);
    pthread_mutex_destroy(&te->mu);
    free(te);
}

/* hand_out - a copy of the slot's token for the caller */
static int hand_out(struct token_slot *slot, secret_t **token, time_t *expires,
                    struct token_diag *diag)
{
    if ((*token = secret_dup(slot->token)) == NULL) {
        entra_diag_set(diag, 1, "out of memory", "", "");
        return -1;
    }
    if (expires)
        *expires = slot->expires;
    return 0;
}

/* get_locked - token_get's loop, mu held */
static int get_locked(struct token_engine *te, struct token_slot *slot,
                      secret_t **token, time_t *expires, struct token_diag *diag)
{
    int fetched = 0, requested;

    for (;;) {
        time_t now = time(NULL);
        if (slot_usable(slot, now)) {
            if (!fetched)
                te->stats.from_memory++;
            return hand_out(slot, token, expires, diag);
        }
        if (slot->fetching) {
            unsigned long gen = slot->generation;
            if (!fetched)
                te->stats.waited++;
            fetched = 1;
            while (slot->fetching && gen == slot->generation)
                pthread_cond_wait(&te->fetched, &te->mu);
            if (!slot_usable(slot, time(NULL)) && slot->failures > 0)
                break;
            continue;
        }
        if (fetched || (slot->failures > 0 && slot->retry_at > now))
            break;
        te->stats.inline_fetches++;
        fetched = 1;
        token_slot_fetch(te, slot, 0, &requested);
        if (requested)
            te->stats.inline_requests++;
    }
    *diag = slot->last_diag;
    return -1;
}

/* token_get_scope - see token.h */
int token_get_scope(struct token_engine *te, const struct conf_account *acct,
                    enum token_scope scope, secret_t **token, time_t *expires,
                    struct token_diag *diag)
{
    struct token_slot *slot;
    int rc;

    memset(diag, 0, sizeof(*diag));
    *token = NULL;
    pthread_mutex_lock(&te->mu);
    te->stats.gets++;
    if ((slot = slot_find(te, acct->name, scope)) == NULL) {
        entra_diag_set(diag, 1, "this account is not in the configuration "
                       "the relay runs with", "reload the relay (SIGHUP)", "");
        rc = -1;
    } else {
        if (!slot->in_use) {
            slot->in_use = 1;           /* from now on the refresher keeps it */
            pthread_cond_signal(&te->wake);
        }
        rc = get_locked(te, slot, token, expires, diag);
    }
    pthread_mutex_unlock(&te->mu);
    return rc;
}

/* token_get - see token.h: the Exchange scope */
int token_get(struct token_engine *te, const struct conf_account *acct,
              secret_t **token, time_t *expires, struct token_diag *diag)
{
    return token_get_scope(te, acct, TOKEN_EXCHANGE, token, expires, diag);
}

/* token_invalidate - see token.h: the Exchange scope */
void token_invalidate(struct token_engine *te, const struct conf_account *acct,
                      const secret_t *token)
{
    token_invalidate_scope(te, acct, TOKEN_EXCHANGE, token);
}

/* token_invalidate_scope - see token.h. The state file forgets the token
 * first, the slot after: a fetch that starts once the slot is empty (the
 * refresher wakes at once) must not find the refused token in the file
 * and hand it out again (found by tests/t_graph.sh, a revoked token). */
void token_invalidate_scope(struct token_engine *te, const struct conf_account *acct,
                            enum token_scope scope, const secret_t *token)
{
    struct token_params *p = NULL;
    struct token_slot *slot;

    pthread_mutex_lock(&te->mu);
    if ((slot = slot_find(te, acct->name, scope)) != NULL)
        p = token_params_dup(slot->params);
    pthread_mutex_unlock(&te->mu);
    if (p == NULL)
        return;
    token_forget(p, token);
    token_params_free(p);
    pthread_mutex_lock(&te->mu);
    if ((slot = slot_find(te, acct->name, scope)) != NULL
        && secret_equal(slot->token, token)) {
        msg_info("token: account %s: %s token %s refused upstream; getting a new one",
                 acct->name, scope == TOKEN_GRAPH ? "Graph" : "Exchange",
                 secret_fingerprint(token));
        slot_drop_token(slot);
        pthread_cond_signal(&te->wake);
    }
    pthread_mutex_unlock(&te->mu);
}

/* reload_account - adopt one account's scope of a new config (mu held) */
static void reload_account(struct token_engine *te, struct token_params *p,
                           const struct conf_account *acct)
{
    struct token_slot *slot = slot_find(te, p->name, p->kind);

    if (slot == NULL) {
        if ((slot = slot_add(te, p)) != NULL)
            slot->in_use = scope_needed(acct, p->kind);
        return;
    }
    if (scope_needed(acct, p->kind))
        slot->in_use = 1;
    if (!token_params_same_identity(slot->params, p)) {
        msg_info("token: account %s: identity changed; its cached token is "
                 "dropped", p->name);
        slot_drop_token(slot);
        slot->epoch++;
        slot->failures = 0;
        slot->retry_at = 0;
    }
    token_params_free(slot->params);
    slot->params = p;
}

/* token_engine_reload - see token.h */
void token_engine_reload(struct token_engine *te, const struct config *cfg)
{
    pthread_mutex_lock(&te->mu);
    for (size_t i = 0; i < te->nslots; i++) {
        struct token_slot *slot = te->slots[i];
        int kept = 0;
        for (size_t k = 0; k < cfg->naccounts && !kept; k++)
            kept = strcmp(cfg->accounts[k].name, slot->params->name) == 0;
        if (!kept && !slot->retired) {
            slot->retired = 1;
            slot_drop_token(slot);
        }
    }
    for (size_t k = 0; k < 2 * cfg->naccounts; k++) {
        const struct conf_account *acct = &cfg->accounts[k / 2];
        struct token_params *p = token_params_new(cfg, acct, (enum token_scope) (k % 2));
        if (p != NULL)
            reload_account(te, p, acct);
    }
    pthread_cond_signal(&te->wake);
    pthread_mutex_unlock(&te->mu);
}

/* token_engine_stats - a copy of the counters */
void token_engine_stats(struct token_engine *te, struct token_stats *stats)
{
    pthread_mutex_lock(&te->mu);
    *stats = te->stats;
    pthread_mutex_unlock(&te->mu);
}

/* token_all_failing - see token.h */
int token_all_failing(struct token_engine *te, char *account, size_t size,
                      struct token_diag *diag)
{
    time_t  now = time(NULL);
    size_t  live = 0, failing = 0;
    const struct token_slot *first = NULL;
    int     all;

    pthread_mutex_lock(&te->mu);
    for (size_t i = 0; i < te->nslots; i++) {
        const struct token_slot *slot = te->slots[i];
        if (slot->retired || !slot->in_use)
            continue;                   /* a scope no transport uses yet */
        live++;
        if (!slot_usable(slot, now) && slot->failures > 0) {
            failing++;
            first = first ? first : slot;
        }
    }
    /* Without the refresher nobody would notice Entra's return. */
    all = live > 0 && failing == live && te->refresher_running;

    if (all) {
        snprintf(account, size, "%s", first->params->name);
        *diag = first->last_diag;
    }
    pthread_mutex_unlock(&te->mu);
    return all;
}

/* token_peek - see token.h: the Exchange scope */
int token_peek(const struct config *cfg, const struct conf_account *acct,
               time_t *expires, time_t *obtained, struct token_diag *last_failure)
{
    return token_peek_scope(cfg, acct, TOKEN_EXCHANGE, expires, obtained, last_failure);
}

/* token_peek_scope - see token.h */
int token_peek_scope(const struct config *cfg, const struct conf_account *acct,
                     enum token_scope scope, time_t *expires, time_t *obtained,
                     struct token_diag *last_failure)
{
    struct token_params *p = token_params_new(cfg, acct, scope);
    struct token_cred cred;
    struct token_state st = {0};
    struct token_diag diag;
    char path[4096];
    int found = 0;

    if (last_failure)
        memset(last_failure, 0, sizeof(*last_failure));
    if (p != NULL && token_cache_path(p, path, sizeof(path)) == 0
        && token_cred_load(p, &cred, &diag) == 0) {
        if (token_cache_read(path, p, cred.fingerprint, &st) == 1) {
            found = st.token != NULL;
            *expires = st.expires;
            *obtained = st.obtained;
            if (last_failure && st.failures > 0)
                *last_failure = st.diag;
        }
        token_state_clear(&st);
        token_cred_free(&cred);
    }
    token_params_free(p);
    return found;
}

/* token_diag_exit - 75 for "later", 77 for "the admin must act" */
int token_diag_exit(const struct token_diag *diag)
{
    return diag->temporary ? EX_TEMPFAIL : EX_NOPERM;
}
