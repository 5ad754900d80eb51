/*
 * test_smtpd_acct.c - account choice of the SMTP server: the X-Exorelay
 * header (folded, case, class only, unknown names), the MAIL-time guess
 * (mailbox match, senders globs, learned decisions).
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
            "[class alarm]\nmatch_from = root@*\naccount = second\n",
            dir, dir, secret, secret);
    fclose(fp);
    return config_load(path, stderr, &nerr);
}

static int from_header(const struct config *cfg, const char *hdr, const char **name)
{
    const struct conf_account *a = NULL;
    static struct smtp_reply err;       /* *name may point into it */
    int rc = acct_from_header(cfg, hdr, strlen(hdr), &a, &err);

    *name = rc > 0 ? a->name : rc < 0 ? err.enhanced : "none";
    return rc;
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

    is_str(acct_guess(cfg, "second@contoso.onmicrosoft.com")->name, "second",
           "guess: the account whose mailbox is the sender");
    is_str(acct_guess(cfg, "x@ops.example.org")->name, "second", "guess: senders globs");
    is_str(acct_guess(cfg, "root@host.example")->name, "main", "guess: default account");
    acct_learn("root@host.example", config_account(cfg, "second"));
    is_str(acct_guess(cfg, "ROOT@host.example")->name, "second",
           "guess: the account the sender's last message was decided for");
    acct_learn("root@host.example", config_account(cfg, "main"));
    is_str(acct_guess(cfg, "root@host.example")->name, "main", "guess: a new decision replaces it");
    config_free(cfg);
    return done_testing();
}
