/*
 * test_sendmail_msg.c - reading a message like sendmail, completing its
 * header, address lists, and the DSN we build from a spooled message.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "spool/dsn.h"
#include "sendmail/sendmail_msg.h"
#include "tap.h"

static void free_vec(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void test_addr_list(void)
{
    char **v = NULL;
    size_t n = 0;

    is_int(sendmail_addr_list("a@b.com, \"Doe, John\" <john@d.org>, jane@y.net (Jane Y)",
                           &v, &n), 3, "three addresses with display names and comments");
    is_str(v[0], "a@b.com", "bare address");
    is_str(v[1], "john@d.org", "angle address with a quoted comma in the name");
    is_str(v[2], "jane@y.net", "comment dropped");
    free_vec(v, n);
    v = NULL;
    n = 0;
    is_int(sendmail_addr_list("team: x@e.com, y@e.com;, z@e.com", &v, &n), 3, "a group");
    is_str(v[0], "x@e.com", "group member");
    is_str(v[2], "z@e.com", "address after the group");
    free_vec(v, n);
    v = NULL;
    n = 0;
    is_int(sendmail_addr_list("undisclosed-recipients:;", &v, &n), 0, "an empty group");
    is_int(sendmail_addr_list("<@relay.example:user@e.com>", &v, &n), 1, "a source route");
    is_str(v[0], "user@e.com", "route dropped");
    free_vec(v, n);
    v = NULL;
    n = 0;
    is_int(sendmail_addr_list("\"odd user\"@e.com", &v, &n), 1, "quoted local part");
    is_str(v[0], "\"odd user\"@e.com", "kept with its quotes");
    free_vec(v, n);
    v = NULL;
    n = 0;
    is_int(sendmail_addr_list("a@b\x01.com", &v, &n), -1, "a control character is refused");
    is_int(sendmail_addr_list("a@b\n.com", &v, &n), -1, "a line break is refused, not unfolded");
    is_int(sendmail_addr_list("<>, Just A Name <>", &v, &n), 0, "no address, nothing added");
    free_vec(v, n);
}

static int read_str(const char *in, int ignore_dots, long long max, char **out, size_t *len)
{
    char err[256];
    FILE *fp = fmemopen((void *) in, strlen(in), "r");
    int rc = sendmail_read_message(fp, ignore_dots, max, out, len, err, sizeof(err));
    fclose(fp);
    return rc;
}

static void test_read(void)
{
    char *m = NULL;
    size_t len;

    is_int(read_str("a\r\nb\r\n.\r\nc\r\n", 0, 0, &m, &len), 0, "read with CRLF");
    is_str(m, "a\nb\n", "CRLF to LF, stops at a lone dot");
    free(m);
    is_int(read_str("a\n.\nc\n", 1, 0, &m, &len), 0, "read with -i");
    is_str(m, "a\n.\nc\n", "-i: the dot is data");
    free(m);
    is_int(read_str("a\n..b\n", 0, 0, &m, &len), 0, "leading dots");
    is_str(m, "a\n..b\n", "no dot-unstuffing outside SMTP");
    free(m);
    is_int(read_str("last line without newline", 0, 0, &m, &len), 0, "no final newline");
    is_str(m, "last line without newline\n", "gets one");
    free(m);
    is_int(read_str("0123456789\n0123456789\n", 0, 15, &m, &len), EX_DATAERR,
           "over the size limit: EX_DATAERR");
}

static struct sm_origin origin(int extract)
{
    struct sm_origin o = {
        .id = "0123456789ABCDEF0123", .sender = "no-reply@contoso.example",
        .fullname = "Cron Daemon", .hostname = "host.example", .login = "root", .uid = 0,
        .now = 1700000000, .extract = extract,
    };
    return o;
}

static void test_complete(void)
{
    struct sm_origin o = origin(1);
    struct sm_result r;
    const char *in = "From root  Mon Jan  1 00:00:00 2024\n"
                     "To: a@b.com,\n\tc@d.com\nCc: e@f.com\nBcc: hidden@g.com,\n h2@g.com\n"
                     "Subject: test\n\nBcc: in the body stays\n";

    ok(sendmail_complete(in, strlen(in), &o, &r) == 0, "complete a -t message");
    is_int(r.nrcpt, 5, "To (folded), Cc and Bcc (folded) recipients");
    is_str(r.rcpt[4], "h2@g.com", "continuation line of Bcc read");
    ok(strstr(r.msg, "Bcc: hidden") == NULL && strstr(r.msg, "h2@g.com") == NULL,
       "Bcc field removed with its continuation");
    ok(strstr(r.msg, "\nBcc: in the body stays\n") != NULL, "a Bcc line in the body stays");
    ok(strncmp(r.msg, "Received: by host.example", 25) == 0, "Received: on top");
    ok(strstr(r.msg, "From root ") == NULL, "mbox From_ line dropped");
    ok(strstr(r.msg, "\nFrom: Cron Daemon <no-reply@contoso.example>\n") != NULL,
       "From: added from -F and the sender");
    ok(strstr(r.msg, "\nDate: ") != NULL, "Date: added");
    ok(strstr(r.msg, "\nMessage-ID: <20231114221320.0123456789ABCDEF0123@host.example>\n"),
       "Message-ID: added, unique by queue ID");
    ok(strstr(r.msg, "\nTo: a@b.com,\n\tc@d.com\n") != NULL, "folded To: kept as is");
    sm_result_free(&r);

    const char *have = "From: Me <me@x.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
                       "Message-Id: <abc@x.org>\n\nbody\n";
    o = origin(0);
    ok(sendmail_complete(have, strlen(have), &o, &r) == 0, "complete a complete message");
    ok(strstr(r.msg, "From: Cron") == NULL, "From: not added twice");
    ok(strstr(r.msg, "\nDate: Mon, 1 Jan 2024") && !strstr(r.msg + 80, "Date: Tue"),
       "Date: kept");
    ok(strstr(r.msg, "Message-ID: <2023") == NULL, "Message-Id (any case) not added twice");
    is_int(r.nrcpt, 0, "no -t: no header recipients");
    sm_result_free(&r);

    const char *nohdr = "just a body line\nsecond\n";
    ok(sendmail_complete(nohdr, strlen(nohdr), &o, &r) == 0, "a message without header");
    ok(strstr(r.msg, ">\n\njust a body line\nsecond\n") != NULL,
       "the body is kept after an empty line");
    sm_result_free(&r);

    const char *noblank = "Subject: x\nbody right after\n";
    ok(sendmail_complete(noblank, strlen(noblank), &o, &r) == 0, "header without empty line");
    ok(strstr(r.msg, "Subject: x\n") && strstr(r.msg, "\n\nbody right after\n"),
       "an empty line is inserted before the body");
    sm_result_free(&r);
}

static void test_from_header(void)
{
    char *f = sendmail_from_header("Doe, John", "j@d.org");
    is_str(f, "\"Doe, John\" <j@d.org>", "a name with a comma is quoted");
    free(f);
    f = sendmail_from_header("Jöhn", "j@d.org");
    is_str(f, "=?UTF-8?B?SsO2aG4=?= <j@d.org>", "a non-ASCII name is RFC 2047 encoded");
    free(f);
    f = sendmail_from_header(NULL, "j@d.org");
    is_str(f, "j@d.org", "no name: the bare address");
    free(f);
}

static void test_dsn(void)
{
    struct spool_env env = {0};
    const char *tmp = getenv("TESTS_TMP") ? getenv("TESTS_TMP") : "/tmp";
    char path[512], *msg = NULL;
    size_t len = 0;
    const char *orig = "Subject: the original\nFrom: a@example.com\n\nsecret body\n";

    env.sender = "a@example.com";
    ok(dsn_wanted(&env, 0), "a failure report is wanted by default");
    ok(!dsn_wanted(&env, 1), "a success report is not, unless asked");
    env.notify = DSN_NOTIFY_NEVER;
    ok(!dsn_wanted(&env, 0), "NOTIFY=NEVER: no report");
    env.notify = 0;
    env.is_dsn = 1;
    ok(!dsn_wanted(&env, 0), "never a report about a report");
    env.is_dsn = 0;
    env.sender = "";
    ok(!dsn_wanted(&env, 0), "null sender: no report");
    env.sender = "root@localhost";
    ok(!dsn_wanted(&env, 0), "a localhost sender cannot receive it");
    env.sender = "root";
    ok(!dsn_wanted(&env, 0), "an unqualified sender cannot receive it");

    env.sender = "a@example.com";
    snprintf(env.id, sizeof(env.id), "0123456789ABCDEF0123");
    env.time = 1700000000;
    snprintf(path, sizeof(path), "%s/dsn-orig.%ld", tmp, (long) getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ok(write(fd, orig, strlen(orig)) == (ssize_t) strlen(orig), "original written");
    lseek(fd, 0, SEEK_SET);
    struct dsn_rcpt r = {"x@example.net", "5.1.1", "550 5.1.1 <x@example.net>: no such user"};
    struct dsn_info info = {
        .env = &env, .reporting_mta = "host.example", .remote_mta = "smtp.office365.com",
        .from = "no-reply@contoso.example", .id = "ABCDEF0123456789ABCD", .rcpt = &r,
        .nrcpt = 1, .now = 1700000600,
    };
    ok(dsn_build(&info, fd, &msg, &len) == 0, "a failure report is built");
    ok(strstr(msg, "Content-Type: multipart/report; report-type=delivery-status;") != NULL,
       "multipart/report (RFC 3464)");
    ok(strstr(msg, "\nFinal-Recipient: rfc822; x@example.net\nAction: failed\n"
              "Status: 5.1.1\n") != NULL, "per-recipient fields");
    ok(strstr(msg, "Diagnostic-Code: smtp; 550 5.1.1 <x@example.net>: no such user") != NULL,
       "the upstream reply as diagnostic");
    ok(strstr(msg, "Reporting-MTA: dns; host.example") != NULL, "Reporting-MTA");
    ok(strstr(msg, "text/rfc822-headers") && strstr(msg, "Subject: the original")
       && !strstr(msg, "secret body"), "default: the original's header only");
    ok(strstr(msg, "\nTo: a@example.com\n") && strstr(msg, "Auto-Submitted: auto-replied"),
       "to the sender, marked auto-replied");
    free(msg);
    env.ret = DSN_RET_FULL;
    lseek(fd, 0, SEEK_SET);
    ok(dsn_build(&info, fd, &msg, &len) == 0, "RET=FULL report");
    ok(strstr(msg, "message/rfc822") && strstr(msg, "secret body"), "holds the whole message");
    free(msg);
    close(fd);
    unlink(path);
}

int main(void)
{
    test_addr_list();
    test_read();
    test_complete();
    test_from_header();
    test_dsn();
    return done_testing();
}
