/*
 * config.c - placeholder until the config loader lands (see config.h).
 */
#include <stdio.h>
#include <stdlib.h>

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
