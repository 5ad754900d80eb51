/*
 * tool_queue_runner.c - the queue runner alone, for tests and the benchmark:
 * what "exorelay run" does for the spool, without its SMTP listener.
 *
 *	tool_queue_runner CONFIG     runs until SIGTERM or SIGINT; logs to stderr
 */
#include <signal.h>
#include <stdio.h>
#include <sysexits.h>

#include "config.h"
#include "deliver.h"
#include "log.h"
#include "queue_runner.h"
#include "token.h"

int main(int argc, char **argv)
{
    struct config *cfg;
    struct token_engine *te;
    struct pools *pools;
    sigset_t set;
    int nerrors, sig;

    if (argc != 2) {
        fprintf(stderr, "usage: tool_queue_runner CONFIG\n");
        return EX_USAGE;
    }
    log_open("exorelay", 1);
    if ((cfg = config_load(argv[1], stderr, &nerrors)) == NULL)
        return EX_CONFIG;
    log_set_level(cfg->log_level);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);     /* before any thread starts */
    if ((te = token_engine_new(cfg)) == NULL || (pools = pools_new(cfg, te)) == NULL
        || queue_runner_start(cfg, pools, te) < 0)
        return EX_SOFTWARE;
    sigwait(&set, &sig);
    queue_runner_stop();
    pools_free(pools);
    token_engine_free(te);
    config_free(cfg);
    return EX_OK;
}
