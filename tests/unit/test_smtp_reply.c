/*
 * test_smtp_reply.c - parsing upstream replies line by line, one-line
 * rendering, and the quota test.
 */
#include <string.h>

#include "proto/smtp_reply.h"
#include "tap.h"

/* feed - give lines to a fresh reply; returns the last add_line result */
static int feed(struct smtp_reply *r, const char *const *lines)
{
    int     rc = -1;

    smtp_reply_start(r);
    for (; *lines; lines++)
        rc = smtp_reply_add_line(r, *lines, strlen(*lines));
    return rc;
}

int main(void)
{
    struct smtp_reply r;
    char    buf[256];

    const char *ehlo[] = {"250-BN0PR04CA0001.outlook.office365.com Hello [1.2.3.4]",
                          "250-SIZE 157286400", "250-PIPELINING", "250-AUTH LOGIN XOAUTH2",
                          "250 SMTPUTF8", NULL};
    is_int(feed(&r, ehlo), 1, "a multi-line EHLO reply ends on its space line");
    is_int(r.code, 250, "code of a multi-line reply");
    is_str(r.enhanced, "", "no enhanced code in an EHLO reply");
    ok(strstr(r.text, "\nSIZE 157286400\nPIPELINING\n") != NULL,
       "lines are joined with newlines, without their 250- prefix");

    const char *more[] = {"250-first", NULL};
    is_int(feed(&r, more), 0, "a 250- line asks for more");

    const char *auth[] = {"535 5.7.3 Authentication unsuccessful [BN0PR04CA0001.namprd04.prod.outlook.com]", NULL};
    is_int(feed(&r, auth), 1, "one-line 535");
    is_int(r.code, 535, "535 code");
    is_str(r.enhanced, "5.7.3", "enhanced code parsed");
    is_str(r.text, "Authentication unsuccessful [BN0PR04CA0001.namprd04.prod.outlook.com]",
           "text without code and enhanced code");

    const char *e139[] = {"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.", NULL};
    feed(&r, e139);
    is_str(r.enhanced, "5.7.139", "three-digit detail of an enhanced code");

    const char *multi_enh[] = {"550-5.1.1 first line", "550 5.1.1 second line", NULL};
    feed(&r, multi_enh);
    is_str(r.text, "first line\nsecond line", "repeated enhanced codes are dropped");

    const char *bare[] = {"250", NULL};
    is_int(feed(&r, bare), 1, "a bare code is a whole reply");
    is_str(r.text, "", "with empty text");

    const char *noenh[] = {"220 mx.example ESMTP 2.0.0.1 ready", NULL};
    feed(&r, noenh);
    is_str(r.enhanced, "", "a host name is not an enhanced code");

    const char *wrongclass[] = {"250 4.0.0 odd", NULL};
    feed(&r, wrongclass);
    is_str(r.enhanced, "", "an enhanced code of another class is text");

    const char *bad[] = {"hello", NULL};
    is_int(feed(&r, bad), -1, "a line without a code is refused");
    const char *mixed[] = {"250-a", "251 b", NULL};
    is_int(feed(&r, mixed), -1, "a continuation with another code is refused");
    const char *badsep[] = {"250xyz", NULL};
    is_int(feed(&r, badsep), -1, "a code not followed by space or dash is refused");
    const char *b334[] = {"334 eyJzdGF0dXMiOiI0MDEifQ==", NULL};
    is_int(feed(&r, b334), 1, "334 challenge");
    is_str(r.text, "eyJzdGF0dXMiOiI0MDEifQ==", "334 challenge text kept whole");

    feed(&r, multi_enh);
    is_str(smtp_reply_oneline(&r, buf, sizeof(buf)), "550 5.1.1 first line; second line",
           "one-line form of a multi-line reply");
    smtp_reply_set(&r, 451, "4.4.1", "a\rb");
    is_str(smtp_reply_oneline(&r, buf, sizeof(buf)), "451 4.4.1 a b",
           "control characters never reach the one-line form");
    smtp_reply_oneline(&r, buf, 8);
    is_str(buf, "451 4.4", "one-line form is cut to the buffer");

    const char *quota[] = {"554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception", NULL};
    feed(&r, quota);
    ok(smtp_reply_is_quota(&r), "SubmissionQuotaExceeded is recognised");
    feed(&r, auth);
    ok(!smtp_reply_is_quota(&r), "a 535 is not a quota refusal");

    const char *limit[] = {"432 4.3.2 Concurrent connections limit exceeded.", NULL};
    const char *older[] = {"432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded", NULL};
    feed(&r, limit);
    ok(smtp_reply_is_session_limit(&r), "432 4.3.2 Concurrent connections: a session limit");
    feed(&r, older);
    ok(smtp_reply_is_session_limit(&r), "432 4.3.2 ... sender thread limit: a session limit");
    smtp_reply_set(&r, 451, "4.3.2", "exorelay: ... refused (432 4.3.2 Concurrent "
                   "connections limit exceeded.): ...");
    ok(smtp_reply_is_session_limit(&r), "a local 4xx quoting it: a session limit");
    smtp_reply_set(&r, 421, "4.3.2", "Service shutting down");
    ok(!smtp_reply_is_session_limit(&r), "another 4.3.2 is not");

    const char *bad_seq[] = {"503 5.5.2 Need mail command", NULL};
    feed(&r, bad_seq);
    ok(smtp_reply_defer_sequence(&r), "a 503 is deferred");
    is_int(r.code, 451, "... as a 451");
    is_str(r.enhanced, "4.5.1", "... 4.5.1");
    ok(strstr(r.text, "(503 5.5.2 Need mail command)") != NULL, "... quoting it");
    feed(&r, auth);
    ok(!smtp_reply_defer_sequence(&r) && r.code == 535, "a 535 is left alone");
    return done_testing();
}
