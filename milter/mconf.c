/*
 * mconf.c - the milter's current configuration (see mconf.h).
 *
 * A reload builds a whole new struct mconf and swaps one pointer under the
 * mutex; messages in flight keep theirs through the reference count. This
 * is how SIGHUP changes the rules without dropping a connection.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "mconf.h"

static pthread_mutex_t mconf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mconf *mconf_current;

/* mconf_free - release a config nobody holds any more */
static void mconf_free(struct mconf *mc)
{
    config_free(mc->cfg);
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
    if ((mc = calloc(1, sizeof(*mc))) == NULL) {
        msg_error("%s: out of memory", path);
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
