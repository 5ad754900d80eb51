/*
 * smtpd_acct.c - which accounts (a pool, pick.h) a message may be
 * submitted as.
 *
 * SYNOPSIS (internal, see smtpd_int.h)
 *	void route_guess(cfg, sender, &route)
 *		The pool to open the upstream transaction from at MAIL time,
 *		before the header is known: the pool this sender's last
 *		message was decided for (a small memory of recent senders),
 *		else the account whose mailbox is the sender (the milter's
 *		send_as rewrites the sender to the mailbox), else the
 *		contract's rule (every account whose senders globs match,
 *		else the default account).
 *	void route_learn(sender, route)
 *		Remember the decision for the next message from sender.
 *	int route_from_header(cfg, hdr, len, &route, err)
 *		The decision from the header block: the first
 *		"X-Exorelay: class=C; account=A" header (folded lines
 *		allowed). account= wins (one name, or a pool "a,b,c");
 *		class= alone means that class's accounts. 1 found, 0 no such
 *		header, -1 when it names an account or class this config
 *		lacks (err: 451 4.3.5, the milter and relay configs
 *		disagree; fixable, so the mail waits).
 *
 * The guess is only a guess: the header decides, and a wrong guess costs
 * a replay on the right account (smtpd_txn.c), never a wrong submission.
 * The contract's order (header, then senders globs, then the default) is
 * applied in smtpd_body.c once the header block has been read.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtpd_int.h"

#define LEARN_SLOTS 256

static struct {
    char    sender[256];
    char    route[256];
} learned[LEARN_SLOTS];
static size_t learn_next;
static pthread_mutex_t learn_lock = PTHREAD_MUTEX_INITIALIZER;

/* learned_route - the remembered account names for sender, into buf */
static int learned_route(const char *sender, char *buf, size_t size)
{
    int found = 0;

    pthread_mutex_lock(&learn_lock);
    for (size_t i = 0; i < LEARN_SLOTS && !found; i++) {
        if (learned[i].sender[0] && strcasecmp(learned[i].sender, sender) == 0) {
            snprintf(buf, size, "%s", learned[i].route);
            found = 1;
        }
    }
    pthread_mutex_unlock(&learn_lock);
    return found;
}

/* route_learn - remember (or update) the pool of sender's messages */
void route_learn(const char *sender, const struct route *r)
{
    size_t slot = LEARN_SLOTS;
    char names[sizeof(learned[0].route)];

    if (r->n == 0 || strlen(sender) >= sizeof(learned[0].sender)
        || strlen(route_text(r, names, sizeof(names))) + 1 >= sizeof(names))
        return;
    pthread_mutex_lock(&learn_lock);
    for (size_t i = 0; i < LEARN_SLOTS && slot == LEARN_SLOTS; i++)
        if (strcasecmp(learned[i].sender, sender) == 0)
            slot = i;
    if (slot == LEARN_SLOTS)
        slot = learn_next++ % LEARN_SLOTS;
    snprintf(learned[slot].sender, sizeof(learned[slot].sender), "%s", sender);
    snprintf(learned[slot].route, sizeof(learned[slot].route), "%s", names);
    pthread_mutex_unlock(&learn_lock);
}

/* route_names - accounts named in "a,b, c"; -1 with the first unknown one */
static int route_names(const struct config *cfg, const char *names, struct route *r,
                       char *unknown, size_t size)
{
    char copy[512], *save = NULL;

    snprintf(copy, sizeof(copy), "%s", names);
    r->n = 0;
    for (char *n = strtok_r(copy, ", \t", &save); n; n = strtok_r(NULL, ", \t", &save)) {
        const struct conf_account *a = config_account(cfg, n);
        if (a == NULL) {
            snprintf(unknown, size, "%s", n);
            return -1;
        }
        if (r->n < ROUTE_MAX && !route_has(r, a))
            r->v[r->n++] = a;
    }
    return r->n > 0 ? 0 : -1;
}

/* route_guess - the pool to start the transaction from */
void route_guess(const struct config *cfg, const char *sender, struct route *r)
{
    char names[256], unknown[72];

    if (learned_route(sender, names, sizeof(names))
        && route_names(cfg, names, r, unknown, sizeof(unknown)) == 0)
        return;
    for (size_t i = 0; i < cfg->naccounts; i++)
        if (cfg->accounts[i].mailbox && *sender
            && strcasecmp(cfg->accounts[i].mailbox, sender) == 0) {
            r->v[0] = &cfg->accounts[i];
            r->n = 1;
            return;
        }
    r->n = config_accounts_for_sender(cfg, sender, r->v, ROUTE_MAX);
}

/* find_tag - the unfolded value of the first X-Exorelay header, or 0 */
static int find_tag(const char *hdr, size_t len, char *val, size_t size)
{
    static const char name[] = "X-Exorelay:";
    size_t i = 0, n = 0;

    while (i < len) {
        const char *eol = memchr(hdr + i, '\n', len - i);
        size_t next = eol ? (size_t) (eol - hdr) + 1 : len;
        if (len - i >= sizeof(name) - 1
            && strncasecmp(hdr + i, name, sizeof(name) - 1) == 0) {
            for (size_t j = i + sizeof(name) - 1;;) {
                for (; j < next; j++)
                    if (hdr[j] != '\r' && hdr[j] != '\n' && n + 1 < size)
                        val[n++] = hdr[j];
                if (next >= len || (hdr[next] != ' ' && hdr[next] != '\t'))
                    break;              /* no continuation line */
                j = next;
                eol = memchr(hdr + next, '\n', len - next);
                next = eol ? (size_t) (eol - hdr) + 1 : len;
            }
            val[n] = 0;
            return 1;
        }
        i = next;
    }
    return 0;
}

/* tag_param - the value of key=... in "class=C; account=A" */
static int tag_param(const char *val, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);

    for (const char *p = val; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        size_t len = strcspn(p, ";");
        if (len > klen && strncasecmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t vlen = len - klen - 1;
            while (vlen > 0 && isspace((unsigned char) v[vlen - 1]))
                vlen--;
            snprintf(out, size, "%.*s", (int) vlen, v);
            return 1;
        }
        p += len;
    }
    return 0;
}

/* route_from_header - the accounts the milter's tag names */
int route_from_header(const struct config *cfg, const char *hdr, size_t len,
                      struct route *r, struct smtp_reply *err)
{
    char val[512], names[512], unknown[72] = "";
    const struct conf_class *cls;

    if (!find_tag(hdr, len, val, sizeof(val)))
        return 0;
    if (tag_param(val, "account", names, sizeof(names))) {
        if (route_names(cfg, names, r, unknown, sizeof(unknown)) == 0)
            return 1;
        smtp_reply_set(err, 451, "4.3.5", "X-Exorelay names account \"%s\", which"
                       " exorelay.conf does not have: make the milter's and the"
                       " relay's configs agree", unknown);
        return -1;
    }
    if (tag_param(val, "class", names, sizeof(names))) {
        r->n = 0;
        if ((cls = config_class(cfg, names)) != NULL)
            for (size_t i = 0; i < cls->accounts.n && r->n < ROUTE_MAX; i++)
                if ((r->v[r->n] = config_account(cfg, cls->accounts.v[i])) != NULL)
                    r->n++;
        if (r->n > 0)
            return 1;
        smtp_reply_set(err, 451, "4.3.5", "X-Exorelay names class \"%s\", which"
                       " exorelay.conf does not have (or its account is missing)",
                       names);
        return -1;
    }
    return 0;
}
