/*
 * exorelay_main.c - entry point of the exorelay program: global options,
 * config loading, and dispatch to the subcommands (commands.h).
 *
 *	exorelay [-c FILE] COMMAND [ARGS]
 *
 * The config path is -c FILE, else $EXORELAY_CONF, else
 * /etc/exorelay/exorelay.conf. "check" prints every problem as
 * FILE:LINE: message and exits 78 (EX_CONFIG) if there is any; every other
 * command refuses to start on an invalid config the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "common/config.h"
#include "common/log.h"
#include "common/privs.h"

struct global_opts global_opts;

static const struct command {
    const char *name;
    int (*fn)(struct config *, int, char **);
    const char *synopsis;
} commands[] = {
    {"run", cmd_run, "run [-f]                    serve (-f: foreground, log to stderr)"},
    {"test", cmd_test, "test [--account A] [--to ADDR]  live check, step by step"},
    {"token", cmd_token, "token [--account A]         print a valid access token"},
    {"status", cmd_status, "status [--check]            accounts, tokens, expiry, counters"},
    {"queue", cmd_queue, "queue [list|flush|delete ID]  the exorelay-sendmail spool"},
    {"credential", cmd_credential, "credential new --account A  new key and certificate for A"},
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: exorelay [-c FILE] COMMAND [ARGS]\n\n"
            "  check                       validate the config, no network\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(fp, "  %s\n", commands[i].synopsis);
    fprintf(fp, "\n  -c FILE      config file (default $EXORELAY_CONF or "
            "/etc/exorelay/exorelay.conf)\n"
            "  --version    print the version\n  --help       this text\n"
            "\nSee exorelay(8) and exorelay.conf(5).\n");
}

int main(int argc, char **argv)
{
    int i = 1;
    int nerrors = 0;
    struct config *cfg;

    privs_no_core();            /* may hold a secret or a token: never in a core */
    global_opts.config_path = config_path_default();
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
            printf("exorelay %s\n", EXORELAY_VERSION);
            return EX_OK;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return EX_OK;
        } else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            global_opts.config_path = argv[++i];
        } else {
            fprintf(stderr, "exorelay: unknown option %s\n", argv[i]);
            usage(stderr);
            return EX_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return EX_USAGE;
    }
    const char *name = argv[i];
    const struct command *cmd = NULL;
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
        if (strcmp(commands[k].name, name) == 0)
            cmd = &commands[k];
    if (cmd == NULL && strcmp(name, "check") != 0) {
        fprintf(stderr, "exorelay: unknown command '%s'\n", name);
        usage(stderr);
        return EX_USAGE;
    }
    log_open("exorelay", 1);
    cfg = config_load(global_opts.config_path, stderr, &nerrors);
    if (cfg == NULL) {
        fprintf(stderr, "exorelay: %s: %d error%s\n", global_opts.config_path,
                nerrors, nerrors == 1 ? "" : "s");
        if (cmd != NULL && cmd->fn == cmd_test)    /* its first step */
            cmd_test_config_failed(global_opts.config_path, nerrors);
        return EX_CONFIG;
    }
    if (cmd == NULL) {
        printf("%s: ok\n", global_opts.config_path);
        config_free(cfg);
        return EX_OK;
    }
    log_set_level(cfg->log_level);
    int status = cmd->fn(cfg, argc - i, argv + i);
    config_free(cfg);
    return status;
}
