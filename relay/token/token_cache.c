/*
 * token_cache.c - the state file of one account's token, shared by every
 * exorelay process on the host (daemon, exorelay token, exorelay-sendmail).
 *
 * SYNOPSIS
 *	int token_cache_path(params, buf, len)
 *		{state_dir}/token-{account}-{12 hex}.json, where the hex is
 *		SHA-256 of tenant, client id, authority and scope: two
 *		accounts, or two configs naming different apps, never share a
 *		file. -1 when there is no state_dir or the name is too long.
 *	int token_cache_lock(path)
 *		flock() on "path.lock" (created 0600, never removed, so every
 *		process locks the same inode). Waits at most 45 s (a request
 *		takes at most 30). The fd, or -1 (state directory missing and
 *		not creatable, not ours, lock not had in time).
 *	void token_cache_unlock(fd)
 *	int token_cache_read(path, params, credential, &state)
 *		1 and the state when the file is ours: same tenant, client
 *		id, authority, scope and credential fingerprint. 0 when it is
 *		missing, corrupt or foreign (logged, never fatal: the next
 *		write replaces it).
 *	int token_cache_write(path, params, credential, &state)
 *		Atomically: temp file (0600) in the same directory, write,
 *		fsync, rename, fsync the directory. 0 or -1 (logged).
 *	void token_state_clear(&state)
 *
 * Callers hold the lock around read-modify-write. When run as root the
 * files are given to the owner of the state directory, so that root
 * running "exorelay token" does not lock the daemon's user out.
 * XXX flock() does not lock across NFS clients: keep state_dir local.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "token_int.h"

#define STATE_VERSION   1
#define LOCK_WAIT_MAX   (TOKEN_TOTAL_TIMEOUT + 15)

/* name_part - the account name, reduced to file-name-safe characters */
static void name_part(const char *name, char *buf, size_t len)
{
    size_t i;

    for (i = 0; name[i] && i < len - 1 && i < 64; i++)
        buf[i] = (isalnum((unsigned char) name[i]) || name[i] == '-')
            ? name[i] : '_';
    buf[i] = 0;
}

/* token_cache_path - see above */
int token_cache_path(const struct token_params *p, char *buf, size_t len)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    char name[65], key[2048];
    int n;

    if (p->state_dir == NULL)
        return -1;
    n = snprintf(key, sizeof(key), "%s\n%s\n%s\n%s", p->tenant ? p->tenant : "",
                 p->client_id ? p->client_id : "", p->authority, p->scope);
    if (n < 0 || (size_t) n >= sizeof(key)
        || EVP_Digest(key, (size_t) n, digest, &dlen, EVP_sha256(), NULL) != 1)
        return -1;
    name_part(p->name, name, sizeof(name));
    n = snprintf(buf, len, "%s/token-%s-%02x%02x%02x%02x%02x%02x.json",
                 p->state_dir, name, digest[0], digest[1], digest[2],
                 digest[3], digest[4], digest[5]);
    return n < 0 || (size_t) n >= len ? -1 : 0;
}

/* give_to_dir_owner - as root, hand a new file to the state dir's owner */
static void give_to_dir_owner(int fd, const char *path)
{
    char dir[4096];
    char *slash;
    struct stat st;

    if (geteuid() != 0 || snprintf(dir, sizeof(dir), "%s", path) >= (int) sizeof(dir)
        || (slash = strrchr(dir, '/')) == NULL)
        return;
    *slash = 0;
    if (stat(dir, &st) == 0 && st.st_uid != 0 && fchown(fd, st.st_uid, st.st_gid) < 0)
        msg_warn("token: cannot give %s to uid %ld: %m", path, (long) st.st_uid);
}

/* make_state_dir - create the last component of the state dir if missing */
static void make_state_dir(const char *path)
{
    char dir[4096];
    char *slash;

    if (snprintf(dir, sizeof(dir), "%s", path) >= (int) sizeof(dir)
        || (slash = strrchr(dir, '/')) == NULL || slash == dir)
        return;
    *slash = 0;
    if (mkdir(dir, 0700) == 0)
        msg_info("token: created state directory %s", dir);
}

/* lock_bounded - flock, but give up after LOCK_WAIT_MAX seconds: a holder
 * that hangs (stopped, stuck on a dead NFS server) must not stop token
 * refreshes for good. The holder's own request ends within 30 s. */
