/*
 * cred_access.c - may this process read the credentials of every account?
 *
 * SYNOPSIS
 *	int credentials_readable(cfg, why, whylen)
 *		1 when every account's secret or private key file opens for
 *		reading; else 0 and the first problem in why. Used to decide
 *		whether a delivery can work from this process at all (root
 *		and the daemon's user can; an ordinary user running
 *		exorelay-sendmail cannot, by design).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cred_access.h"

int credentials_readable(const struct config *cfg, char *why, size_t whylen)
{
    for (size_t i = 0; i < cfg->naccounts; i++) {
        const struct conf_account *a = &cfg->accounts[i];
        const char *file = a->client_secret_file ? a->client_secret_file
                                                 : a->private_key_file;
        int fd = file ? open(file, O_RDONLY | O_CLOEXEC) : -1;
        if (fd < 0) {
            snprintf(why, whylen, "cannot read the credentials of [account %s]%s%s",
                     a->name, file ? ": " : "", file ? strerror(errno) : "");
            return 0;
        }
        close(fd);
    }
    return 1;
}
