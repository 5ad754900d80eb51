/*
 * fuzz_milter_rewrite.c - libFuzzer target: the milter's sender rewrite
 * (milter/rewrite.c) with the address parser (milter/addr.c) and the
 * display-name maker (common/phrase.c) underneath.
 *
 * Input, field mode (byte 0 < 16): byte 0 holds flags (bit 0: the
 * message has a Reply-To; bits 1-2: how many From headers, 0-3; bit 3:
 * send_as empty, so the mailbox is used), then NUL-separated fields:
 * envelope sender, send_as (or mailbox), the From header values (folded
 * lines allowed: anyone who can send mail, a guest typing a name into a
 * portal, writes these).
 *
 * Message mode (byte 0 >= 16): the rest is what the MTA tells the milter,
 * one item a line: the MAIL arguments ("<a@b> SIZE=10"), then headers
 * "Name: value", a line starting with white space continuing the last.
 * They go through msg_mail() and msg_header() (milter/msg.c), the class
 * is found as filter.c does (classify.c, with the config below), and a
 * classified message gets its plan checked as in field mode. msg.c must
 * keep every From, the first Subject unfolded, see a Reply-To, and count
 * each X-Exorelay* header it was given.
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
 *    name that parses back as one display name in front of an address;
 *    encoded, it is RFC 2047 words of at most 75 characters each.
 */
#include <ctype.h>
#include <strings.h>

#include <sys/mman.h>
#include <unistd.h>

#include "common/addr.h"
#include "milter/classify.h"
#include "common/conf_value.h"
#include "common/config.h"
#include "fuzz.h"
#include "milter/msg.h"
#include "common/phrase.h"
#include "milter/rewrite.h"

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

/* needs_encoding - text phrase_make() encodes: non-ASCII or controls */
static int needs_encoding(const char *t)
{
    for (; *t; t++)
        if ((unsigned char) *t >= 0x7f || ((unsigned char) *t < 0x20 && *t != '\t'))
            return 1;
    return 0;
}

/* check_phrase - a made display name parses back as one (the text has no
 * line ends: it comes from an unfolded header, the config or an SMTP line) */
static void check_phrase(const char *raw, int may_encode)
{
    char   *text = addr_unfold(raw);
    char   *ph = phrase_make(text, may_encode), *value;

    CHECK(ph != NULL);
    no_line_end(ph);
    if (may_encode && needs_encoding(text)) {  /* RFC 2047: no word over 75 */
        for (const char *w = ph; *w; w += strspn(w, " ")) {
            size_t  n = strcspn(w, " ");

            CHECK(n <= 75 && strncmp(w, "=?UTF-8?B?", 10) == 0 && w[n - 1] == '=');
            w += n;
        }
    }
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

/* A config with the usual kinds of class: by sender, by subject, by
 * header, and the default. */
static const char conf_text[] =
    "[account main]\n"
    "tenant = 4f2c1d3e-9a8b-4c7d-b6e5-0a1b2c3d4e5f\n"
    "client_id = 3e1f0c2a-5b7d-4e8f-9a6b-1c2d3e4f5a6b\n"
    "client_secret_file = /etc/exorelay/main.secret\n"
    "mailbox = no-reply@contoso.example\n"
    "[account guest]\n"
    "tenant = 4f2c1d3e-9a8b-4c7d-b6e5-0a1b2c3d4e5f\n"
    "client_id = 3e1f0c2a-5b7d-4e8f-9a6b-1c2d3e4f5a6b\n"
    "client_secret_file = /etc/exorelay/guest.secret\n"
    "mailbox = guest@contoso.example\n"
    "[milter]\n"
    "local_domains = host.example, localhost\n"
    "[class portal]\n"
    "match_from = ise@*, *@portal.example\n"
    "match_subject = ^(Guest|Sponsor)\n"
    "send_as = G\xc3\xa4ste WLAN <guest-wifi@contoso.example>\n"
    "account = guest\n"
    "[class alarms]\n"
    "match_header = X-Mailer: ^(Nagios|Zabbix)\n"
    "send_as = \"Alarms, Ops\" <alarms@contoso.example>\n"
    "[class default]\n"
    "match_from = *\n"
    "send_as = no-reply@contoso.example\n";

/* fuzz_config - conf_text loaded once (from a memory file) */
static const struct config *fuzz_config(void)
{
    static struct config *cfg;
    char    path[64];
    int     fd, nerr;

    if (cfg)
        return cfg;
    config_skip_file_checks(1);
    CHECK((fd = memfd_create("milter.conf", 0)) >= 0);
    CHECK(write(fd, conf_text, sizeof(conf_text) - 1) == sizeof(conf_text) - 1);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    cfg = config_load(path, stderr, &nerr);
    CHECK(cfg != NULL);
    close(fd);
    return cfg;
}

/* next_line - the next line of s (CR LF or LF ended); NULL at the end */
static char *next_line(char **s)
{
    char   *line = *s, *nl;

    if (*line == 0)
        return NULL;
    nl = line + strcspn(line, "\n");
    *s = *nl ? nl + 1 : nl;
    *nl = 0;
    if (nl > line && nl[-1] == '\r')
        nl[-1] = 0;
    return line;
}

/* split_args - "a b c" into argv (at most 15), in place */
static void split_args(char *s, char **argv)
{
    int     n = 0;

    for (char *tok = strtok(s, " "); tok && n < 15; tok = strtok(NULL, " "))
        argv[n++] = tok;
    argv[n] = NULL;
}

/* headers_of - the message's headers: name and (folded) value pairs */
static size_t headers_of(char *s, char **names, char **values, size_t max)
{
    size_t  n = 0;
    char   *line;

    while ((line = next_line(&s)) != NULL) {
        char   *colon;

        if ((*line == ' ' || *line == '\t') && n > 0) {
            /* folding: the value goes on in the next line */
            char   *v = values[n - 1];
            size_t  len = strlen(v);

            values[n - 1] = realloc(v, len + strlen(line) + 3);
            sprintf(values[n - 1] + len, "\r\n%s", line);
        } else if ((colon = strchr(line, ':')) != NULL && n < max) {
            *colon = 0;
            names[n] = line;
            values[n++] = strdup(colon + 1 + (colon[1] == ' '));
        }
    }
    return n;
}

/* check_msg - what msg.c recorded from the headers */
static void check_msg(const struct msg *m, char **names, char **values, size_t n)
{
    size_t  nfrom = 0, ntag = 0, counted = 0;
    int     reply_to = 0;
    const char *subject = NULL;

    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(names[i], "From") == 0)
            CHECK(strcmp(m->from[nfrom++], values[i]) == 0);
        if (strcasecmp(names[i], "Subject") == 0 && subject == NULL)
            subject = values[i];
        reply_to |= strcasecmp(names[i], "Reply-To") == 0;
        ntag += msg_is_tag_header(names[i]);
    }
    CHECK(m->nfrom == nfrom && m->has_reply_to == reply_to && !m->oom);
    if (subject) {
        char   *u = addr_unfold(subject);

        CHECK(m->subject && strcmp(m->subject, u) == 0);
        free(u);
    } else {
        CHECK(m->subject == NULL);
    }
    for (size_t i = 0; i < m->ntags; i++)
        counted += (size_t) m->tags[i].count;
    CHECK(counted == ntag);
}

