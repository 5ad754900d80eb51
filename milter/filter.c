/*
 * filter.c - the libmilter callbacks of exorelay-milter (see filter.h).
 *
 * The data path, top-down:
 *	negotiate	a connection context; ask only for the steps used
 *	connect		SMTP client, or Postfix's sendmail command?
 *	envfrom		take the current config, note sender and SIZE=
 *	envrcpt		count recipients outside local_domains; refuse early
 *			what Exchange Online would refuse anyway
 *	header		remember From, Subject, Reply-To, X-Exorelay*, and
 *			what match_header rules need
 *	eom		outbound mail: remove X-Exorelay* headers that came
 *			from outside; classified mail: tag it and rewrite
 *			the sender (rewrite.c); everything else: untouched
 *	abort, close	forget the message / the connection
 *
 * Threads: libmilter runs each connection in its own thread; all state
 * lives in the connection context, and the config is shared read-only.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>

#include "common/addr.h"
#include "apply.h"
#include "classify.h"
#include "filter.h"
#include "common/log.h"
#include "mconf.h"
#include "msg.h"
#include "rewrite.h"

#define FILTER_ACTIONS  (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM)
#define FILTER_STEPS    (SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOEOH | SMFIP_NOBODY \
                         | SMFIP_NOUNKNOWN | SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_HDR)

struct conn {
    int     nr_conn;            /* MTA expects no reply to connect */
    int     nr_mail;            /* ... nor to MAIL */
    int     nr_hdr;             /* ... nor to each header */
    int     non_smtp;           /* Postfix's sendmail command, not SMTP */
    struct mconf *mc;           /* config of the message in progress */
    struct msg msg;
};

/* end_message - forget the message and let go of its config */
static void end_message(struct conn *c)
{
    msg_reset(&c->msg);
    mconf_release(c->mc);
    c->mc = NULL;
}

/* queue_id - the MTA's queue id for log lines */
static const char *queue_id(SMFICTX *ctx)
{
    const char *id = smfi_getsymval(ctx, "i");

    return id ? id : "NOQUEUE";
}

/* refuse - set the SMTP reply and return the matching status */
static sfsistat refuse(SMFICTX *ctx, const char *code, const char *enhanced,
                       const char *text)
{
    smfi_setreply(ctx, (char *) code, (char *) enhanced, (char *) text);
    return code[0] == '4' ? SMFIS_TEMPFAIL : SMFIS_REJECT;
}

/* xx_negotiate - the steps and actions this filter uses */
static sfsistat xx_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                             unsigned long f2, unsigned long f3,
                             unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
    struct conn *c;

    (void) f2;
    (void) f3;
    if ((f0 & FILTER_ACTIONS) != FILTER_ACTIONS) {
        msg_error("the MTA does not allow changing headers and the envelope sender "
                  "(offered actions 0x%lx, needed 0x%lx); not filtering",
                  f0, (unsigned long) FILTER_ACTIONS);
        return SMFIS_REJECT;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        msg_error("out of memory for a new connection");
        return SMFIS_REJECT;
    }
    msg_reset(&c->msg);
    *pf0 = FILTER_ACTIONS;
    *pf1 = f1 & FILTER_STEPS;
    *pf2 = *pf3 = 0;
    c->nr_conn = (*pf1 & SMFIP_NR_CONN) != 0;
    c->nr_mail = (*pf1 & SMFIP_NR_MAIL) != 0;
    c->nr_hdr = (*pf1 & SMFIP_NR_HDR) != 0;
    smfi_setpriv(ctx, c);
    return SMFIS_CONTINUE;
}

/* xx_connect - note whether the mail comes from Postfix's sendmail command.
 * Postfix presents that mail as a connection from 127.0.0.1 (or ::1) port
 * 0, which no SMTP client has, and cannot refuse single recipients of it
 * ("milter configuration error: can't reject recipient in non-smtpd(8)
 * submission" leaves the mail deferred for good). Sendmail hands milters
 * SMTP mail only. */
