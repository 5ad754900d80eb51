/*
 * classify.h - which notification class a message belongs to.
 *
 * SYNOPSIS
 *	const struct conf_class *classify(cfg, &facts)
 *		The first [class] whose rules all match, in file order, with
 *		the class named "default" tried last; NULL when none does.
 *		Rules: match_from (any glob matches the envelope sender or the
 *		From address; fnmatch, case-insensitive), match_subject (the
 *		ERE matches the unfolded Subject), and each match_header entry
 *		"Name: ERE" (some header of that name has a matching value).
 *		A class without any rule matches every message.
 *	int classify_is_local(local_domains, addr)
 *		1 when addr has no domain or its domain matches one of the
 *		globs in local_domains (case-insensitive), else 0.
 *	int classify_header_wanted(cfg, name)
 *		1 when some class has a match_header rule on this header name:
 *		only those headers need to be kept until end of message.
 */
#ifndef EXORELAY_CLASSIFY_H
#define EXORELAY_CLASSIFY_H

#include <stddef.h>

#include "common/config.h"

struct header {
    char   *name;
    char   *value;              /* unfolded */
};

struct classify_facts {
    const char *env_from;       /* bare envelope sender, "" for <> */
    const char *from_addr;      /* address of the From header, or NULL */
    const char *subject;        /* unfolded Subject, or NULL */
    const struct header *headers; /* headers wanted by match_header rules */
    size_t  nheaders;
};

#define CLASS_DEFAULT_NAME "default"

const struct conf_class *classify(const struct config *cfg,
                                  const struct classify_facts *facts);
int classify_is_local(const struct strlist *local_domains, const char *addr);
int classify_header_wanted(const struct config *cfg, const char *name);

#endif
