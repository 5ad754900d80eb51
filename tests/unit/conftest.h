/*
 * conftest.h - helpers for the config loader's unit tests: write a config
 * into $TESTS_TMP, load it, and look for a "FILE:LINE: ..." message.
 *
 *	conftest_init()			scratch dir, a 0600 secret, a
 *					certificate + matching key (openssl)
 *	struct config *conftest_load(body)
 *		write body (with @TMP@, @SECRET@, @CERT@, @KEY@ replaced) to
 *		conftest_path and load it; errors go to conftest_errors,
 *		their number to conftest_nerr
 *	struct config *conftest_reload(void)	load conftest_path again
 *	int conftest_has(line, phrase)	an error at line that contains phrase
 *	void conftest_show(void)	print the errors as TAP comments
 *	CONFTEST_BASE			a valid [account main], lines 1-5
 */
#ifndef EXORELAY_CONFTEST_H
#define EXORELAY_CONFTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"

#define CONFTEST_BASE \
    "[account main]\n" \
    "tenant = contoso.onmicrosoft.com\n" \
    "client_id = 11111111-2222-3333-4444-555555555555\n" \
    "client_secret_file = @SECRET@\n" \
    "mailbox = no-reply@contoso.onmicrosoft.com\n"

static char conftest_tmp[256], conftest_path[512], conftest_secret[512];
static char *conftest_errors;
static int conftest_nerr;

/* conftest_write - write text to a file of the scratch dir with mode */
static inline void conftest_write(const char *name, const char *text, mode_t mode)
{
    char    path[512];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/%s", conftest_tmp, name);
    unlink(path);
    if ((fp = fopen(path, "w")) == NULL) {
        perror(path);
        exit(2);
    }
    fputs(text, fp);
    fclose(fp);
    chmod(path, mode);
}

static inline void conftest_init(void)
{
    const char *tmp = getenv("TESTS_TMP");
    char    cmd[2048];

    snprintf(conftest_tmp, sizeof(conftest_tmp), "%s", tmp && *tmp ? tmp : "/tmp");
    snprintf(conftest_path, sizeof(conftest_path), "%s/test.conf", conftest_tmp);
    snprintf(conftest_secret, sizeof(conftest_secret), "%s/main.secret", conftest_tmp);
    conftest_write("main.secret", "not-a-real-secret\n", 0600);
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=exorelay-test "
             "-days 2 -keyout main.key -out main.crt >/dev/null 2>&1 && chmod 600 main.key",
             conftest_tmp);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot make a test certificate with openssl\n");
        exit(2);
    }
}

/* conftest_expand - body with the @NAME@ placeholders replaced */
static inline char *conftest_expand(const char *body)
{
    static const char *const names[] = {"@TMP@", "@SECRET@", "@CERT@", "@KEY@"};
    char    vals[4][600];
    size_t  cap = strlen(body) * 4 + 4096, len = 0;
    char   *out = malloc(cap);

    snprintf(vals[0], sizeof(vals[0]), "%s", conftest_tmp);
    snprintf(vals[1], sizeof(vals[1]), "%s", conftest_secret);
    snprintf(vals[2], sizeof(vals[2]), "%s/main.crt", conftest_tmp);
    snprintf(vals[3], sizeof(vals[3]), "%s/main.key", conftest_tmp);
    while (*body) {
        size_t  i;

        for (i = 0; i < 4; i++)
            if (strncmp(body, names[i], strlen(names[i])) == 0)
                break;
        if (i < 4) {
            len += (size_t) snprintf(out + len, cap - len, "%s", vals[i]);
            body += strlen(names[i]);
        } else {
            out[len++] = *body++;
        }
    }
    out[len] = 0;
    return out;
}

/* conftest_reload - load conftest_path as it is */
static inline struct config *conftest_reload(void)
{
    size_t  size;
    FILE   *errs;
    struct config *cfg;

    free(conftest_errors);
    conftest_errors = NULL;
    errs = open_memstream(&conftest_errors, &size);
    cfg = config_load(conftest_path, errs, &conftest_nerr);
    fclose(errs);
    return cfg;
}

static inline struct config *conftest_load(const char *body)
{
    char   *text = conftest_expand(body);

    conftest_write("test.conf", text, 0644);
    free(text);
    return conftest_reload();
}

static inline int conftest_has(int line, const char *phrase)
{
    char    prefix[600];
    const char *p = conftest_errors;

    snprintf(prefix, sizeof(prefix), "%s:%d: ", conftest_path, line);
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t  len = eol ? (size_t) (eol - p) : strlen(p);
        char   *one = strndup(p, len);
        int     hit = strncmp(one, prefix, strlen(prefix)) == 0 && strstr(one, phrase);

        free(one);
        if (hit)
            return 1;
        p += len + (eol != NULL);
    }
    return 0;
}

static inline void conftest_show(void)
{
    const char *p = conftest_errors;

    printf("#   %d error(s):\n", conftest_nerr);
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        int     len = eol ? (int) (eol - p) : (int) strlen(p);

        printf("#     %.*s\n", len, p);
        p += len + (eol != NULL);
    }
}

#endif
