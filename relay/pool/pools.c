/*
 * pools.c - the registry of per-account pools (deliver.h): one pool per
 * account, made on first use, shared by every thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "deliver.h"

struct pools_entry {
    const struct conf_account *acct;
    struct pool *pool;
};

struct pools {
    pthread_mutex_t lock;
    const struct config *cfg;
    struct token_engine *te;
    struct pools_entry *v;
    size_t  n;
    struct graph_client *graph;         /* made on first use */
};

/* pools_new - an empty registry */
struct pools *pools_new(const struct config *cfg, struct token_engine *te)
{
    struct pools *pools = calloc(1, sizeof(*pools));

    if (pools == NULL)
        return NULL;
    pthread_mutex_init(&pools->lock, NULL);
    pools->cfg = cfg;
    pools->te = te;
    return pools;
}

/* pools_get - the pool of acct (by name), made on first use; NULL if OOM */
struct pool *pools_get(struct pools *pools, const struct conf_account *acct)
{
    struct pool *pool = NULL;
    struct pools_entry *nv;

    pthread_mutex_lock(&pools->lock);
    for (size_t i = 0; i < pools->n && pool == NULL; i++)
        if (strcmp(pools->v[i].acct->name, acct->name) == 0)
            pool = pools->v[i].pool;
    if (pool == NULL
        && (nv = realloc(pools->v, (pools->n + 1) * sizeof(*nv))) != NULL) {
        pools->v = nv;
        if ((pool = pool_new(pools->cfg, acct, pools->te)) != NULL) {
            nv[pools->n].acct = acct;
            nv[pools->n].pool = pool;
            pools->n++;
        }
    }
    pthread_mutex_unlock(&pools->lock);
    return pool;
}

/* pools_graph - the Graph client, made on first use; NULL if OOM */
struct graph_client *pools_graph(struct pools *pools)
{
    struct graph_client *gc;

    pthread_mutex_lock(&pools->lock);
    if (pools->graph == NULL)
        pools->graph = graph_client_new(pools->cfg, pools->te);
    gc = pools->graph;
    pthread_mutex_unlock(&pools->lock);
    return gc;
}

/* pools_config - see deliver.h */
const struct config *pools_config(struct pools *pools)
{
    return pools->cfg;
}

/* pools_reap - close idle connections of every account */
void pools_reap(struct pools *pools)
{
    struct pool **list;
    size_t  n;

    /* Closing sends QUIT: do it without holding up pools_get. */
    pthread_mutex_lock(&pools->lock);
    n = pools->n;
    if ((list = malloc((n ? n : 1) * sizeof(*list))) != NULL)
        for (size_t i = 0; i < n; i++)
            list[i] = pools->v[i].pool;
    pthread_mutex_unlock(&pools->lock);
    for (size_t i = 0; list != NULL && i < n; i++)
        pool_reap(list[i]);
    free(list);
    budget_flush(1);                    /* counts of the last busy second */
}

/* pools_free - close everything */
void pools_free(struct pools *pools)
{
    if (pools == NULL)
        return;
    for (size_t i = 0; i < pools->n; i++)
        pool_free(pools->v[i].pool);
    free(pools->v);
    graph_client_free(pools->graph);
    pthread_mutex_destroy(&pools->lock);
    free(pools);
}
