/*
 * command_table.c - the subcommands of exorelay, their synopses and their
 * options' help, in one table (commands.h): what main() dispatches on, what
 * "exorelay --help" lists, what "exorelay COMMAND --help" prints, and the
 * usage line each command prints on a bad command line.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"

static const struct command commands[] = {
    {"check", NULL, "", "validate the config, no network", ""},
    {"run", cmd_run, "[-f]", "serve",
     "  -f, --foreground    stay in the foreground and log to stderr\n"},
    {"test", cmd_test, "[--account NAME] [--to ADDR [--from ADDR]]",
     "live check, step by step",
     "  --account NAME      test this account (default: the first)\n"
     "  --to ADDR           also send a test message to ADDR\n"
     "  --from ADDR         ... from ADDR (checks a SendAs right; default: the mailbox)\n"},
    {"token", cmd_token, "[--account NAME]", "print a valid access token",
     "  --account NAME      the account (default: the first)\n"},
    {"status", cmd_status, "[--check | --json]", "accounts, tokens, expiry, counters",
     "  --check             one line for Nagios/Icinga; exit 0 OK, 1 WARNING, 2 CRITICAL\n"
     "  --json              the whole report as JSON (the daemon's, else from disk)\n"},
    {"queue", cmd_queue, "[list | flush [-v] | delete ID | deliver ID]",
     "the exorelay-sendmail spool",
     "  list                the queued messages (default)\n"
     "  flush [-v]          deliver every queued message now; silent unless\n"
     "                      something fails (-v: a line per message)\n"
     "  delete ID           remove one message\n"
     "  deliver ID          deliver one message now\n"},
    {"credential", cmd_credential,
     "new --account NAME [--days N] [--bits 2048|3072|4096] [--dir DIR]",
     "new key and certificate for an account",
     "  --account NAME      the account the certificate is for\n"
     "  --days N            validity in days (default 730)\n"
     "  --bits N            RSA key size: 2048, 3072 (default) or 4096\n"
     "  --dir DIR           where to write NAME-DATE.key and .pem\n"
     "                      (default: next to the account's credential)\n"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* command_find - the command of that name, or NULL */
const struct command *command_find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* commands_list - one line per command: name and summary */
void commands_list(FILE *fp)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(fp, "  %-11s %s\n", commands[i].name, commands[i].summary);
}

/* command_usage - the usage line; full: with the summary and the options */
void command_usage(FILE *fp, const struct command *cmd, int full)
{
    fprintf(fp, "usage: exorelay [-c FILE] %s%s%s\n", cmd->name, *cmd->synopsis ? " " : "",
            cmd->synopsis);
    if (full)
        fprintf(fp, "%s: %s\n%s  -h, --help          this text\n", cmd->name,
                cmd->summary, cmd->options);
}

/* command_usage_error - the usage line of a command on stderr; EX_USAGE */
int command_usage_error(const char *name)
{
    const struct command *cmd = command_find(name);

    if (cmd != NULL)
        command_usage(stderr, cmd, 0);
    return EX_USAGE;
}
