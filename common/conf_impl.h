/*
 * conf_impl.h - internals shared by the modules of the config loader
 * (not for use outside common/conf_*.c and common/config.c).
 *
 * The loader is table-driven, like Postfix's main.cf parameter tables:
 * each section has a table of keys (conf_keys.c), each key names a value
 * type (conf_types.c: parse a string into a field, release it), a default
 * written as the user would write it, and its destination field(s) by
 * offset. Adding a key is one line in conf_keys.c plus its man page entry.
 *
 * SYNOPSIS
 *	Diagnostics (conf_diag.c)
 *	void conf_err(diag, line, fmt, ...)	one "FILE:LINE: message"
 *	void conf_diag_flush(diag, errs)	write them sorted by line, free
 *	void conf_suggest_try(sugg, candidate)	"did you mean": keep the
 *						closest candidate to sugg->word
 *	Key tables (conf_keys.c)
 *	const struct conf_section conf_sections[]; size_t conf_nsections
 *	const struct conf_section *conf_section_find(name)
 *	const struct conf_key *conf_key_find(sec, name)
 *	Cross-section checks (conf_check.c)
 *	void conf_check_all(cfg, insts, ninst, diag)
 */
#ifndef EXORELAY_CONF_IMPL_H
#define EXORELAY_CONF_IMPL_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* Diagnostics: collected, then printed sorted by line number. */
struct conf_msg {
    int     line;
    size_t  seq;                /* keeps messages of one line in order */
    char   *text;
};
struct conf_diag {
    const char *path;
    int     lines;              /* lines in the file: "at the end" */
    struct conf_msg *v;
    size_t  n, cap;
};
void conf_err(struct conf_diag *d, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void conf_diag_flush(struct conf_diag *d, FILE *errs);

struct conf_suggest {
    const char *word;           /* what the user wrote */
    const char *best;           /* closest candidate so far, or NULL */
    int     dist;
};
void conf_suggest_init(struct conf_suggest *s, const char *word);
void conf_suggest_try(struct conf_suggest *s, const char *candidate);

/* Keys and their value types. */
struct conf_key;
struct conf_type {
    const char *what;           /* "size", "duration", ... (messages) */
    /* parse - store value into the key's field(s) of obj; -1 + err */
    int   (*parse)(const struct conf_key *k, const char *value, void *obj,
                   char *err, size_t errlen);
    void  (*release)(const struct conf_key *k, void *obj);
    /* check - for text types: validate the text (conf_value.h) */
    int   (*check)(const char *value, char *err, size_t errlen);
};

/* The value types (conf_types.c); field types in parentheses. */
extern const struct conf_type
    conf_t_string,              /* (char *) any text */
    conf_t_path,                /* (char *) absolute path */
    conf_t_secret_file,         /* (char *) 0600 file, readable */
    conf_t_key_file,            /* (char *) 0600 PEM private key */
    conf_t_cert_file,           /* (char *) PEM certificate(s) */
    conf_t_guid, conf_t_tenant, conf_t_domain, conf_t_host, /* (char *) */
    conf_t_mailbox, conf_t_send_as, conf_t_https_url,       /* (char *) */
    conf_t_proxy_url, conf_t_username, conf_t_name,         /* (char *) */
    conf_t_milter_socket,       /* (char *) */
    conf_t_date,                /* (time_t) end of day UTC */
    conf_t_size,                /* (long long) bytes */
    conf_t_duration,            /* (int) seconds */
    conf_t_int,                 /* (int) */
    conf_t_mode,                /* (int) octal */
    conf_t_bool,                /* (int) yes/no */
    conf_t_log_level,           /* (enum log_level) */
    conf_t_jwt_alg,             /* (enum jwt_alg) */
    conf_t_transport,           /* (enum transport) */
    conf_t_listen_list,         /* (struct listen_addr *, size_t) */
    conf_t_cidr_list,           /* (struct cidr *, size_t) */
    conf_t_glob_list,           /* (struct strlist) address globs */
    conf_t_mailbox_list,        /* (struct strlist) */
    conf_t_domain_list,         /* (struct strlist) */
    conf_t_name_list,           /* (struct strlist) section names */
    conf_t_int_list,            /* (int *, size_t) */
    conf_t_regex,               /* (char *, regex_t) */
    conf_t_header_regex;        /* (struct strlist, regex_t *) "Name: ERE" */

#define CONF_REPEAT   (1u << 0) /* may appear several times; values add up */
#define CONF_REQUIRED (1u << 1) /* never empty; without a default: must be given */

struct conf_key {
    const char *name;
    const struct conf_type *type;
    const char *def;            /* default in config syntax; NULL = unset */
    size_t  off;                /* destination field in the section object */
    size_t  off2;               /* second field: count of a vector, regex_t */
    long long min, max;         /* range of numbers (when max > 0) */
    unsigned flags;
    const char *hint;           /* what to give, for "has no KEY (HINT)" */
};

/* A section kind: [relay], [account NAME], ... */
struct conf_section {
    const char *name;
    int     named;              /* takes a NAME: [account NAME] */
    const struct conf_key *keys;
    size_t  nkeys;
    size_t  objsize;            /* sizeof the object its keys fill */
    /* obj - the object of instance idx (singletons: cfg itself) */
    void   *(*obj)(struct config *cfg, size_t idx);
    /* add - a new named instance; returns its index */
    size_t  (*add)(struct config *cfg, const char *name, int line);
    size_t  (*count)(const struct config *cfg);
};

extern const struct conf_section conf_sections[];
extern const size_t conf_nsections;
const struct conf_section *conf_section_find(const char *name);
const struct conf_key *conf_key_find(const struct conf_section *sec, const char *name);

/* One section as it appeared in the file (kept until the checks ran). */
struct conf_inst {
    const struct conf_section *sec;
    size_t  idx;                /* index for sec->obj() */
    char   *name;               /* NAME of [account NAME], or NULL */
    int     line;               /* of the [header]; 0 = absent from file */
    int    *keyline;            /* per key of sec: line where given, 0 = not */
    void   *scratch;            /* duplicate section: parsed here, discarded */
};

void *conf_inst_obj(struct config *cfg, const struct conf_inst *in);
int conf_inst_keyline(const struct conf_inst *in, const char *key);

/* Checks that need more than one key or section (conf_check.c). */
void conf_check_all(struct config *cfg, struct conf_inst *insts, size_t ninst,
                    struct conf_diag *d);

/* Defaults computed at load time (conf_check.c). */
void conf_default_local_domains(struct strlist *out);

/* Small helpers (conf_types.c) */
int strlist_add(struct strlist *l, const char *s);
void strlist_free(struct strlist *l);
void *conf_xalloc(size_t n);
void *conf_xgrow(void *v, size_t n, size_t size);
char *conf_xstrdup(const char *s);

#endif
