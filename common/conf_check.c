/*
 * conf_check.c - checks that span keys or sections, and defaults that
 * depend on other keys or on the host; run once the whole file is read.
 *
 *	at least one [account NAME]
 *	every section: its required keys (conf_keys.c) are given
 *	each account: exactly one credential:
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

/* check_required - keys without a default that must be given */
static void check_required(const struct conf_inst *in, struct conf_diag *d)
{
    for (size_t i = 0; i < in->sec->nkeys; i++) {
        const struct conf_key *k = &in->sec->keys[i];

        if ((k->flags & CONF_REQUIRED) && k->def == NULL && in->keyline[i] == 0)
            conf_err(d, in->line, "[%s%s%s] has no %s%s%s%s", in->sec->name,
                     in->name ? " " : "", in->name ? in->name : "", k->name,
                     k->hint ? " (" : "", k->hint ? k->hint : "", k->hint ? ")" : "");
    }
}

/* check_class - something to match, accounts that exist; a pool shares
 * one send_as identity (each mailbox holds SendAs on it) */
static void check_class(struct config *cfg, struct conf_class *c,
                        const struct conf_inst *in, struct conf_diag *d)
{
    int     line = given(in, "account");
    struct conf_suggest s;

    if (!given(in, "match_from") && !given(in, "match_subject") && !given(in, "match_header"))
        conf_err(d, in->line, "[class %s] matches nothing: give match_from, "
                 "match_subject or match_header", c->name);
    if (c->accounts.n == 0 && cfg->naccounts)
        strlist_add(&c->accounts, cfg->accounts[0].name);
    if (c->accounts.n > 1 && (c->send_as == NULL || *c->send_as == 0))
        conf_err(d, line, "[class %s]: an account pool (%zu accounts) needs send_as, "
                 "the address every mailbox of the pool holds SendAs on", c->name,
                 c->accounts.n);
    if (c->accounts.n > 0 && c->account == NULL)
        c->account = conf_xstrdup(c->accounts.v[0]);
    for (size_t k = 0; k < c->accounts.n; k++) {
        const char *name = c->accounts.v[k];

        if (config_account(cfg, name) != NULL)
            continue;
        conf_suggest_init(&s, name);
        for (size_t i = 0; i < cfg->naccounts; i++)
            conf_suggest_try(&s, cfg->accounts[i].name);
        conf_err(d, line, "account: there is no [account %s]%s%s%s", name,
                 s.best ? "; did you mean '" : "", s.best ? s.best : "", s.best ? "'?" : "");
    }
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
    char    host[256] = "";
    char   *dot;

    if (gethostname(host, sizeof(host) - 1) < 0)
        host[0] = 0;
    if (host[0] && strcmp(host, "localhost") != 0) {
        strlist_add(out, host);
        if ((dot = strchr(host, '.')) != NULL && dot[1]) {
            *dot = 0;
            strlist_add(out, host);
        }
    }
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
        check_required(in, d);
        if (strcmp(sec, "account") == 0)
            check_credentials(&cfg->accounts[in->idx], in, d);
        else if (strcmp(sec, "class") == 0)
            check_class(cfg, &cfg->classes[in->idx], in, d);
        else if (strcmp(sec, "relay") == 0)
            check_relay(cfg, in, d);
        else if (strcmp(sec, "milter") == 0 && !given(in, "local_domains"))
            conf_default_local_domains(&cfg->local_domains);
    }
}
