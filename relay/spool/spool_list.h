/*
 * spool_list.h - mailq / "exorelay queue list" output (see spool_list.c).
 */
#ifndef EXORELAY_SPOOL_LIST_H
#define EXORELAY_SPOOL_LIST_H

#include <stdio.h>

int spool_list(const char *spool_dir, FILE *out, int show_failed);

#endif
