/*
 * conf_check.c - checks that span keys or sections, and defaults that
 * depend on other keys or on the host; run once the whole file is read.
 *
 *	at least one [account NAME]
 *	each account: tenant, client_id, mailbox; exactly one credential:
 *	    client_secret_file, or certificate_file + private_key_file (the
 *	    key must belong to the certificate)
 *	each class: something to match; its account exists (default: the
 *	    first account)
 *	[relay]: retry_min <= retry_max; control_socket defaults to
 *	    {state_dir}/control.sock
 *	[milter]: local_domains defaults to the host's own names
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_file.h"
#include "conf_impl.h"

/* given - line of key in the instance, or 0 */
#define given(in, key)	conf_inst_keyline((in), (key))

/* check_credentials - exactly one way to get a token */
static void check_credentials(const struct conf_account *a, const struct conf_inst *in,
                              struct conf_diag *d)
{
    int     secret = given(in, "client_secret_file");
    int     cert = given(in, "certificate_file");
    int     key = given(in, "private_key_file");
    char    err[1024];

    if (!secret && !cert && !key) {
        conf_err(d, in->line, "[account %s] has no credential: give client_secret_file, "
                 "or certificate_file and private_key_file", a->name);
    } else if (secret && (cert || key)) {
        conf_err(d, cert ? cert : key, "[account %s]: give client_secret_file or "
                 "certificate_file + private_key_file, not both", a->name);
    } else if (cert && !key) {
        conf_err(d, cert, "[account %s]: certificate_file needs private_key_file", a->name);
    } else if (key && !cert) {
        conf_err(d, key, "[account %s]: private_key_file needs certificate_file", a->name);
    } else if (a->certificate_file && a->private_key_file
               && cf_key_matches(a->certificate_file, a->private_key_file,
                                 err, sizeof(err)) < 0) {
        conf_err(d, key, "private_key_file: %s", err);
    }
}

/* check_account - required keys and credentials of one account */
static void check_account(const struct conf_account *a, const struct conf_inst *in,
                          struct conf_diag *d)
{
    static const struct {
        const char *key, *what;
    } required[] = {
        {"tenant", "the directory (tenant) GUID or its domain"},
        {"client_id", "the application (client) GUID of the app registration"},
        {"mailbox", "the mailbox to send as, e.g. no-reply@contoso.onmicrosoft.com"},
    };

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!given(in, required[i].key))
            conf_err(d, in->line, "[account %s] has no %s (%s)", a->name,
                     required[i].key, required[i].what);
    check_credentials(a, in, d);
}

/* check_class - something to match, and an account that exists */
static void check_class(struct config *cfg, struct conf_class *c,
                        const struct conf_inst *in, struct conf_diag *d)
{
    int     line = given(in, "account");
    struct conf_suggest s;

    if (!given(in, "match_from") && !given(in, "match_subject") && !given(in, "match_header"))
        conf_err(d, in->line, "[class %s] matches nothing: give match_from, "
                 "match_subject or match_header", c->name);
    if (c->account == NULL) {
        if (!line && cfg->naccounts)
            c->account = conf_xstrdup(cfg->accounts[0].name);
        return;
    }
    if (config_account(cfg, c->account) != NULL)
        return;
    conf_suggest_init(&s, c->account);
    for (size_t i = 0; i < cfg->naccounts; i++)
        conf_suggest_try(&s, cfg->accounts[i].name);
    conf_err(d, line, "account: there is no [account %s]%s%s%s", c->account,
             s.best ? "; did you mean '" : "", s.best ? s.best : "", s.best ? "'?" : "");
}

/* check_relay - [relay] relations and derived defaults */
static void check_relay(struct config *cfg, const struct conf_inst *in, struct conf_diag *d)
{
    if (cfg->retry_min > cfg->retry_max && given(in, "retry_min") + given(in, "retry_max"))
        conf_err(d, given(in, "retry_max") ? given(in, "retry_max") : given(in, "retry_min"),
                 "retry_min (%d s) is larger than retry_max (%d s)",
                 cfg->retry_min, cfg->retry_max);
    if (cfg->control_socket == NULL && cfg->state_dir != NULL
        && asprintf(&cfg->control_socket, "%s/control.sock", cfg->state_dir) < 0)
        cfg->control_socket = NULL;
}

/* conf_default_local_domains - the host's own names, without DNS: the name
 * gethostname() gives, its first label, and localhost. Not its parent
 * domain: mail to colleagues at example.com is exactly the outbound mail
 * the milter is for (Postfix's mydestination leaves $mydomain out too). */
void    conf_default_local_domains(struct strlist *out)
{
    char    host[256];
    char   *dot;

    if (gethostname(host, sizeof(host) - 1) == 0 && (host[sizeof(host) - 1] = 0, *host)) {
        strlist_add(out, host);
        if ((dot = strchr(host, '.')) != NULL) {
            *dot = 0;
            strlist_add(out, host);
        }
    } else {
        host[0] = 0;
    }
    if (strcmp(host, "localhost") != 0)
        strlist_add(out, "localhost");
}

/* conf_check_all - see conf_impl.h */
void    conf_check_all(struct config *cfg, struct conf_inst *insts, size_t ninst,
                       struct conf_diag *d)
{
    if (cfg->naccounts == 0)
        conf_err(d, d->lines, "no [account NAME] section: at least one account is "
                 "needed (see exorelay.conf(5))");
    for (size_t i = 0; i < ninst; i++) {
        struct conf_inst *in = &insts[i];
        const char *sec = in->sec->name;

        if (in->scratch)
            continue;
        if (strcmp(sec, "account") == 0)
            check_account(&cfg->accounts[in->idx], in, d);
        else if (strcmp(sec, "class") == 0)
            check_class(cfg, &cfg->classes[in->idx], in, d);
        else if (strcmp(sec, "relay") == 0)
            check_relay(cfg, in, d);
        else if (strcmp(sec, "milter") == 0 && !given(in, "local_domains"))
            conf_default_local_domains(&cfg->local_domains);
    }
}
