/*
 * mconf.h - the milter's current configuration, reloadable while mail flows.
 *
 * SYNOPSIS
 *	int mconf_load(path)
 *		Load and validate the config file. On success it becomes the
 *		current one for messages that start from now on; the previous
 *		one is freed when the last message holding it ends. On failure
 *		every problem is logged and the current config stays. 0 or -1.
 *	struct mconf *mconf_acquire(void)
 *		The current config with one more reference (NULL before the
 *		first successful load). Each message holds one from MAIL to
 *		its end, so a reload never changes rules under a message.
 *	void mconf_release(mc)
 *		Drop a reference (NULL is ignored).
 *	void mconf_shutdown(void)
 *		Drop the current config (at exit).
 *
 * Thread-safe: one mutex guards the current pointer and the counts.
 */
#ifndef EXORELAY_MCONF_H
#define EXORELAY_MCONF_H

#include "common/config.h"

struct mconf {
    struct config *cfg;
    int     refs;
};

int mconf_load(const char *path);
struct mconf *mconf_acquire(void);
void mconf_release(struct mconf *mc);
void mconf_shutdown(void);

#endif
