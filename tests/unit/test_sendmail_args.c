/*
 * test_sendmail_args.c - the sendmail command line: every supported flag,
 * the forms real programs use (cron, mutt, PHP, git send-email, msmtp's and
 * nullmailer's documented calls), and the errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "sendmail/sendmail_args.h"
#include "tap.h"

static struct sendmail_opts o;
static char err[512];

/* parse - argv from a NULL-terminated list */
static int parse(const char *first, ...)
{
    static char store[32][128];
    static char *argv[33];
    va_list ap;
    int argc = 0;

    va_start(ap, first);
    for (const char *a = first; a && argc < 32; a = va_arg(ap, const char *)) {
        snprintf(store[argc], sizeof(store[argc]), "%s", a);
        argv[argc] = store[argc];
        argc++;
    }
    va_end(ap);
    argv[argc] = NULL;
    err[0] = 0;
    return sendmail_args_parse(argc, argv, &o, err, sizeof(err));
}

static void test_modes(void)
{
    is_int(parse("sendmail", "a@b", NULL), 0, "plain recipient");
    is_int(o.mode, SM_DELIVER, "default mode is -bm");
    is_int(o.nrcpt, 1, "one recipient");
    is_int(parse("sendmail", "-bp", NULL), 0, "-bp");
    is_int(o.mode, SM_LIST, "-bp lists");
    is_int(parse("/usr/bin/mailq", NULL), 0, "called as mailq");
    is_int(o.mode, SM_LIST, "mailq lists");
    is_int(parse("exorelay-mailq", NULL), 0, "a name ending in mailq");
    is_int(o.mode, SM_LIST, "lists too");
    is_int(parse("newaliases", NULL), 0, "called as newaliases");
    is_int(o.mode, SM_NOOP, "newaliases does nothing");
    is_int(parse("sendmail", "-bs", NULL), 0, "-bs");
    is_int(o.mode, SM_SMTP, "-bs is SMTP");
    is_int(parse("sendmail", "-b", "s", NULL), 0, "-b s (separate word)");
    is_int(o.mode, SM_SMTP, "is SMTP too");
    is_int(parse("sendmail", "-bm", "a@b", NULL), 0, "-bm");
    is_int(parse("sendmail", "-bi", NULL), 0, "-bi");
    is_int(o.mode, SM_NOOP, "-bi is a no-op");
    is_int(parse("sendmail", "-q", NULL), 0, "-q");
    is_int(o.mode, SM_FLUSH, "-q flushes");
    is_int(parse("sendmail", "-q30m", NULL), 0, "-q30m");
    is_int(o.mode, SM_FLUSH, "-q30m flushes once");
    is_int(parse("sendmail", "-bd", NULL), EX_USAGE, "-bd refused");
    ok(strstr(err, "exorelay run") != NULL, "and says what runs the queue: %s", err);
    ok(parse("sendmail", "-bt", NULL) == EX_USAGE, "-bt refused: %s", err);
    is_int(parse("sendmail", "--version", NULL), 0, "--version");
    is_int(o.mode, SM_VERSION, "prints the version");
}