static sfsistat xx_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    struct conn *c = smfi_getpriv(ctx);

    (void) host;
    if (c == NULL)
        return SMFIS_TEMPFAIL;
    if (sa && sa->sa_family == AF_INET)
        c->non_smtp = ((struct sockaddr_in *) sa)->sin_port == 0;
    else if (sa && sa->sa_family == AF_INET6)
        c->non_smtp = ((struct sockaddr_in6 *) sa)->sin6_port == 0;
    return c->nr_conn ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* xx_envfrom - a new message: sender, SIZE=, and the config it will use */
static sfsistat xx_envfrom(SMFICTX *ctx, char **argv)
{
    struct conn *c = smfi_getpriv(ctx);

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    end_message(c);
    c->mc = mconf_acquire();
    if (msg_mail(&c->msg, argv) < 0)
        c->msg.oom = 1;
    return c->nr_mail ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* rcpt_refusal - an early refusal for one more outbound recipient, or 0 */
static sfsistat rcpt_refusal(SMFICTX *ctx, const struct conn *c)
{
    const struct config *cfg = c->mc->cfg;
    const struct msg *m = &c->msg;
    char    text[256];

    if (c->non_smtp)                    /* cannot refuse; Postfix splits it */
        return 0;
    if (cfg->milter_refuse_size && cfg->max_message_size > 0
        && m->size > cfg->max_message_size) {
        snprintf(text, sizeof(text), "Message too big for Exchange Online: SIZE=%lld "
                 "exceeds the limit of %lld bytes (max_message_size)",
                 m->size, cfg->max_message_size);
        return refuse(ctx, "552", "5.3.4", text);
    }
    if (cfg->milter_refuse_recipients && cfg->max_recipients > 0
        && m->nrcpt_out >= cfg->max_recipients) {
        snprintf(text, sizeof(text), "Too many recipients: Exchange Online takes at most "
                 "%d per message (max_recipients); send the others in another message",
                 cfg->max_recipients);
        return refuse(ctx, "452", "4.5.3", text);
    }
    return 0;
}

/* xx_envrcpt - count recipients; refuse early what Exchange would refuse */
static sfsistat xx_envrcpt(SMFICTX *ctx, char **argv)
{
    struct conn *c = smfi_getpriv(ctx);
    char   *rcpt;
    int     outbound;
    sfsistat refusal;

    if (c == NULL || c->mc == NULL)
        return refuse(ctx, "451", "4.3.5", "exorelay-milter has no configuration loaded");
    if ((rcpt = addr_envelope(argv[0])) == NULL)
        return refuse(ctx, "451", "4.3.0", "exorelay-milter: out of memory");
    outbound = !classify_is_local(&c->mc->cfg->local_domains, rcpt);
    free(rcpt);
    if (outbound) {
        if ((refusal = rcpt_refusal(ctx, c)) != 0) {
            msg_info("%s: refused recipient %s early", queue_id(ctx), argv[0]);
            return refusal;
        }
        c->msg.nrcpt_out++;
    }
    c->msg.nrcpt++;
    return SMFIS_CONTINUE;
}

/* xx_header - remember what the end of message needs */
static sfsistat xx_header(SMFICTX *ctx, char *name, char *value)
{
    struct conn *c = smfi_getpriv(ctx);

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    msg_header(&c->msg, c->mc ? c->mc->cfg : NULL, name, value);
    return c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* from_address - the address of the first From header, or NULL */
static char *from_address(const struct msg *m)
{
    struct addr_list list;
    const struct mailbox *mb;
    char   *unfolded, *addr = NULL;

    if (m->nfrom == 0 || (unfolded = addr_unfold(m->from[0])) == NULL)
        return NULL;
    if (addr_parse(unfolded, &list) == 0) {
        if ((mb = addr_pick(&list)) != NULL)
            addr = strdup(mb->addr);
        addr_list_free(&list);
    }
    free(unfolded);
    return addr;
}

/* find_class - the class of the message, or NULL */
static const struct conf_class *find_class(const struct config *cfg, const struct msg *m)
{
    char   *from_addr = from_address(m);
    struct classify_facts f = {
        .env_from = m->env_from ? m->env_from : "",
        .from_addr = from_addr,
        .subject = m->subject,
        .headers = m->kept,
        .nheaders = m->nkept,
    };
    const struct conf_class *cl = classify(cfg, &f);

    free(from_addr);
    return cl;
}

/* pool_names - "a,b,c": the class's accounts for the tag's account= (the
 * relay picks one per message; the sender stays the shared send_as) */
static const char *pool_names(const struct conf_class *cl, char *buf, size_t size)
{
    size_t  n = 0;

    buf[0] = 0;
    for (size_t i = 0; i < cl->accounts.n && n < size; i++)
        n += (size_t) snprintf(buf + n, size - n, "%s%s", i ? "," : "", cl->accounts.v[i]);
    return buf;
}

/* tag_and_rewrite - the changes of a classified message; SMFIS_* */
static sfsistat tag_and_rewrite(SMFICTX *ctx, const struct config *cfg,
                                const struct msg *m, const struct conf_class *cl)
{
    const struct conf_account *acct = config_account(cfg, cl->account);
    char    names[512];
    struct rewrite_out plan;
    struct rewrite_in in = {
        .from = m->from, .nfrom = m->nfrom,
        .env_from = m->env_from ? m->env_from : "",
        .has_reply_to = m->has_reply_to,
        .send_as = cl->send_as,
        .mailbox = acct ? acct->mailbox : NULL,
        .class_name = cl->name,
        .account = acct == NULL ? "" : cl->accounts.n > 1
                   ? pool_names(cl, names, sizeof(names)) : acct->name,
    };

    if (acct == NULL || rewrite_plan(&in, &plan) < 0) {
        msg_error("%s: class %s: no account or no send_as address to send as",
                  queue_id(ctx), cl->name);
        return refuse(ctx, "451", "4.3.5", "exorelay-milter: class without a "
                      "usable send_as or account; see the milter's log");
    }
    if (apply_plan(ctx, m, &plan) < 0) {
        rewrite_free(&plan);
        msg_error("%s: the MTA refused a header or sender change", queue_id(ctx));
        return refuse(ctx, "451", "4.3.0", "exorelay-milter could not rewrite the sender");
    }
    msg_info("%s: class=%s account=%s from=<%s> sender=%s", queue_id(ctx), cl->name,
             in.account, in.env_from, plan.env_from ? plan.env_from : "(kept)");
    rewrite_free(&plan);
    return SMFIS_CONTINUE;
}

/* finish_message - decide and ask for the changes; SMFIS_* */
static sfsistat finish_message(SMFICTX *ctx, struct conn *c)
{
    const struct msg *m = &c->msg;
    const struct conf_class *cl;

    if (c->mc == NULL)
        return refuse(ctx, "451", "4.3.5", "exorelay-milter has no configuration loaded");
    if (m->oom)
        return refuse(ctx, "451", "4.3.0", "exorelay-milter: out of memory");
    if (m->nrcpt_out == 0) {
        msg_debug("%s: local recipients only: untouched", queue_id(ctx));
        return SMFIS_CONTINUE;
    }
    if (apply_remove_tags(ctx, m) < 0)
        return refuse(ctx, "451", "4.3.0", "exorelay-milter could not remove X-Exorelay headers");
    if ((cl = find_class(c->mc->cfg, m)) == NULL) {
        msg_debug("%s: no class matches: untouched", queue_id(ctx));
        return SMFIS_CONTINUE;
    }
    return tag_and_rewrite(ctx, c->mc->cfg, m, cl);
}

/* xx_eom - the end of message: all changes happen here */
static sfsistat xx_eom(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);
    sfsistat r;

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    r = finish_message(ctx, c);
    end_message(c);
    return r;
}

/* xx_abort - the message was given up (RSET, QUIT, or an error) */
static sfsistat xx_abort(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);

    if (c)
        end_message(c);
    return SMFIS_CONTINUE;
}

/* xx_close - the end of the connection: free its context */
static sfsistat xx_close(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);

    if (c) {
        end_message(c);
        free(c);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

struct smfiDesc filter_desc = {
    .xxfi_name = "exorelay-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = FILTER_ACTIONS,
    .xxfi_connect = xx_connect,
    .xxfi_envfrom = xx_envfrom,
    .xxfi_envrcpt = xx_envrcpt,
    .xxfi_header = xx_header,
    .xxfi_eom = xx_eom,
    .xxfi_abort = xx_abort,
    .xxfi_close = xx_close,
    .xxfi_negotiate = xx_negotiate,
};
