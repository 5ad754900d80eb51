/*
 * fuzz_config.c - libFuzzer target: exorelay.conf from tokenizer to
 * checks (common/conf_ini.c, config.c, conf_*.c) through config_load().
 *
 * Input: a configuration file (tests/fuzz/config.dict gives the fuzzer the
 * section and key names). It is loaded from a memory file (memfd) with
 * the file checks off, as exorelay-sendmail does for an ordinary user, so
 * no secret or certificate file is opened.
 *
 * Invariants:
 *  - a config comes back exactly when there was no error;
 *  - every error is one line "PATH:LINE: text", LINE within the file
 *    (0 = the file as a whole), and nerrors counts them;
 *  - loading the same file twice gives the same messages (no stale or
 *    uninitialised memory decides anything);
 *  - a loaded config has its default account, finds it by name, picks an
 *    account for any sender and finds each class by name; it frees
 *    without a leak (LeakSanitizer runs after each input).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "common/config.h"
#include "fuzz.h"

/* file_lines - how many lines the file has (a last line without LF counts) */
static int file_lines(const uint8_t *data, size_t size)
{
    int     n = 0;

    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return n + (size > 0 && data[size - 1] != '\n');
}

/* load - config_load on path; the error text into *msgs */
static struct config *load(const char *path, char **msgs, int *nerrors)
{
    size_t  len;
    FILE   *errs = open_memstream(msgs, &len);
    struct config *cfg;

    CHECK(errs != NULL);
    *nerrors = -1;
    cfg = config_load(path, errs, nerrors);
    fclose(errs);
    return cfg;
}

/* check_messages - one well-formed line per error */
static void check_messages(const char *msgs, const char *path, int nerrors,
                           int lines)
{
    size_t  plen = strlen(path);
    int     n = 0;

    for (const char *p = msgs; *p; n++) {
        const char *nl = strchr(p, '\n');
        char   *end;
        long    line;

        CHECK(nl != NULL);
        CHECK(strncmp(p, path, plen) == 0 && p[plen] == ':');
        line = strtol(p + plen + 1, &end, 10);
        CHECK(end > p + plen + 1 && *end == ':' && line >= 0 && line <= lines);
        p = nl + 1;
    }
    CHECK(n == nerrors);
}

/* check_loaded - what the relay and the milter ask of a config */
static void check_loaded(const struct config *cfg)
{
    const struct conf_account *def = config_account(cfg, NULL);

    CHECK(def != NULL && cfg->naccounts > 0);
    CHECK(config_account(cfg, def->name) == def);
    CHECK(config_account_for_sender(cfg, "root@localhost") != NULL);
    CHECK(config_account_for_sender(cfg, "") == def);
    for (size_t i = 0; i < cfg->naccounts; i++)
        CHECK(config_account(cfg, cfg->accounts[i].name) != NULL);
    for (size_t i = 0; i < cfg->nclasses; i++) {
        CHECK(config_class(cfg, cfg->classes[i].name) != NULL);
        CHECK(cfg->classes[i].account == NULL
              || config_account(cfg, cfg->classes[i].account) != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    char    path[64], *msgs1 = NULL, *msgs2 = NULL;
    struct config *cfg1, *cfg2;
    int     n1, n2;

    if (fd < 0) {
        config_skip_file_checks(1);
        CHECK((fd = memfd_create("exorelay.conf", 0)) >= 0);
    }
    CHECK(ftruncate(fd, 0) == 0);
    CHECK(pwrite(fd, data, size, 0) == (ssize_t) size);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    cfg1 = load(path, &msgs1, &n1);
    cfg2 = load(path, &msgs2, &n2);
    CHECK((cfg1 == NULL) == (n1 > 0) && n1 >= 0);
    CHECK(n1 == n2 && strcmp(msgs1, msgs2) == 0);
    CHECK((cfg1 == NULL) == (cfg2 == NULL));
    check_messages(msgs1, path, n1, file_lines(data, size));
    if (cfg1)
        check_loaded(cfg1);
    config_free(cfg1);
    config_free(cfg2);
    free(msgs1);
    free(msgs2);
    return 0;
}
