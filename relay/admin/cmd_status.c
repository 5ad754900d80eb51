/*
 * cmd_status.c - "exorelay -c FILE status [--check | --json]": what the
 * running daemon reports on its control socket, else what is on disk.
 *
 * SYNOPSIS
 *	int cmd_status(cfg, argc, argv)
 *		Without --check: the report (status_show.h), exit 0.
 *		With --check: one line for Nagios/Icinga, exit 0 OK,
 *		1 WARNING, 2 CRITICAL.
 *		With --json: the same report as one JSON object (the
 *		daemon's own, else the one read from disk with "why" and
 *		"unanswered" saying why the daemon did not answer), exit 0.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "commands.h"
#include "control.h"
#include "status_info.h"
#include "status_show.h"

/* cmd_status - see above */
int cmd_status(struct config *cfg, int argc, char **argv)
{
    int     check = 0, rc = EX_OK, connected;
    char    why[4400], line[2200];
    json_t *st;

    static const struct option longopts[] = {
        {"check", no_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    int     opt, json = 0, bad = 0;

    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        check |= opt == 'c';
        json |= opt == 'j';
        bad |= opt != 'c' && opt != 'j';
    }
    if (bad || optind < argc || (check && json)) {
        command_usage_error("status");
        return check ? CHECK_CRITICAL : EX_USAGE;   /* a monitor sees it */
    }
    if ((st = control_query(cfg->control_socket, &connected, why, sizeof(why))) == NULL) {
        st = status_collect(cfg, NULL, time(NULL));
        json_object_set_new(st, "why", json_string(why));
        json_object_set_new(st, "unanswered", json_boolean(connected));
    }
    if (check) {
        rc = status_check(cfg, st, line, sizeof(line));
        printf("%s\n", line);
    } else if (json) {
        json_dumpf(st, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
        putchar('\n');
    } else {
        status_print(stdout, st);
    }
    json_decref(st);
    return rc;
}