static void test_flags(void)
{
    is_int(parse("sendmail", "-t", "-i", NULL), 0, "-t -i");
    ok(o.extract && o.ignore_dots && o.nrcpt == 0, "both set, no recipients");
    is_int(parse("sendmail", "-ti", NULL), 0, "-ti grouped");
    ok(o.extract && o.ignore_dots, "both set");
    is_int(parse("sendmail", "-oi", "a@b", NULL), 0, "-oi");
    ok(o.ignore_dots, "-oi is -i");
    is_int(parse("sendmail", "-o", "i", "a@b", NULL), 0, "-o i");
    ok(o.ignore_dots, "-o i is -i");
    is_int(parse("sendmail", "-f", "alice@example.com", "a@b", NULL), 0, "-f ADDR");
    is_str(o.sender, "alice@example.com", "sender from -f");
    is_int(parse("sendmail", "-falice@example.com", "a@b", NULL), 0, "-fADDR");
    is_str(o.sender, "alice@example.com", "attached sender");
    is_int(parse("sendmail", "-f", "<alice@example.com>", "a@b", NULL), 0, "-f <ADDR>");
    is_str(o.sender, "alice@example.com", "angle brackets removed");
    is_int(parse("sendmail", "-f", "<>", "a@b", NULL), 0, "-f <>");
    is_str(o.sender, "", "null sender");
    is_int(parse("sendmail", "-r", "bob@example.com", "a@b", NULL), 0, "-r ADDR");
    is_str(o.sender, "bob@example.com", "-r is -f");
    is_int(parse("sendmail", "-F", "Cron Daemon", "a@b", NULL), 0, "-F NAME");
    is_str(o.fullname, "Cron Daemon", "full name");
    is_int(parse("sendmail", "-FCronDaemon", "a@b", NULL), 0, "-FNAME");
    is_str(o.fullname, "CronDaemon", "attached full name");
    is_int(parse("sendmail", "-v", "a@b", NULL), 0, "-v");
    ok(o.verbose, "verbose");
    is_int(parse("sendmail", "-C", "/x.conf", "a@b", NULL), 0, "-C FILE");
    is_str(o.config, "/x.conf", "config path");
    is_int(parse("sendmail", "-N", "success,failure", "-R", "hdrs", "-V", "e1", "a@b", NULL),
           0, "-N -R -V");
    is_int(o.notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE, "NOTIFY list");
    is_int(o.ret, DSN_RET_HDRS, "RET=HDRS");
    is_str(o.envid, "e1", "ENVID");
    is_int(parse("sendmail", "-Nnever", "-RFULL", "a@b", NULL), 0, "-Nnever -RFULL");
    is_int(o.notify, DSN_NOTIFY_NEVER, "NEVER");
    is_int(o.ret, DSN_RET_FULL, "RET=FULL (any case)");
    ok(parse("sendmail", "-N", "never,success", "a@b", NULL) == EX_USAGE,
       "NEVER with others is refused: %s", err);
    ok(parse("sendmail", "-N", "sometimes", "a@b", NULL) == EX_USAGE,
       "unknown NOTIFY is refused: %s", err);
    ok(parse("sendmail", "-R", "body", "a@b", NULL) == EX_USAGE, "bad -R refused: %s", err);
}

static void test_ignored_and_real_programs(void)
{
    /* Debian cron: */
    is_int(parse("sendmail", "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root", NULL), 0,
           "cron's call");
    ok(o.ignore_dots && o.nrcpt == 1 && strcmp(o.rcpt[0], "root") == 0, "cron's recipient");
    /* mutt / PHP mail(): */
    is_int(parse("sendmail", "-oem", "-oi", "--", "a@b", "c@d", NULL), 0, "mutt's call");
    is_int(o.nrcpt, 2, "two recipients after --");
    is_int(parse("sendmail", "-t", "-i", NULL), 0, "PHP's sendmail_path");
    /* git send-email: */
    is_int(parse("sendmail", "-i", "-f", "me@x.org", "a@b", NULL), 0, "git send-email");
    /* the accepted-and-ignored set */
    is_int(parse("sendmail", "-odb", "-oQ/tmp", "-B", "7BIT", "-X", "/tmp/log", "-O",
                 "DeliveryMode=b", "-L", "tag", "-U", "-n", "-m", "-h", "10", "-Am", "a@b",
                 NULL), 0, "-o* -B -X -O -L -U -n -m -h -A accepted");
    is_int(o.nrcpt, 1, "and the recipient still found");
    is_int(parse("sendmail", "--", "-notaflag@example.com", NULL), 0, "-- then a dash word");
    is_str(o.rcpt[0], "-notaflag@example.com", "is a recipient");
    is_int(parse("sendmail", "a@b", "-t", NULL), 0, "options stop at the first recipient");
    ok(!o.extract && o.nrcpt == 2, "so -t after it is a recipient word");
}

static void test_errors(void)
{
    is_int(parse("sendmail", "-G", "a@b", NULL), EX_USAGE, "unknown flag -G");
    ok(strstr(err, "-G") != NULL, "error names the flag: %s", err);
    is_int(parse("sendmail", "-tZ", NULL), EX_USAGE, "unknown flag in a group");
    ok(strstr(err, "-Z") != NULL, "error names it: %s", err);
    is_int(parse("sendmail", "-f", NULL), EX_USAGE, "-f without its argument");
    ok(strstr(err, "needs an argument") != NULL, "says so: %s", err);
    is_int(parse("sendmail", "--frobnicate", NULL), EX_USAGE, "unknown long option");
    is_int(parse("sendmail", "-", NULL), EX_USAGE, "a lone dash");
}

int main(void)
{
    test_modes();
    test_flags();
    test_ignored_and_real_programs();
    test_errors();
    return done_testing();
}
