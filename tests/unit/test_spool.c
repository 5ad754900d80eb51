/*
 * test_spool.c - the spool format and its durable writer: round trips, torn
 * and forged files refused, modes, state files, the daemon liveness lock.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "spool/spool.h"
#include "tap.h"

static char spool[512];

static void sample_env(struct spool_env *env)
{
    memset(env, 0, sizeof(*env));
    env->time = 1700000000;
    env->uid = 1234;
    env->sender = strdup("alice@example.com");
    spool_env_add(&env->rcpt, &env->nrcpt, "bob@example.com");
    spool_env_add(&env->rcpt, &env->nrcpt, "\"carol x\"@example.org");
    env->notify = DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE;
    env->ret = DSN_RET_HDRS;
    env->envid = strdup("env-42");
}

static void test_ids(void)
{
    char a[SPOOL_ID_SIZE], b[SPOOL_ID_SIZE];

    spool_new_id(a);
    spool_new_id(b);
    ok(spool_id_ok(a), "a new ID is well-formed: %s", a);
    ok(strcmp(a, b) != 0, "two IDs differ");
    ok(!spool_id_ok("../../etc/passwd"), "a path is not an ID");
    ok(!spool_id_ok("t.0123456789ABCDEF0123"), "a temp name is not an ID");
    ok(!spool_id_ok("0123456789abcdef0123"), "lower-case hex is not an ID");
    ok(!spool_id_ok(""), "empty is not an ID");
}

static void test_roundtrip(void)
{
    struct spool_env env, back;
    char *text, err[256];
    size_t len;

    sample_env(&env);
    spool_new_id(env.id);
    env.size = 7;
    spool_env_add(&env.done, &env.ndone, "bob@example.com");
    env.attempts = 3;
    env.next_attempt = 1700000600;
    env.error = strdup("451 4.4.1 upstream down");
    ok(spool_env_format(&env, 1, &text, &len) == 0, "envelope with state formats");
    ok(spool_env_parse(text, len, &back, err, sizeof(err)) == 0, "and parses back");
    is_str(back.id, env.id, "id kept");
    is_str(back.sender, "alice@example.com", "sender kept");
    is_int(back.nrcpt, 2, "two recipients");
    is_str(back.rcpt[1], "\"carol x\"@example.org", "a quoted local part with a space kept");
    is_int(back.notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE, "NOTIFY kept");
    is_int(back.ret, DSN_RET_HDRS, "RET kept");
    is_str(back.envid, "env-42", "ENVID kept");
    is_int(back.attempts, 3, "attempts kept");
    is_int(back.next_attempt, 1700000600, "next attempt kept");
    is_str(back.error, "451 4.4.1 upstream down", "last error kept");
    ok(spool_rcpt_done(&back, "bob@example.com"), "done recipient kept");
    ok(!spool_rcpt_done(&back, "\"carol x\"@example.org"), "other recipient not done");
    is_int(back.body_offset, len, "message starts after the empty line");
    free(text);
    spool_env_free(&back);

    free(env.sender);
    env.sender = strdup("evil@example.com\nrcpt victim@example.com");
    ok(spool_env_format(&env, 0, &text, &len) < 0, "a line break in a value is refused");
    spool_env_free(&env);
}

static void test_parse_errors(void)
{
    struct spool_env env;
    char err[256];
    const char *nomagic = "id 0123456789ABCDEF0123\nsender a@b\n\nbody";
    const char *open_env = SPOOL_MAGIC "\nsender a@b\nrcpt c@d\n";
    const char *badid = SPOOL_MAGIC "\nid ../x\nsender a@b\n\n";
    const char *future = SPOOL_MAGIC "\nsender a@b\nfuturekey 1\nrcpt c@d\n\n";

    ok(spool_env_parse(nomagic, strlen(nomagic), &env, err, sizeof(err)) < 0,
       "no magic line: refused (%s)", err);
    spool_env_free(&env);
    ok(spool_env_parse(open_env, strlen(open_env), &env, err, sizeof(err)) < 0,
       "envelope without its empty line: refused (%s)", err);
    spool_env_free(&env);
    ok(spool_env_parse(badid, strlen(badid), &env, err, sizeof(err)) < 0,
       "a path as id: refused (%s)", err);
    spool_env_free(&env);
    ok(spool_env_parse(future, strlen(future), &env, err, sizeof(err)) == 0,
       "an unknown key is ignored");
    is_int(env.nrcpt, 1, "and the rest still read");
    spool_env_free(&env);

    /* found by fuzz_spool_file (issue 13) */
    const char *cr = SPOOL_MAGIC "\nsender a@b\nrcpt c@d\r\n\n";
    const char *noid = SPOOL_MAGIC "\nsender a@b\ndsn 14\nrcpt c@d\n\n";
    char   *text;
    size_t  len;
    struct spool_env back;

    ok(spool_env_parse(cr, strlen(cr), &env, err, sizeof(err)) < 0 && env.sender == NULL,
       "a CR in a value: refused, nothing left set (%s)", err);
    ok(spool_env_parse(noid, strlen(noid), &env, err, sizeof(err)) == 0
       && spool_env_format(&env, 1, &text, &len) == 0
       && spool_env_parse(text, len, &back, err, sizeof(err)) == 0,
       "an envelope without an id line is written back readable");
    ok(back.is_dsn == 1 && env.is_dsn == 1, "dsn is a flag: 14 reads as 1 both times");
    free(text);
    spool_env_free(&back);
    spool_env_free(&env);
}

