/*
 * config.c - load exorelay.conf (see config.h): read it with the INI
 * tokenizer (conf_ini.c), store each key through its table entry
 * (conf_keys.c, conf_types.c), fill in defaults, run the checks that span
 * keys and sections (conf_check.c), and report every problem at once.
 *
 * A key that fails to parse is still "given": it is reported once, for
 * what is wrong with it, and not again as missing. A duplicate section is
 * parsed into a scratch object so that its keys are still checked.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_impl.h"
#include "conf_ini.h"

#define CUR_NONE	(-1)            /* before the first section */
#define CUR_SKIP	(-2)            /* inside an unknown section */

struct loader {
    struct config *cfg;
    struct conf_diag diag;
    struct conf_inst *insts;
    size_t  ninst;
    long    cur;                    /* index into insts, or CUR_* */
};

/* conf_inst_obj - the object a section instance fills */
void   *conf_inst_obj(struct config *cfg, const struct conf_inst *in)
{
    return in->scratch ? in->scratch : in->sec->obj(cfg, in->idx);
}

/* conf_inst_keyline - where key was given in this section, 0 = not given */
int     conf_inst_keyline(const struct conf_inst *in, const char *key)
{
    const struct conf_key *k = conf_key_find(in->sec, key);

    return k ? in->keyline[k - in->sec->keys] : 0;
}

/* new_inst - record a section instance */
static struct conf_inst *new_inst(struct loader *ld, const struct conf_section *sec,
                                  const char *name, int line)
{
    struct conf_inst *in;

    ld->insts = conf_xgrow(ld->insts, ld->ninst, sizeof(*in));
    in = &ld->insts[ld->ninst++];
    memset(in, 0, sizeof(*in));
    in->sec = sec;
    in->name = name ? conf_xstrdup(name) : NULL;
    in->line = line;
    in->keyline = conf_xalloc(sec->nkeys * sizeof(int));
    return in;
}

/* find_inst - the earlier instance of this section (and name), if any */
static const struct conf_inst *find_inst(struct loader *ld, const struct conf_section *sec,
                                         const char *name)
{
    for (size_t i = 0; i < ld->ninst; i++) {
        const struct conf_inst *in = &ld->insts[i];

        if (in->sec != sec || in->scratch)
            continue;
        if (!sec->named || (name && strcmp(in->name, name) == 0))
            return in;
    }
    return NULL;
}

/* suggest_section - "; did you mean [x]?" or "" */
static const char *suggest_section(const char *name, char *buf, size_t len)
{
    struct conf_suggest s;

    conf_suggest_init(&s, name);
    for (size_t i = 0; i < conf_nsections; i++)
        conf_suggest_try(&s, conf_sections[i].name);
    if (s.best == NULL)
        return "";
    snprintf(buf, len, "; did you mean [%s]?", s.best);
    return buf;
}

/* begin_section - a "[name ARG]" line */
static void begin_section(struct loader *ld, const char *name, const char *arg, int line)
{
    const struct conf_section *sec = conf_section_find(name);
    const struct conf_inst *prev;
    struct conf_inst *in;
    char    hint[80];
    int     dup;

    if (sec == NULL) {
        conf_err(&ld->diag, line, "unknown section [%s]%s (known: [relay], [upstream], "
                 "[account NAME], [milter], [class NAME], [alarms])",
                 name, suggest_section(name, hint, sizeof(hint)));
        ld->cur = CUR_SKIP;
        return;
    }
    if (sec->named && arg == NULL)
        conf_err(&ld->diag, line, "[%s] needs a name: [%s NAME]", name, name);
    if (!sec->named && arg != NULL) {
        conf_err(&ld->diag, line, "[%s] takes no name (found '%s')", name, arg);
        arg = NULL;
    }
    prev = find_inst(ld, sec, arg);
    if ((dup = prev != NULL) != 0)
        conf_err(&ld->diag, line, "duplicate section [%s%s%s] (first at line %d)",
                 name, arg ? " " : "", arg ? arg : "", prev->line);
    in = new_inst(ld, sec, arg, line);
    if (dup || (sec->named && arg == NULL))
        in->scratch = conf_xalloc(sec->objsize);
    else if (sec->named)
        in->idx = sec->add(ld->cfg, arg, line);
    ld->cur = (long) (in - ld->insts);
}

/* home_of - the section a misplaced key belongs to, or NULL */
static const char *home_of(const char *key)
{
    for (size_t i = 0; i < conf_nsections; i++)
        if (conf_key_find(&conf_sections[i], key))
            return conf_sections[i].name;
    return NULL;
}

