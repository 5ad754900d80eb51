/*
 * test_milter_classify.c - class rules (classify.c) and what the milter
 * records of a message (msg.c), on a config built by hand.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "milter/classify.h"
#include "milter/msg.h"
#include "tap.h"

static char *alarm_from[] = {"root@*", "nagios@*"};
static char *guest_from[] = {"*@ise.example.com"};
static char *default_from[] = {"*"};
static char *sponsor_hdr[] = {"X-Portal-Event: ^sponsor-(approval|reminder)$"};
static char *local[] = {"host.example", "localhost", "*.internal"};

/* make_class - a class with the given rules; the ERE compiled like the loader does */
static struct conf_class make_class(const char *name, char **from, size_t nfrom,
                                    const char *subject, char **hdr, size_t nhdr)
{
    struct conf_class cl = {.name = (char *) name};

    cl.match_from.v = from;
    cl.match_from.n = nfrom;
    if (subject) {
        cl.match_subject = (char *) subject;
        regcomp(&cl.subject_re, subject, REG_EXTENDED | REG_NOSUB);
    }
    cl.match_header.v = hdr;
    cl.match_header.n = nhdr;
    if (nhdr) {
        cl.header_re = calloc(nhdr, sizeof(regex_t));
        for (size_t i = 0; i < nhdr; i++)
            regcomp(&cl.header_re[i], strchr(hdr[i], ':') + 2, REG_EXTENDED | REG_NOSUB);
    }
    return cl;
}

/* name_of - the class name, or "(none)" */
static const char *name_of(const struct conf_class *cl)
{
    return cl ? cl->name : "(none)";
}

static void test_classes(const struct config *cfg)
{
    struct header portal = {"x-portal-event", "sponsor-approval"};
    struct header other = {"X-Portal-Event", "sponsor-expired"};
    struct classify_facts f = {.env_from = "root@host.example", .subject = "[Alarm] disk full"};

    is_str(name_of(classify(cfg, &f)), "alarm", "sender glob + subject ERE");
    f.env_from = "ROOT@HOST.EXAMPLE";
    is_str(name_of(classify(cfg, &f)), "alarm", "globs are case-insensitive");
    f.subject = "disk full";
    is_str(name_of(classify(cfg, &f)), "default", "all rules must match; else the default class");
    f.subject = NULL;
    is_str(name_of(classify(cfg, &f)), "default", "no Subject: the subject rule fails");
    f.env_from = "";
    f.from_addr = "portal@ise.example.com";
    is_str(name_of(classify(cfg, &f)), "guest", "From address matches when the envelope does not");
    f.env_from = "guest@ise.example.com";
    f.from_addr = "root@host.example";
    f.subject = "[Alarm] x";
    is_str(name_of(classify(cfg, &f)), "alarm", "first matching class in file order wins");
    f = (struct classify_facts) {.env_from = "app@host.example", .headers = &portal, .nheaders = 1};
    is_str(name_of(classify(cfg, &f)), "sponsor", "header rule: name case-insensitive, ERE on value");
    f.headers = &other;
    is_str(name_of(classify(cfg, &f)), "default", "header rule: value must match");
}

static void test_without_default(struct config *cfg)
{
    struct classify_facts f = {.env_from = "app@host.example"};
    size_t  n = cfg->nclasses;

    cfg->nclasses = 0;
    ok(classify(cfg, &f) == NULL, "no classes: no class");
    cfg->nclasses = n;
    cfg->classes[0].name = "catchall";  /* "default" is first in the array */
    is_str(name_of(classify(cfg, &f)), "catchall", "a class matching all, not named default, "
           "wins in file order");
    cfg->classes[0].name = "default";
}

static void test_local(const struct config *cfg)
{
    ok(classify_is_local(&cfg->local_domains, "root"), "no domain is local");
    ok(classify_is_local(&cfg->local_domains, "root@localhost"), "localhost is local");
    ok(classify_is_local(&cfg->local_domains, "a@HOST.example"), "domains are case-insensitive");
    ok(classify_is_local(&cfg->local_domains, "a@db.internal"), "local_domains globs");
    ok(!classify_is_local(&cfg->local_domains, "a@example.com"), "other domains are outbound");
    ok(!classify_is_local(&cfg->local_domains, "a@sub.host.example"), "a subdomain is not the host");
    ok(classify_header_wanted(cfg, "X-PORTAL-EVENT"), "match_header names are wanted");
    ok(!classify_header_wanted(cfg, "Received"), "other headers are not kept");
}

static void test_msg(const struct config *cfg)
{
    struct msg m = {0};
    char   *mail[] = {"<root@host.example>", "BODY=8BITMIME", "SIZE=12345", NULL};
    char   *bad[] = {"<>", "SIZE=12x", NULL};

    msg_reset(&m);
    ok(msg_mail(&m, mail) == 0, "MAIL recorded");
    is_str(m.env_from, "root@host.example", "sender without brackets");
    is_int(m.size, 12345, "SIZE= parameter");
    msg_header(&m, cfg, "From", "a@host.example");
    msg_header(&m, cfg, "from", "b@host.example");
    msg_header(&m, cfg, "Subject", "first\r\n folded");
    msg_header(&m, cfg, "Subject", "second");
    msg_header(&m, cfg, "X-Exorelay", "class=forged; account=evil");
    msg_header(&m, cfg, "x-exorelay", "again");
    msg_header(&m, cfg, "X-Exorelay-Original-From", "forged too");
    msg_header(&m, cfg, "X-ExorelayNot", "another header");
    msg_header(&m, cfg, "X-Portal-Event", "sponsor-reminder");
    msg_header(&m, cfg, "Received", "from somewhere");
    msg_header(&m, cfg, "Reply-To", "x@y.example");
    is_int(m.nfrom, 2, "every From kept");
    is_str(m.subject, "first folded", "first Subject, unfolded");
    is_int(m.ntags, 2, "two X-Exorelay* names");
    is_int(m.tags[0].count, 2, "X-Exorelay counted in any case");
    is_int(m.tags[1].count, 1, "X-Exorelay-Original-From counted");
    is_int(m.nkept, 1, "only wanted headers kept");
    ok(m.has_reply_to, "Reply-To noticed");
    ok(msg_mail(&m, bad) == 0 && m.env_from[0] == 0 && m.size == -1 && m.nfrom == 0,
       "a new MAIL forgets the last message; bad SIZE= ignored");
    msg_reset(&m);
    ok(msg_is_tag_header("X-EXORELAY-anything") && !msg_is_tag_header("X-Exorelayed"),
       "tag header names");
}

int main(void)
{
    struct conf_class classes[5];
    struct config cfg = {0};

    classes[0] = make_class("default", default_from, 1, NULL, NULL, 0);
    classes[1] = make_class("alarm", alarm_from, 2, "^\\[Alarm\\]", NULL, 0);
    classes[2] = make_class("guest", guest_from, 1, NULL, NULL, 0);
    classes[3] = make_class("sponsor", NULL, 0, NULL, sponsor_hdr, 1);
    cfg.classes = classes;
    cfg.nclasses = 4;
    cfg.local_domains.v = local;
    cfg.local_domains.n = 3;

    test_classes(&cfg);
    test_without_default(&cfg);
    test_local(&cfg);
    test_msg(&cfg);

    regfree(&classes[1].subject_re);
    regfree(&classes[3].header_re[0]);
    free(classes[3].header_re);
    return done_testing();
}