static int lock_bounded(int fd)
{
    struct timespec pause = {0, 2 * 1000 * 1000};       /* 2 ms, doubling */
    time_t give_up = time(NULL) + LOCK_WAIT_MAX;

    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if ((errno != EWOULDBLOCK && errno != EINTR) || time(NULL) >= give_up)
            return -1;
        nanosleep(&pause, NULL);
        if (pause.tv_nsec < 100 * 1000 * 1000)
            pause.tv_nsec *= 2;
    }
    return 0;
}

/* token_cache_lock - see above */
int token_cache_lock(const char *path)
{
    char lock[4200];
    int fd;

    snprintf(lock, sizeof(lock), "%s.lock", path);
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == ENOENT) {
        make_state_dir(path);
        fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
    if (fd < 0) {
        msg_warn("token: cannot open %s: %m; tokens are not shared with other "
                 "exorelay processes", lock);
        return -1;
    }
    give_to_dir_owner(fd, lock);
    if (lock_bounded(fd) < 0) {
        msg_warn("token: cannot lock %s within %d s (%m); going on without "
                 "sharing this fetch", lock, LOCK_WAIT_MAX);
        close(fd);
        return -1;
    }
    return fd;
}

/* token_cache_unlock - let the next process in */
void token_cache_unlock(int fd)
{
    if (fd >= 0)
        close(fd);                      /* releases the flock */
}

/* token_state_clear - wipe the token, zero the rest */
void token_state_clear(struct token_state *st)
{
    secret_free(st->token);
    memset(st, 0, sizeof(*st));
}

/* read_small - the whole file into buf (at most TOKEN_REPLY_MAX); -1 if odd */
static ssize_t read_small(int fd, const char *path, char *buf)
{
    struct stat st;
    ssize_t n, got = 0;

    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TOKEN_REPLY_MAX) {
        msg_warn("token: ignoring state file %s: not a small regular file", path);
        return -1;
    }
    while (got < TOKEN_REPLY_MAX
           && (n = read(fd, buf + got, (size_t) (TOKEN_REPLY_MAX - got))) > 0)
        got += n;
    return got;
}

/* read_json - the file's JSON object, or NULL (missing, odd, not JSON) */
static json_t *read_json(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    char *buf;
    ssize_t len = -1;
    json_error_t jerr;
    json_t *root = NULL;

    if (fd < 0) {
        if (errno != ENOENT)
            msg_warn("token: ignoring state file %s: %m", path);
        return NULL;
    }
    if ((buf = malloc(TOKEN_REPLY_MAX)) != NULL)
        len = read_small(fd, path, buf);
    close(fd);
    if (len >= 0 && (root = json_loadb(buf, (size_t) len, 0, &jerr)) == NULL)
        msg_warn("token: ignoring corrupt state file %s (line %d: %s)", path,
                 jerr.line, jerr.text);
    else if (root && !json_is_object(root))
        msg_warn("token: ignoring corrupt state file %s (not a JSON object)", path);
    if (buf) {
        OPENSSL_cleanse(buf, len > 0 ? (size_t) len : 0);
        free(buf);
    }
    if (root && !json_is_object(root)) {
        json_decref(root);
        root = NULL;
    }
    return root;
}

/* field_is - does the file's string field equal want? */
static int field_is(json_t *root, const char *key, const char *want)
{
    const char *got = json_string_value(json_object_get(root, key));

    return got && strcmp(got, want ? want : "") == 0;
}

/* foreign_field - which field says the file is not ours; NULL if ours */
static const char *foreign_field(json_t *root, const struct token_params *p,
                                 const char *credential)
{
    if (json_integer_value(json_object_get(root, "version")) != STATE_VERSION)
        return "version";
    if (!field_is(root, "tenant", p->tenant))
        return "tenant";
    if (!field_is(root, "client_id", p->client_id))
        return "client_id";
    if (!field_is(root, "authority", p->authority))
        return "authority";
    if (!field_is(root, "scope", p->scope))
        return "scope";
    if (!field_is(root, "credential", credential))
        return "credential";
    return NULL;
}

