/*
 * test_config_values.c - good config files load to the right values: the
 * defaults of every section, each value format, the INI syntax corners,
 * and the lookups (config_account, config_account_for_sender,
 * config_class).
 */
#include <arpa/inet.h>
#include <regex.h>
#include <time.h>

#include "tap.h"
#include "conftest.h"

/* load_ok - load body, which must be valid */
static struct config *load_ok(const char *body, const char *what)
{
    struct config *cfg = conftest_load(body);

    ok(cfg != NULL, "%s loads", what);
    if (cfg == NULL) {
        conftest_show();
        exit(1);                        /* the checks below need it */
    }
    return cfg;
}

static int has(const struct strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

static void defaults(void)
{
    struct config *cfg = load_ok(CONFTEST_BASE, "a file with only an account");
    const struct conf_account *a = config_account(cfg, NULL);
    char    host[256] = "";

    is_int(cfg->nlisten, 1, "listen: one address by default");
    ok(cfg->listen[0].kind == LISTEN_INET && strcmp(cfg->listen[0].host, "127.0.0.1") == 0
       && cfg->listen[0].port == 10587, "listen defaults to 127.0.0.1:10587");
    ok(cfg->nallow == 2 && cfg->allow[0].family == AF_INET && cfg->allow[0].bits == 8
       && cfg->allow[0].addr[0] == 127 && cfg->allow[1].family == AF_INET6
       && cfg->allow[1].bits == 128 && cfg->allow[1].addr[15] == 1,
       "allow defaults to 127.0.0.0/8, ::1");
    is_str(cfg->state_dir, "/var/lib/exorelay", "state_dir default");
    is_str(cfg->spool_dir, "/var/spool/exorelay", "spool_dir default");
    is_str(cfg->user, "exorelay", "user default");
    is_int(cfg->log_level, LOG_LVL_INFO, "log_level default info");
    ok(cfg->max_clients == 100 && cfg->max_recipients == 500, "max_clients 100, max_recipients 500");
    is_int(cfg->max_message_size, 35LL * 1024 * 1024, "max_message_size 35M");
    ok(cfg->idle_timeout == 300 && cfg->data_timeout == 300, "idle and data timeouts 300 s");
    is_int(cfg->socket_mode, 0660, "socket_mode 0660");
    ok(cfg->socket_owner == NULL && cfg->socket_group == NULL && cfg->metrics_file == NULL,
       "socket_owner, socket_group, metrics_file unset");
    is_str(cfg->control_socket, "/var/lib/exorelay/control.sock", "control_socket in state_dir");
    is_int(cfg->queue_lifetime, 5 * 86400, "queue_lifetime 5d");
    ok(cfg->retry_min == 60 && cfg->retry_max == 3600, "retry 60 s to 3600 s");
    is_str(cfg->server, "smtp.office365.com", "server default");
    is_int(cfg->port, 587, "port default");
    ok(cfg->connect_timeout == 60 && cfg->command_timeout == 300 && cfg->pool_idle == 60,
       "upstream timeouts 60/300/60");
    ok(cfg->ca_file == NULL && cfg->helo_name == NULL, "ca_file and helo_name unset");
    is_str(cfg->milter_socket, "unix:/var/spool/postfix/exorelay/milter.sock", "milter socket");
    gethostname(host, sizeof(host) - 1);
    ok(has(&cfg->local_domains, "localhost") && has(&cfg->local_domains, host),
       "local_domains: localhost and the host name '%s'", host);
    ok(cfg->nalarm_days == 6 && cfg->alarm_days[0] == 30 && cfg->alarm_days[5] == 0,
       "alarm days 30,14,7,3,1,0");
    is_int(cfg->alarm_notify.n, 0, "no alarm recipients by default");
    is_str(a->authority, "https://login.microsoftonline.com", "authority default");
    is_str(a->scope, "https://outlook.office365.com/.default", "scope default");
    ok(a->jwt_alg == JWT_PS256 && a->max_connections == 3 && a->messages_per_minute == 0,
       "jwt_alg PS256, 3 connections, no rate limit");
    ok(a->credential_expiry == 0 && a->proxy == NULL && a->senders.n == 0,
       "no expiry, proxy or senders");
    config_free(cfg);
}

static const char full[] =
    "\xEF\xBB\xBF# a full file, with a byte order mark and CRLF lines\r\n"
    "[relay]\r\n"
    "listen = 127.0.0.1:2525, [::1]:2525 unix:/run/exorelay/smtp.sock\r\n"
    "allow = 10.0.0.0/8,192.0.2.7, 2001:db8::/32\n"
    "user =\n"
    "log_level = debug\n"
    "max_message_size = 512K\n"
    "idle_timeout = 2m\n"
    "data_timeout = 1h\n"
    "queue_lifetime = 3d\n"
    "socket_mode = 0600\n"
    "socket_owner = postfix\n"
    "control_socket = /run/exorelay/control.sock\n"
    "[upstream]\n"
    "server = smtp-test.example.net\n"
    "port = 25\n"
    "ca_file = @CERT@\n"
    "helo_name = relay.example.com\n"
    "[account main]\n"
    "tenant = 11111111-2222-3333-4444-555555555555\n"
    "client_id = AAAAAAAA-bbbb-cccc-dddd-eeeeeeeeeeee\n"
    "certificate_file = @CERT@\n"
    "private_key_file = @KEY@\n"
    "jwt_alg = rs256\n"
    "credential_expiry = 2028-02-29\n"
    "mailbox = no-reply@contoso.onmicrosoft.com\n"
    "senders = *@example.com, root@*\n"
    "authority = https://login.microsoftonline.us/\n"
    "scope = https://outlook.office365.us/.default#x\n"
    "proxy = http://proxy.example.com:3128\n"
    "max_connections = 2\n"
    "messages_per_minute = 30\n"
    "[account second]\n"
    "tenant = fabrikam.onmicrosoft.com\n"
    "client_id = 11111111-2222-3333-4444-555555555555\n"
    "client_secret_file = @SECRET@\n"
    "mailbox = alerts@fabrikam.example\n"
    "senders = *@fabrikam.example\n"
    "[milter]\n"
    "socket = inet:8891@127.0.0.1\n"
    "local_domains = example.com mail.example.com\n"
    "[class alarm]\n"
    "match_from = root@*, *@monitor.example.com\n"
    "match_subject = ^\\[Alarm\\]\n"
    "match_header = X-Priority: ^1\n"
    "match_header = X-Mailer: [Nn]agios\n"
    "send_as = \"Alarm desk\" <alerts@example.com>\n"
    "account = second\n"
    "[class guest]\n"
    "match_from = *@ise.example.com\n"
    "send_as = guest-wifi@example.com\n"
    "[alarms]\n"
    "notify = postmaster@example.com, noc@example.com\n"
    "days = 10, 1\n";

static void full_file(void)
{
    struct config *cfg = load_ok(full, "a file that sets every kind of value");
    const struct conf_account *a = config_account(cfg, "main");
    const struct conf_class *c = config_class(cfg, "alarm");
    char    net[64];

    ok(cfg->nlisten == 3 && strcmp(cfg->listen[1].host, "::1") == 0
       && cfg->listen[1].port == 2525 && cfg->listen[2].kind == LISTEN_UNIX
       && strcmp(cfg->listen[2].path, "/run/exorelay/smtp.sock") == 0,
       "listen: IPv4, [IPv6] and unix:, by comma or space");
    inet_ntop(AF_INET6, cfg->allow[2].addr, net, sizeof(net));
    ok(cfg->nallow == 3 && cfg->allow[1].bits == 32 && strcmp(net, "2001:db8::") == 0
       && cfg->allow[2].bits == 32, "allow: a bare address is /32; IPv6 networks");
    ok(cfg->user == NULL, "an empty user means: do not switch");
    is_int(cfg->log_level, LOG_LVL_DEBUG, "log_level debug");
    is_int(cfg->max_message_size, 512 * 1024, "512K is 524288 bytes");
    ok(cfg->idle_timeout == 120 && cfg->data_timeout == 3600 && cfg->queue_lifetime == 3 * 86400,
       "durations: 2m, 1h, 3d");
    ok(cfg->socket_mode == 0600 && strcmp(cfg->socket_owner, "postfix") == 0,
       "socket mode and owner");
    is_str(cfg->control_socket, "/run/exorelay/control.sock", "control_socket as given");
    ok(cfg->port == 25 && strcmp(cfg->server, "smtp-test.example.net") == 0
       && cfg->ca_file != NULL && strcmp(cfg->helo_name, "relay.example.com") == 0,
       "upstream values");
    ok(a != NULL && a == config_account(cfg, NULL), "the first account is the default");
    ok(a->jwt_alg == JWT_RS256 && a->max_connections == 2 && a->messages_per_minute == 30,
       "jwt_alg (any case), max_connections, messages_per_minute");
    is_int(a->credential_expiry, 1835481599, "credential_expiry 2028-02-29 = 23:59:59 UTC");
    is_str(a->authority, "https://login.microsoftonline.us/", "authority as given");
    is_str(a->scope, "https://outlook.office365.us/.default#x", "'#' inside a value is kept");
    is_str(a->proxy, "http://proxy.example.com:3128", "proxy");
    ok(a->certificate_file && a->private_key_file && a->client_secret_file == NULL,
       "certificate credential");
    is_int(cfg->naccounts, 2, "two accounts");
    is_str(config_account_for_sender(cfg, "Nagios@FABRIKAM.example")->name, "second",
           "senders globs match without regard to case");
    is_str(config_account_for_sender(cfg, "root@host7")->name, "main",
           "root@* goes to the first account that lists it");
    is_str(config_account_for_sender(cfg, "someone@elsewhere.example")->name, "main",
           "an unmatched sender goes to the default account");
    is_str(config_account_for_sender(cfg, "")->name, "main", "the null sender: default account");
    ok(config_account(cfg, "nosuch") == NULL && config_class(cfg, "nosuch") == NULL,
       "unknown account or class names give NULL");
    is_str(cfg->milter_socket, "inet:8891@127.0.0.1", "milter socket");
    ok(cfg->local_domains.n == 2 && has(&cfg->local_domains, "mail.example.com"),
       "local_domains as given replace the default");
    ok(c != NULL && c->match_from.n == 2 && strcmp(c->account, "second") == 0
       && strcmp(c->send_as, "\"Alarm desk\" <alerts@example.com>") == 0, "class alarm");
    ok(regexec(&c->subject_re, "[Alarm] disk full", 0, NULL, 0) == 0
       && regexec(&c->subject_re, "Re: [Alarm] disk full", 0, NULL, 0) != 0,
       "match_subject is compiled and anchored");
    ok(c->match_header.n == 2 && regexec(&c->header_re[1], "nagios 4.4", 0, NULL, 0) == 0
       && regexec(&c->header_re[0], "3", 0, NULL, 0) != 0,
       "match_header repeats; each regex applies to the value");
    is_str(config_class(cfg, "guest")->account, "main", "a class without account: the default");
    ok(cfg->alarm_notify.n == 2 && cfg->nalarm_days == 2 && cfg->alarm_days[1] == 1,
       "[alarms] notify and days");
    config_free(cfg);
}

static void path_default(void)
{
    unsetenv("EXORELAY_CONF");
    is_str(config_path_default(), "/etc/exorelay/exorelay.conf", "default config path");
    setenv("EXORELAY_CONF", "/srv/x.conf", 1);
    is_str(config_path_default(), "/srv/x.conf", "EXORELAY_CONF overrides it");
    unsetenv("EXORELAY_CONF");
}

int main(void)
{
    conftest_init();
    defaults();
    full_file();
    path_default();
    free(conftest_errors);
    return done_testing();
}
