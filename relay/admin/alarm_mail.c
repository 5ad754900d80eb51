/*
 * alarm_mail.c - compose the credential-expiry alarm and send it through
 * the relay's own pools (alarm_mail.h).
 *
 * The message is written to an anonymous memory file (memfd), which
 * deliver_message can read twice (SIZE=, then the content) like a spool
 * file. It is sent from the mailbox of an account, the one sender that
 * needs no SendAs right.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "alarm_mail.h"
#include "common/log.h"
#include "pool/deliver_log.h"

/* renew_howto - what to do, for this kind of credential */
static void renew_howto(FILE *fp, const struct config *cfg,
                        const struct conf_account *acct)
{
    if (acct->certificate_file && *acct->certificate_file)
        fprintf(fp, "To renew it without an outage:\n\n"
                "  1. exorelay -c %s credential new --account %s\n"
                "     (writes a new key and certificate next to the old ones and\n"
                "     prints the certificate and its thumbprints)\n"
                "  2. Upload the certificate: Entra admin center > App registrations >\n"
                "     the app (client ID %s) > Certificates & secrets > Certificates.\n"
                "     Keep the old one registered for now.\n"
                "  3. Point certificate_file and private_key_file of [account %s]\n"
                "     to the new files, then: systemctl reload exorelay\n"
                "  4. exorelay test --account %s; then delete the old certificate\n"
                "     from the app registration.\n",
                cfg->path, acct->name, acct->client_id, acct->name, acct->name);
    else
        fprintf(fp, "To renew it without an outage:\n\n"
                "  1. Entra admin center > App registrations > the app (client ID\n"
                "     %s) > Certificates & secrets > New client secret.\n"
                "     Copy its Value (not the Secret ID).\n"
                "  2. Write the Value to %s (mode 0600)\n"
                "     and set credential_expiry in [account %s] of\n"
                "     %s to the new expiry date.\n"
                "  3. systemctl reload exorelay; exorelay test --account %s\n"
                "  4. Delete the old secret from the app registration.\n",
                acct->client_id,
                acct->client_secret_file ? acct->client_secret_file : "the client_secret_file",
                acct->name, cfg->path, acct->name);
}

/* compose - the whole message into fp */
static void compose(FILE *fp, const struct config *cfg, const struct conf_account *from,
                    const struct conf_account *acct, const struct cred_expiry *ce,
                    long days)
{
    char    host[256] = "localhost", date[64], when[96];
    time_t  now = time(NULL);
    struct tm tm;

    gethostname(host, sizeof(host) - 1);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&now, &tm));
    cred_when(days, ce->expires, when, sizeof(when));
    fprintf(fp, "From: exorelay on %s <%s>\nTo: ", host, from->mailbox);
    for (size_t i = 0; i < cfg->alarm_notify.n; i++)
        fprintf(fp, "%s%s", i ? ", " : "", cfg->alarm_notify.v[i]);
    fprintf(fp, "\nSubject: [exorelay] %s of account %s %s\nDate: %s\n"
            "Message-ID: <exorelay-alarm.%ld.%ld.%d@%s>\n"
            "Auto-Submitted: auto-generated\n"
            "X-Exorelay-Alarm: credential-expiry; account=%s; days=%ld\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n",
            ce->kind, acct->name, when, date, (long) now, days, (int) getpid(), host,
            acct->name, days);
    fprintf(fp, "The %s that exorelay on %s uses for account \"%s\"\n%s.\n\n"
            "  mailbox    %s\n  tenant     %s\n  client ID  %s\n\n",
            ce->kind, host, acct->name, when, acct->mailbox, acct->tenant,
            acct->client_id);
    if (days < 0)
        fprintf(fp, "Mail through this account fails until the credential is renewed;\n"
                "it waits in the queues of Postfix/Sendmail meanwhile.\n\n");
    renew_howto(fp, cfg, acct);
    fprintf(fp, "\nYou get this mail once for each of the days in [alarms] days of\n%s.\n",
            cfg->path);
}

/* message_fd - the composed message in a rewound memory file; -1 on error */
static int message_fd(const struct config *cfg, const struct conf_account *from,
                      const struct conf_account *acct, const struct cred_expiry *ce,
                      long days)
{
    int     fd = memfd_create("exorelay-alarm", MFD_CLOEXEC);
    FILE   *fp = fd >= 0 ? fdopen(dup(fd), "w") : NULL;
    int     ok;

    if (fp == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    compose(fp, cfg, from, acct, ce, days);
    ok = fclose(fp) == 0 && lseek(fd, 0, SEEK_SET) == 0;
    if (!ok) {
        close(fd);
        return -1;
    }
    return fd;
}

/* send_from - one try through account from; 0 when accepted */
static int send_from(const struct config *cfg, struct pools *pools,
                     const struct conf_account *from, const struct conf_account *acct,
                     const struct cred_expiry *ce, long days, char *err, size_t errlen)
{
    struct deliver_result res;
    int     fd = message_fd(cfg, from, acct, ce, days), rc;
    char    id[16], extra[256];

    if (fd < 0) {
        snprintf(err, errlen, "cannot compose the message: %m");
        return -1;
    }
    rc = deliver_message(pools, from, from->mailbox, cfg->alarm_notify.v,
                         cfg->alarm_notify.n, fd, &res);
    maillog_new_id(id, sizeof(id));
    snprintf(extra, sizeof(extra), "account=%s, alarm=credential expiry of %s",
             from->name, acct->name);
    deliver_log(id, from->mailbox, cfg->alarm_notify.v, cfg->alarm_notify.n,
                lseek(fd, 0, SEEK_END), time(NULL), &res, extra);
    if (rc < 0)
        smtp_reply_oneline(&res.final, err, errlen);
    deliver_result_free(&res);
    close(fd);
    return rc;
}

/* alarm_mail_send - see alarm_mail.h */
int alarm_mail_send(const struct config *cfg, struct pools *pools,
                    const struct conf_account *acct, const struct cred_expiry *ce,
                    long days, char *err, size_t errlen)
{
    if (send_from(cfg, pools, acct, acct, ce, days, err, errlen) == 0)
        return 0;
    for (size_t i = 0; i < cfg->naccounts; i++) {
        const struct conf_account *other = &cfg->accounts[i];

        if (strcmp(other->name, acct->name) == 0)
            continue;
        msg_info("credential expiry: alarm for account %s not accepted (%s); "
                 "trying through account %s", acct->name, err, other->name);
        if (send_from(cfg, pools, other, acct, ce, days, err, errlen) == 0)
            return 0;
    }
    return -1;
}
