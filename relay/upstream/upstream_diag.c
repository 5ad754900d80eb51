/*
 * upstream_diag.c - local 4xx replies that say what went wrong on the way to
 * the upstream server and how to fix it (upstream_diag.h).
 *
 * The reply codes: 451 4.4.x for the network, 454 4.7.x for TLS and
 * authentication (RFC 3463, RFC 4954), 451 4.3.2 for the concurrency limit.
 * Every one is temporary: the admin can fix the cause, and the mail must
 * wait in the client's queue meanwhile. The facts behind the texts are
 * Exchange Online's (what its replies mean and which cmdlet fixes them).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "upstream_diag.h"

/* diag_set - "exorelay: TEXT" on one line, cut to DIAG_TEXT_MAX */
static void __attribute__((format(printf, 4, 5)))
diag_set(struct smtp_reply *r, int code, const char *enhanced, const char *fmt, ...)
{
    char    buf[DIAG_TEXT_MAX + 64];
    va_list ap;
    int     n = snprintf(buf, sizeof(buf), "exorelay: ");

    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof(buf) - (size_t) n, fmt, ap);
    va_end(ap);
    for (char *p = buf; *p; p++)
        if ((unsigned char) *p < ' ')
            *p = ' ';
    if (strlen(buf) > DIAG_TEXT_MAX)
        memcpy(buf + DIAG_TEXT_MAX - 3, "...", 4);
    smtp_reply_set(r, code, enhanced, "%s", buf);
}

/* quoted - upstream's reply, one line, short enough to quote in a diagnosis */
static const char *quoted(const struct smtp_reply *reply, char *buf, size_t size)
{
    smtp_reply_oneline(reply, buf, size);
    if (strlen(buf) == size - 1 && size > 4)
        memcpy(buf + size - 4, "...", 4);
    return buf;
}

/* diag_dns - the server name does not resolve */
void diag_dns(struct smtp_reply *r, const struct config *cfg, const char *why)
{
    diag_set(r, 451, "4.4.3", "cannot resolve upstream server %s (%s): check "
             "server in [upstream] and this host's DNS resolver (/etc/resolv.conf)",
             cfg->server, why);
}

/* diag_connect - no TCP connection: silence, refusal, or no route */
void diag_connect(struct smtp_reply *r, const struct config *cfg,
                  const char *address, int err)
{
    if (err == ETIMEDOUT)
        diag_set(r, 451, "4.4.1", "no answer from %s port %d (%s) within %d s: "
                 "the host is unreachable, or a firewall or proxy blocks outgoing "
                 "TCP port %d; allow it (test: nc -vz %s %d) or raise connect_timeout",
                 cfg->server, cfg->port, address, cfg->connect_timeout,
                 cfg->port, cfg->server, cfg->port);
    else if (err == ECONNREFUSED)
        diag_set(r, 451, "4.4.1", "%s port %d (%s) refused the connection: check "
                 "server and port in [upstream] (Exchange Online: smtp.office365.com "
                 "587), or a firewall rejects port %d", cfg->server, cfg->port,
                 address, cfg->port);
    else
        diag_set(r, 451, "4.4.1", "cannot connect to %s port %d (%s): %s; check "
                 "this host's network route and firewall for port %d",
                 cfg->server, cfg->port, address, strerror(err), cfg->port);
}

/* diag_tls - the handshake failed or the certificate is not acceptable */
void diag_tls(struct smtp_reply *r, const struct config *cfg,
              const struct tls_failure *f)
{
    switch (f->verify_error) {
    case X509_V_OK:
        diag_set(r, 454, "4.7.5", "TLS handshake with %s port %d failed (%s); "
                 "nothing was sent: check that this port speaks STARTTLS and that "
                 "no proxy interferes", cfg->server, cfg->port,
                 f->timed_out ? "timed out" : f->reason);
        break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        diag_set(r, 454, "4.7.5", "the TLS certificate of %s port %d is for %s "
                 "(%s), not for %s; nothing was sent: set server in [upstream] to "
                 "a name the certificate holds, or find what intercepts port %d",
                 cfg->server, cfg->port, f->names[0] ? f->names : "other names",
                 f->subject, cfg->server, cfg->port);
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        diag_set(r, 454, "4.7.5", "the TLS certificate of %s port %d is not valid "
                 "now (%s; certificate %s); nothing was sent: check this host's "
                 "clock (date -u, NTP), else the server's certificate is at fault",
                 cfg->server, cfg->port, f->reason, f->subject);
        break;
    default:
        diag_set(r, 454, "4.7.5", "the TLS certificate of %s port %d could not be "
                 "verified (%s; certificate %s, issued by %s); nothing was sent: if "
                 "a TLS-inspecting proxy or private CA is expected, add its CA "
                 "certificate to ca_file in [upstream] or to the system store", cfg->server, cfg->port,
                 f->reason, f->subject, f->issuer);
        break;
    }
}

