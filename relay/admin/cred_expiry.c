/*
 * cred_expiry.c - the expiry date of an account's credential
 * (cred_expiry.h). Only the certificate is read, never a secret or key.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cred_expiry.h"

/* cred_thumbprint - digest of the DER, upper-case hex; "" on failure */
void cred_thumbprint(X509 *cert, const EVP_MD *type, char *buf, size_t size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    buf[0] = 0;
    if (X509_digest(cert, type, md, &len) != 1)
        return;
    for (unsigned int i = 0; i < len && 2 * i + 3 <= size; i++)
        snprintf(buf + 2 * i, 3, "%02X", md[i]);
}

/* cert_expiry - notAfter of the PEM certificate in path */
static int cert_expiry(const char *path, struct cred_expiry *ce)
{
    FILE   *fp = fopen(path, "r");
    X509   *cert;
    struct tm tm;
    char    thumb[65];

    if (fp == NULL) {
        snprintf(ce->problem, sizeof(ce->problem), "cannot read %s: %s", path,
                 strerror(errno));
        return 0;
    }
    cert = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    if (cert == NULL || ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
        snprintf(ce->problem, sizeof(ce->problem), "%s holds no PEM certificate",
                 path);
        X509_free(cert);
        return 0;
    }
    ce->expires = timegm(&tm);
    cred_thumbprint(cert, EVP_sha256(), thumb, sizeof(thumb));
    snprintf(ce->id, sizeof(ce->id), "cert:%s", thumb);
    X509_free(cert);
    return 1;
}

/* cred_expiry_get - see cred_expiry.h */
int cred_expiry_get(const struct conf_account *acct, struct cred_expiry *ce)
{
    char    day[16];

    memset(ce, 0, sizeof(*ce));
    if (acct->certificate_file && *acct->certificate_file) {
        ce->kind = "certificate";
        return cert_expiry(acct->certificate_file, ce);
    }
    ce->kind = "client secret";
    if (acct->credential_expiry == 0) {
        snprintf(ce->problem, sizeof(ce->problem), "credential_expiry is not set "
                 "in [account %s]", acct->name);
        return 0;
    }
    ce->expires = acct->credential_expiry;
    snprintf(ce->id, sizeof(ce->id), "secret:%s",
             cred_date(ce->expires, day, sizeof(day)));
    return 1;
}

/* cred_days_left - whole days, rounded towards the past */
long cred_days_left(time_t expires, time_t now)
{
    long long diff = (long long) expires - (long long) now;

    return diff >= 0 ? (long) (diff / 86400) : -(long) ((-diff + 86399) / 86400);
}

/* cred_date - YYYY-MM-DD in UTC */
char *cred_date(time_t t, char *buf, size_t size)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%d", &tm) == 0)
        snprintf(buf, size, "?");
    return buf;
}

/* cred_when - the phrase for days left */
char *cred_when(long days, time_t expires, char *buf, size_t size)
{
    char    day[16];

    cred_date(expires, day, sizeof(day));
    if (days > 0)
        snprintf(buf, size, "expires in %ld day%s (%s)", days, days == 1 ? "" : "s", day);
    else if (days == 0)
        snprintf(buf, size, "expires today (%s)", day);
    else
        snprintf(buf, size, "EXPIRED %ld day%s ago (%s)", -days, days == -1 ? "" : "s", day);
    return buf;
}
