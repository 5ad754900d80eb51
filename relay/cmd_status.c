/*
 * cmd_status.c - "exorelay status": not written yet (placeholder so the program
 * links; replaced by the issue that builds it).
 */
#include <stdio.h>
#include <sysexits.h>

#include "commands.h"

int cmd_status(struct config *cfg, int argc, char **argv)
{
    (void) cfg;
    (void) argc;
    fprintf(stderr, "exorelay: %s: not implemented yet\n", argv[0]);
    return EX_SOFTWARE;
}
