/*
 * test_milter_rewrite.c - the milter's pure parts: From parsing (addr.c),
 * display names (phrase.c) and the sender rewrite plan (rewrite.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/addr.h"
#include "common/phrase.h"
#include "milter/rewrite.h"
#include "tap.h"

/* parse_one - parse value; check count, and display/comment/addr of mailbox idx */
static void parse_one(const char *value, size_t n, size_t idx, const char *display,
                      const char *comment, const char *addr)
{
    struct addr_list l;
    char    name[300];

    snprintf(name, sizeof(name), "parse [%s]", value);
    ok(addr_parse(value, &l) == 0, "%s: parses", name);
    is_int(l.n, n, "mailbox count");
    if (l.n > idx) {
        is_str(l.v[idx].display, display, "display name");
        is_str(l.v[idx].comment, comment, "comment");
        is_str(l.v[idx].addr, addr, "address");
    }
    addr_list_free(&l);
}

static void test_parse(void)
{
    parse_one("\"Cron Daemon\" <root@host.example>", 1, 0, "\"Cron Daemon\"", NULL,
              "root@host.example");
    parse_one("root@host (Cron Daemon)", 1, 0, NULL, "Cron Daemon", "root@host");
    parse_one("=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <j@x.example>", 1, 0,
              "=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?=", NULL, "j@x.example");
    parse_one("J\xc3\xb6rg M\xc3\xbcller <j@x.example>", 1, 0, "J\xc3\xb6rg M\xc3\xbcller",
              NULL, "j@x.example");
    parse_one("Team: a@b.example, \"C, D\" <c@d.example>;", 2, 1, "\"C, D\"", NULL,
              "c@d.example");
    parse_one("<@relay.example:user@host.example>", 1, 0, NULL, NULL, "user@host.example");
    parse_one("<a@b.example", 1, 0, NULL, NULL, "a@b.example");
    parse_one("", 0, 0, NULL, NULL, NULL);
    parse_one("undisclosed-recipients:;", 0, 0, NULL, NULL, NULL);
    parse_one("a@b.example, c@d.example", 2, 1, NULL, NULL, "c@d.example");
    parse_one("John (the boss) Smith <js@x.example> (trailing)", 1, 0,
              "John (the boss) Smith", NULL, "js@x.example");
    parse_one("\"Doe, John\" <j@x.example>", 1, 0, "\"Doe, John\"", NULL, "j@x.example");
    parse_one("j @ x.example (nested (comment) here)", 1, 0, NULL, "nested (comment) here",
              "j@x.example");
    parse_one("\"a\\\"b\" <q@x.example>", 1, 0, "\"a\\\"b\"", NULL, "q@x.example");
    parse_one("\"unterminated <a@b.example>", 1, 0, NULL, NULL, "\"unterminated <a@b.example>");
    parse_one("(comment only", 0, 0, NULL, NULL, NULL);
    parse_one("\"john doe\"@x.example", 1, 0, NULL, NULL, "\"john doe\"@x.example");
    parse_one("Name <a@[192.0.2.1]>", 1, 0, "Name", NULL, "a@[192.0.2.1]");
}

/* test_pick_and_unfold - choosing the sender's mailbox; unfolding */
static void test_pick_and_unfold(void)
{
    struct addr_list l;
    char   *u = addr_unfold("\"Long\r\n Name\" <a@b.example>");
    char   *e;

    is_str(u, "\"Long Name\" <a@b.example>", "unfolding drops CR and LF only");
    free(u);
    addr_parse("Doe, John <j@x.example>", &l);
    ok(addr_pick(&l) && strcmp(addr_pick(&l)->addr, "j@x.example") == 0,
       "addr_pick prefers a mailbox with an @");
    addr_list_free(&l);
    addr_parse("", &l);
    ok(addr_pick(&l) == NULL, "addr_pick of nothing is NULL");
    addr_list_free(&l);
    is_str(e = addr_envelope("<root@host>"), "root@host", "envelope <a@b>");
    free(e);
    is_str(e = addr_envelope("<>"), "", "null sender");
    free(e);
    is_str(e = addr_envelope("root"), "root", "bare local part");
    free(e);
    is_str(e = addr_envelope("<@a.example:b@c.example>"), "b@c.example", "source route dropped");
    free(e);
    is_str(addr_domain("a@B.example"), "B.example", "domain part");
    ok(addr_domain("root") == NULL, "no domain");
}

