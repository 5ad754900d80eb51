/*
 * exorelay_main.c - entry point of the exorelay program: global options,
 * config loading, and dispatch to the subcommands (commands.h).
 *
 *	exorelay [-c FILE] COMMAND [ARGS]
 *	exorelay [-c FILE] COMMAND --help
 *
 * The config path is -c FILE (--config FILE), else $EXORELAY_CONF, else
 * /etc/exorelay/exorelay.conf. "check" prints every problem as
 * FILE:LINE: message and exits 78 (EX_CONFIG) if there is any; every other
 * command refuses to start on an invalid config the same way. "token" and
 * "queue" are quiet on success (see quiet_command).
 *
 * Options are parsed with getopt_long: the global ones up to the command
 * name, then each command's own (commands.h). "COMMAND --help"
 * (or -h) prints that command's usage and options and exits 0 before any
 * config is read, so it works on a host without one.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "common/config.h"
#include "common/log.h"
#include "common/privs.h"

struct global_opts global_opts;

/* quiet_command - where a command logs: "token" (a password helper: msmtp's
 * passwordeval) and "queue" (cron's "sendmail -q") log to syslog, with
 * only warnings and errors also on stderr, so that success prints nothing;
 * the others log to stderr (run switches to its own destination) */
static void quiet_command(const char *name)
{
    int     quiet = strcmp(name, "token") == 0 || strcmp(name, "queue") == 0;

    log_open(name, !quiet);
    if (quiet)
        log_copy_to_stderr(LOG_LVL_WARNING);
}

/* usage - the whole program's usage */
static void usage(FILE *fp)
{
    fprintf(fp, "usage: exorelay [-c FILE] COMMAND [ARGS]\n\n");
    commands_list(fp);
    fprintf(fp, "\n  -c, --config FILE  config file (default $EXORELAY_CONF or "
            "/etc/exorelay/exorelay.conf)\n"
            "  -V, --version      print the version\n  -h, --help         this text\n"
            "\n\"exorelay COMMAND --help\" shows a command's options. "
            "See exorelay(8) and exorelay.conf(5).\n");
}

/* wants_help - --help or -h among a command's arguments (before "--") */
static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

/* global_options - -c, --version, --help up to the command; its index, or
 * -1 with *status set when there is nothing more to do */
static int global_options(int argc, char **argv, int *status)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int     opt;

    global_opts.config_path = config_path_default();
    while ((opt = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            global_opts.config_path = optarg;
            break;
        case 'V':
            printf("exorelay %s\n", EXORELAY_VERSION);
            return *status = EX_OK, -1;
        case 'h':
            usage(stdout);
            return *status = EX_OK, -1;
        default:
            usage(stderr);
            return *status = EX_USAGE, -1;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return *status = EX_USAGE, -1;
    }
    return optind;
}

int main(int argc, char **argv)
{
    int     i, nerrors = 0, status = EX_USAGE;
    const struct command *cmd;
    struct config *cfg;
    char    prog[64];

    privs_no_core();            /* may hold a secret or a token: never in a core */
    if ((i = global_options(argc, argv, &status)) < 0)
        return status;
    if ((cmd = command_find(argv[i])) == NULL) {
        fprintf(stderr, "exorelay: unknown command '%s'\n", argv[i]);
        usage(stderr);
        return EX_USAGE;
    }
    if (wants_help(argc - i, argv + i)) {
        command_usage(stdout, cmd, 1);
        return EX_OK;
    }
    quiet_command(cmd->name);     /* tag exorelay/check, exorelay/token, ... */
    cfg = config_load(global_opts.config_path, stderr, &nerrors);
    if (cfg == NULL) {
        fprintf(stderr, "exorelay: %s: %d error%s\n", global_opts.config_path,
                nerrors, nerrors == 1 ? "" : "s");
        if (cmd->fn == cmd_test)        /* its first step */
            cmd_test_config_failed(global_opts.config_path, nerrors);
        return EX_CONFIG;
    }
    if (cmd->fn == NULL) {              /* check */
        config_free(cfg);
        if (argc - i > 1)
            return command_usage_error(cmd->name);
        printf("%s: ok\n", global_opts.config_path);
        return EX_OK;
    }
    log_set_level(cfg->log_level);
    if (cfg->log_level == LOG_LVL_DEBUG)
        log_copy_to_stderr(LOG_LVL_DEBUG);      /* troubleshooting: all of it */
    /* The command parses its own options: getopt starts afresh at argv[1]
     * of its arguments and names "exorelay COMMAND" in its messages. */
    snprintf(prog, sizeof(prog), "exorelay %s", cmd->name);
    argv[i] = prog;
    optind = 0;
    status = cmd->fn(cfg, argc - i, argv + i);
    config_free(cfg);
    return status;
}
