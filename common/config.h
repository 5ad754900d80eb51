/*
 * config.h - exorelay.conf: load, validate, and the in-memory form.
 *
 * SYNOPSIS
 *	struct config *config_load(path, errs, &nerrors)
 *		Parse and validate the INI file at path. Every problem is
 *		written to errs (may be NULL) as one "FILE:LINE: message" line,
 *		with a "did you mean" for a misspelt key or section. Returns
 *		the config when there were no errors, else NULL (nerrors > 0).
 *		Checks files named by the config (secret, certificate, key,
 *		ca_file): they must exist, be readable, and secret/key files
 *		must not be readable by group or others.
 *	struct config *config_load_fp(path, fp, errs, &nerrors)
 *		The same from fp, the file already open (path names it in
 *		messages; fp is closed): who checked the file's owner on
 *		the descriptor parses that very file, not whatever the
 *		path names a moment later. fp NULL: open path.
 *	void config_free(cfg)
 *	const struct conf_account *config_account(cfg, name)
 *		account by name; NULL name means the default (first) account
 *	const struct conf_account *config_account_for_sender(cfg, sender)
 *		first account whose senders globs match, else the default
 *	size_t config_accounts_for_sender(cfg, sender, out, max)
 *		the pool for an envelope sender: every account whose senders
 *		globs match (config order, at most max), else the default
 *		account alone; returns how many were put in out
 *	const struct conf_class *config_class(cfg, name)
 *	const char *config_path_default(void)
 *		$EXORELAY_CONF, else /etc/exorelay/exorelay.conf
 *	void config_skip_file_checks(skip)
 *		skip != 0: config_load() checks only the syntax of the file
 *		names it holds, opens none of them (for exorelay-sendmail
 *		run by an ordinary user, who may not read the secrets)
 *
 * After a successful load every default is in place: control_socket is
 * {state_dir}/control.sock unless given, local_domains the host's own names
 * unless given, and a class without "account" names the default account.
 *
 * Keys are defined in one table per section (common/conf_keys.c: name,
 * value type, default, field); adding a key is a field here, one line
 * there, and its entry in man/exorelay.conf.5 (tests/t_man.sh checks).
 *
 * File format: "[section]" or "[account NAME]"/"[class NAME]" headers,
 * "key = value" lines, "#" or ";" comments (whole line, or after white
 * space at the end of a value). Sizes accept K/M/G suffixes, durations
 * s/m/h/d suffixes (plain numbers are seconds). Every key is documented in
 * man/exorelay.conf.5. The structure only grows: add fields, never rename.
 *
 * A value that begins with CONF_PLACEHOLDER ("CHANGE-ME") is an error
 * naming the key and what to give: the config installed by "make install"
 * and the Debian package (conf/exorelay.conf) holds it where only the
 * admin knows the value, so that nothing starts before it is filled in.
 *
 * Why not libinih: Debian's libinih is built without per-key line numbers
 * (INI_HANDLER_LINENO) and joins indented lines onto the previous value
 * (INI_ALLOW_MULTILINE), so an indented key would silently vanish into
 * the value above it; and it takes only ";" as an inline comment, while
 * exorelay.conf documents "#". The tokenizer here is short (conf_ini.c).
 */
#ifndef EXORELAY_CONFIG_H
#define EXORELAY_CONFIG_H

#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "log.h"

#define CONF_PLACEHOLDER "CHANGE-ME"

struct strlist {
    char  **v;
    size_t  n;
};

enum listen_kind { LISTEN_INET, LISTEN_UNIX };

struct listen_addr {
    enum listen_kind kind;
    char   *host;               /* LISTEN_INET: "127.0.0.1", "::1" (no brackets) */
    int     port;               /* LISTEN_INET */
    char   *path;               /* LISTEN_UNIX: absolute path */
};

struct cidr {
    int      family;            /* AF_INET or AF_INET6 */
    uint8_t  addr[16];
    int      bits;
};

enum jwt_alg { JWT_PS256 = 0, JWT_RS256 };

/* How an account reaches Exchange Online (transport = smtp | graph | auto). */
enum transport { TRANSPORT_SMTP = 0, TRANSPORT_GRAPH, TRANSPORT_AUTO };

