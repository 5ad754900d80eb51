/*
 * spool_deliver.c - one delivery attempt of one spooled message.
 *
 * SYNOPSIS
 *	void spool_ctx_init(ctx, cfg, pools)
 *	int spool_deliver(ctx, sub, id, fd, &report)
 *		Deliver spool_dir/sub/ID (sub is "queue" or "maildrop") to
 *		the recipients not yet done, through deliver_message(). fd is
 *		the file already open and flock'ed by the caller, or -1: then
 *		it is opened and locked here (DELIV_BUSY when another process
 *		holds it). Afterwards: every recipient done -> the file and
 *		its state are removed (DELIV_SENT), or moved to failed/ when
 *		some recipient failed with nobody to tell (DELIV_FAILED);
 *		else the state file records attempts, last error and next
 *		retry (DELIV_DEFERRED). Returns report->outcome.
 *	time_t spool_backoff(cfg, attempts)
 *		retry_min doubled per attempt, at most retry_max
 *
 * The file is removed only after upstream's 250: a crash in between
 * delivers the message again (a duplicate), never loses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "pool/deliver_log.h"
#include "spool_bounce.h"
#include "spool_deliver.h"
#include "pool/pick.h"

/* One attempt's verdicts. */
struct attempt {
    char  **todo;               /* recipients tried (borrowed from env) */
    size_t  ntodo;
    struct dsn_rcpt *failed;    /* refused for good this time */
    char  **diag;               /* their reply texts (owned) */
    char  (*status)[16];        /* their enhanced status codes */
    size_t  nfailed;
    char  **sent;               /* accepted (borrowed) */
    size_t  nsent;
    size_t  ndeferred;
    char    temp_error[1024];   /* the last temporary reply */
};

void spool_ctx_init(struct spool_ctx *ctx, const struct config *cfg, struct pools *pools)
{
    ctx->cfg = cfg;
    ctx->pools = pools;
    if (gethostname(ctx->hostname, sizeof(ctx->hostname) - 1) < 0 || !ctx->hostname[0])
        snprintf(ctx->hostname, sizeof(ctx->hostname), "localhost");
    ctx->hostname[sizeof(ctx->hostname) - 1] = 0;
}

time_t spool_backoff(const struct config *cfg, int attempts)
{
    time_t delay = cfg->retry_min > 0 ? cfg->retry_min : 60;
    time_t max = cfg->retry_max > delay ? cfg->retry_max : delay;

    for (int i = 1; i < attempts && delay < max; i++)
        delay *= 2;
    return delay < max ? delay : max;
}

