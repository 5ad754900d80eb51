/*
 * rewrite.c - what a classified message becomes (see rewrite.h).
 *
 * Exchange Online refuses a message whose envelope sender or From is not
 * the authenticated mailbox (554 5.2.252 SendAsDenied), so both become the
 * class's send_as. What the reader sees should not suffer: the display name
 * stays (or comes from send_as), replies still reach the original sender
 * (Reply-To), and the original is kept in a header for whoever debugs it.
 *
 * The original mailbox is the one addr_pick() finds in the first From
 * header: a malformed From still gets rewritten, and its text survives in
 * X-Exorelay-Original-From.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/addr.h"
#include "common/phrase.h"
#include "rewrite.h"

/* xasprintf - asprintf() that returns the string, NULL when out of memory */
static char *__attribute__((format(printf, 1, 2))) xasprintf(const char *fmt, ...)
{
    va_list ap;
    char   *out;
    int     r;

    va_start(ap, fmt);
    r = vasprintf(&out, fmt, ap);
    va_end(ap);
    return r < 0 ? NULL : out;
}

/* trimmed_copy - s[0..len) without surrounding white space */
static char *trimmed_copy(const char *s, size_t len)
{
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return strndup(s, len);
}

/* rewrite_split_send_as - "Display <addr>" or "addr" into its parts */
int rewrite_split_send_as(const char *send_as, char **display, char **addr)
{
    const char *lt = strrchr(send_as, '<'), *gt;

    *display = *addr = NULL;
    if (lt == NULL) {
        *addr = trimmed_copy(send_as, strlen(send_as));
    } else {
        gt = strchr(lt, '>');
        *addr = trimmed_copy(lt + 1, gt ? (size_t) (gt - lt - 1) : strlen(lt + 1));
        *display = trimmed_copy(send_as, (size_t) (lt - send_as));
        if (*display && **display == 0) {
            free(*display);
            *display = NULL;
        }
    }
    if (*addr == NULL || **addr == 0 || strchr(*addr, '@') == NULL) {
        free(*display);
        free(*addr);
        *display = *addr = NULL;
        return -1;
    }
    return 0;
}

/* original_display - the display name of the original mailbox, as a phrase */
static char *original_display(const struct mailbox *mb)
{
    if (mb == NULL)
        return strdup("");
    if (mb->display)
        return strdup(mb->display);     /* as written: intact */
    if (mb->comment)
        return phrase_make(mb->comment, 0);
    return strdup("");
}

/* mailbox_value - "display <addr>", or "addr" without a display name */
static char *mailbox_value(const char *display, const char *addr)
{
    if (display && *display)
        return xasprintf("%s <%s>", display, addr);
    return strdup(addr);
}

/* plan_from - the new From value and, when wanted, the Reply-To value */
static int plan_from(const struct rewrite_in *in, const char *as_display,
                     const char *as_addr, struct rewrite_out *out)
{
    struct addr_list list = {0};
    const struct mailbox *mb = NULL;
    char   *unfolded = NULL, *orig_disp = NULL, *disp = NULL;
    int     ret = -1;

    if (in->nfrom > 0) {
        if ((unfolded = addr_unfold(in->from[0])) == NULL
            || addr_parse(unfolded, &list) < 0)
            goto out;
        mb = addr_pick(&list);
    }
    if ((orig_disp = original_display(mb)) == NULL)
        goto out;
    disp = as_display ? phrase_make(as_display, 1) : strdup(orig_disp);
    if (disp == NULL || (out->from = mailbox_value(disp, as_addr)) == NULL)
        goto out;
    if (!in->has_reply_to) {
        const char *orig = mb && strchr(mb->addr, '@') ? mb->addr : in->env_from;

        if (orig[0] && strcasecmp(orig, as_addr) != 0
            && (out->reply_to = mailbox_value(orig == in->env_from ? NULL : orig_disp,
                                              orig)) == NULL)
            goto out;
    }
    ret = 0;
out:
    addr_list_free(&list);
    free(unfolded);
    free(orig_disp);
    free(disp);
    return ret;
}

/* plan_originals - the values that record the original sender */
static int plan_originals(const struct rewrite_in *in, struct rewrite_out *out)
{
    if (in->nfrom > 0
        && (out->orig_from = calloc(in->nfrom, sizeof(char *))) == NULL)
        return -1;
    for (size_t i = 0; i < in->nfrom; i++) {
        if ((out->orig_from[i] = addr_unfold(in->from[i])) == NULL)
            return -1;
        out->norig_from++;
    }
    if (out->env_from && (out->orig_sender = xasprintf("<%s>", in->env_from)) == NULL)
        return -1;
    return 0;
}

/* rewrite_plan - compute every change for a classified message */
int rewrite_plan(const struct rewrite_in *in, struct rewrite_out *out)
{
    const char *send_as = in->send_as && *in->send_as ? in->send_as : in->mailbox;
    char   *as_display = NULL, *as_addr = NULL;
    int     ret = -1;

    memset(out, 0, sizeof(*out));
    if (send_as == NULL || rewrite_split_send_as(send_as, &as_display, &as_addr) < 0)
        return -1;
    if (in->env_from[0] && strcasecmp(in->env_from, as_addr) != 0
        && (out->env_from = xasprintf("<%s>", as_addr)) == NULL)
        goto out;
    if (plan_from(in, as_display, as_addr, out) < 0 || plan_originals(in, out) < 0)
        goto out;
    if ((out->tag = xasprintf("class=%s; account=%s", in->class_name, in->account)) == NULL)
        goto out;
    ret = 0;
out:
    free(as_display);
    free(as_addr);
    if (ret < 0)
        rewrite_free(out);
    return ret;
}

/* rewrite_free - release what rewrite_plan() made */
void rewrite_free(struct rewrite_out *out)
{
    free(out->env_from);
    free(out->from);
    free(out->reply_to);
    free(out->tag);
    for (size_t i = 0; i < out->norig_from; i++)
        free(out->orig_from[i]);
    free(out->orig_from);
    free(out->orig_sender);
    memset(out, 0, sizeof(*out));
}
