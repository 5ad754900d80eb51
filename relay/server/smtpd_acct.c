/*
 * smtpd_acct.c - which account a message is submitted as.
 *
 * SYNOPSIS (internal, see smtpd_int.h)
 *	const struct conf_account *acct_guess(cfg, sender)
 *		The account to open the upstream transaction on at MAIL time,
 *		before the header is known: the account this sender's last
 *		message was decided for (a small memory of recent senders),
 *		else the account whose mailbox is the sender (the milter's
 *		send_as rewrites the sender to the mailbox), else the
 *		contract's rule (senders globs, then the default account).
 *	void acct_learn(sender, acct)
 *		Remember the decision for the next message from sender.
 *	int acct_from_header(cfg, hdr, len, &acct, err)
 *		The decision from the header block: the first
 *		"X-Exorelay: class=C; account=A" header (folded lines
 *		allowed). account= wins; class= alone means that class's
 *		account. 1 found, 0 no such header, -1 when it names an
 *		account or class this config lacks (err: 451 4.3.5, the
 *		milter and relay configs disagree; fixable, so the mail
 *		waits).
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
    char    account[64];
} learned[LEARN_SLOTS];
static size_t learn_next;
static pthread_mutex_t learn_lock = PTHREAD_MUTEX_INITIALIZER;

/* learned_account - the remembered account name for sender, into buf */
static int learned_account(const char *sender, char *buf, size_t size)
{
    int found = 0;

    pthread_mutex_lock(&learn_lock);
    for (size_t i = 0; i < LEARN_SLOTS && !found; i++) {
        if (learned[i].sender[0] && strcasecmp(learned[i].sender, sender) == 0) {
            snprintf(buf, size, "%s", learned[i].account);
            found = 1;
        }
    }
    pthread_mutex_unlock(&learn_lock);
    return found;
}

/* acct_learn - remember (or update) the account of sender's messages */
void acct_learn(const char *sender, const struct conf_account *acct)
{
    size_t slot = LEARN_SLOTS;

    if (acct == NULL || strlen(sender) >= sizeof(learned[0].sender)
        || strlen(acct->name) >= sizeof(learned[0].account))
        return;
    pthread_mutex_lock(&learn_lock);
    for (size_t i = 0; i < LEARN_SLOTS && slot == LEARN_SLOTS; i++)
        if (strcasecmp(learned[i].sender, sender) == 0)
            slot = i;
    if (slot == LEARN_SLOTS)
        slot = learn_next++ % LEARN_SLOTS;
    snprintf(learned[slot].sender, sizeof(learned[slot].sender), "%s", sender);
    snprintf(learned[slot].account, sizeof(learned[slot].account), "%s", acct->name);
    pthread_mutex_unlock(&learn_lock);
}

/* acct_guess - the account to start the transaction on */
const struct conf_account *acct_guess(const struct config *cfg, const char *sender)
{
    char name[64];
    const struct conf_account *a;

    if (learned_account(sender, name, sizeof(name))
        && (a = config_account(cfg, name)) != NULL)
        return a;
    for (size_t i = 0; i < cfg->naccounts; i++)
        if (cfg->accounts[i].mailbox && *sender
            && strcasecmp(cfg->accounts[i].mailbox, sender) == 0)
            return &cfg->accounts[i];
    return config_account_for_sender(cfg, sender);
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

/* acct_from_header - the account the milter's tag names */
int acct_from_header(const struct config *cfg, const char *hdr, size_t len,
                     const struct conf_account **acct, struct smtp_reply *err)
{
    char val[512], name[128];
    const struct conf_class *cls;

    if (!find_tag(hdr, len, val, sizeof(val)))
        return 0;
    if (tag_param(val, "account", name, sizeof(name))) {
        if ((*acct = config_account(cfg, name)) != NULL)
            return 1;
        smtp_reply_set(err, 451, "4.3.5", "X-Exorelay names account \"%s\", which"
                       " exorelay.conf does not have: make the milter's and the"
                       " relay's configs agree", name);
        return -1;
    }
    if (tag_param(val, "class", name, sizeof(name))) {
        if ((cls = config_class(cfg, name)) != NULL
            && (*acct = config_account(cfg, cls->account)) != NULL)
            return 1;
        smtp_reply_set(err, 451, "4.3.5", "X-Exorelay names class \"%s\", which"
                       " exorelay.conf does not have (or its account is missing)",
                       name);
        return -1;
    }
    return 0;
}
