/*
 * queue_flush.h - "run the whole queue now" for "exorelay queue flush" and
 * "exorelay-sendmail -q", and delivery from a short-lived process (see
 * queue_flush.c).
 */
#ifndef EXORELAY_QUEUE_FLUSH_H
#define EXORELAY_QUEUE_FLUSH_H

#include <stdio.h>

#include "common/config.h"
#include "pool/deliver.h"
#include "spool_deliver.h"
#include "token/token.h"

struct queue_delivery {
    struct token_engine *te;
    struct pools *pools;
    struct spool_ctx ctx;
};

int queue_flush(const struct config *cfg, FILE *out, int verbose);
int queue_deliver_id(const struct config *cfg, const char *id, FILE *out);
int queue_deliver_open(const struct config *cfg, struct queue_delivery *qd);
void queue_deliver_close(struct queue_delivery *qd);

#endif
