/*
 * msg.c - what the milter remembers about the message in progress (see msg.h).
 *
 * Only what the end of message needs is kept: the From values (all of
 * them, so none is lost when they are rewritten), the first Subject, the
 * headers named by match_header rules, and a count per X-Exorelay* name,
 * because smfi_chgheader() removes the n-th occurrence of a name.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/addr.h"
#include "msg.h"

#define TAG_PREFIX      "X-Exorelay"
#define TAG_PREFIX_LEN  (sizeof(TAG_PREFIX) - 1)

/* msg_reset - forget the message */
void msg_reset(struct msg *m)
{
    free(m->env_from);
    for (size_t i = 0; i < m->nfrom; i++)
        free(m->from[i]);
    free(m->from);
    free(m->subject);
    for (size_t i = 0; i < m->ntags; i++)
        free(m->tags[i].name);
    free(m->tags);
    for (size_t i = 0; i < m->nkept; i++) {
        free(m->kept[i].name);
        free(m->kept[i].value);
    }
    free(m->kept);
    memset(m, 0, sizeof(*m));
    m->size = -1;
}

/* msg_mail - the envelope sender and its SIZE= parameter */
int msg_mail(struct msg *m, char **argv)
{
    msg_reset(m);
    if ((m->env_from = addr_envelope(argv[0] ? argv[0] : "")) == NULL)
        return -1;
    for (int i = 1; argv[0] && argv[i]; i++) {
        if (strncasecmp(argv[i], "SIZE=", 5) == 0) {
            char   *end;
            long long size = strtoll(argv[i] + 5, &end, 10);

            if (end != argv[i] + 5 && *end == 0 && size >= 0)
                m->size = size;
        }
    }
    return 0;
}

/* msg_is_tag_header - a header only this milter may write */
int msg_is_tag_header(const char *name)
{
    return strncasecmp(name, TAG_PREFIX, TAG_PREFIX_LEN) == 0
        && (name[TAG_PREFIX_LEN] == 0 || name[TAG_PREFIX_LEN] == '-');
}

/* count_tag - one more occurrence of an X-Exorelay* header name */
static int count_tag(struct msg *m, const char *name)
{
    struct tag_count *v;

    for (size_t i = 0; i < m->ntags; i++) {
        if (strcasecmp(m->tags[i].name, name) == 0) {
            m->tags[i].count++;
            return 0;
        }
    }
    if ((v = realloc(m->tags, (m->ntags + 1) * sizeof(*v))) == NULL)
        return -1;
    m->tags = v;
    if ((v[m->ntags].name = strdup(name)) == NULL)
        return -1;
    v[m->ntags++].count = 1;
    return 0;
}

/* append_string - add a copy of s to a string vector */
static int append_string(char ***vec, size_t *n, const char *s)
{
    char  **v = realloc(*vec, (*n + 1) * sizeof(*v));

    if (v == NULL)
        return -1;
    *vec = v;
    if ((v[*n] = strdup(s)) == NULL)
        return -1;
    (*n)++;
    return 0;
}

/* keep_header - remember a header for match_header rules */
static int keep_header(struct msg *m, const char *name, const char *value)
{
    struct header *v = realloc(m->kept, (m->nkept + 1) * sizeof(*v));

    if (v == NULL)
        return -1;
    m->kept = v;
    v[m->nkept].name = strdup(name);
    v[m->nkept].value = addr_unfold(value);
    if (v[m->nkept].name == NULL || v[m->nkept].value == NULL) {
        free(v[m->nkept].name);
        free(v[m->nkept].value);
        return -1;
    }
    m->nkept++;
    return 0;
}

/* record_header - msg_header() without the out-of-memory bookkeeping */
static int record_header(struct msg *m, const struct config *cfg,
                         const char *name, const char *value)
{
    if (strcasecmp(name, "From") == 0 && append_string(&m->from, &m->nfrom, value) < 0)
        return -1;
    if (strcasecmp(name, "Subject") == 0 && m->subject == NULL
        && (m->subject = addr_unfold(value)) == NULL)
        return -1;
    if (strcasecmp(name, "Reply-To") == 0)
        m->has_reply_to = 1;
    if (msg_is_tag_header(name) && count_tag(m, name) < 0)
        return -1;
    if (cfg && classify_header_wanted(cfg, name) && keep_header(m, name, value) < 0)
        return -1;
    return 0;
}

/* msg_header - record what the end of message needs from one header */
int msg_header(struct msg *m, const struct config *cfg, const char *name,
               const char *value)
{
    if (record_header(m, cfg, name, value ? value : "") < 0) {
        m->oom = 1;
        return -1;
    }
    return 0;
}