/* test_fuzz - odd bytes never crash the parser (ASan and valgrind watch) */
static void test_fuzz(void)
{
    static const char alphabet[] = "\"()<>@,;:\\[] \t\r\na.=?\xc3\xb6";
    char    buf[64];
    struct addr_list l;
    int     failures = 0;

    srand(42);
    for (int round = 0; round < 20000; round++) {
        size_t  len = (size_t) rand() % (sizeof(buf) - 1);

        for (size_t i = 0; i < len; i++)
            buf[i] = alphabet[rand() % (sizeof(alphabet) - 1)];
        buf[len] = 0;
        if (addr_parse(buf, &l) != 0)
            failures++;
        addr_list_free(&l);
    }
    is_int(failures, 0, "20000 random malformed values parse without failure");
}

/* words_fit - space-separated encoded words of at most 75 characters */
static int words_fit(const char *words)
{
    size_t  n;

    for (; *words; words += n + (words[n] == ' ')) {
        n = strcspn(words, " ");
        if (n > 75 || strncmp(words, "=?UTF-8?B?", 10) != 0)
            return 0;
    }
    return 1;
}

/* decoded_ok - every encoded word decodes to whole UTF-8 characters */
static int decoded_ok(const char *words, const char *want)
{
    char    out[512] = "";
    char    copy[1024];
    char   *save = NULL;

    snprintf(copy, sizeof(copy), "%s", words);
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        unsigned char dec[128];
        size_t  len = strlen(w);
        int     n;

        if (len > 75 || strncmp(w, "=?UTF-8?B?", 10) != 0 || strcmp(w + len - 2, "?=") != 0)
            return 0;
        w[len - 2] = 0;
        if ((n = EVP_DecodeBlock(dec, (unsigned char *) w + 10, (int) strlen(w + 10))) < 0)
            return 0;
        for (char *pad = w + len - 3; pad > w + 10 && *pad == '='; pad--)
            n--;                        /* EVP_DecodeBlock counts padding as bytes */
        if (n > 0 && (dec[0] & 0xC0) == 0x80)
            return 0;                   /* a word starts inside a character */
        strncat(out, (char *) dec, (size_t) n);
    }
    return strcmp(out, want) == 0;
}

