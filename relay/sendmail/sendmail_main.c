/*
 * sendmail_main.c - exorelay-sendmail: a sendmail(8)-compatible command that
 * queues mail durably in exorelay's spool; "mailq" when called by that name.
 * See exorelay-sendmail(8).
 *
 *	exorelay-sendmail [flags] [recipient ...] < message
 *
 * Privileges: installed setgid exorelay-drop (see INSTALL), which only lets
 * it create files in spool_dir/maildrop and read state/. A config chosen by
 * the caller (-C, $EXORELAY_CONF) could point that privilege elsewhere, so it
 * is dropped unless the file and every directory above it are owned by root
 * and writable by nobody else (the admin's own file), checked on the
 * descriptor the config is then read from (opened with the caller's own
 * group). After a -bm
 * submission the group is given up before any delivery.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/privs.h"
#include "sendmail_args.h"
#include "sendmail_msg.h"
#include "sendmail_smtp.h"
#include "sendmail_submit.h"
#include "spool/spool_list.h"

static const char *progname = "exorelay-sendmail";

#ifdef __SANITIZE_ADDRESS__
/* LeakSanitizer cannot inspect a setgid (non-dumpable) process and aborts;
 * such a process ignores ASAN_OPTIONS, so say it here (ASan builds only). */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return getauxval(AT_SECURE) ? "detect_leaks=0" : "";
}
#endif

static void usage(FILE *fp)
{
    fprintf(fp, "usage: %s [-t] [-i] [-f sender] [-F name] [-N dsn] [-R ret] [-v] "
            "[-C config] [--] [recipient ...]\n"
            "       %s -bp   (or mailq)     list the queue\n"
            "       %s -bs                  SMTP on standard input/output\n"
            "       %s -q                   deliver the queue now\n"
            "See exorelay-sendmail(8).\n", progname, progname, progname, progname);
}

/* dirs_admin_owned - every directory above real belongs to root and
 * nobody else may change it (a sticky directory like /tmp is fine) */
static int dirs_admin_owned(char *real)
{
    struct stat st;
    char   *slash;

    while ((slash = strrchr(real, '/')) != NULL && slash != real) {
        *slash = 0;
        if (lstat(real, &st) < 0 || st.st_uid != 0
            || ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)))
            return 0;
    }
    return lstat("/", &st) == 0 && st.st_uid == 0 && !(st.st_mode & 022);
}

/* admin_owned - the open config fd is the admin's own file: a regular
 * file of root that nobody else may write, in root's directories. The
 * checks are on the descriptor (and the path the kernel gives for it),
 * and the config is then parsed from that same descriptor: there is no
 * window to swap the file between the check and the read. */
static int admin_owned(int fd)
{
    char    link[64], real[PATH_MAX];
    struct stat st;
    ssize_t n;

    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
        return 0;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    if ((n = readlink(link, real, sizeof(real) - 1)) <= 0 || real[0] != '/')
        return 0;
    real[n] = 0;
    return dirs_admin_owned(real);
}

/* open_as_caller - open path with the caller's own group, not the setgid
 * one: a config named by the caller is only what the caller may read */
static int open_as_caller(const char *path)
{
    gid_t   egid = getegid();
    int     fd, saved;

    if (egid != getgid() && setegid(getgid()) < 0)
        return -1;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    saved = errno;
    if (egid != getegid() && setegid(egid) < 0) {
        fprintf(stderr, "%s: cannot restore the group: %s\n", progname, strerror(errno));
        exit(EX_OSERR);
    }
    errno = saved;
    return fd;
}

/* load_config - open the config once, settle the privileges on that
 * descriptor, then parse it (syntax only: an ordinary user may not read
 * the credentials it names) */
static struct config *load_config(const struct sendmail_opts *o)
{
    const char *env = getenv("EXORELAY_CONF");
    const char *path = o->config ? o->config : config_path_default();
    int     chosen = getuid() != 0 && (o->config || (env && *env));
    int     nerrors = 0, fd;
    FILE   *fp = NULL;
    struct config *cfg;

    fd = chosen ? open_as_caller(path) : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (chosen && (fd < 0 || !admin_owned(fd)))
        sendmail_drop_group();
    if (fd >= 0 && (fp = fdopen(fd, "r")) == NULL)
        close(fd);
    config_skip_file_checks(1);
    /* fp NULL (cannot open): config_load_fp tries path, for its message */
    cfg = config_load_fp(path, fp, stderr, &nerrors);
    if (cfg == NULL)
        fprintf(stderr, "%s: %s: %d error%s\n", progname, path, nerrors,
                nerrors == 1 ? "" : "s");
    return cfg;
}

/* deliver_mode - -bm: read the message from standard input and queue it */
static int deliver_mode(const struct config *cfg, const struct sendmail_opts *o)
{
    char *msg = NULL, err[512], id[SPOOL_ID_SIZE];
    size_t len = 0;
    int rc;

    if (o->nrcpt == 0 && !o->extract) {
        fprintf(stderr, "%s: no recipients given (name them, or use -t)\n", progname);
        return EX_USAGE;
    }
    rc = sendmail_read_message(stdin, o->ignore_dots, cfg->max_message_size, &msg, &len,
                               err, sizeof(err));
    if (rc == EX_OK) {
        struct sm_submission sub = {
            .sender = o->sender, .rcpt = o->rcpt, .nrcpt = (size_t) o->nrcpt,
            .extract = o->extract, .notify = o->notify, .ret = o->ret,
            .envid = o->envid, .fullname = o->fullname,
        };
        rc = sendmail_submit(cfg, &sub, msg, len, o->verbose, id, err, sizeof(err));
    }
    free(msg);
    if (rc != EX_OK)
        fprintf(stderr, "%s: %s\n", progname, err);
    return rc;
}

/* list_mode - -bp and mailq */
static int list_mode(const struct config *cfg)
{
    if (spool_list(cfg->spool_dir, stdout, 0) < 0) {
        fprintf(stderr, "%s: cannot read the queue in %s: %s\n", progname, cfg->spool_dir,
                strerror(errno));
        return EX_NOPERM;
    }
    return EX_OK;
}

int main(int argc, char **argv)
{
    struct sendmail_opts o;
    struct config *cfg;
    char err[512];
    int rc;

    privs_no_core();            /* may hold a secret or a token: never in a core */
    umask(077);
    if ((rc = sendmail_args_parse(argc, argv, &o, err, sizeof(err))) != 0) {
        fprintf(stderr, "%s: %s\n", progname, err);
        usage(stderr);
        return rc;
    }
    if (o.mode == SM_VERSION) {
        printf("exorelay-sendmail %s\n", EXORELAY_VERSION);
        return EX_OK;
    }
    if (o.mode == SM_HELP) {
        usage(stdout);
        return EX_OK;
    }
    if (o.mode == SM_NOOP)      /* newaliases, -bi: there is no alias file */
        return EX_OK;
    log_open("sendmail", o.verbose);
    if ((cfg = load_config(&o)) == NULL)
        return EX_CONFIG;
    log_set_level(o.verbose ? LOG_LVL_DEBUG : cfg->log_level);
    switch (o.mode) {
    case SM_LIST:
        rc = list_mode(cfg);
        break;
    case SM_SMTP:
        rc = sendmail_smtp(cfg, &o, stdin, stdout);
        break;
    case SM_FLUSH:
        rc = sendmail_run_queue(cfg, o.verbose);
        break;
    default:
        rc = deliver_mode(cfg, &o);
        break;
    }
    config_free(cfg);
    return rc;
}