/* unknown_key - explain a key this section does not have */
static void unknown_key(struct loader *ld, const struct conf_inst *in,
                        const char *key, int line)
{
    const char *home = home_of(key);
    struct conf_suggest s;
    char    sname[128];

    snprintf(sname, sizeof(sname), "%s%s%s", in->sec->name, in->name ? " " : "",
             in->name ? in->name : "");
    if (home && strcmp(home, in->sec->name) != 0) {
        conf_err(&ld->diag, line, "key '%s' belongs in [%s%s], not in [%s]", key, home,
                 conf_section_find(home)->named ? " NAME" : "", sname);
        return;
    }
    conf_suggest_init(&s, key);
    for (size_t i = 0; i < in->sec->nkeys; i++)
        conf_suggest_try(&s, in->sec->keys[i].name);
    if (s.best)
        conf_err(&ld->diag, line, "unknown key '%s' in [%s]; did you mean '%s'?",
                 key, sname, s.best);
    else
        conf_err(&ld->diag, line, "unknown key '%s' in [%s] (see exorelay.conf(5))",
                 key, sname);
}

/* set_key - a "key = value" line */
static void set_key(struct loader *ld, const char *key, const char *value, int line)
{
    struct conf_inst *in;
    const struct conf_key *k;
    const char *home;
    char    err[1024];
    int    *seen;

    if (ld->cur == CUR_SKIP)
        return;
    if (ld->cur == CUR_NONE) {
        home = home_of(key);
        conf_err(&ld->diag, line, "key '%s' comes before any [section]%s%s%s", key,
                 home ? "; put it under [" : "", home ? home : "", home ? "]" : "");
        return;
    }
    in = &ld->insts[ld->cur];
    if ((k = conf_key_find(in->sec, key)) == NULL) {
        unknown_key(ld, in, key, line);
        return;
    }
    seen = &in->keyline[k - in->sec->keys];
    if (*seen && !(k->flags & CONF_REPEAT)) {
        conf_err(&ld->diag, line, "duplicate key '%s' (first at line %d)", key, *seen);
        return;
    }
    if (*seen == 0)
        *seen = line;
    if (strncmp(value, CONF_PLACEHOLDER, strlen(CONF_PLACEHOLDER)) == 0) {
        conf_err(&ld->diag, line, "%s is not filled in yet (still '%s'): give %s "
                 "(INSTALL, section 3)", key, value, k->hint ? k->hint : "its value");
        return;
    }
    if (k->type->parse(k, value, conf_inst_obj(ld->cfg, in), err, sizeof(err)) < 0)
        conf_err(&ld->diag, line, "%s: %s", key, err);
}

/* apply_defaults - parse the default of every key not given */
static void apply_defaults(struct loader *ld, struct conf_inst *in)
{
    char    err[512];

    for (size_t i = 0; i < in->sec->nkeys; i++) {
        const struct conf_key *k = &in->sec->keys[i];

        if (in->keyline[i] || k->def == NULL)
            continue;
        if (k->type->parse(k, k->def, conf_inst_obj(ld->cfg, in), err, sizeof(err)) < 0)
            conf_err(&ld->diag, in->line, "internal error: default of %s: %s", k->name, err);
    }
}

/* finish_sections - absent singletons get an instance; defaults everywhere */
static void finish_sections(struct loader *ld)
{
    for (size_t s = 0; s < conf_nsections; s++)
        if (!conf_sections[s].named && find_inst(ld, &conf_sections[s], NULL) == NULL)
            new_inst(ld, &conf_sections[s], NULL, 0);
    for (size_t i = 0; i < ld->ninst; i++)
        if (ld->insts[i].scratch == NULL)
            apply_defaults(ld, &ld->insts[i]);
}

/* release_obj - free what the keys of one section object hold */
static void release_obj(const struct conf_section *sec, void *obj)
{
    for (size_t i = 0; i < sec->nkeys; i++)
        sec->keys[i].type->release(&sec->keys[i], obj);
}

/* free_insts - free the instances and their scratch objects */
static void free_insts(struct loader *ld)
{
    for (size_t i = 0; i < ld->ninst; i++) {
        if (ld->insts[i].scratch) {
            release_obj(ld->insts[i].sec, ld->insts[i].scratch);
            free(ld->insts[i].scratch);
        }
        free(ld->insts[i].keyline);
        free(ld->insts[i].name);
    }
    free(ld->insts);
}

/* read_file - tokenize path (or fp, when not NULL: that file, already
 * open) and hand each line to the loader */
