/*
 * config.c - placeholder until the config loader lands (see config.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct config *config_load(const char *path, FILE *errs, int *nerrors)
{
    if (errs)
        fprintf(errs, "%s:0: config loader not written yet\n", path);
    *nerrors = 1;
    return NULL;
}

void config_free(struct config *cfg)
{
    free(cfg);
}

const char *config_path_default(void)
{
    const char *env = getenv("EXORELAY_CONF");
    return env && *env ? env : "/etc/exorelay/exorelay.conf";
}

/* config_account - placeholder lookup until the loader lands */
const struct conf_account *config_account(const struct config *cfg, const char *name)
{
    if (cfg == NULL || cfg->naccounts == 0)
        return NULL;
    if (name == NULL)
        return &cfg->accounts[0];
    for (size_t i = 0; i < cfg->naccounts; i++)
        if (strcmp(cfg->accounts[i].name, name) == 0)
            return &cfg->accounts[i];
    return NULL;
}
