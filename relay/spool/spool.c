/*
 * spool.c - spool file names and the envelope format (see spool.h).
 *
 * The envelope is plain "key value" lines so that an administrator can read
 * a stuck message with less(1), and so that the same parser serves the
 * spool files and the state files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "spool.h"

/* spool_new_id - 8 hex of seconds, 5 of microseconds, 7 random */
void spool_new_id(char id[SPOOL_ID_SIZE])
{
    struct timeval tv;
    unsigned int rnd = 0;

    gettimeofday(&tv, NULL);
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd))
        rnd = (unsigned int) getpid() * 2654435761u ^ (unsigned int) tv.tv_usec;
    snprintf(id, SPOOL_ID_SIZE, "%08lX%05lX%07X", (unsigned long) tv.tv_sec & 0xffffffffUL,
             (unsigned long) tv.tv_usec & 0xfffffUL, rnd & 0xfffffffu);
}

/* spool_id_ok - 20 upper-case hex digits, nothing else (no path tricks) */
int spool_id_ok(const char *name)
{
    size_t n = 0;

    for (; name[n]; n++)
        if (!((name[n] >= '0' && name[n] <= '9') || (name[n] >= 'A' && name[n] <= 'F')))
            return 0;
    return n == 20;
}

/* spool_path - "spool_dir/sub/id suffix"; -1 when it does not fit */
int spool_path(char *buf, size_t size, const char *spool_dir, const char *sub,
               const char *id, const char *suffix)
{
    int n = snprintf(buf, size, "%s%s%s%s%s%s", spool_dir, sub ? "/" : "", sub ? sub : "",
                     id ? "/" : "", id ? id : "", suffix ? suffix : "");
    return n < 0 || (size_t) n >= size ? -1 : 0;
}

/* spool_env_add - append a copy of s to a growing string vector */
int spool_env_add(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 1) * sizeof(**v));
    char *copy = strdup(s);

    if (nv == NULL || copy == NULL) {
        free(copy);
        if (nv)
            *v = nv;
        return -1;
    }
    nv[(*n)++] = copy;
    *v = nv;
    return 0;
}

/* spool_rcpt_done - is this recipient finished (delivered, reported, failed)? */
int spool_rcpt_done(const struct spool_env *env, const char *addr)
{
    size_t n = strlen(addr);

    for (size_t i = 0; i < env->ndone; i++)
        if (strcmp(env->done[i], addr) == 0)
            return 1;
    for (size_t i = 0; i < env->nfailed; i++)
        if (strncmp(env->failed[i], addr, n) == 0 && env->failed[i][n] == '\t')
            return 1;
    return 0;
}

