/*
 * Part spool (relay/spool/), contract: the durable queue exorelay-sendmail
 * writes, and what reads it: the queue runner of the daemon, "queue
 * flush", the listing, DSNs for mail that failed for good. Promises: a
 * message leaves the spool only after upstream's 2xx, or with a DSN to its
 * sender (or into failed/) after a permanent refusal; every write is
 * atomic and fsynced. Never: loses a queued message on a crash.
 *
 * spool.h - the durable queue of exorelay-sendmail: layout, file format,
 * and the operations every user of the spool shares.
 *
 * LAYOUT (under spool_dir; "exorelay" is the daemon's user, "exorelay-drop"
 * the group exorelay-sendmail is installed setgid to; see INSTALL)
 *
 *	maildrop/  1770 exorelay:exorelay-drop  new submissions. Any user may
 *		   create files here, but only through the setgid
 *		   exorelay-sendmail. The sticky bit stops one submitter from
 *		   removing another's file; files are mode 0604, so members
 *		   of the group (the setgid program) cannot read them while
 *		   the daemon (owner of the directory, "other" for the file)
 *		   can. Group read on the directory is needed for the
 *		   directory fsync (open(2) of a directory needs r).
 *	queue/     0700 exorelay               messages the daemon took over
 *		   from maildrop (rename keeps the submitter as file owner:
 *		   that owner is the trusted submitting uid).
 *	state/     2750 exorelay:exorelay-drop one state file per queued
 *		   message: envelope summary, attempts, next retry, last
 *		   error, recipients already done. Group-readable (setgid
 *		   directory, files 0640) so that mailq works for any user;
 *		   the message itself stays unreadable.
 *	failed/    0700 exorelay               given-up messages: ID (the
 *		   spool file) and ID.reason (one line of text).
 *	pid        0644 the running daemon's pid, write-locked (fcntl) for
 *		   as long as it runs: the "is a daemon running?" test.
 *	queue/.lock  flock'ed by the one queue runner of this spool.
 *
 * Names in maildrop: ID (ready), t.ID (being written; removed when
 * abandoned for an hour), f.ID (a flush request: "run the queue now").
 *
 * SPOOL FILE FORMAT (maildrop/ID, queue/ID, failed/ID)
 *	exorelay-spool 1		magic and version
 *	id ID
 *	time SECONDS			submission time (UTC epoch)
 *	uid UID				submitting uid (as claimed; the reader
 *					trusts the file owner instead)
 *	sender ADDR			empty value = null sender <>
 *	notify never|success,failure,delay   (DSN -N, absent = default)
 *	ret full|hdrs			(DSN -R)
 *	envid TEXT			(DSN -V)
 *	dsn 1				this message is a DSN we made
 *	size BYTES			message bytes after the empty line
 *	rcpt ADDR			one line per recipient, in order
 *	<empty line>
 *	the RFC 5322 message, LF line ends
 * Values are the rest of the line; CR, LF and NUL are refused in them.
 * Unknown keys are ignored (forward compatibility). A file whose message
 * is shorter or longer than "size" is corrupt (torn write).
 *
 * STATE FILE (state/ID): the same key lines (no message) plus
 *	attempts N, first T, last T, next T, error TEXT, done ADDR (one per
 *	recipient already delivered, or refused and reported by a DSN),
 *	failed ADDR<TAB>REASON (refused, and no DSN could be sent: the
 *	message goes to failed/ once no recipient is left to try).
 *
 * DURABILITY CONTRACT of spool_submit(): write maildrop/t.ID, fsync it,
 * rename to maildrop/ID, fsync maildrop/; only then does it return 0, and
 * only then may exorelay-sendmail exit 0. State files are written by
 * rename without fsync, except when they record delivered recipients
 * (losing those would only cause duplicates, never loss).
 *
 * SYNOPSIS
 *	void spool_new_id(id)		unique, time-ordered, [0-9A-F]
 *	int spool_id_ok(name)		is this a well-formed ID?
 *	int spool_path(buf, size, spool_dir, sub, id, suffix)
 *	int spool_env_format(env, with_state, &buf, &len)
 *	int spool_env_parse(text, len, env, err, errlen)
 *		parse envelope (and state) lines up to an empty line or end;
 *		env->body_offset is where the message starts; on
 *		failure env is left empty (nothing to free)
 *	int spool_env_read(fd, env, err, errlen)
 *		read the envelope from the start of a spool file and check
 *		the size; leaves the file offset at the message
 *	void spool_env_free(env)
 *	int spool_submit(spool_dir, env, msg, len, &fd, err, errlen)
 *		the durable write above; returns a <sysexits.h> status.
 *		With fd != NULL the file stays open (O_RDWR) and flock'ed
 *		exclusively, for inline delivery by the caller.
 *	int spool_write_file(dir_path, name, env, msg, len, mode, &fd, ...)
 *		the same, into any directory (the DSN path uses it)
 *	int spool_make_dirs(spool_dir, err, errlen)  create the missing layout
 *	int spool_state_load(spool_dir, id, env)   state/ID alone (for listings)
 *	int spool_state_read(spool_dir, id, env)   merge state/ID into env
 *	void spool_state_remove(spool_dir, id)
 *	int spool_state_write(spool_dir, env, sync)
 *	int spool_daemon_running(spool_dir, &pid)  1 yes, 0 no
 *	int spool_rcpt_done(env, addr)             already done?
 *	int spool_parse_notify(text, &bits)        "never" or success,failure,delay
 *	int spool_open_locked(path, flags)  open + flock(LOCK_EX|LOCK_NB), checking
 *		the name still refers to that file; -1 with errno
 *		EWOULDBLOCK (another process has it) or ENOENT
 */
