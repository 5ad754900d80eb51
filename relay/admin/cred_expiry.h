/*
 * cred_expiry.h - when the credential of an account expires.
 *
 * SYNOPSIS
 *	int cred_expiry_get(account, &ce)
 *		A certificate credential: the notAfter of certificate_file
 *		(read each time, so a replaced file counts at once). A secret:
 *		credential_expiry (end of that day, UTC). Returns 1 when the
 *		expiry is known, 0 when not (a secret without
 *		credential_expiry, or an unreadable certificate: ce.problem
 *		says which). ce.id names this credential for the alarm state:
 *		"secret:YYYY-MM-DD" or "cert:SHA-256 thumbprint", so a new
 *		credential starts with a clean slate of alarms.
 *	long cred_days_left(expires, now)
 *		Whole days left, rounded down: 0 = expires within 24 hours
 *		(for a secret: today), negative = expired that many days ago.
 *	char *cred_date(t, buf, size)   "YYYY-MM-DD" (UTC)
 *	char *cred_when(days, expires, buf, size)
 *		"expires in 7 days (2027-06-30)", "expires today
 *		(2027-06-30)", "expired 3 days ago (2027-06-30)": the one
 *		phrase of logs, alarm mail and status
 *	void cred_thumbprint(cert, md, buf, size)
 *		upper-case hex digest of the certificate's DER (SHA-1 is what
 *		the Entra admin center lists as "Thumbprint")
 */
#ifndef EXORELAY_CRED_EXPIRY_H
#define EXORELAY_CRED_EXPIRY_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/config.h"

struct cred_expiry {
    const char *kind;           /* "client secret" or "certificate" */
    time_t  expires;            /* valid while known */
    char    id[96];             /* stable name of this credential */
    char    problem[256];       /* why unknown */
};

int cred_expiry_get(const struct conf_account *acct, struct cred_expiry *ce);
long cred_days_left(time_t expires, time_t now);
char *cred_date(time_t t, char *buf, size_t size);
char *cred_when(long days, time_t expires, char *buf, size_t size);
void cred_thumbprint(X509 *cert, const EVP_MD *md, char *buf, size_t size);

#endif