/* reply_line - "451 4.4.1 text" on one line */
static void reply_line(const struct smtp_reply *r, char *buf, size_t size)
{
    snprintf(buf, size, "%d %s%s%.900s", r->code, r->enhanced, r->enhanced[0] ? " " : "",
             r->text);
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

/* open_locked - open and flock sub/ID; -1 with the outcome in rep */
static int open_locked(const char *path, struct spool_report *rep)
{
    int fd = spool_open_locked(path, O_RDONLY);

    if (fd < 0) {
        rep->outcome = errno == EWOULDBLOCK ? DELIV_BUSY : DELIV_GONE;
        snprintf(rep->text, sizeof(rep->text), "%s", errno == EWOULDBLOCK
                 ? "being delivered by another process" : "no such message");
    }
    return fd;
}

/* pending - the recipients not done yet */
static void pending(const struct spool_env *env, struct attempt *at)
{
    at->todo = calloc(env->nrcpt + 1, sizeof(char *));
    at->sent = calloc(env->nrcpt + 1, sizeof(char *));
    at->failed = calloc(env->nrcpt + 1, sizeof(*at->failed));
    at->diag = calloc(env->nrcpt + 1, sizeof(char *));
    at->status = calloc(env->nrcpt + 1, sizeof(*at->status));
    for (size_t i = 0; at->todo && i < env->nrcpt; i++)
        if (!spool_rcpt_done(env, env->rcpt[i]))
            at->todo[at->ntodo++] = env->rcpt[i];
}

/* add_failure - a recipient refused for good, with the reason */
static void add_failure(struct attempt *at, const char *addr, const char *status,
                        const char *diag)
{
    struct dsn_rcpt *f = &at->failed[at->nfailed];

    at->diag[at->nfailed] = strdup(diag);
    snprintf(at->status[at->nfailed], sizeof(at->status[0]), "%s", status);
    f->addr = addr;
    f->status = at->status[at->nfailed];
    f->diag = at->diag[at->nfailed];
    at->nfailed++;
}

/* status_of - the enhanced code at the start of text, else one made from
 * the reply code's class */
static void status_of(const char *text, int code, char *buf, size_t size)
{
    int a, b, c, n = 0;

    if (sscanf(text, "%d.%d.%d%n", &a, &b, &c, &n) == 3 && n > 0 && a == code / 100)
        snprintf(buf, size, "%d.%d.%d", a, b, c);
    else
        snprintf(buf, size, "%d.0.0", code / 100);
}

/* classify - sort each recipient into sent, deferred or failed */
static void classify(int rc, const struct deliver_result *res, struct attempt *at)
{
    char final[1024], diag[1200], status[16];

    reply_line(&res->final, final, sizeof(final));
    for (size_t i = 0; i < at->ntodo; i++) {
        int code = res->rcpt_code ? res->rcpt_code[i] : 0;
        const char *text = res->rcpt_text && res->rcpt_text[i] ? res->rcpt_text[i] : "";
        if (code >= 400) {
            snprintf(diag, sizeof(diag), "%d %.1100s", code, text);
        } else if (rc == 0) {           /* accepted, and the message too */
            at->sent[at->nsent++] = at->todo[i];
            continue;
        } else {                        /* the transaction failed as a whole */
            code = res->final.code >= 400 ? res->final.code : 451;
            if (res->permanent && code < 500)
                code = 554;
            snprintf(diag, sizeof(diag), "%s", final);
            text = res->final.enhanced;
        }
        if (code >= 500) {
            status_of(text, code, status, sizeof(status));
            add_failure(at, at->todo[i], status, diag);
        } else {
            at->ndeferred++;
            snprintf(at->temp_error, sizeof(at->temp_error), "%.1000s", diag);
        }
    }
}

/* expire - the message is too old: its deferred recipients fail now */
static void expire(const struct spool_env *env, struct attempt *at, const struct config *cfg)
{
    char diag[1400];

    snprintf(diag, sizeof(diag), "delivery time expired (queue_lifetime %d s); last error: %s",
             cfg->queue_lifetime, at->temp_error);
    for (size_t i = 0; i < at->ntodo; i++) {
        int sent = 0, failed = 0;
        for (size_t k = 0; k < at->nsent; k++)
            sent |= at->sent[k] == at->todo[i];
        for (size_t k = 0; k < at->nfailed; k++)
            failed |= at->failed[k].addr == at->todo[i];
        if (!sent && !failed)
            add_failure(at, at->todo[i], "4.4.7", diag);
    }
    at->ndeferred = 0;
    (void) env;
}

/* report_failures - DSN to the sender, else remember them for failed/ */
static void report_failures(const struct spool_ctx *ctx, struct spool_env *env, int fd,
                            const struct conf_account *acct, struct attempt *at,
                            struct spool_report *rep)
{
    if (at->nfailed == 0)
        return;
    if (dsn_wanted(env, 0)
        && spool_send_dsn(ctx, env, fd, acct, at->failed, at->nfailed, 0, rep) == 0) {
        for (size_t i = 0; i < at->nfailed; i++)
            spool_env_add(&env->done, &env->ndone, at->failed[i].addr);
        rep->bounced = (int) at->nfailed;
        return;
    }
    for (size_t i = 0; i < at->nfailed; i++) {
        msg_error("%s: to=<%s>: failed, and no report can be sent to <%s>: %s", env->id,
                  at->failed[i].addr, env->sender, at->failed[i].diag);
        spool_note_failed(env, at->failed[i].addr, at->failed[i].diag);
    }
}

/* report_success - a "relayed" DSN when the sender asked (NOTIFY=SUCCESS) */
static void report_success(const struct spool_ctx *ctx, const struct spool_env *env, int fd,
                           const struct conf_account *acct, const struct attempt *at,
                           struct spool_report *rep)
{
    struct dsn_rcpt r[at->nsent + 1];

    if (at->nsent == 0 || !dsn_wanted(env, 1))
        return;
    for (size_t i = 0; i < at->nsent; i++)
        r[i] = (struct dsn_rcpt) {at->sent[i], "2.0.0", NULL};
    spool_send_dsn(ctx, env, fd, acct, r, at->nsent, 1, rep);
}

/* failed_reason - the text of failed/ID.reason: one recipient per line */
static char *failed_reason(const struct spool_env *env)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);

    if (fp == NULL)
        return NULL;
    for (size_t i = 0; i < env->nfailed; i++)
        fprintf(fp, "%s%s", i ? "\n" : "", env->failed[i]);
    fclose(fp);
    return text;
}

