/*
 * test_smtpd_cmd.c - command parsing of the SMTP server: verbs, paths,
 * ESMTP parameters and which of them go upstream; and the bounded line
 * reader (2048-byte limit, resynchronisation after a long line).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/smtpd_cmd.h"
#include "server/smtpd_io.h"
#include "tap.h"

static void verbs(void)
{
    char line[64], *args;

    strcpy(line, "mail FROM:<a@b>");
    is_int(smtpd_verb(line, &args), V_MAIL, "verbs are case-insensitive");
    is_str(args, "FROM:<a@b>", "arguments follow the verb");
    strcpy(line, "LHLO   host");
    is_int(smtpd_verb(line, &args), V_LHLO, "LHLO is known");
    is_str(args, "host", "spaces before the arguments are skipped");
    strcpy(line, "DATAX");
    is_int(smtpd_verb(line, &args), V_UNKNOWN, "a verb must match whole");
    strcpy(line, "");
    is_int(smtpd_verb(line, &args), V_UNKNOWN, "an empty line is unknown");
}

static void paths(void)
{
    char buf[256], *addr, *params;
    struct smtp_reply r;

    strcpy(buf, "FROM:<a@b.example> SIZE=100 BODY=8BITMIME");
    ok(smtpd_path(buf, "FROM:", &addr, &params, &r) == 0, "MAIL path with params parses");
    is_str(addr, "a@b.example", "address without brackets");
    is_str(params, "SIZE=100 BODY=8BITMIME", "parameters after the address");
    strcpy(buf, "FROM: <>");
    ok(smtpd_path(buf, "FROM:", &addr, &params, &r) == 0 && *addr == 0,
       "null sender, space after the colon tolerated");
    strcpy(buf, "FROM:a@b");
    ok(smtpd_path(buf, "FROM:", &addr, &params, &r) < 0 && r.code == 501,
       "address without brackets is refused (501)");
    strcpy(buf, "TO:<a b@c>");
    ok(smtpd_path(buf, "TO:", &addr, &params, &r) < 0 && r.code == 553,
       "space in an address is refused (553)");
    strcpy(buf, "TO:<a@c>x");
    ok(smtpd_path(buf, "TO:", &addr, &params, &r) < 0, "junk glued to the path is refused");
    strcpy(buf, "TO:<jörg@bücher.example>");
    ok(smtpd_path(buf, "TO:", &addr, &params, &r) == 0, "UTF-8 address accepted (SMTPUTF8)");
}

static int has_all(void *ctx, const char *kw)
{
    (void) ctx;
    (void) kw;
    return 1;
}

static int has_8bit_only(void *ctx, const char *kw)
{
    (void) ctx;
    return strcmp(kw, "8BITMIME") == 0;
}

static void params(void)
{
    struct smtp_reply r;
    long long size;
    char out[256];

    ok(smtpd_params_check("SIZE=12345 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x", 0,
                          &size, &r) == 0 && size == 12345, "MAIL parameters we offer pass");
    ok(smtpd_params_check("NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b", 1, &size, &r) == 0,
       "RCPT DSN parameters pass");
    ok(smtpd_params_check("AUTH=<>", 0, &size, &r) < 0 && r.code == 555,
       "a parameter we do not offer is refused (555)");
    ok(smtpd_params_check("NOTIFY=NEVER", 0, &size, &r) < 0,
       "an RCPT parameter on MAIL is refused");
    ok(smtpd_params_check("SIZE=12x", 0, &size, &r) < 0 && r.code == 501, "bad SIZE is refused");
    ok(smtpd_params_check("ENVID=a\rb", 0, &size, &r) < 0 && r.code == 501
       && strcmp(r.enhanced, "5.5.4") == 0, "a CR in a MAIL parameter value: 501 5.5.4");
    ok(smtpd_params_check("NOTIFY=NEVER ORCPT=rfc822;a\x1b[2J@b", 1, &size, &r) < 0
       && r.code == 501, "an ESC in a RCPT parameter value: 501");
    ok(smtpd_params_check("RET=HDRS\tENVID=x", 0, &size, &r) < 0 && r.code == 501
       && strchr(r.text, '\t') == NULL, "a TAB: 501, and the reply holds no control character");
    smtpd_params_upstream("SIZE=1 BODY=8BITMIME SMTPUTF8 RET=FULL", has_all, NULL,
                          out, sizeof(out));
    is_str(out, " SIZE=1 BODY=8BITMIME SMTPUTF8 RET=FULL", "all passed to a capable upstream");
    smtpd_params_upstream("SIZE=1 BODY=8BITMIME RET=FULL BODY=7BIT", has_8bit_only, NULL,
                          out, sizeof(out));
    is_str(out, " BODY=8BITMIME BODY=7BIT", "parameters of missing extensions are dropped");
    smtpd_params_upstream("", has_all, NULL, out, sizeof(out));
    is_str(out, "", "no parameters, nothing added");
}

static void line_limit(void)
{
    int sv[2];
    struct cio *c = malloc(sizeof(*c));
    char line[SMTPD_LINE_MAX + 1];
    char *big = malloc(5000);

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    cio_init(c, sv[0], -1);
    memset(big, 'A', 4990);
    memcpy(big, "NOOP ", 5);
    memcpy(big + 4990, "\r\nQUIT\r\n", 8);
    if (write(sv[1], big, 4998) != 4998)
        ok(0, "write");
    memset(big, 'B', SMTPD_LINE_MAX);
    memcpy(big + SMTPD_LINE_MAX, "\r\n", 2);
    if (write(sv[1], big, SMTPD_LINE_MAX + 2) != SMTPD_LINE_MAX + 2)
        ok(0, "write");
    is_int(cio_getline(c, line, sizeof(line), 5, 0), CIO_TOOLONG,
           "a command line over 2048 bytes is too long");
    is_int(cio_getline(c, line, sizeof(line), 5, 0), CIO_OK, "the next line is read cleanly");
    is_str(line, "QUIT", "... and starts where it should");
    is_int(cio_getline(c, line, sizeof(line), 5, 0), CIO_OK, "exactly 2048 bytes is allowed");
    is_int((long long) strlen(line), SMTPD_LINE_MAX, "... and read whole");
    close(sv[1]);
    is_int(cio_getline(c, line, sizeof(line), 5, 0), CIO_EOF, "EOF is reported");
    close(sv[0]);
    free(big);
    free(c);
}

static void replies(void)
{
    int sv[2];
    struct cio *c = malloc(sizeof(*c));
    struct smtp_reply r;
    char buf[512];
    ssize_t n;

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    cio_init(c, sv[0], -1);
    smtp_reply_set(&r, 550, "5.7.1", "first line\nsecond\rline");
    cio_reply(c, &r);
    cio_flush(c);
    n = read(sv[1], buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    is_str(buf, "550-5.7.1 first line\r\n550 5.7.1 second line\r\n",
           "multi-line reply, enhanced code on each line, control chars neutralised");
    close(sv[0]);
    close(sv[1]);
    free(c);
}

/* param_values - NAME=value out of a checked list (exorelay-sendmail -bs) */
static void param_values(void)
{
    char    buf[16];

    ok(smtpd_param_value("SIZE=12 RET=HDRS ENVID=abc", "ret", buf, sizeof(buf))
       && strcmp(buf, "HDRS") == 0, "RET= found, case-insensitively: %s", buf);
    ok(smtpd_param_value("SIZE=12 RET=HDRS ENVID=abc", "ENVID", buf, sizeof(buf))
       && strcmp(buf, "abc") == 0, "the last parameter: %s", buf);
    ok(smtpd_param_value("RETX=1 SMTPUTF8", "RET", buf, sizeof(buf)) == NULL,
       "RETX= is not RET=; a bare keyword has no value");
    ok(smtpd_param_value("ENVID=0123456789abcdefXYZ", "ENVID", buf, sizeof(buf))
       && strlen(buf) == sizeof(buf) - 1, "a long value is cut to the buffer");
}

int main(void)
{
    verbs();
    paths();
    params();
    param_values();
    line_limit();
    replies();
    return done_testing();
}
