/*
 * budget.c - per-mailbox usage of Exchange's sending limits (budget.h).
 *
 * One lock guards every record: the work under it is a few additions
 * over 1,440 minute buckets, and file writes happen outside it on a
 * snapshot. State file format, one item a line:
 *
 *	out_until EPOCH
 *	MINUTE RECIPIENTS MESSAGES        (MINUTE = epoch seconds / 60)
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "budget.h"
#include "common/log.h"
#include "support/file_replace.h"

#define NBUCKET   (BUDGET_WINDOW / 60)
#define OUT_GUESS 3600          /* out of quota, nothing counted here: retry after */
#define FLUSH_EVERY 5           /* seconds between writes of a busy record */

struct bucket {
    long long minute;
    unsigned rcpts;
    unsigned msgs;
};

struct budget {
    char    mailbox[256];
    struct bucket b[NBUCKET];
    long    reserved;
    time_t  out_until;
    int     dirty;
    int     writing;
    time_t  written;
    struct budget *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct budget *all;
static char *state_dir;

/* budget_persist - keep the records under dir from now on */
void budget_persist(const char *dir)
{
    pthread_mutex_lock(&lock);
    free(state_dir);
    state_dir = dir && *dir ? strdup(dir) : NULL;
    pthread_mutex_unlock(&lock);
}

/* file_name - {dir}/budget.<mailbox>, the address made safe for a name */
static void file_name(const char *dir, const char *mailbox, char *buf, size_t size)
{
    size_t  n = (size_t) snprintf(buf, size, "%s/budget.", dir);

    for (const char *p = mailbox; *p && n + 1 < size; p++)
        buf[n++] = (char) (isalnum((unsigned char) *p) || strchr("@.-_+", *p)
                           ? tolower((unsigned char) *p) : '_');
    buf[n < size ? n : size - 1] = 0;
}

/* load - read a state file into b; -1 when there is none */
static int load(struct budget *b, const char *path)
{
    FILE   *f = fopen(path, "r");
    char    line[128];
    long long m, t;
    unsigned r, n;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "out_until %lld", &t) == 1)
            b->out_until = (time_t) t;
        else if (sscanf(line, "%lld %u %u", &m, &r, &n) == 3 && m >= 0)
            b->b[m % NBUCKET] = (struct bucket) {m, r, n};
    }
    fclose(f);
    return 0;
}

/* budget_of - the record of a mailbox, made (and loaded) on first use */
struct budget *budget_of(const char *mailbox)
{
    struct budget *b;
    char    path[4352];

    pthread_mutex_lock(&lock);
    for (b = all; b != NULL; b = b->next)
        if (strcasecmp(b->mailbox, mailbox) == 0)
            break;
    if (b == NULL && (b = calloc(1, sizeof(*b))) != NULL) {
        snprintf(b->mailbox, sizeof(b->mailbox), "%s", mailbox);
        if (state_dir != NULL) {
            file_name(state_dir, mailbox, path, sizeof(path));
            load(b, path);
        }
        b->next = all;
        all = b;
    }
    pthread_mutex_unlock(&lock);
    return b;
}

/* counted - is bucket i inside the window that ends at minute now_min? */
static int counted(const struct budget *b, size_t i, long long now_min)
{
    return b->b[i].minute > now_min - NBUCKET && b->b[i].minute <= now_min;
}

/* used - recipients in the window (lock held) */
static long used(const struct budget *b, time_t now)
{
    long    sum = 0;

    for (size_t i = 0; i < NBUCKET; i++)
        if (counted(b, i, now / 60))
            sum += b->b[i].rcpts;
    return sum;
}

/* room_time - when need more recipients fit under limit, as buckets leave
 * the window oldest first: now if they fit, 0 if they never can (lock held) */
static time_t room_time(const struct budget *b, long limit, long need, time_t now)
{
    long long now_min = now / 60;
    long    total = used(b, now) + b->reserved;

    if (limit <= 0 || total + need <= limit)
        return now;
    for (long long m = now_min - NBUCKET + 1; m <= now_min; m++) {
        const struct bucket *k = &b->b[m % NBUCKET];
        if (k->minute != m)
            continue;
        total -= k->rcpts;
        if (total + need <= limit)
            return (time_t) ((m + NBUCKET) * 60);
    }
    return 0;
}

/* fits - room for nrcpt more; reserve them when asked */
static int fits(struct budget *b, long limit, size_t nrcpt, time_t now,
                time_t *room_at, int reserve)
{
    int     ok = 0;

    pthread_mutex_lock(&lock);
    if (b->out_until > now)
        *room_at = b->out_until;
    else if ((*room_at = room_time(b, limit, (long) nrcpt, now)) == now) {
        b->reserved += reserve ? (long) nrcpt : 0;
        ok = 1;
    }
    pthread_mutex_unlock(&lock);
    return ok;
}

/* budget_check - see budget.h */
int budget_check(struct budget *b, long limit, size_t nrcpt, time_t now, time_t *room_at)
{
    return fits(b, limit, nrcpt, now, room_at, 0);
}

