/*
 * Part sendmail (relay/sendmail/), contract: exorelay-sendmail, the
 * sendmail-compatible command (and mailq). Reads a message the way sendmail
 * does (-t, -i, -f, -F, -bs, -bp, -q), completes its header and writes it
 * into the spool. Promises: success only once the message is fsynced in
 * the spool. Runs setgid: never trusts the caller's environment, never
 * loads TLS or HTTP code, never touches a credential.
 *
 * sendmail_submit.h - from a read message to a queued one, for -bm and -bs
 * (see sendmail_submit.c).
 */
#ifndef EXORELAY_SENDMAIL_SUBMIT_H
#define EXORELAY_SENDMAIL_SUBMIT_H

#include <stddef.h>

#include "common/config.h"
#include "sendmail_args.h"
#include "spool/spool.h"

/* One submission: the message as read, and its envelope so far. */
struct sm_submission {
    const char *sender;         /* as given (-f, MAIL FROM), NULL = default */
    char  **rcpt;               /* recipient words (may be comma lists) */
    size_t  nrcpt;
    int     extract;            /* -t */
    unsigned notify;
    enum dsn_ret ret;
    const char *envid;
    const char *fullname;       /* -F */
};

int sendmail_submit(const struct config *cfg, const struct sm_submission *sub,
                    const char *msg, size_t len, int verbose,
                    char id[SPOOL_ID_SIZE], char *err, size_t errlen);
const char *sendmail_default_sender(const struct config *cfg);
int sendmail_addr_ok(const char *addr);

/* after the message is safe: wake the daemon or deliver inline */
void sendmail_after_submit(const struct config *cfg, const char *id, int fd, int verbose);
int sendmail_run_queue(const struct config *cfg, int verbose);
void sendmail_drop_group(void);

#endif
