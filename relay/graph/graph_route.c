/*
 * graph_route.c - which way an account's mail goes now (graph.h):
 * transport = smtp or graph is fixed; auto is SMTP until Exchange says
 * SMTP AUTH is disabled (535 5.7.139), then Graph.
 *
 * SYNOPSIS
 *	int graph_route_active(cfg, acct)
 *	void graph_route_switch(cfg, acct, why)
 *	int graph_route_since(cfg, acct, &since, why, whylen)
 *
 * The switch is a file, {state_dir}/graph-switch-{account}, holding the
 * time and the reason: every exorelay process (daemon, exorelay-sendmail,
 * status) sees it, it survives restarts, and the process whose O_EXCL
 * create succeeds is the one that logs it, so it is logged once. Checking
 * costs one stat() per message. Without a usable state_dir the switch is
 * kept in memory only (and logged once per process). Going back to SMTP
 * (the admin turned SMTP AUTH on again) is deleting the file.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "graph.h"

#define MEMORY_MAX 64

static pthread_mutex_t memory_lock = PTHREAD_MUTEX_INITIALIZER;
static char *memory[MEMORY_MAX];        /* accounts switched without a file */

/* switch_path - the account's switch file; -1 if the name does not fit */
static int switch_path(const struct config *cfg, const struct conf_account *acct,
                       char *buf, size_t len)
{
    char    name[65];
    size_t  i;
    int     n;

    for (i = 0; acct->name[i] && i < sizeof(name) - 1; i++)
        name[i] = isalnum((unsigned char) acct->name[i]) || acct->name[i] == '-'
            ? acct->name[i] : '_';
    name[i] = 0;
    n = snprintf(buf, len, "%s/graph-switch-%s", cfg->state_dir ? cfg->state_dir : "",
                 name);
    return cfg->state_dir == NULL || n < 0 || (size_t) n >= len ? -1 : 0;
}

/* in_memory - was acct switched in this process without a file? (add: note it) */
static int in_memory(const char *name, int add)
{
    int     found = 0, i;

    pthread_mutex_lock(&memory_lock);
    for (i = 0; i < MEMORY_MAX && memory[i] && !found; i++)
        found = strcmp(memory[i], name) == 0;
    if (!found && add && i < MEMORY_MAX)
        memory[i] = strdup(name);
    pthread_mutex_unlock(&memory_lock);
    return found;
}

/* graph_route_active - see graph.h */
int graph_route_active(const struct config *cfg, const struct conf_account *acct)
{
    char    path[4096];

    if (acct->transport != TRANSPORT_AUTO)
        return acct->transport == TRANSPORT_GRAPH;
    if (switch_path(cfg, acct, path, sizeof(path)) == 0 && access(path, F_OK) == 0)
        return 1;
    return in_memory(acct->name, 0);
}

/* graph_route_switch - see graph.h */
void graph_route_switch(const struct config *cfg, const struct conf_account *acct,
                        const char *why)
{
    char    path[4096], line[600];
    int     fd = -1, n;

    if (acct->transport != TRANSPORT_AUTO)
        return;
    if (switch_path(cfg, acct, path, sizeof(path)) == 0)
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && errno == EEXIST)
        return;                         /* switched before: logged then */
    if (fd < 0 && in_memory(acct->name, 1))
        return;
    if (fd >= 0) {
        n = snprintf(line, sizeof(line), "%lld %s\n", (long long) time(NULL), why);
        if (n > 0 && write(fd, line, (size_t) n) != n)
            msg_warn("graph: cannot write %s: %m", path);
        (void) fsync(fd);
        close(fd);
    }
    msg_notice("graph: account %s (transport = auto): Exchange refused SMTP AUTH "
               "for %s (%s); this account now sends through Microsoft Graph "
               "(%s%s)", acct->name, acct->mailbox, why, fd >= 0 ? "kept in " : "this "
               "process only", fd >= 0 ? path : "");
}

/* graph_route_since - see graph.h */
int graph_route_since(const struct config *cfg, const struct conf_account *acct,
                      time_t *since, char *why, size_t whylen)
{
    char    path[4096], line[600] = "";
    long long t = 0;
    int     n = 0;
    FILE   *f;

    if (acct->transport != TRANSPORT_AUTO || switch_path(cfg, acct, path, sizeof(path)) < 0
        || (f = fopen(path, "re")) == NULL)
        return 0;
    if (fgets(line, sizeof(line), f) != NULL)
        sscanf(line, "%lld %n", &t, &n);
    fclose(f);
    line[strcspn(line, "\n")] = 0;
    *since = (time_t) t;
    if (why && whylen)
        snprintf(why, whylen, "%s", line + n);
    return 1;
}