/* finish - nothing left to try: remove, or keep in failed/ */
static void finish(const struct spool_ctx *ctx, const char *sub, struct spool_env *env,
                   struct spool_report *rep)
{
    char path[4096];

    if (env->nfailed > 0) {
        char *reason = failed_reason(env);
        spool_move_failed(ctx->cfg->spool_dir, sub, env->id, reason ? reason : "failed");
        free(reason);
        rep->outcome = DELIV_FAILED;
        return;
    }
    if (spool_path(path, sizeof(path), ctx->cfg->spool_dir, sub, env->id, NULL) == 0)
        unlink(path);
    spool_state_remove(ctx->cfg->spool_dir, env->id);
    rep->outcome = DELIV_SENT;
}

/* defer - record the attempt; retry later */
static void defer(const struct spool_ctx *ctx, struct spool_env *env,
                  const struct attempt *at, time_t now, struct spool_report *rep)
{
    free(env->error);
    env->error = strdup(at->temp_error);
    env->next_attempt = now + spool_backoff(ctx->cfg, env->attempts);
    /* fsync only when recipients were finished: losing that would repeat
     * them; losing an attempt count costs nothing */
    spool_state_write(ctx->cfg->spool_dir, env, at->nsent + at->nfailed > 0);
    rep->outcome = DELIV_DEFERRED;
    rep->next_attempt = env->next_attempt;
}

/* log_attempt - the delivery log lines of this attempt (support/maillog.h) */
static void log_attempt(const struct spool_env *env, const struct attempt *at,
                        const struct conf_account *acct, const struct deliver_result *res,
                        struct spool_report *rep)
{
    struct maillog_msg m;
    char    final[1024], extra[256];
    struct smtp_reply r;

    reply_line(&res->final, final, sizeof(final));
    snprintf(rep->text, sizeof(rep->text), "%zu sent, %zu deferred, %zu failed: %.900s",
             at->nsent, at->ndeferred, at->nfailed,
             at->ndeferred ? at->temp_error : at->nfailed ? at->failed[0].diag : final);
    snprintf(extra, sizeof(extra), "account=%s, conn=%s%s, attempt=%d",
             acct ? acct->name : "-", res->reused ? "reused" : "new",
             res->retried ? " (retried)" : "", env->attempts);
    deliver_log_msg(&m, env->id, env->time, res);
    maillog_from(env->id, env->sender, env->size, at->ntodo, extra);
    for (size_t i = 0; i < at->ntodo; i++) {
        enum maillog_status st = MAILLOG_DEFERRED;
        deliver_rcpt_reply(res, i, &r);
        for (size_t k = 0; k < at->nsent; k++)
            if (at->sent[k] == at->todo[i])
                st = MAILLOG_SENT;
        for (size_t k = 0; k < at->nfailed; k++) {
            if (at->failed[k].addr != at->todo[i])
                continue;
            st = MAILLOG_BOUNCED;
            if (strcmp(at->failed[k].status, "4.4.7") == 0)   /* expired */
                smtp_reply_set(&r, 0, "4.4.7", "%.1000s", at->failed[k].diag);
        }
        maillog_rcpt(&m, at->todo[i], st, &r);
    }
}

