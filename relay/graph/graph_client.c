/*
 * graph_client.c - graph_send() (graph.h): one message to Microsoft
 * Graph sendMail, within Graph's limits per mailbox.
 *
 * Per mailbox the client keeps how many requests are in flight (at most
 * GRAPH_MAX_INFLIGHT, Graph's 4; a fifth waits for one to end) and until
 * when Graph asked it to wait (429 or 503 with Retry-After): until then
 * a message gets 451 at once, without a request, so a throttled mailbox
 * is not hammered and the client's queue retries later. A 401 is answered
 * by one fresh token (the cached one is dropped, in memory and state
 * file) and one retry. Nothing is reported as sent before Graph's 202.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "graph_int.h"

struct mailbox_state {
    char   *mailbox;
    int     inflight;
    time_t  wait_until;         /* Retry-After: no request before this */
};

struct graph_client {
    const struct config *cfg;
    struct token_engine *te;
    struct graph_http *http;
    pthread_mutex_t mu;
    pthread_cond_t freed;       /* a request ended */
    struct mailbox_state *mb;
    size_t  nmb;
    struct graph_stats stats;
};

/* graph_client_new - see graph.h; no network yet */
struct graph_client *graph_client_new(const struct config *cfg, struct token_engine *te)
{
    struct graph_client *gc = calloc(1, sizeof(*gc));

    if (gc == NULL)
        return NULL;
    gc->cfg = cfg;
    gc->te = te;
    if ((gc->http = graph_http_new(cfg->ca_file, cfg->connect_timeout,
                                   cfg->command_timeout)) == NULL) {
        free(gc);
        return NULL;
    }
    pthread_mutex_init(&gc->mu, NULL);
    pthread_cond_init(&gc->freed, NULL);
    return gc;
}

/* graph_client_free - close the connections */
void graph_client_free(struct graph_client *gc)
{
    if (gc == NULL)
        return;
    graph_http_free(gc->http);
    for (size_t i = 0; i < gc->nmb; i++)
        free(gc->mb[i].mailbox);
    free(gc->mb);
    pthread_cond_destroy(&gc->freed);
    pthread_mutex_destroy(&gc->mu);
    free(gc);
}

/* mailbox_find - the state of a mailbox, made on first use (mu held) */
static struct mailbox_state *mailbox_find(struct graph_client *gc, const char *mailbox)
{
    struct mailbox_state *nv;

    for (size_t i = 0; i < gc->nmb; i++)
        if (strcasecmp(gc->mb[i].mailbox, mailbox) == 0)
            return &gc->mb[i];
    if ((nv = realloc(gc->mb, (gc->nmb + 1) * sizeof(*nv))) == NULL)
        return NULL;
    gc->mb = nv;
    memset(&nv[gc->nmb], 0, sizeof(*nv));
    if ((nv[gc->nmb].mailbox = strdup(mailbox)) == NULL)
        return NULL;
    return &gc->mb[gc->nmb++];
}

/* enter - a request slot of the mailbox; 0, or -1 with res set (throttled) */
static int enter(struct graph_client *gc, const struct conf_account *acct,
                 struct graph_result *res)
{
    struct mailbox_state *m;
    time_t  now = time(NULL);
    int     rc = 0;

    pthread_mutex_lock(&gc->mu);
    if ((m = mailbox_find(gc, acct->mailbox)) == NULL) {
        smtp_reply_set(&res->final, 451, "4.3.0", "exorelay: out of memory");
        rc = -1;
    } else if (m->wait_until > now) {
        gc->stats.waited++;
        smtp_reply_set(&res->final, 451, "4.7.0", "exorelay: Graph asked to wait "
                       "before the next request for %s (Retry-After): %ld s more",
                       acct->mailbox, (long) (m->wait_until - now));
        rc = -1;
    } else {
        while (m->inflight >= GRAPH_MAX_INFLIGHT)
            pthread_cond_wait(&gc->freed, &gc->mu);
        m->inflight++;
    }
    pthread_mutex_unlock(&gc->mu);
    return rc;
}