struct conf_account {
    char   *name;
    int     line;               /* where its section starts */
    char   *tenant;             /* GUID or domain */
    char   *client_id;          /* GUID */
    char   *client_secret_file; /* or certificate_file + private_key_file */
    char   *certificate_file;
    char   *private_key_file;
    enum jwt_alg jwt_alg;       /* jwt_alg = PS256 (default) | RS256 */
    time_t  credential_expiry;  /* 0 = not given; end of that day, UTC */
    char   *mailbox;            /* XOAUTH2 user */
    struct strlist senders;     /* envelope sender globs */
    char   *authority;          /* default https://login.microsoftonline.com */
    char   *scope;              /* default https://outlook.office365.com/.default */
    char   *proxy;              /* HTTP(S) proxy for the token endpoint; NULL = env */
    int     max_connections;    /* default 3 (Exchange's limit) */
    int     messages_per_minute;/* 0 = off (default) */
    enum transport transport;   /* default smtp; auto: graph after 535 5.7.139 */
    char   *graph_scope;        /* default https://graph.microsoft.com/.default */
    int     daily_recipients;   /* rolling 24 h budget of the mailbox; 10000, 0 = off */
};

struct conf_class {
    char   *name;
    int     line;
    struct strlist match_from;  /* globs on envelope sender or From address */
    char   *match_subject;      /* POSIX ERE source, NULL = none */
    regex_t subject_re;         /* compiled when match_subject != NULL */
    struct strlist match_header;/* "Header-Name: ERE" entries, optional */
    regex_t *header_re;         /* compiled, one per match_header entry */
    char   *send_as;            /* "Display <addr>" or "addr" */
    char   *account;            /* account name; default = default account;
                                 * with a pool: the first of accounts */
    struct strlist accounts;    /* "account = a, b, c": the pool (>= 1 names) */
};

struct config {
    char   *path;

    /* [relay] */
    struct listen_addr *listen;  size_t nlisten;   /* default 127.0.0.1:10587 */
    struct cidr *allow;          size_t nallow;    /* default 127.0.0.0/8, ::1 */
    char   *state_dir;          /* default /var/lib/exorelay */
    char   *spool_dir;          /* default /var/spool/exorelay */
    char   *user;               /* default exorelay; NULL/"" = do not switch */
    enum log_level log_level;   /* default info */
    int     max_clients;        /* default 100 */
    long long max_message_size; /* default 35M */
    int     max_recipients;     /* default 500 */
    int     idle_timeout;       /* default 300 s: client silent between commands */
    int     data_timeout;       /* default 300 s: client silent inside DATA */
    int     data_total_timeout; /* default 600 s: a whole message's data */
    int     pool_wait_timeout;  /* default 60 s: waiting for an upstream session */
    char   *socket_owner;       /* unix listen sockets: owner, group, mode */
    char   *socket_group;
    int     socket_mode;        /* default 0660 */
    char   *control_socket;     /* default {state_dir}/control.sock */
    char   *metrics_file;       /* NULL = none */
    int     queue_lifetime;     /* default 5d */
    int     retry_min;          /* default 60 s */
    int     retry_max;          /* default 3600 s */

    /* [upstream] */
    char   *server;             /* default smtp.office365.com */
    int     port;               /* default 587 */
    int     connect_timeout;    /* default 60 s */
    int     command_timeout;    /* default 300 s */
    int     pool_idle;          /* default 60 s: idle pooled connection closed */
    char   *ca_file;            /* NULL = system store */
    char   *helo_name;          /* NULL = host name */
    char   *graph_url;          /* default https://graph.microsoft.com */

    /* [account NAME] (the first is the default) */
    struct conf_account *accounts; size_t naccounts;

    /* [milter] */
    char   *milter_socket;      /* default unix:/var/spool/postfix/exorelay/milter.sock */
    struct strlist local_domains; /* default: host's own names */
    int     milter_refuse_recipients; /* refuse_too_many_recipients, default yes */
    int     milter_refuse_size;       /* refuse_oversize, default yes */
    char   *milter_socket_group;      /* socket_group, default postfix (if it exists) */
    int     milter_socket_mode;       /* socket_mode, default 0660 */

    /* [class NAME] */
    struct conf_class *classes;  size_t nclasses;

    /* [alarms] */
    struct strlist alarm_notify;   /* addresses */
    int    *alarm_days; size_t nalarm_days; /* default 30,14,7,3,1,0 */
    int     alarm_critical_days;  /* default 7: status --check CRITICAL */

    /* added by the operations issue */
    int     metrics_interval;   /* [relay], default 60 s */
};

struct config *config_load(const char *path, FILE *errs, int *nerrors);
struct config *config_load_fp(const char *path, FILE *fp, FILE *errs, int *nerrors);
void config_free(struct config *cfg);
const struct conf_account *config_account(const struct config *cfg, const char *name);
const struct conf_account *config_account_for_sender(const struct config *cfg,
                                                     const char *sender);
size_t config_accounts_for_sender(const struct config *cfg, const char *sender,
                                  const struct conf_account **out, size_t max);
const struct conf_class *config_class(const struct config *cfg, const char *name);
const char *config_path_default(void);
void config_skip_file_checks(int skip);

#endif
