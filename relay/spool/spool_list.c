/*
 * spool_list.c - the queue as mailq(1) and "exorelay queue list" show it.
 *
 * SYNOPSIS
 *	int spool_list(spool_dir, out, show_failed)
 *		One entry per queued message: ID, size, age, attempts,
 *		sender; then the last error (why it is still here) in
 *		parentheses and the recipients not done yet. Messages still
 *		in maildrop/ are shown as waiting for the daemon. With
 *		show_failed, the failed/ folder follows (ID and reason).
 *		Returns the number of messages, -1 when nothing is readable.
 *
 * What it reads: state/ files (group-readable, so mailq works for every
 * user through the setgid exorelay-sendmail), else the envelope of the
 * spool file itself when we may read it (root, the daemon's user), else
 * only what stat(2) tells of a maildrop/ file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "spool_list.h"

struct idset {
    char  (*id)[SPOOL_ID_SIZE];
    size_t n, cap;
};

/* add_ids - every ID-named entry of spool_dir/sub; -1 unreadable */
static int add_ids(struct idset *s, const char *spool_dir, const char *sub)
{
    char dir[4096];
    struct dirent *de;
    DIR *d;

    if (spool_path(dir, sizeof(dir), spool_dir, sub, NULL, NULL) < 0
        || (d = opendir(dir)) == NULL)
        return -1;
    while ((de = readdir(d)) != NULL) {
        if (!spool_id_ok(de->d_name))
            continue;
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 64;
            void *nv = realloc(s->id, cap * sizeof(*s->id));
            if (nv == NULL)
                break;
            s->id = nv;
            s->cap = cap;
        }
        memcpy(s->id[s->n++], de->d_name, strlen(de->d_name) + 1);  /* 20 chars: checked */
    }
    closedir(d);
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* unique - sort and drop duplicates (an ID in state/ and queue/) */
static void unique(struct idset *s)
{
    size_t k = 0;

    if (s->n == 0)
        return;
    qsort(s->id, s->n, sizeof(*s->id), cmp_id);
    for (size_t i = 1; i < s->n; i++)
        if (strcmp(s->id[i], s->id[k]) != 0)
            memcpy(s->id[++k], s->id[i], SPOOL_ID_SIZE);
    s->n = k + 1;
}

/* age_text - "42s", "17m", "5h", "3d" */
static void age_text(time_t secs, char *buf, size_t size)
{
    if (secs < 0)
        secs = 0;
    if (secs < 120)
        snprintf(buf, size, "%lds", (long) secs);
    else if (secs < 7200)
        snprintf(buf, size, "%ldm", (long) secs / 60);
    else if (secs < 2 * 86400)
        snprintf(buf, size, "%ldh", (long) secs / 3600);
    else
        snprintf(buf, size, "%ldd", (long) secs / 86400);
}

/* load_entry - state file, else the spool file's envelope; 1 ok, 0 stat
 * only, -1 no such message (we could look and it is not there) */
static int load_entry(const char *spool_dir, const char *id, struct spool_env *env,
                      const char **where, struct stat *st)
{
    static const char *const subs[] = {SPOOL_QUEUE, SPOOL_MAILDROP};
    char path[4096], err[256];

    int gone = 0;

    *where = SPOOL_QUEUE;
    for (size_t i = 0; i < 2; i++) {
        if (spool_path(path, sizeof(path), spool_dir, subs[i], id, NULL) == 0
            && stat(path, st) == 0) {
            *where = subs[i];
            break;
        }
        gone += errno == ENOENT;
    }
    if (gone == 2) {            /* a state file left by a crash: not queued */
        memset(env, 0, sizeof(*env));
        return -1;
    }
    if (spool_state_load(spool_dir, id, env) > 0)
        return 1;
    if (spool_path(path, sizeof(path), spool_dir, *where, id, NULL) == 0) {
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        int rc = fd >= 0 ? spool_env_read(fd, env, err, sizeof(err)) : -1;
        if (fd >= 0)
            close(fd);
        if (rc == 0)
            return 1;
    }
    memset(env, 0, sizeof(*env));
    return 0;
}