static void test_phrase(void)
{
    char   *p;
    char    long_name[128] = "";
    char    not_utf8[46 * 20 + 1];

    is_str(p = phrase_make("Alarms", 1), "Alarms", "atom kept");
    free(p);
    is_str(p = phrase_make(" Guest Portal ", 1), "Guest Portal", "atoms kept, trimmed");
    free(p);
    is_str(p = phrase_make("\"Guest Portal\"", 1), "\"Guest Portal\"", "quoted string kept");
    free(p);
    is_str(p = phrase_make("Alarms, Inc.", 1), "\"Alarms, Inc.\"", "specials get quoted");
    free(p);
    is_str(p = phrase_make("Say \"hi\" \\o/", 0), "\"Say \\\"hi\\\" \\\\o/\"",
           "quotes and backslashes escaped");
    free(p);
    is_str(p = phrase_make("St\xc3\xb6rung", 1), "=?UTF-8?B?U3TDtnJ1bmc=?=",
           "non-ASCII from the config is RFC 2047 encoded");
    free(p);
    is_str(p = phrase_make("\"St\xc3\xb6rung, Alarm\"", 1),
           "=?UTF-8?B?U3TDtnJ1bmcsIEFsYXJt?=", "a quoted non-ASCII name is unquoted, then encoded");
    free(p);
    is_str(p = phrase_make("J\xc3\xb6rg", 0), "J\xc3\xb6rg", "original UTF-8 kept as is");
    free(p);
    is_str(p = phrase_make("=?UTF-8?Q?J=C3=B6rg?=", 0), "=?UTF-8?Q?J=C3=B6rg?=",
           "an encoded word is not quoted");
    free(p);
    for (int i = 0; i < 30; i++)
        strcat(long_name, "\xc3\xa4");  /* 60 bytes: two encoded words */
    p = phrase_make(long_name, 1);
    ok(p && strchr(p, ' ') && decoded_ok(p, long_name),
       "a long name is split into encoded words on character boundaries");
    free(p);
    /* Found by tests/fuzz/fuzz_milter_rewrite: bytes that are not UTF-8
     * ("a" and 45 continuation bytes, again and again) made cuts back off
     * far, so more words came than the buffer was sized for (a heap
     * overflow that check-asan and valgrind see). */
    for (int i = 0; i < 20; i++) {
        not_utf8[46 * i] = 'a';
        memset(not_utf8 + 46 * i + 1, 0x9f, 45);
    }
    not_utf8[46 * 20] = 0;
    p = phrase_make(not_utf8, 1);
    ok(p && words_fit(p), "bytes that are not UTF-8 make encoded words that fit");
    free(p);
}

/* plan - run rewrite_plan with the usual class and account */
static int plan(const char *from, const char *env_from, int has_reply_to,
                const char *send_as, struct rewrite_out *out)
{
    char   *froms[1] = {(char *) from};
    struct rewrite_in in = {
        .from = froms, .nfrom = from ? 1 : 0, .env_from = env_from,
        .has_reply_to = has_reply_to, .send_as = send_as,
        .mailbox = "no-reply@contoso.example", .class_name = "alarm", .account = "main",
    };

    return rewrite_plan(&in, out);
}

static void test_plan_basic(void)
{
    struct rewrite_out o;

    ok(plan("\"Cron Daemon\" <root@host.example>", "root@host.example", 0,
            "alerts@contoso.example", &o) == 0, "plan: plain send_as");
    is_str(o.env_from, "<alerts@contoso.example>", "envelope sender becomes send_as");
    is_str(o.from, "\"Cron Daemon\" <alerts@contoso.example>", "From keeps the display name");
    is_str(o.reply_to, "\"Cron Daemon\" <root@host.example>", "Reply-To is the original");
    is_int(o.norig_from, 1, "one original From recorded");
    is_str(o.orig_from[0], "\"Cron Daemon\" <root@host.example>", "original From value");
    is_str(o.orig_sender, "<root@host.example>", "original envelope sender recorded");
    is_str(o.tag, "class=alarm; account=main", "the tag");
    rewrite_free(&o);

    plan("root@host.example (Cron Daemon)", "root@host.example", 0,
         "Alarms <alerts@contoso.example>", &o);
    is_str(o.from, "Alarms <alerts@contoso.example>", "send_as display name wins");
    is_str(o.reply_to, "Cron Daemon <root@host.example>", "comment becomes Reply-To's name");
    rewrite_free(&o);

    plan("root@host.example (Cron Daemon)", "root@host.example", 0,
         "alerts@contoso.example", &o);
    is_str(o.from, "Cron Daemon <alerts@contoso.example>", "old-style comment name kept");
    rewrite_free(&o);

    plan("\"Guest Portal\" <guest@ise.example>", "guest@ise.example", 1, NULL, &o);
    is_str(o.from, "\"Guest Portal\" <no-reply@contoso.example>",
           "no send_as: the account's mailbox");
    ok(o.reply_to == NULL, "an existing Reply-To is left alone");
    rewrite_free(&o);
}

