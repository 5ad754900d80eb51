/*
 * cmd_status.c - "exorelay -c FILE status [--check]": what the running
 * daemon reports on its control socket, else what is on disk.
 *
 * SYNOPSIS
 *	int cmd_status(cfg, argc, argv)
 *		Without --check: the report (status_show.h), exit 0.
 *		With --check: one line for Nagios/Icinga, exit 0 OK,
 *		1 WARNING, 2 CRITICAL.
 */
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

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0) {
            check = 1;
        } else {
            fprintf(stderr, "usage: exorelay [-c FILE] status [--check]\n");
            return check ? CHECK_CRITICAL : EX_USAGE;
        }
    }
    if ((st = control_query(cfg->control_socket, &connected, why, sizeof(why))) == NULL) {
        st = status_collect(cfg, NULL, time(NULL));
        json_object_set_new(st, "why", json_string(why));
        json_object_set_new(st, "unanswered", json_boolean(connected));
    }
    if (check) {
        rc = status_check(cfg, st, line, sizeof(line));
        printf("%s\n", line);
    } else {
        status_print(stdout, st);
    }
    json_decref(st);
    return rc;
}
