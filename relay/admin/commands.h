/*
 * Part admin (relay/admin/), contract: the top of the exorelay program.
 * main() parses the command line and runs one subcommand (check, run, test,
 * token, status, queue, credential); "run" wires the parts below together
 * (listener, sessions, pools, queue runner) and runs the daemon's
 * operations (control socket, metrics file, alarms, systemd notify).
 * Promises: exit codes from <sysexits.h>, messages in the admin's terms.
 * Never: carries mail itself, or is included by any part below it.
 *
 * commands.h - the subcommands of the exorelay program (see exorelay(8)).
 *
 * Each takes the loaded, validated config and the arguments after the
 * subcommand name (argv[0] is the subcommand), and returns the process exit
 * status (<sysexits.h>). Each lives in its own file: cmd_NAME.c.
 */
#ifndef EXORELAY_COMMANDS_H
#define EXORELAY_COMMANDS_H

#include <stdio.h>

#include "common/config.h"

/* Global options parsed by exorelay_main.c, visible to the commands. */
struct global_opts {
    const char *config_path;
    int         foreground;     /* run -f */
};
extern struct global_opts global_opts;

int cmd_run(struct config *cfg, int argc, char **argv);
int cmd_test(struct config *cfg, int argc, char **argv);
int cmd_token(struct config *cfg, int argc, char **argv);
int cmd_status(struct config *cfg, int argc, char **argv);
int cmd_queue(struct config *cfg, int argc, char **argv);

/* Added by the operations issue. */
int cmd_credential(struct config *cfg, int argc, char **argv);
void cmd_test_config_failed(const char *path, int nerrors);

/*
 * command_table.c: every command, for dispatch and help. main() resets
 * getopt (optind = 0) and renames argv[0] "exorelay NAME" before calling
 * fn, so a command parses its arguments with getopt_long and its messages
 * name it; "NAME --help" is answered by main before any config is read.
 *	const struct command *command_find(name)	NULL: no such command
 *	void commands_list(fp)				"  name  summary" lines
 *	void command_usage(fp, cmd, full)		usage line (+ options)
 *	int command_usage_error(name)			usage line on stderr,
 *							returns EX_USAGE
 */
struct command {
    const char *name;
    int   (*fn)(struct config *, int, char **);     /* NULL: check */
    const char *synopsis;       /* its arguments */
    const char *summary;        /* what it does */
    const char *options;        /* one line per option */
};

const struct command *command_find(const char *name);
void commands_list(FILE *fp);
void command_usage(FILE *fp, const struct command *cmd, int full);
int command_usage_error(const char *name);

#endif
