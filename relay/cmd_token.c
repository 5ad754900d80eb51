/*
 * cmd_token.c - "exorelay token": not written yet (placeholder so the program
 * links; replaced by the issue that builds it).
 */
#include <stdio.h>
#include <sysexits.h>

#include "commands.h"

int cmd_token(struct config *cfg, int argc, char **argv)
{
    (void) cfg;
    (void) argc;
    fprintf(stderr, "exorelay: %s: not implemented yet\n", argv[0]);
    return EX_SOFTWARE;
}
