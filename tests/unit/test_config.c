/*
 * test_config.c - the config loader refuses every kind of bad input with
 * its own line-numbered message (bad input first), then reads good files
 * to the right values and defaults (test_config_values.c has more).
 *
 * Each bad case is a whole file; the message must be the only one, at the
 * exact line, and contain the phrase that tells the admin what is wrong.
 */
#include <regex.h>
#include <sys/wait.h>

#include "tap.h"
#include "conftest.h"

/* bad - body must fail with exactly one message, at line, containing phrase */
static void bad(const char *what, const char *body, int line, const char *phrase)
{
    struct config *cfg = conftest_load(body);
    int     good = cfg == NULL && conftest_nerr == 1 && conftest_has(line, phrase);

    ok(good, "%s: line %d says \"%s\"", what, line, phrase);
    if (!good)
        conftest_show();
    config_free(cfg);
}

#define B CONFTEST_BASE                 /* lines 1-5: a valid account */

static void syntax_errors(void)
{
    bad("unknown section", B "[relya]\nlisten = 127.0.0.1:25\n", 6,
        "unknown section [relya]; did you mean [relay]?");
    bad("unknown key", B "client_secret = x\n", 6,
        "unknown key 'client_secret' in [account main]; did you mean 'client_secret_file'?");
    bad("misspelt key", B "[upstream]\nconect_timeout = 5\n", 7,
        "did you mean 'connect_timeout'?");
    bad("key in the wrong section", B "[relay]\nserver = smtp.office365.com\n", 7,
        "'server' belongs in [upstream], not in [relay]");
    bad("key before any section", "port = 587\n" B, 1,
        "'port' comes before any [section]; put it under [upstream]");
    bad("section header without ]", B "[relay\nlisten = 127.0.0.1:25\n", 6,
        "without closing ']'");
    bad("line without =", B "[relay]\nlisten 127.0.0.1:25\n", 7,
        "expected 'key = value'");
    bad("account without a name", B "[account]\ntenant = x.example.com\n", 6,
        "[account] needs a name");
    bad("relay with a name", B "[relay main]\n", 6, "[relay] takes no name");
    bad("duplicate account", B "\n" B, 7, "duplicate section [account main] (first at line 1)");
    bad("duplicate [relay]", B "[relay]\nuser = mail\n[relay]\nuser = nobody\n", 8,
        "duplicate section [relay] (first at line 6)");
    bad("misspelt named section", "[acount main]\ntenant = x.example\n" B, 1,
        "unknown section [acount]; did you mean [account]?");
    bad("text after the header", B "[relay] listen = 127.0.0.1:25\n", 6,
        "text after the section header's ']'");
    bad("unknown key, nothing close", B "[relay]\nfrobnicate = yes\n", 7,
        "unknown key 'frobnicate' in [relay] (see exorelay.conf(5))");
    bad("duplicate key", B "mailbox = other@contoso.onmicrosoft.com\n", 6,
        "duplicate key 'mailbox' (first at line 5)");
}

static void missing_keys(void)
{
    bad("no account at all", "[relay]\nlisten = 127.0.0.1:10587\n\n", 3,
        "no [account NAME] section");
    bad("missing tenant", "[account a]\nclient_id = 11111111-2222-3333-4444-555555555555\n"
        "client_secret_file = @SECRET@\nmailbox = a@b.example\n", 1,
        "[account a] has no tenant");
    bad("missing client_id", "[account a]\ntenant = b.example\n"
        "client_secret_file = @SECRET@\nmailbox = a@b.example\n", 1,
        "[account a] has no client_id");
    bad("missing mailbox", "[account a]\ntenant = b.example\n"
        "client_id = 11111111-2222-3333-4444-555555555555\nclient_secret_file = @SECRET@\n", 1,
        "[account a] has no mailbox");
    bad("no credential", "[account a]\ntenant = b.example\n"
        "client_id = 11111111-2222-3333-4444-555555555555\nmailbox = a@b.example\n", 1,
        "has no credential: give client_secret_file, or certificate_file and private_key_file");
    bad("secret and certificate", B "certificate_file = @CERT@\nprivate_key_file = @KEY@\n", 6,
        "not both");
    bad("certificate without key", "[account a]\ntenant = b.example\n"
        "client_id = 11111111-2222-3333-4444-555555555555\nmailbox = a@b.example\n"
        "certificate_file = @CERT@\n", 5, "certificate_file needs private_key_file");
    bad("empty required value", "[account a]\ntenant =\n"
        "client_id = 11111111-2222-3333-4444-555555555555\nmailbox = a@b.example\n"
        "client_secret_file = @SECRET@\n", 2, "tenant: needs a value");
}

