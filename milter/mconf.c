/*
 * mconf.c - the milter's current configuration (see mconf.h).
 *
 * A reload builds a whole new struct mconf and swaps one pointer under the
 * mutex; messages in flight keep theirs through the reference count. This
 * is how SIGHUP changes the rules without dropping a connection.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "mconf.h"

static pthread_mutex_t mconf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mconf *mconf_current;

/* strlist_add - append a copy of s, unless already there */
static int strlist_add(struct strlist *l, const char *s)
{
    char  **v;

    for (size_t i = 0; i < l->n; i++)
        if (strcasecmp(l->v[i], s) == 0)
            return 0;
    if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL)
        return -1;
    l->v = v;
    if ((v[l->n] = strdup(s)) == NULL)
        return -1;
    l->n++;
    return 0;
}

/* strlist_clear - free the strings and the vector */
static void strlist_clear(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* host_names - the default local_domains: this host's own names */
static int host_names(struct strlist *out)
{
    char    host[256];
    struct addrinfo hints = {.ai_flags = AI_CANONNAME}, *res = NULL;
    int     ret = strlist_add(out, "localhost");

    if (gethostname(host, sizeof(host)) != 0)
        return ret;
    host[sizeof(host) - 1] = 0;
    ret |= strlist_add(out, host);
    /* XXX getaddrinfo() may ask DNS; it runs at load time only, not per message */
    if (getaddrinfo(host, NULL, &hints, &res) == 0) {
        if (res && res->ai_canonname)
            ret |= strlist_add(out, res->ai_canonname);
        freeaddrinfo(res);
    }
    return ret;
}

/* local_domains - the config's list, or the host's names when it has none */
static int local_domains(const struct config *cfg, struct strlist *out)
{
    if (cfg->local_domains.n == 0)
        return host_names(out);
    for (size_t i = 0; i < cfg->local_domains.n; i++)
        if (strlist_add(out, cfg->local_domains.v[i]) < 0)
            return -1;
    return 0;
}

/* mconf_free - release a config nobody holds any more */
static void mconf_free(struct mconf *mc)
{
    config_free(mc->cfg);
    strlist_clear(&mc->local_domains);
    free(mc);
}

/* log_problems - one error line per line the loader wrote */
static void log_problems(char *text)
{
    char   *save = NULL;

    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        msg_error("%s", line);
}

/* load_config - config_load() with its problems logged */
static struct config *load_config(const char *path)
{
    char   *text = NULL;
    size_t  len = 0;
    FILE   *errs = open_memstream(&text, &len);
    int     nerrors = 0;
    struct config *cfg = config_load(path, errs, &nerrors);

    if (errs)
        fclose(errs);
    if (text)
        log_problems(text);
    free(text);
    return cfg;
}

/* mconf_load - load the config and make it current */
int mconf_load(const char *path)
{
    struct mconf *mc, *old;
    struct config *cfg = load_config(path);

    if (cfg == NULL) {
        msg_error("%s: not loaded; %s", path,
                  mconf_current ? "the previous config stays" : "cannot start");
        return -1;
    }
    if ((mc = calloc(1, sizeof(*mc))) == NULL || local_domains(cfg, &mc->local_domains) < 0) {
        msg_error("%s: out of memory", path);
        if (mc)
            strlist_clear(&mc->local_domains);
        free(mc);
        config_free(cfg);
        return -1;
    }
    mc->cfg = cfg;
    mc->refs = 1;                       /* the reference of "current" */
    log_set_level(cfg->log_level);
    pthread_mutex_lock(&mconf_lock);
    old = mconf_current;
    mconf_current = mc;
    pthread_mutex_unlock(&mconf_lock);
    mconf_release(old);
    msg_info("%s: loaded: %zu classes, %zu accounts", path, cfg->nclasses, cfg->naccounts);
    return 0;
}

/* mconf_acquire - the current config, with a reference */
struct mconf *mconf_acquire(void)
{
    struct mconf *mc;

    pthread_mutex_lock(&mconf_lock);
    if ((mc = mconf_current) != NULL)
        mc->refs++;
    pthread_mutex_unlock(&mconf_lock);
    return mc;
}

/* mconf_release - drop a reference; the last one frees */
void mconf_release(struct mconf *mc)
{
    int     last;

    if (mc == NULL)
        return;
    pthread_mutex_lock(&mconf_lock);
    last = --mc->refs == 0;
    pthread_mutex_unlock(&mconf_lock);
    if (last)
        mconf_free(mc);
}

/* mconf_shutdown - drop the current config */
void mconf_shutdown(void)
{
    struct mconf *old;

    pthread_mutex_lock(&mconf_lock);
    old = mconf_current;
    mconf_current = NULL;
    pthread_mutex_unlock(&mconf_lock);
    mconf_release(old);
}
