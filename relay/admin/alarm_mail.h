/*
 * alarm_mail.h - the alarm mail about an expiring credential.
 *
 * SYNOPSIS
 *	int alarm_mail_send(cfg, pools, account, &ce, days, err, errlen)
 *		Mail [alarms] notify what expires and how to renew it, from
 *		the mailbox of account through the relay's pools
 *		(deliver_message), or when that fails (an expired credential
 *		cannot send) through each other account in turn. 0 when
 *		upstream accepted it, else -1 with the last reply in err.
 */
#ifndef EXORELAY_ALARM_MAIL_H
#define EXORELAY_ALARM_MAIL_H

#include <stddef.h>

#include "common/config.h"
#include "cred_expiry.h"
#include "pool/deliver.h"

int alarm_mail_send(const struct config *cfg, struct pools *pools,
                    const struct conf_account *acct, const struct cred_expiry *ce,
                    long days, char *err, size_t errlen);

#endif
