/*
 * privs.h - give up root once the privileged work is done.
 *
 * SYNOPSIS
 *	int privs_drop(user, err, errlen)
 *		When running as root and user is set (not empty), switch to
 *		that user's uid, gid and supplementary groups for good (and
 *		check that root cannot be regained). 0 when done or nothing
 *		to do; -1 with the reason in err.
 */
#ifndef EXORELAY_PRIVS_H
#define EXORELAY_PRIVS_H

#include <stddef.h>

int privs_drop(const char *user, char *err, size_t errlen);

#endif
