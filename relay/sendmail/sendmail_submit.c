/*
 * sendmail_submit.c - complete, address and durably queue one message of
 * exorelay-sendmail (-bm and each DATA of -bs).
 *
 * SYNOPSIS
 *	int sendmail_submit(cfg, sub, msg, len, verbose, id, err, errlen)
 *		Complete the header (sendmail_msg.c), gather the recipients
 *		(arguments, and the header with -t), and write the message to
 *		the spool with the fsync discipline of spool_submit(). Then
 *		sendmail_after_submit(). Returns EX_OK only once the message is
 *		durable; else a <sysexits.h> status with the reason in err.
 *	const char *sendmail_default_sender(cfg)
 *		the envelope sender without -f: the default account's
 *		mailbox, the one sender Exchange accepts without SendAs rights
 *	int sendmail_addr_ok(addr)   no control characters or spaces
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/log.h"
#include "sendmail_msg.h"
#include "sendmail_submit.h"

const char *sendmail_default_sender(const struct config *cfg)
{
    const struct conf_account *a = config_account(cfg, NULL);

    return a && a->mailbox ? a->mailbox : NULL;
}

int sendmail_addr_ok(const char *addr)
{
    for (const unsigned char *p = (const unsigned char *) addr; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return 0;
    return 1;
}

/* user_names - login and full name (GECOS up to the first comma) */
static void user_names(char *login, size_t llen, char *gecos, size_t glen)
{
    struct passwd *pw = getpwuid(getuid());

    snprintf(login, llen, "%s", pw ? pw->pw_name : "nobody");
    gecos[0] = 0;
    if (pw && pw->pw_gecos) {
        snprintf(gecos, glen, "%s", pw->pw_gecos);
        gecos[strcspn(gecos, ",")] = 0;
    }
}

/* add_unique - append addr unless already there (case-insensitive) */
static int add_unique(char ***v, size_t *n, const char *addr)
{
    for (size_t i = 0; i < *n; i++)
        if (strcasecmp((*v)[i], addr) == 0)
            return 0;
    return spool_env_add(v, n, addr);
}

/* gather_rcpts - argument words and (-t) header addresses, deduplicated */
static int gather_rcpts(const struct sm_submission *sub, const struct sm_result *res,
                        struct spool_env *env, char *err, size_t errlen)
{
    char **words = NULL;
    size_t nwords = 0;
    int rc = 0;

    for (size_t i = 0; i < sub->nrcpt && rc == 0; i++)
        if (sendmail_addr_list(sub->rcpt[i], &words, &nwords) < 0) {
            snprintf(err, errlen, "bad recipient address \"%.200s\"", sub->rcpt[i]);
            rc = EX_DATAERR;
        }
    for (size_t i = 0; i < res->nrcpt; i++)
        spool_env_add(&words, &nwords, res->rcpt[i]);
    for (size_t i = 0; i < nwords && rc == 0; i++) {
        if (!sendmail_addr_ok(words[i])) {
            snprintf(err, errlen, "bad recipient address \"%.200s\"", words[i]);
            rc = EX_DATAERR;
        } else if (add_unique(&env->rcpt, &env->nrcpt, words[i]) < 0) {
            rc = EX_OSERR;
        }
    }
    for (size_t i = 0; i < nwords; i++)
        free(words[i]);
    free(words);
    if (rc == 0 && env->nrcpt == 0) {
        snprintf(err, errlen, "%s", sub->extract
                 ? "no recipient addresses found in the message header"
                 : "no recipients given (name them, or use -t)");
        rc = EX_USAGE;
    }
    return rc;
}

/* complete_and_address - header completion plus recipients into env */
static int complete_and_address(const struct config *cfg, const struct sm_submission *sub,
                                const char *msg, size_t len, struct spool_env *env,
                                struct sm_result *res, char *err, size_t errlen)
{
    char login[256], gecos[256], host[256];
    const char *sender = sub->sender ? sub->sender : sendmail_default_sender(cfg);

    user_names(login, sizeof(login), gecos, sizeof(gecos));
    if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = 0;
    if (sender == NULL) {       /* no account with a mailbox: user@host */
        static char fallback[600];
        snprintf(fallback, sizeof(fallback), "%s@%s", login, host);
        sender = fallback;
    }
    if (!sendmail_addr_ok(sender)) {
        snprintf(err, errlen, "bad sender address \"%.200s\"", sender);
        return EX_USAGE;
    }
    spool_new_id(env->id);
    env->time = time(NULL);
    env->uid = getuid();
    env->sender = strdup(sender);
    struct sm_origin origin = {
        .id = env->id, .sender = sender, .fullname = sub->fullname ? sub->fullname : gecos,
        .hostname = host, .login = login, .uid = env->uid, .now = env->time,
        .extract = sub->extract,
    };
    if (env->sender == NULL || sendmail_complete(msg, len, &origin, res) < 0) {
        snprintf(err, errlen, "cannot process the message header (bad address in it?)");
        return EX_DATAERR;
    }
    return gather_rcpts(sub, res, env, err, errlen);
}

int sendmail_submit(const struct config *cfg, const struct sm_submission *sub,
                    const char *msg, size_t len, int verbose,
                    char id[SPOOL_ID_SIZE], char *err, size_t errlen)
{
    struct spool_env env = {0};
    struct sm_result res = {0};
    int fd = -1;
    int rc = complete_and_address(cfg, sub, msg, len, &env, &res, err, errlen);

    if (rc == EX_OK) {
        env.notify = sub->notify;
        env.ret = sub->ret;
        env.envid = sub->envid ? strdup(sub->envid) : NULL;
        rc = spool_submit(cfg->spool_dir, &env, res.msg, res.len, &fd, err, errlen);
    }
    if (rc == EX_OK) {
        snprintf(id, SPOOL_ID_SIZE, "%s", env.id);
        msg_info("%s: uid=%ld from=<%s> size=%zu nrcpt=%zu (submitted)", env.id,
                 (long) env.uid, env.sender, res.len, env.nrcpt);
        sendmail_after_submit(cfg, env.id, fd, verbose);
    }
    spool_env_free(&env);
    sm_result_free(&res);
    return rc;
}
