/*
 * apply.c - ask the MTA for the header and sender changes (see apply.h).
 *
 * smfi_chgheader() names the n-th occurrence of a header name (counted
 * without regard to case, by Postfix and Sendmail alike), so occurrences
 * are removed from the last to the first: each removal leaves the indexes
 * of those still to go unchanged, whichever way the MTA counts removed
 * ones. Removals come before additions, so an index never meets a header
 * this milter added.
 */
#include <libmilter/mfapi.h>

#include "apply.h"

/* apply_remove_tags - delete every X-Exorelay* header that arrived */
int apply_remove_tags(SMFICTX *ctx, const struct msg *m)
{
    for (size_t t = 0; t < m->ntags; t++)
        for (int i = m->tags[t].count; i >= 1; i--)     /* last first: indexes stay valid */
            if (smfi_chgheader(ctx, m->tags[t].name, i, NULL) != MI_SUCCESS)
                return -1;
    return 0;
}

/* replace_from - the new From in place of the first, the others removed */
static int replace_from(SMFICTX *ctx, const struct msg *m, const char *from)
{
    if (m->nfrom == 0)
        return smfi_addheader(ctx, "From", (char *) from) == MI_SUCCESS ? 0 : -1;
    for (int i = (int) m->nfrom; i >= 2; i--)   /* kept in X-Exorelay-Original-From */
        if (smfi_chgheader(ctx, "From", i, NULL) != MI_SUCCESS)
            return -1;
    return smfi_chgheader(ctx, "From", 1, (char *) from) == MI_SUCCESS ? 0 : -1;
}

/* add_header - smfi_addheader() for a value that may be NULL (then nothing) */
static int add_header(SMFICTX *ctx, const char *name, const char *value)
{
    if (value == NULL)
        return 0;
    return smfi_addheader(ctx, (char *) name, (char *) value) == MI_SUCCESS ? 0 : -1;
}

/* apply_plan - ask the MTA for every change of a classified message */
int apply_plan(SMFICTX *ctx, const struct msg *m, const struct rewrite_out *p)
{
    if (p->env_from && smfi_chgfrom(ctx, p->env_from, NULL) != MI_SUCCESS)
        return -1;
    if (replace_from(ctx, m, p->from) < 0
        || add_header(ctx, "Reply-To", p->reply_to) < 0)
        return -1;
    for (size_t i = 0; i < p->norig_from; i++)
        if (add_header(ctx, REWRITE_ORIG_FROM_HEADER, p->orig_from[i]) < 0)
            return -1;
    if (add_header(ctx, REWRITE_ORIG_SENDER_HEADER, p->orig_sender) < 0)
        return -1;
    return add_header(ctx, REWRITE_TAG_HEADER, p->tag);
}