/* message_mode - MAIL and headers through msg.c, classify, rewrite */
static void message_mode(char *text)
{
    const struct config *cfg = fuzz_config();
    static struct msg m;
    char   *argv[16], *names[64], *values[64], *line, *from_addr = NULL;
    size_t  n;
    const struct conf_class *cl;
    struct addr_list list;

    /* The MTA hands over an SMTP argument: it holds no CR. */
    if ((line = next_line(&text)) == NULL || strchr(line, '\r'))
        return;
    split_args(line, argv);
    msg_reset(&m);
    CHECK(msg_mail(&m, argv) == 0);
    n = headers_of(text, names, values, 64);
    for (size_t i = 0; i < n; i++)
        CHECK(msg_header(&m, cfg, names[i], values[i]) == 0);
    check_msg(&m, names, values, n);

    /* The class, as filter.c finds it. */
    if (m.nfrom > 0) {
        char   *u = addr_unfold(m.from[0]);

        if (addr_parse(u, &list) == 0) {
            if (addr_pick(&list))
                from_addr = strdup(addr_pick(&list)->addr);
            addr_list_free(&list);
        }
        free(u);
    }
    struct classify_facts f = {
        .env_from = m.env_from, .from_addr = from_addr, .subject = m.subject,
        .headers = m.kept, .nheaders = m.nkept,
    };
    cl = classify(cfg, &f);
    CHECK(cl != NULL && config_class(cfg, cl->name) == cl);   /* default */
    {
        const struct conf_account *acct = config_account(cfg, cl->account);
        struct rewrite_in in = {
            .from = m.from, .nfrom = m.nfrom, .env_from = m.env_from,
            .has_reply_to = m.has_reply_to, .send_as = cl->send_as,
            .mailbox = acct->mailbox, .class_name = cl->name, .account = acct->name,
        };

        CHECK(acct != NULL);
        check_plan(&in);
    }
    free(from_addr);
    for (size_t i = 0; i < n; i++)
        free(values[i]);
    msg_reset(&m);
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
    if (data[0] >= 16) {
        message_mode(buf + 1);
        free(buf);
        return 0;
    }
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