/* read_failure - the last failure, so other processes do not repeat it */
static void read_failure(json_t *root, struct token_state *st)
{
    json_t *e = json_object_get(root, "last_error");

    st->failures = (int) json_integer_value(json_object_get(root, "failures"));
    st->retry_at = (time_t) json_integer_value(json_object_get(root, "retry_at"));
    if (!json_is_object(e))
        return;
    entra_diag_set(&st->diag,
                   json_is_true(json_object_get(e, "temporary")),
                   json_string_value(json_object_get(e, "cause")),
                   json_string_value(json_object_get(e, "fix")),
                   json_string_value(json_object_get(e, "detail")));
    st->diag.http_status = (int) json_integer_value(json_object_get(e, "http_status"));
    st->diag.aadsts = (long) json_integer_value(json_object_get(e, "aadsts"));
    st->diag.retry_after = (int) json_integer_value(json_object_get(e, "retry_after"));
}

/* token_cache_read - see above */
int token_cache_read(const char *path, const struct token_params *p,
                     const char *credential, struct token_state *st)
{
    json_t *root = read_json(path);
    json_t *tok;
    const char *foreign;

    memset(st, 0, sizeof(*st));
    if (root == NULL)
        return 0;
    if ((foreign = foreign_field(root, p, credential)) != NULL) {
        msg_info("token: account %s: state file %s is for another %s; it will "
                 "be replaced", p->name, path, foreign);
        json_decref(root);
        return 0;
    }
    tok = json_object_get(root, "access_token");
    if (json_is_string(tok) && json_string_length(tok) > 0) {
        st->token = secret_new(json_string_value(tok), json_string_length(tok));
        st->expires = (time_t) json_integer_value(json_object_get(root, "expires_at"));
        st->obtained = (time_t) json_integer_value(json_object_get(root, "obtained_at"));
    }
    read_failure(root, st);
    json_decref(root);
    return 1;
}

/* state_json - the file's content */
static json_t *state_json(const struct token_params *p, const char *credential,
                          const struct token_state *st)
{
    json_t *root = json_pack("{s:i, s:s, s:s?, s:s?, s:s, s:s, s:s}",
                             "version", STATE_VERSION, "account", p->name,
                             "tenant", p->tenant, "client_id", p->client_id,
                             "authority", p->authority, "scope", p->scope,
                             "credential", credential);

    if (root && st->token) {
        json_object_set_new(root, "access_token",
                            json_string(secret_reveal(st->token, NULL)));
        json_object_set_new(root, "expires_at", json_integer(st->expires));
        json_object_set_new(root, "obtained_at", json_integer(st->obtained));
    }
    if (root && st->failures > 0) {
        json_object_set_new(root, "failures", json_integer(st->failures));
        json_object_set_new(root, "retry_at", json_integer(st->retry_at));
        json_object_set_new(root, "last_error", json_pack(
            "{s:b, s:i, s:I, s:s, s:s, s:s, s:i}",
            "temporary", st->diag.temporary, "http_status", st->diag.http_status,
            "aadsts", (json_int_t) st->diag.aadsts, "cause", st->diag.cause,
            "fix", st->diag.fix, "detail", st->diag.detail,
            "retry_after", st->diag.retry_after));
    }
    return root;
}

/* fsync_dir - make the rename durable */
static void fsync_dir(const char *path)
{
    char dir[4096];
    char *slash;
    int fd;

    snprintf(dir, sizeof(dir), "%s", path);
    if ((slash = strrchr(dir, '/')) == NULL)
        return;
    *slash = 0;
    if ((fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void) fsync(fd);
        close(fd);
    }
}

/* token_cache_write - see above */
int token_cache_write(const char *path, const struct token_params *p,
                      const char *credential, const struct token_state *st)
{
    char tmp[4200];
    json_t *root = state_json(p, credential, st);
    int fd, ok;

    snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
    if (root == NULL || (fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        msg_warn("token: cannot write %s: %m", path);
        json_decref(root);
        return -1;
    }
    give_to_dir_owner(fd, path);
    ok = fchmod(fd, 0600) == 0 && json_dumpfd(root, fd, JSON_INDENT(1)) == 0
        && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    json_decref(root);
    if (close(fd) < 0 || !ok || rename(tmp, path) < 0) {
        msg_warn("token: cannot write %s: %m", path);
        unlink(tmp);
        return -1;
    }
    fsync_dir(path);
    return 0;
}
