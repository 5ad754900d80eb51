/*
 * spool_bounce.h - DSN or failed/ for recipients that failed for good
 * (see spool_bounce.c).
 */
#ifndef EXORELAY_SPOOL_BOUNCE_H
#define EXORELAY_SPOOL_BOUNCE_H

#include "dsn.h"
#include "spool_deliver.h"

int spool_send_dsn(const struct spool_ctx *ctx, const struct spool_env *env, int fd,
                   const struct conf_account *acct, const struct dsn_rcpt *rcpts,
                   size_t n, int success, struct spool_report *rep);
void spool_note_failed(struct spool_env *env, const char *addr, const char *reason);

#endif
