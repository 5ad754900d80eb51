/*
 * sendmail_args.c - parse the sendmail(8) command line (see sendmail_args.h).
 *
 * Hand-written rather than getopt(3): sendmail's options are getopt-like but
 * with quirks that programs rely on (-q with an optional attached value,
 * -oi meaning -i, mode letters after -b), and getopt would print its own
 * messages and permute arguments under glibc.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "sendmail_args.h"

/* Flags that take an argument, attached or as the next word. */
#define FLAGS_WITH_ARG      "bfrFCNRVoBXOLAh"
/* Flags without an argument that other sendmails accept and we ignore. */
#define FLAGS_IGNORED       "Unm"

/* base_name - last path component */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* set_mode - the -b letter */
static int set_mode(struct sendmail_opts *o, const char *arg, char *err, size_t errlen)
{
    if (strcmp(arg, "m") == 0)
        o->mode = SM_DELIVER;
    else if (strcmp(arg, "p") == 0)
        o->mode = SM_LIST;
    else if (strcmp(arg, "s") == 0)
        o->mode = SM_SMTP;
    else if (strcmp(arg, "i") == 0)
        o->mode = SM_NOOP;
    else if (strcmp(arg, "d") == 0 || strcmp(arg, "D") == 0) {
        snprintf(err, errlen, "-b%s: exorelay-sendmail has no daemon mode; "
                 "the queue is run by \"exorelay run\"", arg);
        return EX_USAGE;
    } else {
        snprintf(err, errlen, "-b%s: unsupported mode (supported: -bm, -bp, -bs, -bi)", arg);
        return EX_USAGE;
    }
    return 0;
}

/* strip_angles - "<a@b>" -> "a@b" in place (-f <addr>, -f <>) */
static const char *strip_angles(char *addr)
{
    size_t n = strlen(addr);

    if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>') {
        addr[n - 1] = 0;
        return addr + 1;
    }
    return addr;
}

/* set_dsn_ret - -R full|hdrs */
static int set_dsn_ret(struct sendmail_opts *o, const char *arg, char *err, size_t errlen)
{
    if (strcasecmp(arg, "full") == 0)
        o->ret = DSN_RET_FULL;
    else if (strcasecmp(arg, "hdrs") == 0)
        o->ret = DSN_RET_HDRS;
    else {
        snprintf(err, errlen, "-R %s: must be \"full\" or \"hdrs\"", arg);
        return EX_USAGE;
    }
    return 0;
}

/* flag_with_arg - one flag that has its argument */
static int flag_with_arg(struct sendmail_opts *o, char flag, char *arg,
                         char *err, size_t errlen)
{
    switch (flag) {
    case 'b':
        return set_mode(o, arg, err, errlen);
    case 'f':
    case 'r':
        o->sender = strip_angles(arg);
        return 0;
    case 'F':
        o->fullname = arg;
        return 0;
    case 'C':
        o->config = arg;
        return 0;
    case 'N':
        if (spool_parse_notify(arg, &o->notify) < 0 || o->notify == 0) {
            snprintf(err, errlen, "-N %s: must be \"never\" or a list of "
                     "success, failure, delay", arg);
            return EX_USAGE;
        }
        return 0;
    case 'R':
        return set_dsn_ret(o, arg, err, errlen);
    case 'V':
        o->envid = arg;
        return 0;
    case 'o':
        if (strcmp(arg, "i") == 0)
            o->ignore_dots = 1;
        return 0;               /* -oem, -odb, -oQ... : ignored */
    default:
        return 0;               /* -B, -X, -O, -L, -A, -h: ignored */
    }
}

/* simple_flag - a flag without an argument; 0 ok, EX_USAGE unknown */
static int simple_flag(struct sendmail_opts *o, char flag, char *err, size_t errlen)
{
    switch (flag) {
    case 't':
        o->extract = 1;
        return 0;
    case 'i':
        o->ignore_dots = 1;
        return 0;
    case 'v':
        o->verbose = 1;
        return 0;
    default:
        if (flag && strchr(FLAGS_IGNORED, flag))
            return 0;
        snprintf(err, errlen, "unknown option -%c (see exorelay-sendmail(8))", flag);
        return EX_USAGE;
    }
}

/* parse_cluster - one "-xyz" word; may consume the next word (*i) */
static int parse_cluster(int argc, char **argv, int *i, struct sendmail_opts *o,
                         char *err, size_t errlen)
{
    char *w = argv[*i];

    for (size_t k = 1; w[k]; k++) {
        char flag = w[k];
        if (flag == 'q') {      /* -q, -q30m, -qf, -qRdomain: run the queue */
            o->mode = SM_FLUSH;
            return 0;
        }
        if (strchr(FLAGS_WITH_ARG, flag) == NULL) {
            int rc = simple_flag(o, flag, err, errlen);
            if (rc)
                return rc;
            continue;
        }
        char *arg = w + k + 1;
        if (*arg == 0) {
            if (*i + 1 >= argc) {
                snprintf(err, errlen, "option -%c needs an argument", flag);
                return EX_USAGE;
            }
            arg = argv[++*i];
        }
        return flag_with_arg(o, flag, arg, err, errlen);
    }
    return 0;
}

int sendmail_args_parse(int argc, char **argv, struct sendmail_opts *o,
                        char *err, size_t errlen)
{
    const char *me = argc > 0 ? base_name(argv[0]) : "sendmail";
    size_t melen = strlen(me);
    int i = 1;

    memset(o, 0, sizeof(*o));
    if (melen >= 5 && strcmp(me + melen - 5, "mailq") == 0)
        o->mode = SM_LIST;
    else if (strcmp(me, "newaliases") == 0)
        o->mode = SM_NOOP;
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        o->mode = SM_VERSION;
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        o->mode = SM_HELP;
        return 0;
    }
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (argv[i][1] == 0 || argv[i][1] == '-') {
            snprintf(err, errlen, "unknown option %s (see exorelay-sendmail(8))", argv[i]);
            return EX_USAGE;
        }
        int rc = parse_cluster(argc, argv, &i, o, err, errlen);
        if (rc)
            return rc;
    }
    o->rcpt = argv + i;
    o->nrcpt = argc - i;
    return 0;
}