/* budget_reserve - see budget.h */
int budget_reserve(struct budget *b, long limit, size_t nrcpt, time_t now,
                   time_t *room_at)
{
    return fits(b, limit, nrcpt, now, room_at, 1);
}

/* budget_settle - see budget.h */
void budget_settle(struct budget *b, size_t reserved, size_t accepted, time_t now)
{
    long long m = now / 60;
    struct bucket *k = &b->b[m % NBUCKET];

    pthread_mutex_lock(&lock);
    b->reserved -= (long) reserved;
    if (b->reserved < 0)
        b->reserved = 0;
    if (accepted > 0) {
        if (k->minute != m)
            *k = (struct bucket) {m, 0, 0};
        k->rcpts += (unsigned) accepted;
        k->msgs++;
        b->dirty = 1;
    }
    pthread_mutex_unlock(&lock);
    if (accepted > 0)
        budget_flush(0);
}

/* budget_exhausted - see budget.h */
void budget_exhausted(struct budget *b, long limit, time_t now)
{
    time_t  until = 0;
    char    text[32];

    (void) limit;
    pthread_mutex_lock(&lock);
    for (long long m = now / 60 - NBUCKET + 1; m <= now / 60 && until == 0; m++)
        if (b->b[m % NBUCKET].minute == m)
            until = (time_t) ((m + NBUCKET) * 60);
    if (until <= now)
        until = now + OUT_GUESS;
    b->out_until = until;
    b->dirty = 1;
    pthread_mutex_unlock(&lock);
    msg_warn("mailbox %s: Exchange's daily recipient quota is used up; left out of "
             "its pool until %s", b->mailbox, budget_time_text(until, text, sizeof(text)));
    budget_flush(1);
}

/* snapshot - the state file text of b (lock held); NULL if OOM */
static char *snapshot(const struct budget *b, time_t now, size_t *len)
{
    size_t  cap = 64 + NBUCKET * 40, n = 0;
    char   *buf = malloc(cap);

    if (buf == NULL)
        return NULL;
    n += (size_t) snprintf(buf + n, cap - n, "out_until %lld\n", (long long) b->out_until);
    for (size_t i = 0; i < NBUCKET; i++)
        if (counted(b, i, now / 60))
            n += (size_t) snprintf(buf + n, cap - n, "%lld %u %u\n", b->b[i].minute,
                                   b->b[i].rcpts, b->b[i].msgs);
    *len = n;
    return buf;
}

/* budget_flush - see budget.h */
void budget_flush(int force)
{
    time_t  now = time(NULL);
    char    path[4352];

    for (;;) {
        struct budget *b;
        char   *text = NULL;
        size_t  len = 0;

        pthread_mutex_lock(&lock);
        for (b = all; b != NULL; b = b->next)
            if (b->dirty && !b->writing && (force || now - b->written >= FLUSH_EVERY))
                break;
        if (b == NULL || state_dir == NULL) {
            pthread_mutex_unlock(&lock);
            return;
        }
        text = snapshot(b, now, &len);
        file_name(state_dir, b->mailbox, path, sizeof(path));
        b->dirty = 0;
        b->writing = 1;
        b->written = now;
        pthread_mutex_unlock(&lock);
        if (text == NULL || file_replace(path, text, len, 0600) < 0)
            msg_warn("cannot write %s: %s (recipient counts kept in memory)", path,
                     text ? strerror(errno) : "out of memory");
        free(text);
        pthread_mutex_lock(&lock);
        b->writing = 0;
        if (text == NULL)
            b->dirty = 1;
        pthread_mutex_unlock(&lock);
        if (text == NULL)
            return;
    }
}

/* view_of - the figures of b (lock held) */
static void view_of(const struct budget *b, long limit, time_t now, struct budget_view *v)
{
    long long m = now / 60;
    const struct bucket *k = &b->b[m % NBUCKET];

    v->used = used(b, now);
    v->reserved = b->reserved;
    v->left = limit > 0 ? limit - v->used - v->reserved : -1;
    if (limit > 0 && v->left < 0)
        v->left = 0;
    v->messages_minute = k->minute == m ? (long) k->msgs : 0;
    v->out_until = b->out_until > now ? b->out_until : 0;
    v->room_at = v->out_until ? v->out_until : room_time(b, limit, 1, now);
    if (v->room_at == now)
        v->room_at = 0;
}

/* budget_time_text - "2026-12-04 09:13 UTC" */
const char *budget_time_text(time_t t, char *buf, size_t size)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

/* budget_get - see budget.h */
void budget_get(struct budget *b, long limit, time_t now, struct budget_view *view)
{
    pthread_mutex_lock(&lock);
    view_of(b, limit, now, view);
    pthread_mutex_unlock(&lock);
}

/* budget_load_view - see budget.h */
int budget_load_view(const char *dir, const char *mailbox, long limit, time_t now,
                     struct budget_view *view)
{
    struct budget *b = calloc(1, sizeof(*b));
    char    path[4352];
    int     rc = -1;

    if (b == NULL)
        return -1;
    file_name(dir, mailbox, path, sizeof(path));
    if (load(b, path) == 0) {
        view_of(b, limit, now, view);
        rc = 0;
    }
    free(b);
    return rc;
}
