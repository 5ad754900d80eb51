/*
 * spool_pickup.h - maildrop/ to queue/ (see spool_pickup.c).
 */
#ifndef EXORELAY_SPOOL_PICKUP_H
#define EXORELAY_SPOOL_PICKUP_H

#include <time.h>

int spool_pickup(const char *spool_dir, const char *id);
int spool_pickup_name(const char *spool_dir, const char *name, time_t now, int *flush);
int spool_scan_maildrop(const char *spool_dir, void (*fn)(const char *id, void *arg),
                        void *arg, int *flush);
int spool_request_flush(const char *spool_dir);

#endif
