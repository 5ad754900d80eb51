/*
 * smtpd_int.h - what the modules of the SMTP server share (not an API).
 *
 *	smtpd.c        session loop, greeting, EHLO/LHLO, local checks
 *	smtpd_txn.c    the upstream side of a transaction: pipelined
 *		       groups, acquire/retry/release, replay on another account
 *	smtpd_body.c   the DATA phase: header block, account decision,
 *		       streaming, final replies, the per-message log line
 *	smtpd_acct.c   account choice (guess at MAIL, X-Exorelay header)
 *	smtpd_hold.c   accounts sending through Microsoft Graph: the message
 *		       is held and submitted whole at the end of data
 *	smtpd_lmtp.c   LMTP in one flight: the whole message, then upstream
 *	smtpd_cmd.c, smtpd_data.c, smtpd_io.c: parsing, DATA rules, client I/O
 */
#ifndef EXORELAY_SMTPD_INT_H
#define EXORELAY_SMTPD_INT_H

#include <pthread.h>
#include <stddef.h>

#include "common/config.h"
#include "pool/deliver.h"
#include "pool/pick.h"
#include "pool/pool.h"
#include "proto/smtp_reply.h"
#include "smtpd.h"
#include "proto/smtpd_cmd.h"
#include "smtpd_io.h"
#include "token/token.h"
#include "upstream/upstream.h"

#define GROUP_MAX 64            /* pipelined commands relayed in one write */
#define HDR_MAX   65536         /* bytes held back: to find X-Exorelay, and a
                                 * message held whole can fail over to another
                                 * mailbox of its pool */

struct smtpd_server {
    pthread_mutex_t lock;
    int     refs;
    int     owns_cfg;
    const struct config *cfg;
    struct token_engine *te;
    struct pools *pools;
    int     stop_fd;
    char    hostname[256];
    int     token_outage;       /* greeting with 421: no account has a token */
};

/* A local reply queued in a group (short texts only). */
struct local_reply {
    int     code;
    char    enhanced[8];
    char    text[120];
};

enum ent_kind { ENT_MAIL, ENT_RCPT, ENT_DATA };

struct group_ent {
    enum ent_kind kind;
    int     local;              /* 1: answered locally (reply below) */
    size_t  rcpt;               /* ENT_RCPT: index into txn.rcpts */
    struct local_reply reply;
};

struct rcpt {
    char   *addr;
    char   *params;
    int     code;               /* its RCPT reply, 0 while pending */
    struct smtp_reply *late;    /* refused when replayed on another account */
};

struct txn {
    int     active;             /* MAIL sent or pending */
    char    id[16];             /* queue-like id for the log */
    char   *sender;
    char   *mail_params;
    struct rcpt *rcpts;
    size_t  nrcpt, rcap;        /* recipients relayed upstream */
    size_t  nlocal_refused;     /* refused locally (too many) */
    const struct conf_account *acct;    /* account of up */
    const struct conf_account *first_acct; /* account before a switch */
    struct pool *pool;
    struct route route;         /* the pool the message may go through */
    struct pick pick;           /* the account chosen from it, reserved */
    struct upstream *up;
    int     reused;
    const struct conf_account *paced; /* pool_pace done for this account */
    int     quota;              /* upstream answered Exchange's quota refusal */
    int     failed;             /* upstream unusable: reply fail to the rest */
    struct smtp_reply fail;
    double  t_begin;            /* MAIL received */
    double  t_pace;             /* spent in pool_pace (messages_per_minute) */
    double  t_conn;             /* spent in pool_acquire (pool, connect) */
    char    relay[320];         /* "host[IP]:port" of the upstream, for the log */
    double  t_data;             /* DATA phase began */
    int     held;               /* Graph: answered here, content in hold_fd */
    int     hold_fd;
    int     hold_bol;           /* hold_write is at a line start */
};

struct session {
    struct smtpd_server *srv;
    const struct config *cfg;
    struct cio io;
    char    peer[128];
    char    helo[256];
    int     greeted;            /* HELO/EHLO/LHLO seen */
    int     lmtp;               /* LHLO: per-recipient replies after DATA,
                                 * the message in one flight (smtpd_lmtp.c) */
    int     spill_fd;           /* LMTP: the message's file, -1 until needed */
    struct txn txn;
    size_t  ngroup;
    struct group_ent group[GROUP_MAX];
    char    line[SMTPD_LINE_MAX + 2];
    char    dataout[CIO_INBUF + 2];
};

/* smtpd_txn.c */
void txn_begin(struct session *s, const char *sender, const char *params);
int txn_add_rcpt(struct session *s, const char *addr, const char *params);
void txn_reset(struct session *s);
void txn_abort(struct session *s, int in_data);
void txn_release(struct session *s, int how);
void group_local(struct session *s, int code, const char *enhanced, const char *text);
void group_upstream(struct session *s, enum ent_kind kind, size_t rcpt);
int group_flush(struct session *s);
int txn_replay(struct session *s, const struct conf_account *acct);
int txn_pick(struct session *s, const struct route *r, size_t nrcpt);
void txn_settle(struct session *s, const struct smtp_reply *final);
void txn_map_reply(struct session *s, struct smtp_reply *r);
double now_seconds(void);

/* smtpd_body.c */
int data_phase(struct session *s);
void txn_log(struct session *s, long long size, const struct smtp_reply *final);

/* smtpd_hold.c */
int hold_wanted(struct session *s, const struct conf_account *acct);
int hold_begin(struct session *s, const struct conf_account *acct);
void hold_write(struct session *s, const char *buf, size_t len);
void hold_reply(struct session *s, int kind, struct smtp_reply *r);
void hold_submit(struct session *s, struct smtp_reply *r);
void hold_end(struct session *s);
/* smtpd_lmtp.c */
int lmtp_data_phase(struct session *s);
void lmtp_close(struct session *s);

/* smtpd_acct.c */
void route_guess(const struct config *cfg, const char *sender, struct route *r);
void route_learn(const char *sender, const struct route *r);
int route_from_header(const struct config *cfg, const char *hdr, size_t len,
                      struct route *r, struct smtp_reply *err);

#endif
