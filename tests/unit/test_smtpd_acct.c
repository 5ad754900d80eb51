/*
 * test_smtpd_acct.c - account choice of the SMTP server: the X-Exorelay
 * header (folded, case, class only, unknown names), the MAIL-time guess
 * (mailbox match, senders globs, learned decisions); account pools: a
 * class's "account = a, b", account=a,b in the tag, several accounts whose
 * senders match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/smtpd_int.h"
#include "tap.h"

static struct config *load(const char *dir)
{
    char path[512], secret[512];
    int nerr = 0;
    FILE *fp;

    snprintf(secret, sizeof(secret), "%s/acct.secret", dir);
    fp = fopen(secret, "w");
    fputs("s3cret\n", fp);
    fclose(fp);
    chmod(secret, 0600);
    snprintf(path, sizeof(path), "%s/acct.conf", dir);
    fp = fopen(path, "w");
    fprintf(fp, "[relay]\nuser =\nstate_dir = %s\nspool_dir = %s\n"
            "[account main]\ntenant = contoso.onmicrosoft.com\n"
            "client_id = 5d4be59c-2ee2-4131-87c5-4ed854c19cef\n"
            "client_secret_file = %s\nmailbox = no-reply@contoso.onmicrosoft.com\n"
            "[account second]\ntenant = contoso.onmicrosoft.com\n"
            "client_id = 2a826780-08fd-4594-b31f-0a8198389f08\n"
            "client_secret_file = %s\nmailbox = second@contoso.onmicrosoft.com\n"
            "senders = *@ops.example.org\n"
            "[account third]\ntenant = contoso.onmicrosoft.com\n"
            "client_id = 2a826780-08fd-4594-b31f-0a8198389f08\n"
            "client_secret_file = %s\nmailbox = third@contoso.onmicrosoft.com\n"
            "senders = *@ops.example.org\n"
            "[class alarm]\nmatch_from = root@*\naccount = second\n"
            "[class bulk]\nmatch_from = bulk@*\naccount = main, third, second\n"
            "send_as = alerts@contoso.onmicrosoft.com\n",
            dir, dir, secret, secret, secret);
    fclose(fp);
    return config_load(path, stderr, &nerr);
}

static int from_header(const struct config *cfg, const char *hdr, const char **name)
{
    struct route r;
    static char names[256];
    static struct smtp_reply err;       /* *name may point into it */
    int rc = route_from_header(cfg, hdr, strlen(hdr), &r, &err);

    *name = rc > 0 ? route_text(&r, names, sizeof(names)) : rc < 0 ? err.enhanced : "none";
    return rc;
}

static const char *guess(const struct config *cfg, const char *sender)
{
    struct route r;
    static char names[256];

    route_guess(cfg, sender, &r);
    return route_text(&r, names, sizeof(names));
}

int main(void)
{
    const char *dir = getenv("TESTS_TMP") ? getenv("TESTS_TMP") : "/tmp";
    struct config *cfg = load(dir);
    const char *name;

    ok(cfg != NULL, "test config loads");
    if (cfg == NULL)
        return done_testing();

    is_int(from_header(cfg, "Subject: x\r\nX-Exorelay: class=alarm; account=second\r\n\r\n",
                       &name), 1, "tag found");
    is_str(name, "second", "account= names the account");
    from_header(cfg, "x-exorelay:   account=main ; class=alarm\r\n\r\n", &name);
    is_str(name, "main", "header name case-insensitive, order and spaces free");
    from_header(cfg, "X-Exorelay: class=alarm;\r\n account=second\r\n\r\n", &name);
    is_str(name, "second", "folded header is unfolded");
    from_header(cfg, "X-Exorelay: class=alarm\r\n\r\n", &name);
    is_str(name, "second", "class alone means the class's account");
    is_int(from_header(cfg, "X-Exorelay: class=alarm; account=nosuch\r\n\r\n", &name), -1,
           "unknown account refused");
    is_str(name, "4.3.5", "... with a 4xx (451 4.3.5): the configs disagree");
    is_int(from_header(cfg, "X-Exorelay: class=nosuch\r\n\r\n", &name), -1,
           "unknown class refused");
    is_int(from_header(cfg, "Subject: x\r\nX-Exorelay-Other: account=second\r\n\r\n", &name),
           0, "a different header name is not the tag");
    is_int(from_header(cfg, "Subject: x\r\n\r\n", &name), 0, "no tag");
    from_header(cfg, "X-Exorelay: account=second\r\nX-Exorelay: account=main\r\n\r\n", &name);
    is_str(name, "second", "the first tag counts");

    from_header(cfg, "X-Exorelay: class=bulk\r\n\r\n", &name);
    is_str(name, "main,third,second", "class alone means the class's pool, in its order");
    from_header(cfg, "X-Exorelay: class=bulk; account=third,second\r\n\r\n", &name);
    is_str(name, "third,second", "account= may name a pool");
    is_int(from_header(cfg, "X-Exorelay: account=third,nosuch\r\n\r\n", &name), -1,
           "a pool with an unknown account refused");

    is_str(guess(cfg, "second@contoso.onmicrosoft.com"), "second",
           "guess: the account whose mailbox is the sender");
    is_str(guess(cfg, "x@ops.example.org"), "second,third",
           "guess: every account whose senders globs match (a pool)");
    is_str(guess(cfg, "root@host.example"), "main", "guess: default account");
    struct route r = { { config_account(cfg, "second") }, 1 };
    route_learn("root@host.example", &r);
    is_str(guess(cfg, "ROOT@host.example"), "second",
           "guess: the pool the sender's last message was decided for");
    r = (struct route) { { config_account(cfg, "main"), config_account(cfg, "third") }, 2 };
    route_learn("root@host.example", &r);
    is_str(guess(cfg, "root@host.example"), "main,third", "guess: a new decision replaces it");
    config_free(cfg);
    return done_testing();
}
