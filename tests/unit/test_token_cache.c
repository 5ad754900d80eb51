/*
 * test_token_cache.c - the state file: one per account and app, mode 0600,
 * written atomically, a foreign or corrupt file ignored (and replaced),
 * the failure record kept, and the lock shared across processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "token/token_int.h"

static char dir[512];

static struct token_params params(const char *name, const char *tenant, const char *client)
{
    struct token_params p = {0};

    p.name = (char *) name;
    p.tenant = (char *) tenant;
    p.client_id = (char *) client;
    p.authority = "https://login.microsoftonline.com";
    p.scope = "https://outlook.office365.com/.default";
    p.state_dir = dir;
    return p;
}

static void check_names(void)
{
    struct token_params a = params("main", "contoso.com", "c1"), b = params("alarms", "contoso.com", "c1");
    struct token_params c = params("main", "fabrikam.com", "c1"), d = params("main", "contoso.com", "c2");
    struct token_params e = params("../../etc/x", "contoso.com", "c1");
    char pa[4096], pb[4096], pc[4096], pd[4096], pe[4096], pa2[4096];

    token_cache_path(&a, pa, sizeof(pa));
    token_cache_path(&b, pb, sizeof(pb));
    token_cache_path(&c, pc, sizeof(pc));
    token_cache_path(&d, pd, sizeof(pd));
    token_cache_path(&e, pe, sizeof(pe));
    token_cache_path(&a, pa2, sizeof(pa2));
    ok(strncmp(pa, dir, strlen(dir)) == 0, "the file is under state_dir: %s", pa + strlen(dir));
    ok(strcmp(pa, pb) != 0, "two accounts, two files");
    ok(strcmp(pa, pc) != 0, "two tenants, two files");
    ok(strcmp(pa, pd) != 0, "two client ids, two files");
    is_str(pa, pa2, "the same account, the same file");
    ok(strchr(pe + strlen(dir) + 1, '/') == NULL, "an odd account name cannot leave the directory: %s",
       pe + strlen(dir));
    a.state_dir = NULL;
    ok(token_cache_path(&a, pa, sizeof(pa)) < 0, "no state_dir, no file");
}

static void check_round_trip(void)
{
    struct token_params p = params("main", "contoso.com", "c1");
    struct token_state st = {0}, back;
    char path[4096];
    struct stat sb;
    FILE *fp;

    token_cache_path(&p, path, sizeof(path));
    st.token = secret_new("tok-ABC", 7);
    st.expires = 2000000000;
    st.obtained = 1999996400;
    ok(token_cache_write(path, &p, "secret:sha256:01020304", &st) == 0, "write");
    /* stat() first: the arguments of ok() are evaluated in any order. */
    if (stat(path, &sb) < 0)
        sb.st_mode = 0;
    ok((sb.st_mode & 0777) == 0600, "mode 0600 (%o)", sb.st_mode & 0777);
    ok(token_cache_read(path, &p, "secret:sha256:01020304", &back) == 1, "read back");
    ok(secret_equal(back.token, st.token), "same token");
    is_int(back.expires, 2000000000, "same expiry");
    is_int(back.obtained, 1999996400, "same obtained time");
    is_int(back.failures, 0, "no failure recorded");
    token_state_clear(&back);

    ok(token_cache_read(path, &p, "secret:sha256:ffffffff", &back) == 0 && back.token == NULL,
       "another credential: the file is foreign");
    struct token_params q = params("main", "contoso.com", "c1");
    q.scope = "https://graph.microsoft.com/.default";
    ok(token_cache_read(path, &q, "secret:sha256:01020304", &back) == 0, "another scope: foreign");

    st.failures = 3;
    st.retry_at = 2000000100;
    entra_diag_set(&st.diag, 0, "the client secret is wrong (AADSTS7000215)", "use the Value", "HTTP 401");
    st.diag.aadsts = 7000215;
    st.diag.http_status = 401;
    token_cache_write(path, &p, "secret:sha256:01020304", &st);
    token_cache_read(path, &p, "secret:sha256:01020304", &back);
    is_int(back.failures, 3, "failure count kept");
    is_int(back.retry_at, 2000000100, "retry time kept");
    is_str(back.diag.cause, "the client secret is wrong (AADSTS7000215)", "last cause kept");
    is_int(back.diag.aadsts, 7000215, "last AADSTS kept");
    ok(secret_equal(back.token, st.token), "the token stays beside a failure");
    token_state_clear(&back);

    fp = fopen(path, "w");
    fputs("{\"version\":1, \"tenant\": \"contoso.com\", \"access", fp);
    fclose(fp);
    ok(token_cache_read(path, &p, "secret:sha256:01020304", &back) == 0, "a corrupt file is ignored");
    ok(token_cache_write(path, &p, "secret:sha256:01020304", &st) == 0
       && token_cache_read(path, &p, "secret:sha256:01020304", &back) == 1, "and replaced");
    token_state_clear(&back);
    fp = fopen(path, "w");
    fputs("[1,2,3]\n", fp);
    fclose(fp);
    ok(token_cache_read(path, &p, "secret:sha256:01020304", &back) == 0, "JSON that is not an object is ignored");
    unlink(path);
    ok(token_cache_read(path, &p, "secret:sha256:01020304", &back) == 0, "a missing file is no token");
    token_state_clear(&st);

    char tmpl[4200];
    snprintf(tmpl, sizeof(tmpl), "ls %s | grep -c tmp >/dev/null", dir);
    ok(system(tmpl) != 0, "no temporary file is left behind");
}

