/*
 * cmd_test.c - "exorelay -c FILE test [--account A] [--to ADDR [--from ADDR]]":
 * walk the whole chain once, step by step, as the relay would, and say
 * where it breaks and how to fix it.
 *
 * SYNOPSIS
 *	int cmd_test(cfg, argc, argv)
 *		Steps: config, DNS, then the real session setup of the relay
 *		(upstream_open_traced: connect, greeting, EHLO, STARTTLS, TLS,
 *		EHLO after TLS, token, AUTH), then with --to a real message
 *		through deliver_message, as the queue runner sends it. Stops
 *		at the first failure with the diagnosis (upstream_diag.c,
 *		entra_diag.c). Exit 0, 69 unreachable, 77 credentials or
 *		permission, 78 configuration (livetest.h).
 *	void cmd_test_config_failed(path, nerrors)
 *		The config step's line when the file did not even load
 *		(exorelay_main.c has printed the errors).
 *
 * The token step always asks Entra ID for a new token: the test uses a
 * private, temporary state directory, so a token cached an hour ago
 * cannot hide a credential that stopped working since, and the daemon's
 * own cache is left alone. The test message goes from the mailbox (or
 * --from, to check a SendAs right) to --to; it is sent on a new pooled
 * connection after the traced one is closed, so it never holds two of the
 * mailbox's three connections.
 *
 * transport = graph: the SMTP steps give way to the Graph steps (Graph
 * token, Mail.Send in its roles: graph_check.c). transport = auto: both;
 * an SMTP AUTH refused with 535 5.7.139 is then no failure (the account
 * switches to Graph), the Graph steps must pass.
 */
#include <dirent.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "cred_expiry.h"
#include "graph_check.h"
#include "pool/deliver.h"
#include "livetest.h"
#include "common/log.h"
#include "upstream/upstream.h"
#include "upstream/upstream_diag.h"

struct test_opts {
    const char *account;
    const char *to;
    const char *from;
};

/* plain_address - local@domain without spaces or brackets */
static int plain_address(const char *s)
{
    return strchr(s, '@') != NULL && strcspn(s, " \t<>\r\n") == strlen(s);
}

/* parse_args - the options; -1 on a usage error */
static int parse_args(int argc, char **argv, struct test_opts *o)
{
    static const struct option longopts[] = {
        {"account", required_argument, NULL, 'a'},
        {"to", required_argument, NULL, 't'},
        {"from", required_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    int     opt;

    memset(o, 0, sizeof(*o));
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == 'a')
            o->account = optarg;
        else if (opt == 't')
            o->to = optarg;
        else if (opt == 'F')
            o->from = optarg;
        else
            return -1;
    }
    if (optind < argc)
        return -1;
    if ((o->from && !o->to) || (o->to && !plain_address(o->to))
        || (o->from && !plain_address(o->from)))
        return -1;
    return 0;
}

/* config_step - the account to test, and what its credential is */
static const struct conf_account *config_step(struct livetest *lt,
                                              const struct config *cfg,
                                              const char *name)
{
    const struct conf_account *acct = config_account(cfg, name);
    struct cred_expiry ce;
    char    detail[4800], when[300];

    lt_begin(lt, "config");
    if (acct == NULL) {
        snprintf(detail, sizeof(detail), "%s: there is no [account %s]", cfg->path, name);
        lt_step(lt, "config", 0, detail);
        lt_explain(lt, "fix", "name one of the [account NAME] sections with --account");
        return NULL;
    }
    if (cred_expiry_get(acct, &ce))
        cred_when(cred_days_left(ce.expires, time(NULL)), ce.expires, when, sizeof(when));
    else
        snprintf(when, sizeof(when), "expiry unknown: %s", ce.problem);
    snprintf(detail, sizeof(detail), "account %s (%s): %s %s; %s valid", acct->name,
             acct->mailbox, ce.kind, when, cfg->path);
    lt_step(lt, "config", 1, detail);
    return acct;
}

/* dns_step - resolve [upstream] server as the connect will */
static int dns_step(struct livetest *lt, const struct config *cfg)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
    struct smtp_reply r;
    char    list[512] = "", host[64], detail[1600];     /* numeric addresses */
    int     rc;

    lt_begin(lt, "DNS");
    rc = getaddrinfo(cfg->server, NULL, &hints, &res);

    if (rc != 0) {
        diag_dns(&r, cfg, gai_strerror(rc));
        lt_step(lt, "DNS", 0, gai_strerror(rc));
        lt_explain(lt, "diagnosis", r.text);
        return -1;
    }
    for (ai = res; ai != NULL && strlen(list) < sizeof(list) - sizeof(host) - 2; ai = ai->ai_next)
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0,
                        NI_NUMERICHOST) == 0 && strstr(list, host) == NULL)
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                     *list ? ", " : "", host);
    freeaddrinfo(res);
    snprintf(detail, sizeof(detail), "%s -> %s", cfg->server, list);
    lt_step(lt, "DNS", 1, detail);
    return 0;
}

