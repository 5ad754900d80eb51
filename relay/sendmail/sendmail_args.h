/*
 * sendmail_args.h - the sendmail(8) command line as exorelay-sendmail
 * understands it.
 *
 * SYNOPSIS
 *	int sendmail_args_parse(argc, argv, &opts, err, errlen)
 *		Fill opts from argv; argv[0]'s last path component selects
 *		the mode when it is "mailq" (-bp) or "newaliases" (-bi).
 *		Returns 0, or EX_USAGE with one line in err naming the flag.
 *		opts point into argv; nothing is allocated.
 *
 * Supported: -t, -i/-oi, -f/-r ADDR, -F NAME, -C FILE, -N DSN, -R RET,
 * -V ENVID, -v, -bm, -bp, -bs, -bi (no-op), -q[...] (flush now), --,
 * --version, --help. Accepted and ignored, as other tools' sendmail do:
 * -o* (except -oi), -B TYPE, -X FILE, -O OPT=VAL, -L TAG, -A X, -h N, -U, -n, -m.
 * Flags without an argument may be grouped (-ti). A flag's argument may be
 * attached (-fADDR) or the next word (-f ADDR). Options end at the first
 * word that does not start with "-"; the rest are recipients.
 */
#ifndef EXORELAY_SENDMAIL_ARGS_H
#define EXORELAY_SENDMAIL_ARGS_H

#include <stddef.h>

#include "spool/spool.h"

enum sendmail_mode {
    SM_DELIVER = 0,     /* -bm: read a message, queue it */
    SM_LIST,            /* -bp, mailq */
    SM_SMTP,            /* -bs */
    SM_FLUSH,           /* -q */
    SM_NOOP,            /* -bi, newaliases */
    SM_VERSION,
    SM_HELP
};

struct sendmail_opts {
    enum sendmail_mode mode;
    int     extract;            /* -t */
    int     ignore_dots;        /* -i, -oi */
    int     verbose;            /* -v */
    const char *sender;         /* -f/-r as given (NULL = default) */
    const char *fullname;       /* -F */
    const char *config;         /* -C */
    unsigned notify;            /* -N, DSN_NOTIFY_* (0 = not given) */
    enum dsn_ret ret;           /* -R */
    const char *envid;          /* -V */
    char  **rcpt;               /* recipient words (may hold a,b lists) */
    int     nrcpt;
};

int sendmail_args_parse(int argc, char **argv, struct sendmail_opts *opts,
                        char *err, size_t errlen);

#endif
