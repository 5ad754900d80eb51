/*
 * privs.h - give up root once the privileged work is done.
 *
 * SYNOPSIS
 *	int privs_drop(user, err, errlen)
 *		When running as root and user is set (not empty), switch to
 *		that user's uid, gid and supplementary groups for good (and
 *		check that root cannot be regained). 0 when done or nothing
 *		to do; -1 with the reason in err. Keeps privs_no_core() in
 *		force (a uid change resets the dumpable flag).
 *	void privs_no_core(void)
 *		No core dump, ever: core size limit 0 (soft and hard) and
 *		the process not dumpable (no core, no ptrace by the same
 *		user, /proc/PID/mem closed). Every program that may hold
 *		a client secret, a private key or a token calls it first:
 *		their memory (libcurl and OpenSSL buffers) holds them.
 */
#ifndef EXORELAY_PRIVS_H
#define EXORELAY_PRIVS_H

#include <stddef.h>

int privs_drop(const char *user, char *err, size_t errlen);
void privs_no_core(void);

#endif