/* diag_no_starttls - no TLS, no token: STARTTLS missing or refused */
void diag_no_starttls(struct smtp_reply *r, const struct config *cfg,
                      const struct smtp_reply *reply)
{
    char    q[160];

    if (reply == NULL)
        diag_set(r, 454, "4.7.5", "%s port %d does not offer STARTTLS and "
                 "exorelay never sends a token without TLS: check server and port "
                 "in [upstream] (Exchange Online: smtp.office365.com 587)",
                 cfg->server, cfg->port);
    else
        diag_set(r, 454, "4.7.5", "%s port %d refused STARTTLS (%s); exorelay "
                 "never sends a token without TLS", cfg->server, cfg->port,
                 quoted(reply, q, sizeof(q)));
}

/* diag_concurrency - Exchange's limit of 3 connections per mailbox */
static void diag_concurrency(struct smtp_reply *r, const struct config *cfg,
                             const struct conf_account *acct, const char *q)
{
    diag_set(r, 451, "4.3.2", "%s refused another connection for %s (%s): "
             "Exchange allows 3 at a time per mailbox; keep max_connections of "
             "[account %s] at 3 or less and make sure no other program sends as "
             "this mailbox at the same time", cfg->server, acct->mailbox, q,
             acct->name);
}

/* diag_greeting - the server did not greet with 220 */
void diag_greeting(struct smtp_reply *r, const struct config *cfg,
                   const struct conf_account *acct, const struct smtp_reply *reply)
{
    char    q[160];

    quoted(reply, q, sizeof(q));
    if (reply->code == 432)
        diag_concurrency(r, cfg, acct, q);
    else
        diag_set(r, 451, "4.4.2", "%s port %d does not accept connections now "
                 "(%s); the mail waits and is retried", cfg->server, cfg->port, q);
}

/* diag_no_greeting - connected, but the server never said 220 */
void diag_no_greeting(struct smtp_reply *r, const struct config *cfg)
{
    diag_set(r, 451, "4.4.2", "%s port %d accepted the connection but sent no "
             "greeting within %d s (connect_timeout in [upstream]); the mail waits "
             "and is retried; check server and port in [upstream] (a firewall or "
             "proxy may intercept the port)", cfg->server, cfg->port,
             cfg->connect_timeout);
}

/* diag_token - no access token from Entra ID */
void diag_token(struct smtp_reply *r, const struct conf_account *acct,
                const struct token_diag *td)
{
    char    code[32] = "", line[400];

    token_diag_line(td, acct, line, sizeof(line));
    if (td->aadsts && strstr(td->cause, "AADSTS") == NULL)  /* not said yet */
        snprintf(code, sizeof(code), " (AADSTS%ld)", td->aadsts);
    else if (td->http_status && strstr(td->cause, "HTTP ") == NULL)
        snprintf(code, sizeof(code), " (HTTP %d)", td->http_status);
    diag_set(r, 454, "4.7.0", "no access token for [account %s]: %s%s; %s",
             acct->name, line, code,
             td->fix[0] ? td->fix : "run: exorelay test --account NAME");
}

/* diag_auth_disabled - see upstream_diag.h: the text diag_auth makes */
int diag_auth_disabled(const struct smtp_reply *r)
{
    return r->code == 454 && strstr(r->text, "(535 5.7.139)") != NULL;
}

