/*
 * privs.c - drop root after binding (see privs.h).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privs.h"

/* privs_drop - become user for good */
int privs_drop(const char *user, char *err, size_t errlen)
{
    struct passwd *pw;

    if (geteuid() != 0 || user == NULL || *user == 0)
        return 0;
    if ((pw = getpwnam(user)) == NULL) {
        snprintf(err, errlen, "user %s: no such user (create it, e.g. useradd"
                 " --system %s, or set user = to an existing one)", user, user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0
        || setuid(pw->pw_uid) < 0) {
        snprintf(err, errlen, "cannot switch to user %s: %s", user, strerror(errno));
        return -1;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        snprintf(err, errlen, "switched to user %s but root could be regained", user);
        return -1;
    }
    privs_no_core();            /* setuid() resets the dumpable flag */
    return 0;
}

#ifdef __SANITIZE_ADDRESS__
/* dumpable_again - LeakSanitizer inspects the process at exit through
 * ptrace, which a non-dumpable process refuses: allow it then (ASan
 * builds only; the core limit stays 0) */
static void dumpable_again(void)
{
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}
#endif

/* privs_no_core - see privs.h */
void privs_no_core(void)
{
    struct rlimit none = {0, 0};

    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#ifdef __SANITIZE_ADDRESS__
    static int registered;
    if (!registered++)
        atexit(dumpable_again);
#endif
}
