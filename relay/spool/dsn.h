/*
 * dsn.h - delivery status notifications (RFC 3464 multipart/report) for
 * messages of the exorelay-sendmail spool (see dsn.c).
 */
#ifndef EXORELAY_DSN_H
#define EXORELAY_DSN_H

#include <stddef.h>
#include <time.h>

#include "spool.h"

struct dsn_rcpt {
    const char *addr;
    const char *status;         /* "5.1.1", "4.4.7", "2.0.0" */
    const char *diag;           /* "550 5.1.1 no such user" or NULL */
};

struct dsn_info {
    const struct spool_env *env;    /* the original envelope */
    const char *reporting_mta;      /* this host */
    const char *remote_mta;         /* [upstream] server, or NULL */
    const char *from;               /* address the report is sent from */
    const char *id;                 /* queue ID of the report (Message-ID) */
    int         success;            /* 1: "relayed" report, else "failed" */
    const struct dsn_rcpt *rcpt;
    size_t      nrcpt;
    time_t      now;
};

int dsn_wanted(const struct spool_env *env, int success);
int dsn_build(const struct dsn_info *info, int fd, char **msg, size_t *len);

#endif