static void free_vec(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void spool_env_free(struct spool_env *env)
{
    free(env->sender);
    free_vec(env->rcpt, env->nrcpt);
    free(env->envid);
    free(env->error);
    free_vec(env->done, env->ndone);
    free_vec(env->failed, env->nfailed);
    memset(env, 0, sizeof(*env));
}

/* notify_text - the NOTIFY bits as the words of RFC 3461 */
static void notify_text(unsigned notify, char *buf, size_t size)
{
    static const struct { unsigned bit; const char *word; } words[] = {
        {DSN_NOTIFY_NEVER, "never"}, {DSN_NOTIFY_SUCCESS, "success"},
        {DSN_NOTIFY_FAILURE, "failure"}, {DSN_NOTIFY_DELAY, "delay"},
    };
    buf[0] = 0;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (notify & words[i].bit)
            snprintf(buf + strlen(buf), size - strlen(buf), "%s%s",
                     buf[0] ? "," : "", words[i].word);
}

/* safe_value - a value may not break the line structure */
static int safe_value(const char *s)
{
    return s == NULL || strpbrk(s, "\r\n") == NULL;
}

/* env_values_safe - every text value of env fits on one line */
static int env_values_safe(const struct spool_env *env)
{
    if (!safe_value(env->sender) || !safe_value(env->envid) || !safe_value(env->error))
        return 0;
    for (size_t i = 0; i < env->nrcpt; i++)
        if (!safe_value(env->rcpt[i]))
            return 0;
    for (size_t i = 0; i < env->ndone; i++)
        if (!safe_value(env->done[i]))
            return 0;
    for (size_t i = 0; i < env->nfailed; i++)
        if (!safe_value(env->failed[i]))
            return 0;
    return 1;
}

/* put_state - the state lines (attempts, times, error, done recipients) */
static void put_state(FILE *fp, const struct spool_env *env)
{
    fprintf(fp, "attempts %d\nfirst %lld\nlast %lld\nnext %lld\n", env->attempts,
            (long long) env->first_attempt, (long long) env->last_attempt,
            (long long) env->next_attempt);
    if (env->error)
        fprintf(fp, "error %s\n", env->error);
    for (size_t i = 0; i < env->ndone; i++)
        fprintf(fp, "done %s\n", env->done[i]);
    for (size_t i = 0; i < env->nfailed; i++)
        fprintf(fp, "failed %s\n", env->failed[i]);
}

/* spool_env_format - the envelope (and state) text, ending in an empty line */
int spool_env_format(const struct spool_env *env, int with_state, char **buf, size_t *len)
{
    char notify[64];
    FILE *fp;

    *buf = NULL;
    if (!env_values_safe(env))
        return -1;
    if ((fp = open_memstream(buf, len)) == NULL)
        return -1;
    fputs(SPOOL_MAGIC "\n", fp);
    if (env->id[0])             /* the parser refuses "id " with no ID */
        fprintf(fp, "id %s\n", env->id);
    fprintf(fp, "time %lld\nuid %ld\nsender %s\n", (long long) env->time,
            (long) env->uid, env->sender ? env->sender : "");
    notify_text(env->notify, notify, sizeof(notify));
    if (notify[0])
        fprintf(fp, "notify %s\n", notify);
    if (env->ret != DSN_RET_DEFAULT)
        fprintf(fp, "ret %s\n", env->ret == DSN_RET_FULL ? "full" : "hdrs");
    if (env->envid)
        fprintf(fp, "envid %s\n", env->envid);
    if (env->is_dsn)
        fputs("dsn 1\n", fp);
    fprintf(fp, "size %lld\n", env->size);
    for (size_t i = 0; i < env->nrcpt; i++)
        fprintf(fp, "rcpt %s\n", env->rcpt[i]);
    if (with_state)
        put_state(fp, env);
    fputc('\n', fp);
    if (fclose(fp) != 0) {
        free(*buf);
        *buf = NULL;
        return -1;
    }
    return 0;
}

/* parse_notify - "never" or a comma list of success, failure, delay */
static int parse_notify(const char *v, unsigned *notify)
{
    char copy[128], *save = NULL;

    *notify = 0;
    if (strlen(v) >= sizeof(copy))
        return -1;
    strcpy(copy, v);
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (strcasecmp(w, "never") == 0)
            *notify |= DSN_NOTIFY_NEVER;
        else if (strcasecmp(w, "success") == 0)
            *notify |= DSN_NOTIFY_SUCCESS;
        else if (strcasecmp(w, "failure") == 0)
            *notify |= DSN_NOTIFY_FAILURE;
        else if (strcasecmp(w, "delay") == 0)
            *notify |= DSN_NOTIFY_DELAY;
        else
            return -1;
    }
    return (*notify & DSN_NOTIFY_NEVER) && *notify != DSN_NOTIFY_NEVER ? -1 : 0;
}

int spool_parse_notify(const char *v, unsigned *notify)
{
    return parse_notify(v, notify);
}

/* set_str - replace a string field */
static int set_str(char **field, const char *v)
{
    free(*field);
    *field = strdup(v);
    return *field ? 0 : -1;
}

/* parse_time_key - the numeric keys; 1 when key was one of them */
static int parse_number_key(struct spool_env *env, const char *key, const char *v)
{
    static const char *const keys[] = {"time", "first", "last", "next"};
    time_t *fields[] = {&env->time, &env->first_attempt, &env->last_attempt,
                        &env->next_attempt};

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(key, keys[i]) == 0) {
            *fields[i] = (time_t) strtoll(v, NULL, 10);
            return 1;
        }
    if (strcmp(key, "uid") == 0)
        env->uid = (uid_t) strtol(v, NULL, 10);
    else if (strcmp(key, "size") == 0)
        env->size = strtoll(v, NULL, 10);
    else if (strcmp(key, "attempts") == 0)
        env->attempts = atoi(v);
    else if (strcmp(key, "dsn") == 0)
        env->is_dsn = atoi(v) != 0;    /* a flag: written back as "dsn 1" */
    else
        return 0;
    return 1;
}

/* parse_line - one "key value" line into env; -1 on a bad value */
static int parse_line(struct spool_env *env, const char *key, const char *v)
{
    if (parse_number_key(env, key, v))
        return 0;
    if (strcmp(key, "id") == 0)
        return spool_id_ok(v) ? (snprintf(env->id, sizeof(env->id), "%s", v), 0) : -1;
    if (strcmp(key, "sender") == 0)
        return set_str(&env->sender, v);
    if (strcmp(key, "rcpt") == 0)
        return spool_env_add(&env->rcpt, &env->nrcpt, v);
    if (strcmp(key, "done") == 0)
        return spool_env_add(&env->done, &env->ndone, v);
    if (strcmp(key, "failed") == 0)
        return spool_env_add(&env->failed, &env->nfailed, v);
    if (strcmp(key, "notify") == 0)
        return parse_notify(v, &env->notify);
    if (strcmp(key, "ret") == 0) {
        env->ret = strcasecmp(v, "full") == 0 ? DSN_RET_FULL : DSN_RET_HDRS;
        return 0;
    }
    if (strcmp(key, "envid") == 0)
        return set_str(&env->envid, v);
    if (strcmp(key, "error") == 0)
        return set_str(&env->error, v);
    return 0;                   /* unknown key: a newer writer's */
}