static void value_errors(void)
{
    bad("malformed GUID", "[account a]\ntenant = b.example\nclient_id = 1234-5678\n"
        "client_secret_file = @SECRET@\nmailbox = a@b.example\n", 3,
        "client_id: '1234-5678' is not a GUID");
    bad("malformed tenant", "[account a]\ntenant = contoso\nclient_id = "
        "11111111-2222-3333-4444-555555555555\nclient_secret_file = @SECRET@\n"
        "mailbox = a@b.example\n", 2, "tenant: 'contoso' is neither a directory GUID");
    bad("malformed domain", B "[upstream]\nhelo_name = -relay.example.com\n", 7,
        "helo_name: '-relay.example.com' is not a valid domain name");
    bad("malformed mailbox", "[account a]\ntenant = b.example\nclient_id = "
        "11111111-2222-3333-4444-555555555555\nclient_secret_file = @SECRET@\n"
        "mailbox = no-reply.contoso.com\n", 5, "is not a mailbox address");
    bad("malformed send_as", B "[class c]\nmatch_from = *@x.example\n"
        "send_as = Alarms <alerts@example.com\n", 8, "must end with '>'");
    bad("malformed date", B "credential_expiry = 2027-02-29\n", 6,
        "credential_expiry: '2027-02-29' is not a date (want YYYY-MM-DD");
    bad("malformed size", B "[relay]\nmax_message_size = 35MB\n", 7,
        "max_message_size: '35MB' is not a size");
    bad("size out of range", B "[relay]\nmax_message_size = 100\n", 7, "out of range");
    bad("malformed duration", B "[relay]\nidle_timeout = 5 min\n", 7,
        "idle_timeout: '5 min' is not a duration");
    bad("number out of range", B "[upstream]\nport = 70000\n", 7, "port: '70000' is out of range");
    bad("empty listen", B "[relay]\nlisten =\n", 7, "listen: needs a value");
    bad("listen without port", B "[relay]\nlisten = 127.0.0.1\n", 7,
        "listen: '127.0.0.1' is not host:port, [IPv6]:port or unix:/path");
    bad("listen: IPv6 without brackets", B "[relay]\nlisten = ::1:10587\n", 7,
        "write an IPv6 address in brackets");
    bad("listen: relative unix path", B "[relay]\nlisten = unix:run/x.sock\n", 7,
        "the socket path must be absolute");
    bad("listen: bad port", B "[relay]\nlisten = [::1]:smtp\n", 7,
        "the port must be a number from 1 to 65535");
    bad("CIDR with host bits", B "[relay]\nallow = 127.0.0.0/8, 10.1.2.3/16\n", 7,
        "did you mean 10.1.0.0/16?");
    bad("CIDR prefix too long", B "[relay]\nallow = 192.0.2.0/33\n", 7,
        "the prefix length must be 0 to 32");
    bad("CIDR not an address", B "[relay]\nallow = localhost\n", 7,
        "'localhost' is not a network");
    bad("glob without @", B "senders = example.com\n", 6, "did you mean '*@example.com'?");
    bad("log level", B "[relay]\nlog_level = verbose\n", 7, "'verbose' is not a log level");
    bad("jwt_alg", B "jwt_alg = HS256\n", 6, "'HS256' is not a JWT signing algorithm");
    bad("authority over http", B "authority = http://login.example.com\n", 6,
        "is not an https:// URL");
    bad("milter socket", B "[milter]\nsocket = /run/milter.sock\n", 7, "is not a milter socket");
    bad("socket mode", B "[relay]\nsocket_mode = 0869\n", 7, "'0869' is not an octal file mode");
    bad("alarm days", B "[alarms]\ndays = 30, -1\n", 7, "'-1' is out of range");
    bad("path not absolute", B "[relay]\nstate_dir = var/lib/exorelay\n", 7,
        "'var/lib/exorelay' is not an absolute path");
    bad("retry_min above retry_max", B "[relay]\nretry_min = 2h\nretry_max = 1h\n", 8,
        "retry_min (7200 s) is larger than retry_max (3600 s)");
}