/* count_dir - entries of spool/sub whose name starts with prefix */
static int count_dir(const char *sub, const char *prefix)
{
    char path[1024];
    struct dirent *de;
    int n = 0;

    snprintf(path, sizeof(path), "%s/%s", spool, sub);
    DIR *d = opendir(path);
    while (d && (de = readdir(d)) != NULL)
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

static void test_submit(void)
{
    struct spool_env env, back;
    char err[512], path[1024];
    const char *msg = "Subject: x\n\nhello\n";
    struct stat st;
    int fd = -1;

    sample_env(&env);
    is_int(spool_submit(spool, &env, msg, strlen(msg), &fd, err, sizeof(err)), EX_OK,
           "spool_submit writes a message");
    ok(fd >= 0 && spool_id_ok(env.id), "it returns the ID and an open file");
    spool_path(path, sizeof(path), spool, SPOOL_MAILDROP, env.id, NULL);
    memset(&st, 0, sizeof(st));
    int got = stat(path, &st);
    ok(got == 0 && (st.st_mode & 07777) == 0604,
       "maildrop file has mode 0604 (got %o)", (unsigned) (st.st_mode & 07777));
    is_int(count_dir(SPOOL_MAILDROP, "t."), 0, "no temp file is left behind");
    int fd2 = spool_open_locked(path, O_RDONLY);
    ok(fd2 < 0, "the submitter holds the lock (a runner cannot take it)");
    if (fd2 >= 0)
        close(fd2);
    close(fd);
    fd = open(path, O_RDONLY);
    ok(spool_env_read(fd, &back, err, sizeof(err)) == 0, "the file reads back");
    is_int(back.size, strlen(msg), "size line matches the message");
    char body[64] = {0};
    ok(read(fd, body, sizeof(body) - 1) == (ssize_t) strlen(msg) && strcmp(body, msg) == 0,
       "the reader is left at the message, which is intact");
    close(fd);
    spool_env_free(&back);

    /* A torn file (the size does not match) is refused. */
    fd = open(path, O_WRONLY | O_APPEND);
    ok(write(fd, "extra\n", 6) == 6, "append to the message");
    close(fd);
    fd = open(path, O_RDONLY);
    ok(spool_env_read(fd, &back, err, sizeof(err)) < 0 && strstr(err, "torn"),
       "a file longer than its size line is refused: %s", err);
    close(fd);
    spool_env_free(&env);

    char bad[600];
    snprintf(bad, sizeof(bad), "%s/no/such/dir", spool);
    sample_env(&env);
    is_int(spool_submit(bad, &env, msg, strlen(msg), NULL, err, sizeof(err)), EX_CANTCREAT,
           "an impossible spool is EX_CANTCREAT");
    ok(strstr(err, "no/such/dir") != NULL, "and the error names the path: %s", err);
    spool_env_free(&env);

    snprintf(bad, sizeof(bad), "%s/fresh", spool);
    sample_env(&env);
    is_int(spool_submit(bad, &env, msg, strlen(msg), NULL, err, sizeof(err)), EX_OK,
           "a spool that does not exist yet is created on first use");
    spool_env_free(&env);
}

static void test_state(void)
{
    struct spool_env env, st, merged;
    char path[1024];
    struct stat sb;

    sample_env(&env);
    spool_new_id(env.id);
    env.attempts = 2;
    env.error = strdup("451 4.3.2 try later");
    spool_env_add(&env.failed, &env.nfailed, "x@example.net\t550 5.1.1 no such user");
    ok(spool_state_write(spool, &env, 1) == 0, "state file written");
    spool_path(path, sizeof(path), spool, SPOOL_STATE, env.id, NULL);
    ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640, "state file mode 0640");
    is_int(spool_state_load(spool, env.id, &st), 1, "state file loads");
    is_str(st.sender, "alice@example.com", "with the envelope summary");
    is_int(st.attempts, 2, "and the attempts");
    ok(spool_rcpt_done(&st, "x@example.net"), "a failed recipient counts as done");
    spool_env_free(&st);

    sample_env(&merged);
    is_int(spool_state_read(spool, env.id, &merged), 1, "state merges into an envelope");
    is_str(merged.error, "451 4.3.2 try later", "error merged");
    is_int(merged.nfailed, 1, "failed list merged");
    spool_env_free(&merged);
    spool_state_remove(spool, env.id);
    is_int(spool_state_load(spool, env.id, &st), 0, "removed state is absent");
    spool_env_free(&env);
}

