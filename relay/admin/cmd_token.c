/*
 * cmd_token.c - "exorelay token [--account A]": print a valid access token
 * and a newline on stdout, for scripts and other mail tools (msmtp's
 * passwordeval, curl --oauth2-bearer).
 *
 * The token comes from the account's state file when it is valid 60 more
 * seconds, else from one request to Entra ID shared with every other
 * exorelay process (token.h). Nothing but the token goes to stdout. On
 * failure the cause and the fix go to stderr and the exit status is 75
 * (EX_TEMPFAIL: try again later) or 77 (EX_NOPERM: the credentials or the
 * app registration need the admin); 64 for a bad command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "commands.h"
#include "token/token.h"

/* token_usage - the command line is wrong */
static int token_usage(const char *why)
{
    if (why != NULL)
        fprintf(stderr, "exorelay token: %s\n", why);
    return command_usage_error("token");
}

/* print_token - the token and a newline, in one write, or 74 */
static int print_token(const secret_t *token)
{
    size_t len;
    const char *text = secret_reveal(token, &len);

    if (fwrite(text, 1, len, stdout) != len || putchar('\n') == EOF
        || fflush(stdout) == EOF) {
        fprintf(stderr, "exorelay token: cannot write to standard output\n");
        return EX_IOERR;
    }
    return EX_OK;
}

/* print_diag - cause (naming who failed) and fix for the admin */
static void print_diag(const struct conf_account *acct, const struct token_diag *diag)
{
    char    line[600];

    token_diag_line(diag, acct, line, sizeof(line));
    fprintf(stderr, "exorelay token: account %s: %s\n", acct->name, line);
    if (diag->fix[0])
        fprintf(stderr, "exorelay token: fix: %s\n", diag->fix);
    if (diag->detail[0])
        fprintf(stderr, "exorelay token: detail: %s\n", diag->detail);
}

/* cmd_token - exorelay token [--account A] */
int cmd_token(struct config *cfg, int argc, char **argv)
{
    const char *name = NULL;
    const struct conf_account *acct;
    struct token_engine *te;
    struct token_diag diag;
    secret_t *token = NULL;
    time_t expires;
    int status;

    static const struct option longopts[] = {
        {"account", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    int     opt;

    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt != 'a')
            return token_usage(NULL);
        name = optarg;
    }
    if (optind < argc)
        return token_usage("unknown argument");
    if ((acct = config_account(cfg, name)) == NULL)
        return token_usage(name ? "no such account in the configuration"
                           : "the configuration has no account");
    if ((te = token_engine_new(cfg)) == NULL) {
        fprintf(stderr, "exorelay token: out of memory\n");
        return EX_TEMPFAIL;
    }
    if (token_get(te, acct, &token, &expires, &diag) == 0) {
        status = print_token(token);
    } else {
        print_diag(acct, &diag);
        status = token_diag_exit(&diag);
    }
    secret_free(token);
    token_engine_free(te);
    return status;
}
