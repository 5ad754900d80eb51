/*
 * fuzz_milter_rewrite.c - libFuzzer target: the milter's sender rewrite
 * (milter/rewrite.c) with the address parser (milter/addr.c) and the
 * display-name maker (milter/phrase.c) underneath.
 *
 * Input: byte 0 holds flags (bit 0: the message has a Reply-To; bits 1-2:
 * how many From headers, 0-3; bit 3: send_as empty, so the mailbox is
 * used), then NUL-separated fields: envelope sender, send_as (or
 * mailbox), the From header values (folded lines allowed: anyone who can
 * send mail, a guest typing a name into a portal, writes these).
 *
 * send_as and the mailbox come from the config, so only values that
 * config_load() accepts are tried (cv_send_as, cv_mailbox); the envelope
 * sender is an SMTP argument, so it holds no CR or LF.
 *
 * Invariants:
 *  - rewrite_plan() fails exactly when send_as (or the mailbox) holds no
 *    address;
 *  - no value it makes holds a CR or LF (no header can be injected);
 *  - the new From names exactly one mailbox, the send_as address; a
 *    Reply-To names the original address (when that is a plain one);
 *  - the envelope sender changes unless it is the null sender or already
 *    send_as (case-insensitive), and then it is "<send_as address>" and
 *    the original is recorded;
 *  - every original From is recorded, unfolded;
 *  - phrase_make() of the original comment or of any text gives a display
 *    name that parses back as one display name in front of an address.
 */
#include <ctype.h>
#include <strings.h>

#include "addr.h"
#include "conf_value.h"
#include "fuzz.h"
#include "phrase.h"
#include "rewrite.h"

/* next_field - the NUL-terminated field at *p (or "" past the end) */
static const char *next_field(const char **p, const char *end)
{
    const char *f = *p;

    if (f >= end)
        return "";
    *p = f + strlen(f) + 1;             /* the input ends with an added NUL */
    return f;
}

/* no_line_end - a value fit for a header */
static void no_line_end(const char *v)
{
    if (v)
        CHECK(strpbrk(v, "\r\n") == NULL);
}

/* plain_addr - a simple addr-spec: atext and dots, one "@" */
static int plain_addr(const char *a)
{
    const char *at = strchr(a, '@');

    if (at == NULL || at == a || at[1] == 0 || strchr(at + 1, '@'))
        return 0;
    for (; *a; a++)
        if (!isalnum((unsigned char) *a) && !strchr(".-_+@", *a))
            return 0;
    return 1;
}

/* names_only - value parses to one mailbox with address addr */
static void names_only(const char *value, const char *addr)
{
    struct addr_list list;

    CHECK(addr_parse(value, &list) == 0);
    CHECK(list.n == 1 && strcmp(list.v[0].addr, addr) == 0);
    addr_list_free(&list);
}

/* check_phrase - a made display name parses back as one (the text has no
 * line ends: it comes from an unfolded header, the config or an SMTP line) */
static void check_phrase(const char *raw, int may_encode)
{
    char   *text = addr_unfold(raw);
    char   *ph = phrase_make(text, may_encode), *value;

    CHECK(ph != NULL);
    no_line_end(ph);
    if (asprintf(&value, "%s <a@b.example>", ph) < 0)
        abort();
    names_only(value, "a@b.example");
    free(value);
    free(ph);
    free(text);
}

/* check_reply_to - Reply-To names the original sender's address */
static void check_reply_to(const struct rewrite_in *in, const char *reply_to)
{
    struct addr_list list = {0};
    const struct mailbox *mb = NULL;
    char   *u = NULL;
    const char *orig;

    if (in->nfrom > 0) {
        u = addr_unfold(in->from[0]);
        CHECK(addr_parse(u, &list) == 0);
        mb = addr_pick(&list);
    }
    orig = mb && strchr(mb->addr, '@') ? mb->addr : in->env_from;
    if (plain_addr(orig))
        names_only(reply_to, orig);
    addr_list_free(&list);
    free(u);
}

/* config_accepts - send_as and mailbox as config_load() lets them through */
static int config_accepts(const struct rewrite_in *in)
{
    char    err[1024];

    return cv_mailbox(in->mailbox, err, sizeof(err)) == 0
        && (in->send_as[0] == 0 || cv_send_as(in->send_as, err, sizeof(err)) == 0);
}

/* check_plan - the plan for one input */
static void check_plan(const struct rewrite_in *in)
{
    struct rewrite_out out;
    const char *sa = in->send_as && *in->send_as ? in->send_as : in->mailbox;
    char   *disp, *addr;
    int     split = rewrite_split_send_as(sa, &disp, &addr);
    int     rc = rewrite_plan(in, &out);

    CHECK(rc == split);
    if (rc < 0)
        return;
    no_line_end(out.env_from);
    no_line_end(out.from);
    no_line_end(out.reply_to);
    no_line_end(out.tag);
    no_line_end(out.orig_sender);
    CHECK(out.from != NULL && out.tag != NULL);
    names_only(out.from, addr);         /* addr passed cv_mailbox */
    if (in->env_from[0] == 0 || strcasecmp(in->env_from, addr) == 0) {
        CHECK(out.env_from == NULL && out.orig_sender == NULL);
    } else {
        CHECK(out.env_from && out.env_from[0] == '<');
        CHECK(strncmp(out.env_from + 1, addr, strlen(addr)) == 0);
        CHECK(strcmp(out.env_from + 1 + strlen(addr), ">") == 0);
        CHECK(out.orig_sender != NULL);
    }
    CHECK(out.norig_from == in->nfrom);
    for (size_t i = 0; i < in->nfrom; i++) {
        char   *u = addr_unfold(in->from[i]);

        CHECK(strcmp(out.orig_from[i], u) == 0);
        free(u);
        no_line_end(out.orig_from[i]);
    }
    CHECK(!(in->has_reply_to && out.reply_to));
    if (out.reply_to)
        check_reply_to(in, out.reply_to);
    free(disp);
    free(addr);
    rewrite_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rewrite_in in;
    char   *buf, *from[3];
    const char *p, *end;
    size_t  nfrom;

    if (size < 1)
        return 0;
    buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = 0;
    p = buf + 1;
    end = buf + size;

    memset(&in, 0, sizeof(in));
    in.has_reply_to = data[0] & 1;
    nfrom = (data[0] >> 1) & 3;
    in.env_from = next_field(&p, end);
    if (data[0] & 8) {
        in.send_as = "";
        in.mailbox = next_field(&p, end);
    } else {
        in.send_as = next_field(&p, end);
        in.mailbox = "no-reply@contoso.example";
    }
    for (size_t i = 0; i < nfrom; i++)
        from[i] = (char *) next_field(&p, end);
    in.from = from;
    in.nfrom = nfrom;
    if (strpbrk(in.env_from, "\r\n") || !config_accepts(&in)) {
        free(buf);
        return 0;
    }
    in.class_name = "guest";
    in.account = "main";

    check_plan(&in);
    check_phrase(in.send_as, 1);
    check_phrase(in.env_from, 0);
    free(buf);
    return 0;
}