static void test_plan_names(void)
{
    struct rewrite_out o;

    plan("=?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <j@host.example>", "j@host.example", 0,
         "alerts@contoso.example", &o);
    is_str(o.from, "=?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <alerts@contoso.example>",
           "RFC 2047 display name intact");
    rewrite_free(&o);

    plan("J\xc3\xb6rg M\xc3\xbcller <j@host.example>", "j@host.example", 0,
         "alerts@contoso.example", &o);
    is_str(o.from, "J\xc3\xb6rg M\xc3\xbcller <alerts@contoso.example>",
           "UTF-8 display name intact");
    rewrite_free(&o);

    plan("root@host.example", "root@host.example", 0,
         "St\xc3\xb6rungsmelder <alerts@contoso.example>", &o);
    is_str(o.from, "=?UTF-8?B?U3TDtnJ1bmdzbWVsZGVy?= <alerts@contoso.example>",
           "non-ASCII send_as name encoded");
    rewrite_free(&o);

    plan("\"Folded\r\n Name\" <root@host.example>", "root@host.example", 0,
         "alerts@contoso.example", &o);
    is_str(o.from, "\"Folded Name\" <alerts@contoso.example>", "folded From unfolded");
    is_str(o.orig_from[0], "\"Folded Name\" <root@host.example>", "original unfolded too");
    rewrite_free(&o);
}

static void test_plan_edges(void)
{
    struct rewrite_out o;
    char   *froms[2] = {"a@host.example", "b@host.example"};
    struct rewrite_in in = {
        .from = froms, .nfrom = 2, .env_from = "a@host.example",
        .send_as = "alerts@contoso.example", .class_name = "c", .account = "a",
    };

    plan("root@host.example", "", 0, "alerts@contoso.example", &o);
    ok(o.env_from == NULL && o.orig_sender == NULL, "null sender stays null (bounces)");
    rewrite_free(&o);

    plan("root@host.example", "ALERTS@contoso.example", 0, "alerts@contoso.example", &o);
    ok(o.env_from == NULL, "sender already send_as: no change");
    rewrite_free(&o);

    plan(NULL, "root@host.example", 0, "alerts@contoso.example", &o);
    is_str(o.from, "alerts@contoso.example", "no From: one is made");
    is_str(o.reply_to, "root@host.example", "no From: Reply-To from the envelope");
    is_int(o.norig_from, 0, "no From: nothing recorded");
    rewrite_free(&o);

    plan("\"broken <", "root@host.example", 0, "alerts@contoso.example", &o);
    is_str(o.from, "alerts@contoso.example", "malformed From: still rewritten");
    is_str(o.reply_to, "root@host.example", "malformed From: Reply-To from the envelope");
    is_str(o.orig_from[0], "\"broken <", "malformed From: kept verbatim");
    rewrite_free(&o);

    plan("alerts@contoso.example", "alerts@contoso.example", 0, "alerts@contoso.example", &o);
    ok(o.reply_to == NULL, "no Reply-To pointing at the new sender itself");
    rewrite_free(&o);

    ok(rewrite_plan(&in, &o) == 0 && o.norig_from == 2, "two From headers: both recorded");
    rewrite_free(&o);

    {
        char   *big = malloc(10050), *want = malloc(10100);

        memset(big, 'x', 10000);
        strcpy(big + 10000, " <root@host.example>");
        plan(big, "root@host.example", 0, "alerts@contoso.example", &o);
        memset(want, 'x', 10000);
        strcpy(want + 10000, " <alerts@contoso.example>");
        is_str(o.from, want, "a 10 KB display name survives");
        rewrite_free(&o);
        free(big);
        free(want);
    }

    ok(plan("a@b.example", "a@b.example", 0, "Alarms <no-at-sign>", &o) < 0,
       "send_as without an address is refused");
    in.send_as = NULL;
    in.mailbox = NULL;
    ok(rewrite_plan(&in, &o) < 0, "no send_as and no mailbox is refused");
}

int main(void)
{
    test_parse();
    test_pick_and_unfold();
    test_fuzz();
    test_phrase();
    test_plan_basic();
    test_plan_names();
    test_plan_edges();
    return done_testing();
}