/* attempt - try the pending recipients once and act on the verdicts */
static void attempt(const struct spool_ctx *ctx, const char *sub, struct spool_env *env,
                    int fd, struct spool_report *rep)
{
    const struct conf_account *acct = NULL;
    struct route route;
    struct deliver_result res = {0};
    struct attempt at = {0};
    time_t now = time(NULL);
    int rc = -1;

    /* the pool of the sender: every account whose senders match */
    route.n = config_accounts_for_sender(ctx->cfg, env->sender, route.v, ROUTE_MAX);
    pending(env, &at);
    if (at.ntodo > 0 && route.n == 0)
        smtp_reply_set(&res.final, 451, "4.3.5", "no [account] in the configuration");
    else if (at.ntodo > 0)
        rc = deliver_routed(ctx->pools, &route, env->sender, at.todo, at.ntodo, fd,
                            &res, &acct);
    if (acct == NULL)
        acct = route.n ? route.v[0] : NULL;
    if (rc < 0 && res.final.code == 0)  /* no reply at all: say so, as a 4xx */
        smtp_reply_set(&res.final, 451, "4.4.0", "upstream failed without a reply "
                       "(see the exorelay log)");
    env->attempts++;
    env->last_attempt = now;
    if (env->first_attempt == 0)
        env->first_attempt = now;
    classify(rc, &res, &at);
    if (at.ndeferred > 0 && now - env->time >= ctx->cfg->queue_lifetime)
        expire(env, &at, ctx->cfg);
    log_attempt(env, &at, acct, &res, rep);
    for (size_t i = 0; i < at.nsent; i++)
        spool_env_add(&env->done, &env->ndone, at.sent[i]);
    report_failures(ctx, env, fd, acct, &at, rep);
    report_success(ctx, env, fd, acct, &at, rep);
    if (at.ndeferred == 0)
        finish(ctx, sub, env, rep);
    else
        defer(ctx, env, &at, now, rep);
    deliver_result_free(&res);
    for (size_t i = 0; i < at.nfailed; i++)
        free(at.diag[i]);
    free(at.diag);
    free(at.status);
    free(at.failed);
    free(at.sent);
    free(at.todo);
}

int spool_deliver(const struct spool_ctx *ctx, const char *sub, const char *id, int fd_in,
                  struct spool_report *rep)
{
    char path[4096], err[512];
    struct spool_env env;
    struct stat st;
    int fd = fd_in;

    memset(rep, 0, sizeof(*rep));
    if (!spool_id_ok(id)
        || spool_path(path, sizeof(path), ctx->cfg->spool_dir, sub, id, NULL) < 0) {
        rep->outcome = DELIV_GONE;
        return rep->outcome;
    }
    if (fd < 0 && (fd = open_locked(path, rep)) < 0)
        return rep->outcome;
    if (fstat(fd, &st) < 0 || spool_env_read(fd, &env, err, sizeof(err)) < 0) {
        snprintf(rep->text, sizeof(rep->text), "corrupt spool file: %s", err);
        spool_move_failed(ctx->cfg->spool_dir, sub, id, rep->text);
        rep->outcome = DELIV_FAILED;
    } else {
        env.uid = st.st_uid;            /* the owner, not what the file claims */
        snprintf(env.id, sizeof(env.id), "%s", id);
        spool_state_read(ctx->cfg->spool_dir, id, &env);
        attempt(ctx, sub, &env, fd, rep);
        spool_env_free(&env);
    }
    if (fd_in < 0)
        close(fd);
    return rep->outcome;
}
