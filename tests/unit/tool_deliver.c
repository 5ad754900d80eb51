/*
 * tool_deliver.c - deliver messages through deliver_message() and print
 * what happened, for tests/t_upstream.sh and bench/upstream.sh.
 *
 *	tool_deliver -c CONF [-a ACCOUNT] [-n N] [-t THREADS] [-f FROM]
 *		[-r RCPT]... [-F] [-P] [-p MS] [-s] MSGFILE...
 *
 * Sends N messages (default: one per MSGFILE, cycling through them) from
 * THREADS threads (default 1), each from FROM to the RCPTs. -F: a fresh
 * pool (so a fresh connection) for every message, as a client without
 * connection reuse would. -P: feed each message through a pipe (no size
 * known in advance: DATA instead of BDAT, no retry). -p MS: pause between
 * a thread's messages.
 * -s: no line per message, only the summary.
 *
 * Output, one line per message, then a summary:
 *	msg I file=F rc=R final=CODE ENH permanent=P reused=U retried=T ms=M
 *	    rcpt=CODE,CODE,... text=FINAL TEXT
 *	summary sent=K failed=F total_ms=T avg_ms=A max_open=O
 * Exit status 0 when every message was sent, 1 otherwise, 2 on usage.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "pool/deliver.h"
#include "common/log.h"
#include "token/token.h"

static struct config *cfg;
static const struct conf_account *account_used;
static struct token_engine *te;
static struct pools *shared;
static char **files;
static int nfiles, nmsg, nthreads = 1, fresh, via_pipe, pause_ms, quiet;
static const char *from = "no-reply@contoso.onmicrosoft.com";
static char *rcpts[64];
static size_t nrcpt;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int next_msg, nsent, nfailed, max_open;
static double total_ms;

/* now_ms - monotonic milliseconds */
static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* report - one line for message i */
static void report(int i, const char *file, int rc, const struct deliver_result *res,
                   double ms)
{
    pthread_mutex_lock(&out_lock);
    if (rc == 0)
        nsent++;
    else
        nfailed++;
    total_ms += ms;
    if (!quiet) {
        printf("msg %d file=%s rc=%d final=%d %s permanent=%d reused=%d retried=%d "
               "ms=%.1f rcpt=", i, file, rc, res->final.code, res->final.enhanced,
               res->permanent, res->reused, res->retried, ms);
        for (size_t r = 0; r < res->nrcpt; r++)
            printf("%s%d", r ? "," : "", res->rcpt_code[r]);
        printf(" text=%s\n", res->final.text);
        fflush(stdout);
    }
    pthread_mutex_unlock(&out_lock);
}

/* take - the next message number, -1 when all are taken */
static int take(void)
{
    int     i;

    pthread_mutex_lock(&out_lock);
    i = next_msg < nmsg ? next_msg++ : -1;
    pthread_mutex_unlock(&out_lock);
    return i;
}

/* note_open - keep the largest number of connections seen open */
static void note_open(struct pools *pools)
{
    int     n = pool_max_seen(pools_get(pools, account_used));

    pthread_mutex_lock(&out_lock);
    if (n > max_open)
        max_open = n;
    pthread_mutex_unlock(&out_lock);
}

/* feeder - copy a file into a pipe, then close it */
static void *feeder(void *arg)
{
    int    *fds = arg;
    char    buf[8192];
    ssize_t n;

    while ((n = read(fds[0], buf, sizeof(buf))) > 0)
        if (write(fds[1], buf, (size_t) n) != n)
            break;
    close(fds[0]);
    close(fds[1]);
    return NULL;
}

/* open_message - the file, or with -P the read end of a pipe fed from it */
static int open_message(const char *file, pthread_t *tid, int *fds)
{
    int     p[2];

    if ((fds[0] = open(file, O_RDONLY)) < 0) {
        perror(file);
        exit(2);
    }
    if (!via_pipe)
        return fds[0];
    if (pipe(p) < 0) {
        perror("pipe");
        exit(2);
    }
    fds[1] = p[1];
    pthread_create(tid, NULL, feeder, fds);
    return p[0];
}

/* worker - deliver messages until none are left */
static void *worker(void *arg)
{
    struct deliver_result res;
    int     i, fd, rc, fds[2];
    pthread_t tid;
    double  t0;

    (void) arg;
    while ((i = take()) >= 0) {
        struct pools *pools = fresh ? pools_new(cfg, te) : shared;
        const char *file = files[i % nfiles];

        fd = open_message(file, &tid, fds);
        t0 = now_ms();
        rc = deliver_message(pools, account_used, from, rcpts, nrcpt, fd, &res);
        report(i, file, rc, &res, now_ms() - t0);
        deliver_result_free(&res);
        close(fd);
        if (via_pipe)
            pthread_join(tid, NULL);
        note_open(pools);
        if (fresh)
            pools_free(pools);
        if (pause_ms)
            usleep((useconds_t) pause_ms * 1000);
    }
    return NULL;
}

/* setup - config, account, token engine */
static void setup(const char *conf, const char *account)
{
    int     nerr = 0;

    if ((cfg = config_load(conf, stderr, &nerr)) == NULL)
        exit(2);
    if ((account_used = config_account(cfg, account)) == NULL) {
        fprintf(stderr, "no account %s\n", account ? account : "(default)");
        exit(2);
    }
    if ((te = token_engine_new(cfg)) == NULL || (shared = pools_new(cfg, te)) == NULL)
        exit(2);
    log_set_level(cfg->log_level);
}

int main(int argc, char **argv)
{
    const char *conf = NULL, *account = NULL;
    pthread_t *tids;
    double  t0;
    int     c;

    log_open("tool_deliver", 1);
    signal(SIGPIPE, SIG_IGN);           /* as exorelay run does (upstream.h) */
    while ((c = getopt(argc, argv, "c:a:n:t:f:r:FPp:s")) != -1) {
        switch (c) {
        case 'c': conf = optarg; break;
        case 'a': account = optarg; break;
        case 'n': nmsg = atoi(optarg); break;
        case 't': nthreads = atoi(optarg); break;
        case 'f': from = optarg; break;
        case 'r': if (nrcpt < 64) rcpts[nrcpt++] = optarg; break;
        case 'F': fresh = 1; break;
        case 'P': via_pipe = 1; break;
        case 'p': pause_ms = atoi(optarg); break;
        case 's': quiet = 1; break;
        default: return 2;
        }
    }
    files = argv + optind;
    nfiles = argc - optind;
    if (conf == NULL || nfiles == 0 || nthreads < 1) {
        fprintf(stderr, "usage: tool_deliver -c CONF [-a ACCT] [-n N] [-t T] "
                "[-f FROM] [-r RCPT]... [-F] [-P] [-p MS] [-s] MSGFILE...\n");
        return 2;
    }
    if (nmsg <= 0)
        nmsg = nfiles;
    if (nrcpt == 0)
        rcpts[nrcpt++] = "someone@example.com";
    setup(conf, account);
    tids = calloc((size_t) nthreads, sizeof(*tids));
    t0 = now_ms();
    for (int i = 0; i < nthreads; i++)
        pthread_create(&tids[i], NULL, worker, NULL);
    for (int i = 0; i < nthreads; i++)
        pthread_join(tids[i], NULL);
    printf("summary sent=%d failed=%d total_ms=%.1f avg_ms=%.2f max_open=%d\n",
           nsent, nfailed, now_ms() - t0, nmsg ? total_ms / nmsg : 0.0, max_open);
    free(tids);
    pools_free(shared);
    token_engine_free(te);
    config_free(cfg);
    return nfailed ? 1 : 0;
}
