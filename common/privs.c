/*
 * privs.c - drop root after binding (see privs.h).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
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
    return 0;
}
