/*
 * classify.c - which notification class a message belongs to (see classify.h).
 *
 * The regular expressions were compiled by the config loader (subject_re,
 * header_re[]); regexec() on a shared compiled pattern is thread-safe, so
 * every milter thread reads the same config without locks.
 */
#include <fnmatch.h>
#include <regex.h>
#include <string.h>
#include <strings.h>

#include "common/addr.h"
#include "classify.h"

/* glob_match - addr matches one of the globs, case-insensitively */
static int glob_match(const struct strlist *globs, const char *addr)
{
    for (size_t i = 0; i < globs->n; i++)
        if (fnmatch(globs->v[i], addr, FNM_CASEFOLD) == 0)
            return 1;
    return 0;
}

/* rule_name_len - length of the header name in a "Name: ERE" entry */
static size_t rule_name_len(const char *entry)
{
    const char *colon = strchr(entry, ':');
    size_t  len = colon ? (size_t) (colon - entry) : strlen(entry);

    while (len > 0 && (entry[len - 1] == ' ' || entry[len - 1] == '\t'))
        len--;
    return len;
}

/* same_name - header name equals the name part of a rule entry */
static int same_name(const char *entry, const char *name)
{
    size_t  len = rule_name_len(entry);

    return strncasecmp(entry, name, len) == 0 && name[len] == 0;
}

/* header_rule_matches - some header named by entry i has a matching value */
static int header_rule_matches(const struct conf_class *cl, size_t i,
                               const struct classify_facts *f)
{
    for (size_t h = 0; h < f->nheaders; h++)
        if (same_name(cl->match_header.v[i], f->headers[h].name)
            && regexec(&cl->header_re[i], f->headers[h].value, 0, NULL, 0) == 0)
            return 1;
    return 0;
}

/* class_matches - every rule of the class matches the message */
static int class_matches(const struct conf_class *cl, const struct classify_facts *f)
{
    if (cl->match_from.n > 0
        && !glob_match(&cl->match_from, f->env_from)
        && !(f->from_addr && glob_match(&cl->match_from, f->from_addr)))
        return 0;
    if (cl->match_subject
        && !(f->subject && regexec(&cl->subject_re, f->subject, 0, NULL, 0) == 0))
        return 0;
    for (size_t i = 0; i < cl->match_header.n; i++)
        if (!header_rule_matches(cl, i, f))
            return 0;
    return 1;
}

/* classify - first matching class, the "default" class last */
const struct conf_class *classify(const struct config *cfg,
                                  const struct classify_facts *facts)
{
    const struct conf_class *fallback = NULL;

    for (size_t i = 0; i < cfg->nclasses; i++) {
        const struct conf_class *cl = &cfg->classes[i];

        if (strcasecmp(cl->name, CLASS_DEFAULT_NAME) == 0)
            fallback = cl;
        else if (class_matches(cl, facts))
            return cl;
    }
    return fallback && class_matches(fallback, facts) ? fallback : NULL;
}

/* classify_is_local - addr stays on this host (or has no domain at all) */
int classify_is_local(const struct strlist *local_domains, const char *addr)
{
    const char *domain = addr_domain(addr);

    return domain == NULL || *domain == 0 || glob_match(local_domains, domain);
}

/* classify_header_wanted - some match_header rule names this header */
int classify_header_wanted(const struct config *cfg, const char *name)
{
    for (size_t c = 0; c < cfg->nclasses; c++)
        for (size_t i = 0; i < cfg->classes[c].match_header.n; i++)
            if (same_name(cfg->classes[c].match_header.v[i], name))
                return 1;
    return 0;
}
