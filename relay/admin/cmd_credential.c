/*
 * cmd_credential.c - "exorelay -c FILE credential new --account NAME
 * [--days N] [--bits N] [--dir DIR]": a new private key and self-signed
 * certificate for the account's certificate credential, and what to do
 * with them.
 *
 * SYNOPSIS
 *	int cmd_credential(cfg, argc, argv)
 *		Writes DIR/NAME-YYYYMMDD.key (0600) and .pem (a -2, -3 ...
 *		suffix when made twice a day), owned by [relay] user when run
 *		as root; prints both thumbprints (SHA-1: what the Entra admin
 *		center shows; SHA-256: what exorelay's assertions name), the
 *		PEM to upload, and the config lines. Exit 0, 64 usage, 73
 *		cannot create, 78 no such account.
 *
 * Rotation with two certificates: the new files never replace the old
 * ones. Entra ID accepts any certificate uploaded to the app, so both
 * stay registered while the config is switched (and can be tried first
 * through a second [account] section: exorelay test --account); the old
 * one is deleted from the app registration afterwards. See exorelay(8),
 * CREDENTIAL ROTATION.
 */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "commands.h"
#include "cred_expiry.h"
#include "credential_gen.h"

#define DEFAULT_DAYS 730        /* Entra allows up to 2 years for secrets; */
#define DEFAULT_BITS 3072       /* certificates may live longer: admin's call */

struct cred_opts {
    const char *account;
    const char *dir;
    int     days;
    int     bits;
};

/* parse_args - "new" and the options after it; -1 on error */
static int parse_args(int argc, char **argv, struct cred_opts *o)
{
    static const struct option longopts[] = {
        {"account", required_argument, NULL, 'a'},
        {"dir", required_argument, NULL, 'd'},
        {"days", required_argument, NULL, 'n'},
        {"bits", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    int     opt;

    *o = (struct cred_opts) { NULL, NULL, DEFAULT_DAYS, DEFAULT_BITS };
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == 'a')
            o->account = optarg;
        else if (opt == 'd')
            o->dir = optarg;
        else if (opt == 'n')
            o->days = atoi(optarg);
        else if (opt == 'b')
            o->bits = atoi(optarg);
        else
            return -1;
    }
    if (argc - optind != 1 || strcmp(argv[optind], "new") != 0)
        return -1;
    if (o->account == NULL || o->days < 1 || o->days > 3650
        || (o->bits != 2048 && o->bits != 3072 && o->bits != 4096))
        return -1;
    return 0;
}

/* default_dir - where the account's credential lives now, else the config's */
static char *default_dir(const struct config *cfg, const struct conf_account *acct)
{
    const char *near = acct->certificate_file ? acct->certificate_file
        : acct->client_secret_file ? acct->client_secret_file : cfg->path;
    char   *copy = strdup(near), *dir;

    if (copy == NULL)
        return NULL;
    dir = strdup(dirname(copy));
    free(copy);
    return dir;
}

/* free_names - NAME-YYYYMMDD[-N].key and .pem that do not exist yet */
static int free_names(const char *dir, const char *account, char *key, char *cert,
                      size_t size)
{
    char    day[16], suffix[8] = "";
    time_t  now = time(NULL);
    struct tm tm;
    struct stat st;

    strftime(day, sizeof(day), "%Y%m%d", gmtime_r(&now, &tm));
    for (int n = 1; n < 100; n++) {
        if (n > 1)
            snprintf(suffix, sizeof(suffix), "-%d", n);
        snprintf(key, size, "%s/%s-%s%s.key", dir, account, day, suffix);
        snprintf(cert, size, "%s/%s-%s%s.pem", dir, account, day, suffix);
        if (stat(key, &st) < 0 && stat(cert, &st) < 0)
            return 0;
    }
    return -1;
}

/* report - thumbprints, the PEM and the next steps */
static void report(const struct config *cfg, const struct conf_account *acct,
                   const struct credential_spec *spec, X509 *cert)
{
    char    sha1[64], sha256[96], until[16], line[400];

    cred_thumbprint(cert, EVP_sha1(), sha1, sizeof(sha1));
    cred_thumbprint(cert, EVP_sha256(), sha256, sizeof(sha256));
    cred_date(time(NULL) + (time_t) spec->days * 86400, until, sizeof(until));
    printf("New certificate credential for account %s (CN=%s)\n"
           "  private key  %s (mode 0600: keep it on this host)\n"
           "  certificate  %s\n  valid until  %s (%d days)\n"
           "  thumbprint   SHA-1   %s   (the Entra admin center shows this one)\n"
           "               SHA-256 %s\n\n", acct->name, spec->common_name,
           spec->key_path, spec->cert_path, until, spec->days, sha1, sha256);
    printf("1. Upload the certificate (the file above, or this PEM) to the app "
           "registration:\n   Entra admin center > App registrations > client ID %s >\n"
           "   Certificates & secrets > Certificates > Upload certificate.\n"
           "   Keep the current credential registered until step 3 is done.\n\n",
           acct->client_id);
    PEM_write_X509(stdout, cert);
    snprintf(line, sizeof(line), "   certificate_file = %s\n   private_key_file = %s\n",
             spec->cert_path, spec->key_path);
    printf("\n2. Try it before switching: copy [account %s] of %s to a new\n"
           "   section (e.g. [account %s-new]) with\n%s"
           "   (and no client_secret_file or credential_expiry), then run\n"
           "   exorelay test --account %s-new; remove that section afterwards.\n\n"
           "3. Switch: put those two lines into [account %s], then\n"
           "   systemctl reload exorelay (or kill -HUP the daemon).\n\n"
           "4. Delete the old credential from the app registration.\n",
           acct->name, cfg->path, acct->name, line, acct->name, acct->name);
}

/* cmd_credential - see above */
int cmd_credential(struct config *cfg, int argc, char **argv)
{
    struct cred_opts o;
    const struct conf_account *acct;
    struct credential_spec spec;
    char    cn[64], host[64] = "localhost", key[4200], cert[4200], err[4400];
    char   *dir;
    X509   *made;

    if (parse_args(argc, argv, &o) < 0)
        return command_usage_error("credential");
    if ((acct = config_account(cfg, o.account)) == NULL) {
        fprintf(stderr, "exorelay: credential: %s has no [account %s]\n", cfg->path,
                o.account);
        return EX_CONFIG;
    }
    dir = o.dir ? strdup(o.dir) : default_dir(cfg, acct);
    if (dir == NULL || free_names(dir, acct->name, key, cert, sizeof(key)) < 0) {
        fprintf(stderr, "exorelay: credential: no free file name in %s\n", dir ? dir : "?");
        free(dir);
        return EX_CANTCREAT;
    }
    free(dir);
    gethostname(host, sizeof(host) - 1);
    snprintf(cn, sizeof(cn), "exorelay %s %.40s", acct->name, host);
    spec = (struct credential_spec) { cn, o.days, o.bits, key, cert, cfg->user };
    if (credential_generate(&spec, &made, err, sizeof(err)) < 0) {
        fprintf(stderr, "exorelay: credential: %s\n", err);
        return EX_CANTCREAT;
    }
    report(cfg, acct, &spec, made);
    X509_free(made);
    return EX_OK;
}
