/*
 * spool_deliver.h - one delivery attempt of one spooled message, shared by
 * the daemon's queue runner, "exorelay queue flush" and exorelay-sendmail's
 * inline delivery (see spool_deliver.c).
 */
#ifndef EXORELAY_SPOOL_DELIVER_H
#define EXORELAY_SPOOL_DELIVER_H

#include <time.h>

#include "common/config.h"
#include "pool/deliver.h"
#include "spool.h"

struct spool_ctx {
    const struct config *cfg;
    struct pools *pools;
    char    hostname[256];
};

enum spool_outcome {
    DELIV_SENT = 0,     /* every recipient done; file removed */
    DELIV_DEFERRED,     /* some recipients wait for a retry */
    DELIV_FAILED,       /* done, but moved to failed/ (or corrupt) */
    DELIV_BUSY,         /* another process is delivering it */
    DELIV_GONE          /* no such message (any more) */
};

struct spool_report {
    enum spool_outcome outcome;
    time_t  next_attempt;       /* DELIV_DEFERRED */
    int     bounced;            /* recipients reported in a DSN this time */
    char    text[1024];         /* what happened, one line */
    char    dsn_id[SPOOL_ID_SIZE]; /* a report written to maildrop, or "" */
};

void spool_ctx_init(struct spool_ctx *ctx, const struct config *cfg, struct pools *pools);
int spool_deliver(const struct spool_ctx *ctx, const char *sub, const char *id,
                  int fd, struct spool_report *rep);
time_t spool_backoff(const struct config *cfg, int attempts);
int spool_move_failed(const char *spool_dir, const char *sub, const char *id,
                      const char *reason);

#endif