/* print_entry - one message, mailq style */
static void print_entry(FILE *out, const char *id, const struct spool_env *env, int known,
                        const char *where, const struct stat *st, int daemon, time_t now)
{
    char age[32];
    long long size = known ? env->size : (long long) st->st_size;

    age_text(now - (known ? env->time : st->st_mtime), age, sizeof(age));
    fprintf(out, "%-20s %9lld %6s %5d  %s\n", id, size, age, known ? env->attempts : 0,
            known ? (env->sender[0] ? env->sender : "<>") : "(not readable)");
    if (known && env->error) {
        char next[32];
        age_text(env->next_attempt - now, next, sizeof(next));
        fprintf(out, "%46s(%s; next try in %s)\n", "", env->error,
                env->next_attempt > now ? next : "0s");
    } else if (strcmp(where, SPOOL_MAILDROP) == 0) {
        fprintf(out, "%46s(%s)\n", "", daemon ? "new, being picked up"
                : "waiting: no \"exorelay run\" daemon is running");
    }
    for (size_t i = 0; known && i < env->nrcpt; i++)
        if (!spool_rcpt_done(env, env->rcpt[i]))
            fprintf(out, "%46s%s\n", "", env->rcpt[i]);
}

/* list_failed - the failed/ folder: ID and the first line of its reason */
static void list_failed(FILE *out, const char *spool_dir)
{
    struct idset s = {0};
    char path[4096], line[1024];

    if (add_ids(&s, spool_dir, SPOOL_FAILED) < 0) {
        fprintf(out, "\nfailed/: %s\n", strerror(errno));
        return;
    }
    unique(&s);
    fprintf(out, "\n-- %zu failed message%s in %s/%s\n", s.n, s.n == 1 ? "" : "s",
            spool_dir, SPOOL_FAILED);
    for (size_t i = 0; i < s.n; i++) {
        FILE *fp = spool_path(path, sizeof(path), spool_dir, SPOOL_FAILED, s.id[i],
                              ".reason") == 0 ? fopen(path, "re") : NULL;
        line[0] = 0;
        if (fp && fgets(line, sizeof(line), fp))
            line[strcspn(line, "\n")] = 0;
        if (fp)
            fclose(fp);
        fprintf(out, "%-20s %s\n", s.id[i], line[0] ? line : "(no reason recorded)");
    }
    free(s.id);
}

int spool_list(const char *spool_dir, FILE *out, int show_failed)
{
    struct idset s = {0};
    long long total = 0;
    time_t now = time(NULL);
    int daemon = spool_daemon_running(spool_dir, NULL);
    int readable = 0;

    readable += add_ids(&s, spool_dir, SPOOL_STATE) == 0;
    readable += add_ids(&s, spool_dir, SPOOL_MAILDROP) == 0;
    readable += add_ids(&s, spool_dir, SPOOL_QUEUE) == 0;
    if (!readable)
        return -1;
    unique(&s);
    long shown = (long) s.n;
    if (s.n == 0)
        fprintf(out, "Mail queue is empty\n");
    else
        fprintf(out, "%-20s %9s %6s %5s  %s\n", "-Queue ID-", "--Size--", "-Age-",
                "Tries", "-Sender/Recipient-------");
    for (size_t i = 0; i < s.n; i++) {
        struct spool_env env;
        struct stat st = {0};
        const char *where;
        int known = load_entry(spool_dir, s.id[i], &env, &where, &st);
        if (known < 0) {
            shown--;
            continue;
        }
        print_entry(out, s.id[i], &env, known, where, &st, daemon, now);
        total += known ? env.size : (long long) st.st_size;
        spool_env_free(&env);
    }
    if (s.n > 0)
        fprintf(out, "\n-- %lld Kbytes in %ld Request%s.\n", (total + 1023) / 1024, shown,
                shown == 1 ? "" : "s");
    if (show_failed)
        list_failed(out, spool_dir);
    free(s.id);
    return (int) shown;
}
