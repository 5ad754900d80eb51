/*
 * queue_flush.h - "run the whole queue now" for "exorelay queue flush" and
 * "exorelay-sendmail -q" (see queue_flush.c).
 */
#ifndef EXORELAY_QUEUE_FLUSH_H
#define EXORELAY_QUEUE_FLUSH_H

#include <stdio.h>

#include "config.h"

int queue_flush(const struct config *cfg, FILE *out);

#endif