/* diag_auth - upstream refused AUTH XOAUTH2 */
void diag_auth(struct smtp_reply *r, const struct config *cfg,
               const struct conf_account *acct, const struct smtp_reply *reply)
{
    char    q[120];

    if (reply->code == 535)             /* its text adds nothing but length */
        snprintf(q, sizeof(q), "535 %s", reply->enhanced);
    else
        quoted(reply, q, 80);
    if (reply->code == 535 && strcmp(reply->enhanced, "5.7.139") == 0)
        diag_set(r, 454, "4.7.0", "SMTP AUTH is disabled for %s (%s): run "
                 "Set-TransportConfig -SmtpClientAuthenticationDisabled $false, or "
                 "for this mailbox only Set-CASMailbox %s "
                 "-SmtpClientAuthenticationDisabled $false", acct->mailbox, q,
                 acct->mailbox);
    else if (reply->code == 535)
        diag_set(r, 454, "4.7.0", "Exchange refused the token for %s (%s): "
                 "register the app with New-ServicePrincipal using the Enterprise "
                 "application's Object ID (not the App registration's), grant it FullAccess on the mailbox "
                 "(Add-MailboxPermission) or an RBAC application role, check "
                 "mailbox in [account %s]; changes take up to hours to apply",
                 acct->mailbox, q, acct->name);
    else if (reply->code == 504)
        diag_set(r, 454, "4.7.0", "%s does not accept AUTH XOAUTH2 (%s): server "
                 "in [upstream] must be Exchange Online (smtp.office365.com, port 587)",
                 cfg->server, q);
    else if (reply->code == 432)
        diag_concurrency(r, cfg, acct, q);
    else if (reply->code == 430)
        diag_set(r, 454, "4.7.0", "Exchange could not log on to mailbox %s (%s): "
                 "the mailbox permission is missing or not yet propagated (can take "
                 "hours); check Add-MailboxPermission", acct->mailbox, q);
    else
        diag_set(r, 454, "4.7.0", "AUTH XOAUTH2 as %s refused by %s (%s); run: "
                 "exorelay test --account %s", acct->mailbox, cfg->server, q,
                 acct->name);
}

/* diag_io - the connection broke or upstream went silent */
void diag_io(struct smtp_reply *r, const struct config *cfg, const char *stage,
             int err)
{
    if (err == ETIMEDOUT)
        diag_set(r, 451, "4.4.2", "no reply from %s within %d s (%s); the mail "
                 "waits and is retried (command_timeout in [upstream])",
                 cfg->server, cfg->command_timeout, stage);
    else
        diag_set(r, 451, "4.4.2", "connection to %s lost (%s: %s); the mail "
                 "waits and is retried", cfg->server, stage,
                 err ? strerror(err) : "closed by the server");
}

/* diag_unexpected - a setup step refused for no reason we know */
void diag_unexpected(struct smtp_reply *r, const struct config *cfg,
                     const char *stage, const struct smtp_reply *reply)
{
    char    q[200];

    diag_set(r, 451, "4.4.2", "unexpected reply from %s to %s (%s); check server "
             "and port in [upstream] (Exchange Online: smtp.office365.com 587)",
             cfg->server, stage, quoted(reply, q, sizeof(q)));
}

/* diag_soften_quota - Exchange's daily quota refusal becomes temporary */
int diag_soften_quota(struct smtp_reply *r, const struct conf_account *acct)
{
    char    q[120];

    if (!smtp_reply_is_quota(r))
        return 0;
    quoted(r, q, 100);
    diag_set(r, 452, "4.2.0", "Exchange's daily recipient quota of %s is used up "
             "(%s); the mail waits and is retried: spread mail over more "
             "mailboxes or wait", acct->mailbox, q);
    return 1;
}

/* diag_sendas - Exchange refused the sender: who may send as whom */
int diag_sendas(struct smtp_reply *r, const struct conf_account *acct,
                const char *sender, const struct smtp_reply *reply)
{
    char    q[40];

    if (strcmp(reply->enhanced, "5.2.252") != 0 && strcmp(reply->enhanced, "5.7.60") != 0
        && strstr(reply->text, "SendAsDenied") == NULL)
        return 0;
    snprintf(q, sizeof(q), "%d %s SendAsDenied", reply->code, reply->enhanced);
    diag_set(r, reply->code, reply->enhanced, "%s may not send as %s (%s): grant "
             "it with Add-RecipientPermission -Identity %s -Trustee %s -AccessRights "
             "SendAs, or let exorelay-milter rewrite the sender to the mailbox",
             acct->mailbox, sender, q, sender, acct->mailbox);
    return 1;
}