static void regex_errors(void)
{
    regex_t re;
    char    why[200], phrase[300];
    int     rc = regcomp(&re, "^\\[Alarm(", REG_EXTENDED | REG_NOSUB);

    /* The message must carry regerror's own text, whatever the libc says. */
    regerror(rc, &re, why, sizeof(why));
    regfree(&re);
    snprintf(phrase, sizeof(phrase), "is not a valid POSIX extended regex: %s", why);
    bad("bad match_subject regex", B "[class alarm]\nmatch_subject = ^\\[Alarm(\n", 7, phrase);
    bad("bad match_header", B "[class c]\nmatch_header = X-Priority 1\n", 7,
        "is not 'Header-Name: regex'");
    bad("class matches nothing", B "[class c]\nsend_as = a@contoso.onmicrosoft.com\n", 6,
        "[class c] matches nothing");
    bad("class names a missing account", B "[class c]\nmatch_from = root@*\naccount = mian\n", 8,
        "account: there is no [account mian]; did you mean 'main'?");
}

/* unreadable_as_nobody - as root, the check runs as nobody in a child */
static int unreadable_as_nobody(const char *body)
{
    pid_t   pid;
    int     status;
    struct config *cfg;

    config_free(conftest_load(body));   /* as root: writes the file */
    chmod(conftest_tmp, 0755);          /* nobody must reach the config */
    fflush(stdout);
    if ((pid = fork()) == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(3);
        cfg = conftest_reload();
        if (cfg != NULL || conftest_nerr != 1
            || !conftest_has(4, "Permission denied (check its owner and mode)")) {
            conftest_show();
            _exit(1);
        }
        _exit(0);
    }
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

static void file_errors(void)
{
    const char *loose = "[account a]\ntenant = b.example\nclient_id = "
        "11111111-2222-3333-4444-555555555555\nclient_secret_file = @TMP@/loose.secret\n"
        "mailbox = a@b.example\n";
    const char *certacct = "[account a]\ntenant = b.example\nclient_id = "
        "11111111-2222-3333-4444-555555555555\nmailbox = a@b.example\n";
    char    body[1024];

    bad("missing secret file", "[account a]\ntenant = b.example\nclient_id = "
        "11111111-2222-3333-4444-555555555555\nclient_secret_file = @TMP@/nope.secret\n"
        "mailbox = a@b.example\n", 4, "nope.secret: No such file or directory");
    conftest_write("loose.secret", "x\n", 0644);
    bad("secret readable by others", loose, 4, "(mode 0644): run chmod 600 ");
    conftest_write("loose.secret", "x\n", 0640);
    bad("secret readable by the group", loose, 4, "accessible by its group (mode 0640)");
    conftest_write("loose.secret", "x\n", 0602);
    bad("secret writable by others", loose, 4, "accessible by others (mode 0602)");
    if (getuid() == 0) {
        conftest_write("loose.secret", "x\n", 0600);
        is_int(unreadable_as_nobody(loose), 0,
               "unreadable secret (checked as nobody): line 4 says \"Permission denied\"");
    } else {
        conftest_write("loose.secret", "x\n", 0200);
        bad("unreadable secret", loose, 4, "Permission denied (check its owner and mode)");
    }
    conftest_write("loose.pem", "-----BEGIN CERTIFICATE-----\nnonsense\n"
                   "-----END CERTIFICATE-----\n", 0644);
    snprintf(body, sizeof(body), "%scertificate_file = @TMP@/loose.pem\n"
             "private_key_file = @KEY@\n", certacct);
    bad("certificate file that is not PEM", body, 5, "is not a PEM certificate");
    snprintf(body, sizeof(body), "%scertificate_file = @CERT@\n"
             "private_key_file = @TMP@/other.key\n", certacct);
    conftest_write("other.key", "", 0600);
    ok(system("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
              "-out \"$TESTS_TMP/other.key\" 2>/dev/null") == 0, "openssl made other.key");
    bad("key of another certificate", body, 6, "is not the private key of ");
    chmod(strcat(strcpy(body, conftest_tmp), "/main.key"), 0644);
    snprintf(body, sizeof(body), "%scertificate_file = @CERT@\n"
             "private_key_file = @KEY@\n", certacct);
    bad("private key readable by others", body, 6, "run chmod 600 ");
    chmod(strcat(strcpy(body, conftest_tmp), "/main.key"), 0600);
    conftest_write("enc.key", "", 0600);
    ok(system("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 "
              "-pass pass:xyzzy -out \"$TESTS_TMP/enc.key\" 2>/dev/null") == 0,
       "openssl made enc.key");
    snprintf(body, sizeof(body), "%scertificate_file = @CERT@\n"
             "private_key_file = @TMP@/enc.key\n", certacct);
    bad("encrypted private key", body, 6, "is not an unencrypted PEM private key");
    bad("ca_file not a certificate", B "[upstream]\nca_file = @SECRET@\n", 7,
        "is not a PEM certificate");
}

/* many_errors - all problems are reported, sorted by line */
static void many_errors(void)
{
    struct config *cfg = conftest_load("[relay]\nlisten = nowhere\n[account a]\n"
                                       "tenant = b.example\nclient_id = x\n"
                                       "[class c]\naccount = zzz\nmatch_from = *\n"
                                       "[upstream]\nport = 0\n");
    const char *l2 = conftest_errors ? strstr(conftest_errors, ":2: ") : NULL;
    const char *l10 = conftest_errors ? strstr(conftest_errors, ":10: ") : NULL;

    ok(cfg == NULL && conftest_nerr == 6, "six problems, six messages (got %d)", conftest_nerr);
    ok(conftest_has(2, "listen:") && conftest_has(3, "has no mailbox")
       && conftest_has(3, "has no credential") && conftest_has(5, "client_id:")
       && conftest_has(7, "no [account zzz]") && conftest_has(10, "port:"),
       "each problem at its own line");
    ok(l2 && l10 && l2 < l10, "messages are sorted by line");
    if (cfg != NULL || conftest_nerr != 6)
        conftest_show();
    config_free(cfg);
}

static void proxy_password_not_echoed(void)
{
    struct config *cfg = conftest_load(B "proxy = http://bob:hunter2@proxy.example:3128\n");

    ok(cfg == NULL && conftest_has(6, "user and password in the proxy URL are not supported")
       && strstr(conftest_errors, "hunter2") == NULL,
       "proxy with a password: refused, and the password is not echoed");
    config_free(cfg);
}

static void missing_file(void)
{
    int     n = 0;
    size_t  size;
    char   *text = NULL;
    FILE   *errs = open_memstream(&text, &size);
    struct config *cfg = config_load("/nonexistent/exorelay.conf", errs, &n);

    fclose(errs);
    ok(cfg == NULL && n == 1 && strstr(text, "/nonexistent/exorelay.conf:0: cannot open")
       && strstr(text, "No such file"), "a missing config file is one error: %s", text);
    free(text);
}

/* good_files - a few good files: the details are in test_config_values.c */
static void good_files(void)
{
    struct config *cfg = conftest_load(B);

    ok(cfg != NULL && conftest_nerr == 0, "the minimal file (one account) is valid");
    if (cfg == NULL)
        conftest_show();
    config_free(cfg);
    cfg = conftest_load("# comment\n; comment\n[account a]   # inline\n"
                        "  tenant = 11111111-2222-3333-4444-555555555555 ; inline\n"
                        "\tclient_id = 11111111-2222-3333-4444-555555555555\n"
                        "certificate_file = @CERT@\nprivate_key_file = @KEY@\n"
                        "mailbox = a@b.example\n");
    ok(cfg != NULL, "comments, indented keys and a certificate credential are valid");
    if (cfg == NULL)
        conftest_show();
    config_free(cfg);
}

int main(void)
{
    conftest_init();
    syntax_errors();
    missing_keys();
    value_errors();
    regex_errors();
    file_errors();
    many_errors();
    proxy_password_not_echoed();
    missing_file();
    good_files();
    free(conftest_errors);
    return done_testing();
}