static int read_file(struct loader *ld, const char *path, FILE *fp)
{
    struct ini_reader *r;
    struct ini_item it;
    char    err[512];

    if ((r = fp ? ini_open_fp(fp, err, sizeof(err)) : ini_open(path, err, sizeof(err)))
        == NULL) {
        conf_err(&ld->diag, 0, "%s", err);
        return -1;
    }
    while (ini_next(r, &it)) {
        if (it.kind == INI_SECTION) {
            begin_section(ld, it.name, it.arg, it.lineno);
        } else if (it.kind == INI_KEY) {
            set_key(ld, it.name, it.arg, it.lineno);
        } else {
            conf_err(&ld->diag, it.lineno, "%s", it.error);
            if (it.header)
                ld->cur = CUR_SKIP;     /* keys below belong to no known section */
        }
    }
    ld->diag.lines = ini_lineno(r);
    ini_close(r);
    return 0;
}

/* config_load - see config.h */
struct config *config_load(const char *path, FILE *errs, int *nerrors)
{
    return config_load_fp(path, NULL, errs, nerrors);
}

/* config_load_fp - see config.h */
struct config *config_load_fp(const char *path, FILE *fp, FILE *errs, int *nerrors)
{
    struct loader ld;

    memset(&ld, 0, sizeof(ld));
    ld.cfg = conf_xalloc(sizeof(*ld.cfg));
    ld.cfg->path = conf_xstrdup(path);
    ld.diag.path = path;
    ld.cur = CUR_NONE;
    if (read_file(&ld, path, fp) == 0) {
        finish_sections(&ld);
        conf_check_all(ld.cfg, ld.insts, ld.ninst, &ld.diag);
    }
    free_insts(&ld);
    *nerrors = (int) ld.diag.n;
    conf_diag_flush(&ld.diag, errs);
    if (*nerrors > 0) {
        config_free(ld.cfg);
        return NULL;
    }
    return ld.cfg;
}

/* config_free - see config.h */
void    config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t s = 0; s < conf_nsections; s++) {
        const struct conf_section *sec = &conf_sections[s];
        size_t  n = sec->count(cfg);

        for (size_t i = 0; i < n; i++)
            release_obj(sec, sec->obj(cfg, i));
    }
    for (size_t i = 0; i < cfg->naccounts; i++)
        free(cfg->accounts[i].name);
    for (size_t i = 0; i < cfg->nclasses; i++) {
        free(cfg->classes[i].name);
        free(cfg->classes[i].account);
    }
    free(cfg->accounts);
    free(cfg->classes);
    free(cfg->path);
    free(cfg);
}

/* config_account - by name; NULL = the default (first) account */
const struct conf_account *config_account(const struct config *cfg, const char *name)
{
    if (name == NULL)
        return cfg->naccounts ? &cfg->accounts[0] : NULL;
    for (size_t i = 0; i < cfg->naccounts; i++)
        if (strcmp(cfg->accounts[i].name, name) == 0)
            return &cfg->accounts[i];
    return NULL;
}

/* config_account_for_sender - first account whose senders match, else default */
const struct conf_account *config_account_for_sender(const struct config *cfg,
                                                     const char *sender)
{
    for (size_t i = 0; sender && *sender && i < cfg->naccounts; i++)
        for (size_t j = 0; j < cfg->accounts[i].senders.n; j++)
            if (fnmatch(cfg->accounts[i].senders.v[j], sender, FNM_CASEFOLD) == 0)
                return &cfg->accounts[i];
    return config_account(cfg, NULL);
}

/* config_accounts_for_sender - every account whose senders match, else
 * the default: the pool a sender's mail is spread over */
size_t config_accounts_for_sender(const struct config *cfg, const char *sender,
                                  const struct conf_account **out, size_t max)
{
    size_t  n = 0;

    for (size_t i = 0; sender && *sender && i < cfg->naccounts && n < max; i++)
        for (size_t j = 0; j < cfg->accounts[i].senders.n; j++)
            if (fnmatch(cfg->accounts[i].senders.v[j], sender, FNM_CASEFOLD) == 0) {
                out[n++] = &cfg->accounts[i];
                break;
            }
    if (n == 0 && max > 0 && (out[0] = config_account(cfg, NULL)) != NULL)
        n = 1;
    return n;
}

/* config_class - a class by name, or NULL */
const struct conf_class *config_class(const struct config *cfg, const char *name)
{
    for (size_t i = 0; name && i < cfg->nclasses; i++)
        if (strcmp(cfg->classes[i].name, name) == 0)
            return &cfg->classes[i];
    return NULL;
}

/* config_path_default - $EXORELAY_CONF, else /etc/exorelay/exorelay.conf */
const char *config_path_default(void)
{
    const char *env = getenv("EXORELAY_CONF");

    return env && *env ? env : "/etc/exorelay/exorelay.conf";
}
