/*
 * msg.h - what the milter remembers about the message in progress.
 *
 * SYNOPSIS
 *	void msg_reset(&m)
 *		Forget everything (after end of message, abort, or close).
 *	int msg_mail(&m, argv)
 *		MAIL: argv[0] is the sender path, argv[1..] ESMTP parameters
 *		("SIZE=123"). Returns 0, or -1 when out of memory.
 *	int msg_header(&m, cfg, name, value)
 *		One header: keeps every From value, the first Subject, whether
 *		a Reply-To exists, how many X-Exorelay* headers of each name
 *		arrived, and the headers some match_header rule asks for.
 *		Returns 0, or -1 when out of memory (the message then fails
 *		at its end, with a temporary error).
 *	int msg_is_tag_header(name)
 *		"X-Exorelay" or "X-Exorelay-*", in any case: headers only this
 *		milter may write.
 */
#ifndef EXORELAY_MSG_H
#define EXORELAY_MSG_H

#include <stddef.h>

#include "classify.h"
#include "common/config.h"

struct tag_count {
    char   *name;               /* as first seen */
    int     count;              /* occurrences, any case */
};

struct msg {
    char   *env_from;           /* bare sender; NULL = no MAIL yet */
    long long size;             /* SIZE= of MAIL, -1 = not given */
    int     nrcpt;              /* recipients accepted */
    int     nrcpt_out;          /* of them outside local_domains */
    char  **from;               /* From values as received */
    size_t  nfrom;
    char   *subject;            /* first Subject, unfolded */
    int     has_reply_to;
    struct tag_count *tags;     /* X-Exorelay* headers that arrived */
    size_t  ntags;
    struct header *kept;        /* headers match_header rules need */
    size_t  nkept;
    int     oom;                /* something could not be recorded */
};

void msg_reset(struct msg *m);
int msg_mail(struct msg *m, char **argv);
int msg_header(struct msg *m, const struct config *cfg, const char *name,
               const char *value);
int msg_is_tag_header(const char *name);

#endif