static void check_lock(void)
{
    struct token_params p = params("main", "contoso.com", "c1");
    char path[4096], lock[4200];
    int pipefd[2], release[2], fd;
    pid_t pid;
    char c;

    token_cache_path(&p, path, sizeof(path));
    snprintf(lock, sizeof(lock), "%s.lock", path);
    if (pipe(pipefd) < 0 || pipe(release) < 0)
        return;
    if ((pid = fork()) == 0) {          /* holds the lock until told */
        int l = token_cache_lock(path);
        if (write(pipefd[1], "x", 1) != 1 || read(release[0], &c, 1) != 1)
            _exit(1);
        token_cache_unlock(l);
        _exit(0);
    }
    if (read(pipefd[0], &c, 1) != 1)
        return;
    fd = open(lock, O_RDWR);
    ok(flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK, "another process holds the lock");
    if (write(release[1], "x", 1) != 1)
        return;
    int l2 = token_cache_lock(path);
    ok(l2 >= 0, "and the lock is ours once it lets go");
    token_cache_unlock(l2);
    close(fd);
    waitpid(pid, NULL, 0);
    close(pipefd[0]); close(pipefd[1]); close(release[0]); close(release[1]);
    struct stat sb;
    ok(stat(lock, &sb) == 0 && (sb.st_mode & 0777) == 0600, "lock file mode 0600");

    struct token_params m = params("main", "contoso.com", "c1");
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/newdir", dir);
    m.state_dir = sub;
    token_cache_path(&m, path, sizeof(path));
    l2 = token_cache_lock(path);
    ok(l2 >= 0 && stat(sub, &sb) == 0 && (sb.st_mode & 0777) == 0700,
       "a missing state directory is created 0700");
    token_cache_unlock(l2);
    m.state_dir = "/nonexistent/deeper/dir";
    token_cache_path(&m, path, sizeof(path));
    ok(token_cache_lock(path) < 0, "an impossible state directory: no lock, no crash");
}

int main(void)
{
    const char *tmp = getenv("TESTS_TMP") ? getenv("TESTS_TMP") : "/tmp";

    snprintf(dir, sizeof(dir), "%s/cache.%ld", tmp, (long) getpid());
    mkdir(dir, 0700);
    check_names();
    check_round_trip();
    check_lock();
    return done_testing();
}