/* parse_lines - the envelope lines of text into env; 0 or -1 + err */
static int parse_lines(const char *text, size_t len, struct spool_env *env,
                       char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    char line[8192];
    size_t mlen = strlen(SPOOL_MAGIC);

    if (len < mlen + 1 || memcmp(text, SPOOL_MAGIC "\n", mlen + 1) != 0) {
        snprintf(err, errlen, "not an exorelay spool file (bad magic line)");
        return -1;
    }
    p += mlen + 1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL)
            break;
        size_t n = (size_t) (nl - p);
        if (n == 0) {
            env->body_offset = (off_t) (nl + 1 - text);
            return env->sender ? 0 : (snprintf(err, errlen, "no sender line"), -1);
        }
        /* a value holds no CR, LF or NUL (spool_env_format() writes none):
         * each becomes a line of the next state file or an SMTP command */
        if (n >= sizeof(line) || memchr(p, 0, n) || memchr(p, '\r', n)) {
            snprintf(err, errlen, "envelope line too long or with CR or NUL");
            return -1;
        }
        memcpy(line, p, n);
        line[n] = 0;
        char *sp = strchr(line, ' ');
        if (sp)
            *sp = 0;
        if (parse_line(env, line, sp ? sp + 1 : "") < 0) {
            snprintf(err, errlen, "bad envelope line \"%.60s\"", line);
            return -1;
        }
        p = nl + 1;
    }
    snprintf(err, errlen, "envelope not terminated by an empty line (torn file?)");
    return -1;
}

/* spool_env_parse - envelope lines up to the empty line (see spool.h);
 * on failure env is left empty */
int spool_env_parse(const char *text, size_t len, struct spool_env *env,
                    char *err, size_t errlen)
{
    memset(env, 0, sizeof(*env));
    if (parse_lines(text, len, env, err, errlen) == 0)
        return 0;
    spool_env_free(env);
    return -1;
}

/* read_envelope_text - read from fd until "\n\n" (envelope end) or limit */
static char *read_envelope_text(int fd, size_t *len, char *err, size_t errlen)
{
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);

    while (buf) {
        if (n == cap) {
            if (cap >= SPOOL_ENV_MAX)
                break;
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL)
                break;
            buf = nb;
        }
        ssize_t r = pread(fd, buf + n, cap - n, (off_t) n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(err, errlen, r < 0 ? "read: %s" : "file ends inside the envelope%s",
                     r < 0 ? strerror(errno) : "");
            free(buf);
            return NULL;
        }
        size_t from = n > 0 ? n - 1 : 0;
        n += (size_t) r;
        if (memmem(buf + from, n - from, "\n\n", 2)) {
            *len = n;
            return buf;
        }
    }
    free(buf);
    snprintf(err, errlen, "envelope too large or out of memory");
    return NULL;
}

/* spool_env_read - envelope of a spool file; checks the message size */
int spool_env_read(int fd, struct spool_env *env, char *err, size_t errlen)
{
    size_t len;
    char *text = read_envelope_text(fd, &len, err, errlen);
    struct stat st;

    if (text == NULL) {
        memset(env, 0, sizeof(*env));
        return -1;
    }
    int rc = spool_env_parse(text, len, env, err, errlen);
    free(text);
    if (rc < 0) {
        spool_env_free(env);
        return -1;
    }
    if (fstat(fd, &st) < 0 || st.st_size - env->body_offset != env->size) {
        snprintf(err, errlen, "message is %lld bytes, envelope says %lld (torn file)",
                 (long long) (st.st_size - env->body_offset), env->size);
        spool_env_free(env);
        return -1;
    }
    if (lseek(fd, env->body_offset, SEEK_SET) < 0) {
        snprintf(err, errlen, "lseek: %s", strerror(errno));
        spool_env_free(env);
        return -1;
    }
    return 0;
}

/* spool_open_locked - open path and take its flock without waiting.
 * -1 with errno EWOULDBLOCK (busy) or ENOENT (gone: also when the name
 * was renamed or removed between open and lock). */
int spool_open_locked(const char *path, int flags)
{
    struct stat a, b;
    int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        errno = EWOULDBLOCK;
        return -1;
    }
    if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino
        || a.st_dev != b.st_dev || a.st_nlink == 0) {
        close(fd);
        errno = ENOENT;
        return -1;
    }
    return fd;
}