#ifndef EXORELAY_SPOOL_H
#define EXORELAY_SPOOL_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define SPOOL_MAILDROP  "maildrop"
#define SPOOL_QUEUE     "queue"
#define SPOOL_STATE     "state"
#define SPOOL_FAILED    "failed"
#define SPOOL_PIDFILE   "pid"

#define SPOOL_ID_SIZE   24          /* 20 hex digits and a NUL, rounded */
#define SPOOL_MAGIC     "exorelay-spool 1"
#define SPOOL_ENV_MAX   (4 * 1024 * 1024)  /* envelope text limit */

/* DSN NOTIFY bits (RFC 3461); 0 means "not given" (= FAILURE) */
#define DSN_NOTIFY_NEVER    1
#define DSN_NOTIFY_SUCCESS  2
#define DSN_NOTIFY_FAILURE  4
#define DSN_NOTIFY_DELAY    8

enum dsn_ret { DSN_RET_DEFAULT = 0, DSN_RET_FULL, DSN_RET_HDRS };

struct spool_env {
    /* envelope */
    char    id[SPOOL_ID_SIZE];
    time_t  time;
    uid_t   uid;
    char   *sender;             /* "" = <> */
    char  **rcpt;
    size_t  nrcpt;
    unsigned notify;            /* DSN_NOTIFY_* */
    enum dsn_ret ret;
    char   *envid;
    int     is_dsn;
    long long size;             /* message bytes */
    off_t   body_offset;        /* set by the parser */
    /* state */
    int     attempts;
    time_t  first_attempt, last_attempt, next_attempt;
    char   *error;              /* last error, NULL = none */
    char  **done;               /* recipients delivered or reported (DSN) */
    size_t  ndone;
    char  **failed;             /* "ADDR<TAB>reason": failed, no DSN possible */
    size_t  nfailed;
};

void spool_new_id(char id[SPOOL_ID_SIZE]);
int spool_id_ok(const char *name);
int spool_path(char *buf, size_t size, const char *spool_dir, const char *sub,
               const char *id, const char *suffix);
int spool_env_format(const struct spool_env *env, int with_state,
                     char **buf, size_t *len);
int spool_env_parse(const char *text, size_t len, struct spool_env *env,
                    char *err, size_t errlen);
int spool_env_read(int fd, struct spool_env *env, char *err, size_t errlen);
void spool_env_free(struct spool_env *env);
int spool_env_add(char ***v, size_t *n, const char *s);
int spool_rcpt_done(const struct spool_env *env, const char *addr);
int spool_parse_notify(const char *text, unsigned *notify);
int spool_open_locked(const char *path, int flags);

int spool_submit(const char *spool_dir, struct spool_env *env,
                 const char *msg, size_t len, int *fd_out,
                 char *err, size_t errlen);
int spool_write_file(const char *dir, struct spool_env *env, const char *msg,
                     size_t len, mode_t mode, int *fd_out,
                     char *err, size_t errlen);
int spool_fsync_dir(const char *dir);
int spool_make_dirs(const char *spool_dir, char *err, size_t errlen);

int spool_state_load(const char *spool_dir, const char *id, struct spool_env *env);
int spool_state_read(const char *spool_dir, const char *id, struct spool_env *env);
void spool_state_remove(const char *spool_dir, const char *id);
int spool_state_write(const char *spool_dir, const struct spool_env *env, int sync);

int spool_daemon_running(const char *spool_dir, long *pid);

#endif