/* What the tracer needs to word the steps that bring no reply. */
struct trace_ctx {
    struct livetest *lt;
    const struct config *tcfg;
    const struct conf_account *acct;
};

/* trace - lt_trace, with words for connect and token: a failed token
 * step names who failed (Entra ID and its host, the proxy, the credential
 * file), not the 454 the relay would answer its client */
static void trace(void *arg, const char *step, int ok, long ms, const char *detail)
{
    struct trace_ctx *tc = arg;
    struct token_diag td;
    time_t  expires = 0, obtained;
    char    words[512];

    if (ok == 1 && strcmp(step, "connect") == 0) {
        snprintf(words, sizeof(words), "TCP to %s port %d", tc->tcfg->server,
                 tc->tcfg->port);
        detail = words;
    } else if (ok == 1 && strcmp(step, "token") == 0
               && token_peek(tc->tcfg, tc->acct, &expires, &obtained, NULL) == 1) {
        snprintf(words, sizeof(words), "new access token from %s, valid %ld min",
                 tc->acct->authority, (long) (expires - time(NULL)) / 60);
        detail = words;
    } else if (ok == 0 && strcmp(step, "token") == 0
               && token_peek(tc->tcfg, tc->acct, &expires, &obtained, &td) >= 0
               && td.cause[0]) {
        token_diag_line(&td, tc->acct, words, sizeof(words));
        detail = words;
    }
    lt_trace(tc->lt, step, ok, ms, detail);
}

/* session_steps - the relay's own session setup, traced; exit status */
static int session_steps(struct livetest *lt, const struct config *tcfg,
                         const struct conf_account *acct, struct token_engine *te,
                         struct smtp_reply *err_out)
{
    struct trace_ctx tc = { lt, tcfg, acct };
    struct smtp_reply err;
    struct token_diag td;
    time_t  expires, obtained;
    struct upstream *up = upstream_open_traced(tcfg, acct, te, &err, trace, &tc);

    lt_end_trace(lt);
    *err_out = err;
    if (up != NULL) {
        upstream_close(up, 1);
        return EX_OK;
    }
    lt_explain(lt, "diagnosis", err.text);
    if (strcmp(lt_failed_step(lt), "token") != 0)
        return lt_exit_for_reply(lt_failed_step(lt), lt_failed_detail(lt));
    /* The failure the token engine recorded in the private state file. */
    if (token_peek(tcfg, acct, &expires, &obtained, &td) >= 0 && td.cause[0]) {
        if (td.detail[0])
            lt_explain(lt, "details", td.detail);
        return lt_exit_for_token(&td);
    }
    return EX_NOPERM;
}

/* transport_steps - SMTP, Graph or both, as the account's transport says */
static int transport_steps(struct livetest *lt, const struct config *tcfg,
                           const struct conf_account *acct, struct token_engine *te)
{
    struct smtp_reply err = {0, "", ""};
    int     status = EX_OK;

    if (acct->transport != TRANSPORT_GRAPH)
        status = session_steps(lt, tcfg, acct, te, &err);
    if (acct->transport == TRANSPORT_SMTP)
        return status;
    if (status != EX_OK && !diag_auth_disabled(&err))
        return status;
    if (status != EX_OK) {
        lt_explain(lt, "transport", "auto: SMTP AUTH is off for this mailbox, so the "
                   "relay sends through Microsoft Graph; checking Graph");
        lt->failed = 0;
    }
    return graph_check_steps(lt, tcfg, acct, te);
}