/* leave - end the request; honour a Retry-After */
static void leave(struct graph_client *gc, const struct conf_account *acct,
                  const struct graph_answer *ans)
{
    struct mailbox_state *m;

    pthread_mutex_lock(&gc->mu);
    if ((m = mailbox_find(gc, acct->mailbox)) != NULL) {
        m->inflight--;
        if ((ans->status == 429 || ans->status == 503 || ans->status == 504)
            && ans->retry_after > 0)
            m->wait_until = time(NULL) + ans->retry_after;
    }
    gc->stats.throttled += ans->status == 429 || ans->status == 503;
    gc->stats.accepted += ans->status == 202;
    pthread_cond_broadcast(&gc->freed);
    pthread_mutex_unlock(&gc->mu);
}

/* no_token - the Graph token could not be had */
static void no_token(struct graph_result *res, const struct conf_account *acct,
                     const struct token_diag *td)
{
    char    line[512];

    token_diag_line(td, acct, line, sizeof(line));
    smtp_reply_set(&res->final, 454, "4.7.0", "exorelay: no Graph access token for "
                   "[account %s]: %s; %s", acct->name, line,
                   td->fix[0] ? td->fix : "run: exorelay test --account NAME");
}

/* post - the request, with one fresh token after a 401; 0 if answered */
static int post(struct graph_client *gc, const struct conf_account *acct,
                const struct graph_body *body, struct graph_answer *ans,
                struct graph_result *res)
{
    char    url[4096];
    struct token_diag td;
    secret_t *token;
    time_t  expires;

    snprintf(url, sizeof(url), "%s/v1.0/users/%s/sendMail", gc->cfg->graph_url,
             acct->mailbox);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (token_get_scope(gc->te, acct, TOKEN_GRAPH, &token, &expires, &td) < 0) {
            no_token(res, acct, &td);
            return -1;
        }
        res->requests++;
        pthread_mutex_lock(&gc->mu);
        gc->stats.requests++;
        pthread_mutex_unlock(&gc->mu);
        graph_http_post(gc->http, url, token, acct->proxy, body, ans);
        if (ans->status == 401 && attempt == 0) {
            msg_info("graph: account %s: token %s refused (401 %s): getting a new "
                     "one", acct->name, secret_fingerprint(token), ans->message);
            token_invalidate_scope(gc->te, acct, TOKEN_GRAPH, token);
            secret_free(token);
            continue;
        }
        secret_free(token);
        break;
    }
    return 0;
}

/* graph_send - see graph.h */
int graph_send(struct graph_client *gc, const struct conf_account *acct,
               char *const *rcpts, size_t nrcpt, int fd, struct graph_result *res)
{
    struct graph_body body;
    struct graph_answer ans;

    memset(res, 0, sizeof(*res));
    memset(&ans, 0, sizeof(ans));
    if (graph_mime_body(fd, rcpts, nrcpt, &body) < 0) {
        smtp_reply_set(&res->final, 451, "4.3.0", "exorelay: cannot read the message "
                       "whole: %m");
        return -1;
    }
    if (body.too_big) {
        ans.status = 413;
        graph_diag(&ans, gc->cfg, acct, res);
        res->http_status = 0;
        return -1;
    }
    if (enter(gc, acct, res) < 0) {
        graph_body_free(&body);
        return -1;
    }
    if (post(gc, acct, &body, &ans, res) == 0)
        graph_diag(&ans, gc->cfg, acct, res);
    leave(gc, acct, &ans);
    graph_body_free(&body);
    if (ans.status != 202 && ans.status != 0)
        msg_info("graph: account %s: %ld %s %s%s%s", acct->name, ans.status, ans.code,
                 ans.message, ans.request_id[0] ? " request-id=" : "", ans.request_id);
    return ans.status == 202 ? 0 : -1;
}

/* graph_relay_name - see graph.h */
void graph_relay_name(const struct config *cfg, char *buf, size_t len)
{
    const char *host = strstr(cfg->graph_url, "://");

    host = host ? host + 3 : cfg->graph_url;
    snprintf(buf, len, "%.*s[graph]", (int) strcspn(host, "/"), host);
}

/* graph_client_stats - a copy of the counters */
void graph_client_stats(struct graph_client *gc, struct graph_stats *stats)
{
    pthread_mutex_lock(&gc->mu);
    *stats = gc->stats;
    pthread_mutex_unlock(&gc->mu);
    stats->connects = graph_http_connects(gc->http);
}
