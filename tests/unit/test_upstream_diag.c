/*
 * test_upstream_diag.c - every setup failure becomes a one-line 4xx under
 * 400 characters that names the cause and the fix, and the quota refusal
 * becomes temporary.
 */
#include <errno.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "tap.h"
#include "upstream/upstream_diag.h"

static struct config cfg;
static struct conf_account acct;

/* check - common properties, plus words the text must contain */
static void check(const struct smtp_reply *r, const char *what, int code,
                  const char *w1, const char *w2, const char *w3)
{
    size_t  len = strlen(r->text);
    int     oneline = strpbrk(r->text, "\r\n") == NULL;

    ok(r->code == code && r->code / 100 == 4, "%s: code %d", what, r->code);
    ok(oneline && len <= DIAG_TEXT_MAX && len > 40
       && strcmp(r->text + len - 3, "..."),
       "%s: one line, %zu chars (max %d), not cut", what, len, DIAG_TEXT_MAX);
    ok(strncmp(r->text, "exorelay: ", 10) == 0, "%s: says it is ours", what);
    ok(strstr(r->text, w1) && (!w2 || strstr(r->text, w2)) && (!w3 || strstr(r->text, w3)),
       "%s: names [%s] [%s] [%s]", what, w1, w2 ? w2 : "", w3 ? w3 : "");
    printf("#   %d %s %s\n", r->code, r->enhanced, r->text);
}

/* upstream - a reply as upstream would send it */
static struct smtp_reply upstream(int code, const char *enh, const char *text)
{
    struct smtp_reply r;

    smtp_reply_set(&r, code, enh, "%s", text);
    return r;
}

int main(void)
{
    struct smtp_reply r, up;
    struct tls_failure f;
    struct token_diag td;

    cfg.server = "smtp.office365.com";
    cfg.port = 587;
    cfg.connect_timeout = 60;
    cfg.command_timeout = 300;
    acct.name = "alerts";
    acct.mailbox = "no-reply@contoso.onmicrosoft.com";

    diag_dns(&r, &cfg, "Name or service not known");
    check(&r, "DNS", 451, "cannot resolve", "smtp.office365.com", "resolv.conf");
    diag_connect(&r, &cfg, "52.96.1.1", ETIMEDOUT);
    check(&r, "connect timeout", 451, "within 60 s", "firewall or proxy", "port 587");
    diag_connect(&r, &cfg, "52.96.1.1", ECONNREFUSED);
    check(&r, "connect refused", 451, "refused the connection", "[upstream]", NULL);
    diag_connect(&r, &cfg, "52.96.1.1", ENETUNREACH);
    check(&r, "no route", 451, "unreachable", "route", NULL);

    memset(&f, 0, sizeof(f));
    f.verify_error = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
    strcpy(f.reason, "unable to get local issuer certificate");
    strcpy(f.subject, "CN=smtp.office365.com");
    strcpy(f.issuer, "CN=Corp Inspection CA,O=Corp");
    diag_tls(&r, &cfg, &f);
    check(&r, "untrusted chain", 454, "CN=Corp Inspection CA", "ca_file", "nothing was sent");

    memset(&f, 0, sizeof(f));
    f.verify_error = X509_V_ERR_HOSTNAME_MISMATCH;
    strcpy(f.subject, "CN=wrong.example");
    strcpy(f.names, "DNS:wrong.example, DNS:www.wrong.example");
    diag_tls(&r, &cfg, &f);
    check(&r, "name mismatch", 454, "DNS:wrong.example", "not for smtp.office365.com",
          "server in [upstream]");

    memset(&f, 0, sizeof(f));
    f.verify_error = X509_V_ERR_CERT_HAS_EXPIRED;
    strcpy(f.reason, "certificate has expired");
    strcpy(f.subject, "CN=smtp.office365.com");
    diag_tls(&r, &cfg, &f);
    check(&r, "expired", 454, "certificate has expired", "clock", NULL);

    memset(&f, 0, sizeof(f));
    strcpy(f.reason, "wrong version number");
    diag_tls(&r, &cfg, &f);
    check(&r, "handshake", 454, "wrong version number", "STARTTLS", NULL);

    diag_no_starttls(&r, &cfg, NULL);
    check(&r, "no STARTTLS", 454, "does not offer STARTTLS", "without TLS", NULL);

    up = upstream(432, "4.3.2", "Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information.");
    diag_greeting(&r, &cfg, &acct, &up);
    check(&r, "432 at greeting", 451, "432 4.3.2", "max_connections", "3");
    diag_auth(&r, &cfg, &acct, &up);
    check(&r, "432 after AUTH", 451, "432 4.3.2", "[account alerts]", NULL);

    up = upstream(421, "4.3.2", "Service not available");
    diag_greeting(&r, &cfg, &acct, &up);
    check(&r, "421 greeting", 451, "421", "retried", NULL);

    memset(&td, 0, sizeof(td));
    td.aadsts = 7000215;
    td.http_status = 401;
    strcpy(td.cause, "the client secret is wrong");
    strcpy(td.fix, "use the secret's Value, not its Secret ID, in client_secret_file");
    diag_token(&r, &acct, &td);
    check(&r, "token", 454, "the client secret is wrong", "AADSTS7000215", "Secret ID");

    up = upstream(504, "5.7.4", "Unrecognized authentication type");
    diag_auth(&r, &cfg, &acct, &up);
    check(&r, "504 5.7.4", 454, "504 5.7.4", "XOAUTH2", "smtp.office365.com");

    up = upstream(535, "5.7.3", "Authentication unsuccessful [BN0PR04CA0001.namprd04.prod.outlook.com 2026-01-01T00:00:00.000Z 08DC]");
    diag_auth(&r, &cfg, &acct, &up);
    check(&r, "535 5.7.3", 454, "New-ServicePrincipal", "Object ID", "FullAccess");
    check(&r, "535 5.7.3", 454, "RBAC", "mailbox in [account alerts]", "hours");

    up = upstream(535, "5.7.139", "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.");
    diag_auth(&r, &cfg, &acct, &up);
    check(&r, "535 5.7.139", 454, "Set-TransportConfig", "Set-CASMailbox", "disabled");

    up = upstream(430, "4.2.0", "STOREDRV; mailbox logon failure");
    diag_auth(&r, &cfg, &acct, &up);
    check(&r, "430 4.2.0", 454, "propagated", "Add-MailboxPermission", NULL);

    diag_io(&r, &cfg, "after DATA", ETIMEDOUT);
    check(&r, "timeout", 451, "within 300 s", "after DATA", NULL);
    diag_io(&r, &cfg, "after MAIL", 0);
    check(&r, "lost", 451, "lost", "closed by the server", NULL);
    diag_no_greeting(&r, &cfg);
    check(&r, "silent", 451, "no greeting", "connect_timeout", "[upstream]");

    up = upstream(554, "5.2.0", "STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message. 0.35250:0A00B384, 1.36674:0A000000, 1.61250:00000000, 1.45378:02000000, 1.44866:4E040000[EndDiagnosticData]");
    ok(diag_soften_quota(&up, &acct) == 1, "quota refusal is softened");
    check(&up, "quota", 452, "quota", "no-reply@contoso.onmicrosoft.com", "SubmissionQuota");
    up = upstream(550, "5.1.1", "User unknown");
    ok(diag_soften_quota(&up, &acct) == 0 && up.code == 550, "other 5xx stay 5xx");
    return done_testing();
}