/* compose - the test message, in a rewound memory file; -1 on error */
static int compose(const struct config *cfg, const struct conf_account *acct,
                   const char *from, const char *to)
{
    char    host[256] = "localhost", date[64];
    time_t  now = time(NULL);
    struct tm tm;
    int     fd = memfd_create("exorelay-test", MFD_CLOEXEC);
    FILE   *fp = fd >= 0 ? fdopen(dup(fd), "w") : NULL;

    if (fp == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    gethostname(host, sizeof(host) - 1);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&now, &tm));
    fprintf(fp, "From: %s\nTo: %s\nSubject: exorelay test message from %s\nDate: %s\n"
            "Message-ID: <exorelay-test.%ld.%d@%s>\nAuto-Submitted: auto-generated\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n"
            "This message was sent by \"exorelay test --to\" on %s\nthrough account "
            "%s (mailbox %s) and %s port %d.\nIf you read it, the chain works.\n",
            from, to, host, date, (long) now, (int) getpid(), host, host, acct->name,
            acct->mailbox, cfg->server, cfg->port);
    if (fclose(fp) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* message_step - one real message through the pool; exit status */
static int message_step(struct livetest *lt, const struct config *tcfg,
                        const struct conf_account *acct, struct token_engine *te,
                        const struct test_opts *o)
{
    const char *from = o->from ? o->from : acct->mailbox;
    char   *rcpt[1] = { (char *) o->to };
    struct pools *pools = pools_new(tcfg, te);
    struct deliver_result res;
    struct smtp_reply why;
    char    line[SMTP_REPLY_TEXT_MAX + 32];
    int     fd = compose(tcfg, acct, from, o->to), rc;

    if (pools == NULL || fd < 0) {
        lt_step(lt, "message", 0, "out of memory");
        pools_free(pools);
        return EX_OSERR;
    }
    lt_begin(lt, "message");
    rc = deliver_message(pools, acct, from, rcpt, 1, fd, &res);
    close(fd);
    smtp_reply_oneline(&res.final, line, sizeof(line));
    lt_step(lt, "message", rc == 0, line);
    if (rc < 0) {
        lt_explain(lt, "diagnosis", diag_sendas(&why, acct, from, &res.final)
                   ? why.text : res.final.code < 500 ? res.final.text
                   : "Exchange refused the message; its reply above says why");
        rc = lt_exit_for_reply("message", line);
    } else {
        fprintf(lt->out, "Look for \"exorelay test message\" in the mailbox of %s.\n", o->to);
    }
    deliver_result_free(&res);
    pools_free(pools);
    return rc == 0 ? EX_OK : rc;
}

/* private_state - a fresh 0700 directory for the test's token files */
static char *private_state(void)
{
    const char *tmp = getenv("TMPDIR");
    char    tmpl[4096];

    snprintf(tmpl, sizeof(tmpl), "%s/exorelay-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(tmpl) ? strdup(tmpl) : NULL;
}

/* remove_private_state - the directory and the files the test made in it */
static void remove_private_state(char *dir)
{
    DIR    *d = opendir(dir);
    struct dirent *de;
    char    path[4400];

    while (d != NULL && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
    free(dir);
}

/* summary - the last line */
static int summary(struct livetest *lt, int status)
{
    static const struct { int status; const char *what; } kinds[] = {
        {EX_UNAVAILABLE, "unreachable or refused"},
        {EX_NOPERM, "credentials or permission"},
        {EX_CONFIG, "configuration"},
    };
    const char *what = "failed";

    if (status == EX_OK) {
        fprintf(lt->out, "all steps ok (%ld ms)\n", lt_total_ms(lt));
        return EX_OK;
    }
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i].status == status)
            what = kinds[i].what;
    fprintf(lt->out, "FAILED at step %s: %s (exit %d)\n", lt_failed_step(lt), what, status);
    return status;
}

/* cmd_test - see above */
int cmd_test(struct config *cfg, int argc, char **argv)
{
    struct test_opts o;
    struct livetest lt;
    const struct conf_account *acct;
    struct config tcfg;
    struct token_engine *te;
    char   *state;
    int     status;

    if (parse_args(argc, argv, &o) < 0)
        return command_usage_error("test");
    signal(SIGPIPE, SIG_IGN);
    if (log_get_level() < LOG_LVL_DEBUG)
        log_set_level(LOG_LVL_ERROR);   /* the steps say it all */
    lt_init(&lt, stdout);
    printf("exorelay test: %s port %d\n", cfg->server, cfg->port);
    if ((acct = config_step(&lt, cfg, o.account)) == NULL)
        return summary(&lt, EX_CONFIG);
    if (dns_step(&lt, cfg) < 0)
        return summary(&lt, EX_UNAVAILABLE);
    if ((state = private_state()) == NULL) {
        perror("exorelay: test: temporary directory");
        return EX_CANTCREAT;
    }
    tcfg = *cfg;
    tcfg.state_dir = state;
    if ((te = token_engine_new(&tcfg)) == NULL) {
        remove_private_state(state);
        return EX_OSERR;
    }
    status = transport_steps(&lt, &tcfg, acct, te);
    if (status == EX_OK && o.to != NULL)
        status = message_step(&lt, &tcfg, acct, te, &o);
    token_engine_free(te);
    remove_private_state(state);
    return summary(&lt, status);
}

/* cmd_test_config_failed - the first step failed before cmd_test ran */
void cmd_test_config_failed(const char *path, int nerrors)
{
    struct livetest lt;
    char    detail[4200];

    lt_init(&lt, stdout);
    snprintf(detail, sizeof(detail), "%s: %d error%s (on stderr)", path, nerrors,
             nerrors == 1 ? "" : "s");
    lt_step(&lt, "config", 0, detail);
    lt_explain(&lt, "fix", "correct the lines named above; exorelay check shows them again");
    summary(&lt, EX_CONFIG);
}