static void test_daemon_lock(void)
{
    char path[1024];
    int pipefd[2];
    long pid = 0;

    spool_path(path, sizeof(path), spool, SPOOL_PIDFILE, NULL, NULL);
    ok(!spool_daemon_running(spool, NULL), "no pid file: no daemon");
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    close(fd);
    ok(!spool_daemon_running(spool, NULL), "an unlocked pid file: no daemon");
    if (pipe(pipefd) < 0)
        return;
    pid_t child = fork();
    if (child == 0) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        int f = open(path, O_RDWR);
        fcntl(f, F_SETLK, &fl);
        ssize_t w = write(pipefd[1], "x", 1);
        (void) w;
        pause();
        _exit(0);
    }
    char c;
    ok(read(pipefd[0], &c, 1) == 1, "a child holds the write lock");
    ok(spool_daemon_running(spool, &pid), "the lock means a daemon runs");
    is_int(pid, child, "and names its pid");
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    ok(!spool_daemon_running(spool, NULL), "killed with SIGKILL: no daemon any more");

    child = fork();
    if (child == 0) {
        struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
        int f = open(path, O_RDONLY);
        fcntl(f, F_SETLK, &fl);
        ssize_t w = write(pipefd[1], "x", 1);
        (void) w;
        pause();
        _exit(0);
    }
    ok(read(pipefd[0], &c, 1) == 1, "a user holds a read lock on the pid file");
    ok(!spool_daemon_running(spool, NULL), "a read lock is not taken for a daemon");
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
}

int main(void)
{
    const char *tmp = getenv("TESTS_TMP") ? getenv("TESTS_TMP") : "/tmp";
    char err[256];

    snprintf(spool, sizeof(spool), "%s/spool.%ld", tmp, (long) getpid());
    ok(spool_make_dirs(spool, err, sizeof(err)) == 0, "spool layout created");
    struct stat st;
    char path[1024];
    snprintf(path, sizeof(path), "%s/maildrop", spool);
    ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 01770, "maildrop is 1770");
    snprintf(path, sizeof(path), "%s/queue", spool);
    ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0700, "queue is 0700");
    test_ids();
    test_roundtrip();
    test_parse_errors();
    test_submit();
    test_state();
    test_daemon_lock();
    return done_testing();
}
