/*
 * conf_types.c - the value types of the key tables: each turns the text of
 * a "key = value" line into its field(s) of a section object, and releases
 * them again (see conf_impl.h). Validation of the text itself is in
 * conf_value.c, conf_addr.c and conf_file.c; this file only stores.
 *
 * Lists are split at commas and white space. A list that holds several bad
 * items reports each of them, joined by "; ".
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_file.h"
#include "conf_impl.h"
#include "conf_value.h"

#define FIELD(obj, off, T)	((T *) ((char *) (obj) + (off)))

/* conf_xalloc - zeroed memory; out of memory ends the program */
void   *conf_xalloc(size_t n)
{
    void   *p = calloc(1, n ? n : 1);

    if (p == NULL) {
        fputs("exorelay: out of memory\n", stderr);
        exit(71);                       /* EX_OSERR */
    }
    return p;
}

/* conf_xstrdup - copy a string; exits when out of memory */
char   *conf_xstrdup(const char *s)
{
    size_t  len = strlen(s) + 1;

    return memcpy(conf_xalloc(len), s, len);
}

/* conf_xgrow - make room for element n of a vector; exits when out of memory */
void   *conf_xgrow(void *v, size_t n, size_t size)
{
    void   *nv = realloc(v, (n + 1) * size);

    if (nv == NULL) {
        fputs("exorelay: out of memory\n", stderr);
        exit(71);
    }
    return nv;
}

/* strlist_add - append a copy of s */
int     strlist_add(struct strlist *l, const char *s)
{
    l->v = conf_xgrow(l->v, l->n, sizeof(l->v[0]));
    l->v[l->n++] = conf_xstrdup(s);
    return 0;
}

/* strlist_free - free the strings and the vector; l is empty again */
void    strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Text types: validated (type->check), stored as a copy; empty = unset. */

/* parse_text - validate with the type's check, store a copy; empty = unset */
static int parse_text(const struct conf_key *k, const char *value, void *obj,
                      char *err, size_t errlen)
{
    if (*value == 0) {
        if (k->flags & CONF_REQUIRED) {
            snprintf(err, errlen, "needs a value");
            return -1;
        }
        return 0;
    }
    if (k->type->check && k->type->check(value, err, errlen) < 0)
        return -1;
    *FIELD(obj, k->off, char *) = conf_xstrdup(value);
    return 0;
}

/* free_text - free a text field */
static void free_text(const struct conf_key *k, void *obj)
{
    char  **p = FIELD(obj, k->off, char *);

    free(*p);
    *p = NULL;
}

/* check_path - an absolute path */
static int check_path(const char *s, char *err, size_t errlen)
{
    if (s[0] == '/')
        return 0;
    snprintf(err, errlen, "'%s' is not an absolute path", s);
    return -1;
}

#define TEXT_TYPE(var, what, fn) \
    const struct conf_type var = {what, parse_text, free_text, fn}

TEXT_TYPE(conf_t_string, "text", NULL);
TEXT_TYPE(conf_t_path, "path", check_path);
TEXT_TYPE(conf_t_secret_file, "secret file", cf_secret_file);
TEXT_TYPE(conf_t_key_file, "private key file", cf_key_file);
TEXT_TYPE(conf_t_cert_file, "certificate file", cf_cert_file);
TEXT_TYPE(conf_t_guid, "GUID", cv_guid);
TEXT_TYPE(conf_t_tenant, "tenant", cv_tenant);
TEXT_TYPE(conf_t_domain, "domain", cv_domain);
TEXT_TYPE(conf_t_host, "host", cv_host);
TEXT_TYPE(conf_t_mailbox, "mailbox", cv_mailbox);
TEXT_TYPE(conf_t_send_as, "sender identity", cv_send_as);
TEXT_TYPE(conf_t_https_url, "https URL", cv_https_url);
TEXT_TYPE(conf_t_proxy_url, "proxy URL", cv_proxy_url);
TEXT_TYPE(conf_t_username, "user name", cv_username);
TEXT_TYPE(conf_t_name, "name", cv_name);
TEXT_TYPE(conf_t_milter_socket, "milter socket", cv_milter_socket);

/* Numbers. */

/* in_range - the key's range, when the table gives one */
static int in_range(const struct conf_key *k, const char *value, long long n,
                    char *err, size_t errlen)
{
    long long max = k->max > 0 ? k->max : INT_MAX;

    if (n >= k->min && n <= max)
        return 0;
    snprintf(err, errlen, "'%s' is out of range (%lld to %lld)", value, k->min, max);
    return -1;
}

/* parse_date - YYYY-MM-DD into a time_t; empty = unset */
static int parse_date(const struct conf_key *k, const char *value, void *obj,
                      char *err, size_t errlen)
{
    return *value == 0 ? 0 : cv_date(value, FIELD(obj, k->off, time_t), err, errlen);
}

/* parse_size - a size within the key's range */
static int parse_size(const struct conf_key *k, const char *value, void *obj,
                      char *err, size_t errlen)
{
    long long n;

    if (cv_size(value, &n, err, errlen) < 0 || in_range(k, value, n, err, errlen) < 0)
        return -1;
    *FIELD(obj, k->off, long long) = n;
    return 0;
}

/* parse_duration - a duration within the key's range */
static int parse_duration(const struct conf_key *k, const char *value, void *obj,
                          char *err, size_t errlen)
{
    long long n;

    if (cv_duration(value, &n, err, errlen) < 0 || in_range(k, value, n, err, errlen) < 0)
        return -1;
    *FIELD(obj, k->off, int) = (int) n;
    return 0;
}

/* parse_int - a number within the key's range */
static int parse_int(const struct conf_key *k, const char *value, void *obj,
                     char *err, size_t errlen)
{
    long long n;

    if (cv_number(value, LLONG_MIN, LLONG_MAX, &n, err, errlen) < 0
        || in_range(k, value, n, err, errlen) < 0)
        return -1;
    *FIELD(obj, k->off, int) = (int) n;
    return 0;
}

/* parse_mode - an octal file mode */
static int parse_mode(const struct conf_key *k, const char *value, void *obj,
                      char *err, size_t errlen)
{
    long long n;

    if (cv_mode(value, &n, err, errlen) < 0)
        return -1;
    *FIELD(obj, k->off, int) = (int) n;
    return 0;
}

/* free_nothing - plain values own no memory */
static void free_nothing(const struct conf_key *k, void *obj)
{
    (void) k;
    (void) obj;
}

const struct conf_type conf_t_date = {"date", parse_date, free_nothing, NULL};
const struct conf_type conf_t_size = {"size", parse_size, free_nothing, NULL};
const struct conf_type conf_t_duration = {"duration", parse_duration, free_nothing, NULL};
const struct conf_type conf_t_int = {"number", parse_int, free_nothing, NULL};
const struct conf_type conf_t_mode = {"octal mode", parse_mode, free_nothing, NULL};

/* Enumerations. */

/* parse_log_level - one of the level names of log.h */
static int parse_log_level(const struct conf_key *k, const char *value, void *obj,
                           char *err, size_t errlen)
{
    if (log_level_parse(value, FIELD(obj, k->off, enum log_level)) == 0)
        return 0;
    snprintf(err, errlen, "'%s' is not a log level (error, warning, notice, "
             "info, debug)", value);
    return -1;
}

/* parse_jwt_alg - PS256 or RS256, in any case */
static int parse_jwt_alg(const struct conf_key *k, const char *value, void *obj,
                         char *err, size_t errlen)
{
    enum jwt_alg *alg = FIELD(obj, k->off, enum jwt_alg);

    if (strcasecmp(value, "PS256") == 0)
        *alg = JWT_PS256;
    else if (strcasecmp(value, "RS256") == 0)
        *alg = JWT_RS256;
    else {
        snprintf(err, errlen, "'%s' is not a JWT signing algorithm (PS256, RS256)", value);
        return -1;
    }
    return 0;
}

/* parse_transport - smtp, graph or auto, in any case */
static int parse_transport(const struct conf_key *k, const char *value, void *obj,
                           char *err, size_t errlen)
{
    static const char *const names[] = {"smtp", "graph", "auto"};

    for (int i = 0; i < 3; i++)
        if (strcasecmp(value, names[i]) == 0) {
            *FIELD(obj, k->off, enum transport) = (enum transport) i;
            return 0;
        }
    snprintf(err, errlen, "'%s' is not a transport (smtp, graph, auto)", value);
    return -1;
}

/* parse_bool - yes/no, true/false, on/off, 1/0 into an int */
static int parse_bool(const struct conf_key *k, const char *value, void *obj,
                      char *err, size_t errlen)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(value, yes[i]) == 0 || strcasecmp(value, no[i]) == 0) {
            *FIELD(obj, k->off, int) = strcasecmp(value, yes[i]) == 0;
            return 0;
        }
    }
    snprintf(err, errlen, "'%s' is not yes or no", value);
    return -1;
}

const struct conf_type conf_t_log_level = {"log level", parse_log_level, free_nothing, NULL};
const struct conf_type conf_t_bool = {"yes or no", parse_bool, free_nothing, NULL};
const struct conf_type conf_t_jwt_alg = {"algorithm", parse_jwt_alg, free_nothing, NULL};
const struct conf_type conf_t_transport = {"transport", parse_transport, free_nothing, NULL};

/* Lists: split value, hand each item to one_item, collect the errors. */

typedef int (*item_fn) (const struct conf_key *k, const char *item, void *obj,
                        char *err, size_t errlen);

/* each_item - split value at commas and white space, store each item */
static int each_item(const struct conf_key *k, const char *value, void *obj,
                     item_fn one_item, char *err, size_t errlen)
{
    char   *copy = conf_xstrdup(value), *save = NULL, *item;
    char    why[512];
    size_t  used = 0, n = 0;
    int     bad = 0;

    err[0] = 0;
    for (item = strtok_r(copy, ", \t", &save); item; item = strtok_r(NULL, ", \t", &save)) {
        n++;
        if (one_item(k, item, obj, why, sizeof(why)) == 0)
            continue;
        bad = -1;
        if (used < errlen)
            used += (size_t) snprintf(err + used, errlen - used, "%s%s",
                                      used ? "; " : "", why);
    }
    free(copy);
    if (!bad && n == 0 && (k->flags & CONF_REQUIRED)) {
        snprintf(err, errlen, "needs a value");
        return -1;
    }
    return bad;
}

/* item_listen - append one listen address */
static int item_listen(const struct conf_key *k, const char *item, void *obj,
                       char *err, size_t errlen)
{
    struct listen_addr **v = FIELD(obj, k->off, struct listen_addr *), a;
    size_t *n = FIELD(obj, k->off2, size_t);

    if (cv_listen(item, &a, err, errlen) < 0)
        return -1;
    *v = conf_xgrow(*v, *n, sizeof(a));
    (*v)[(*n)++] = a;
    return 0;
}

/* item_cidr - append one network */
static int item_cidr(const struct conf_key *k, const char *item, void *obj,
                     char *err, size_t errlen)
{
    struct cidr **v = FIELD(obj, k->off, struct cidr *), c;
    size_t *n = FIELD(obj, k->off2, size_t);

    if (cv_cidr(item, &c, err, errlen) < 0)
        return -1;
    *v = conf_xgrow(*v, *n, sizeof(c));
    (*v)[(*n)++] = c;
    return 0;
}

/* item_int - append one number within the key's range */
static int item_int(const struct conf_key *k, const char *item, void *obj,
                    char *err, size_t errlen)
{
    int   **v = FIELD(obj, k->off, int *);
    size_t *n = FIELD(obj, k->off2, size_t);
    long long num;

    if (cv_number(item, LLONG_MIN, LLONG_MAX, &num, err, errlen) < 0
        || in_range(k, item, num, err, errlen) < 0)
        return -1;
    *v = conf_xgrow(*v, *n, sizeof(int));
    (*v)[(*n)++] = (int) num;
    return 0;
}

/* item_text - a strlist item, validated by the type's check */
static int item_text(const struct conf_key *k, const char *item, void *obj,
                     char *err, size_t errlen)
{
    if (k->type->check(item, err, errlen) < 0)
        return -1;
    return strlist_add(FIELD(obj, k->off, struct strlist), item);
}

/* parse_listen - a list of listen addresses */
static int parse_listen(const struct conf_key *k, const char *v, void *obj, char *e, size_t l)
{
    return each_item(k, v, obj, item_listen, e, l);
}

/* parse_cidr - a list of networks */
static int parse_cidr(const struct conf_key *k, const char *v, void *obj, char *e, size_t l)
{
    return each_item(k, v, obj, item_cidr, e, l);
}

/* parse_ints - a list of numbers */
static int parse_ints(const struct conf_key *k, const char *v, void *obj, char *e, size_t l)
{
    return each_item(k, v, obj, item_int, e, l);
}

/* parse_texts - a list of validated texts */
static int parse_texts(const struct conf_key *k, const char *v, void *obj, char *e, size_t l)
{
    return each_item(k, v, obj, item_text, e, l);
}

/* free_listen - free the addresses and the vector */
static void free_listen(const struct conf_key *k, void *obj)
{
    struct listen_addr **v = FIELD(obj, k->off, struct listen_addr *);
    size_t *n = FIELD(obj, k->off2, size_t);

    for (size_t i = 0; i < *n; i++) {
        free((*v)[i].host);
        free((*v)[i].path);
    }
    free(*v);
    *v = NULL;
    *n = 0;
}

/* free_vector - a vector of plain values and its count */
static void free_vector(const struct conf_key *k, void *obj)
{
    void  **v = FIELD(obj, k->off, void *);

    free(*v);
    *v = NULL;
    *FIELD(obj, k->off2, size_t) = 0;
}

/* free_texts - free a strlist field */
static void free_texts(const struct conf_key *k, void *obj)
{
    strlist_free(FIELD(obj, k->off, struct strlist));
}

const struct conf_type conf_t_listen_list = {"listen addresses", parse_listen, free_listen, NULL};
const struct conf_type conf_t_cidr_list = {"networks", parse_cidr, free_vector, NULL};
const struct conf_type conf_t_int_list = {"numbers", parse_ints, free_vector, NULL};
const struct conf_type conf_t_glob_list = {"address patterns", parse_texts, free_texts, cv_glob};
const struct conf_type conf_t_mailbox_list = {"addresses", parse_texts, free_texts, cv_mailbox};
const struct conf_type conf_t_domain_list = {"domains", parse_texts, free_texts, cv_domain_pattern};
const struct conf_type conf_t_name_list = {"names", parse_texts, free_texts, cv_name};

/* Regular expressions: the source text and its compiled form. */

/* parse_regex - compile a POSIX ERE; keep the source; empty = unset */
static int parse_regex(const struct conf_key *k, const char *value, void *obj,
                       char *err, size_t errlen)
{
    if (*value == 0)
        return 0;
    if (cv_regex(value, FIELD(obj, k->off2, regex_t), 0, err, errlen) < 0)
        return -1;
    *FIELD(obj, k->off, char *) = conf_xstrdup(value);
    return 0;
}

/* free_regex - free the source and the compiled form */
static void free_regex(const struct conf_key *k, void *obj)
{
    char  **src = FIELD(obj, k->off, char *);

    if (*src)
        regfree(FIELD(obj, k->off2, regex_t));
    free(*src);
    *src = NULL;
}

/* parse_header_regex - "Header-Name: ERE", one entry per line (the key
 * repeats). The regex is for the header's value; the milter compares the
 * name case-insensitively, as header names are. */
static int parse_header_regex(const struct conf_key *k, const char *value, void *obj,
                              char *err, size_t errlen)
{
    struct strlist *l = FIELD(obj, k->off, struct strlist);
    regex_t **res = FIELD(obj, k->off2, regex_t *);
    size_t  nlen = strcspn(value, ":");
    const char *re = value + nlen + 1;
    regex_t compiled;

    for (size_t i = 0; i < nlen; i++) {
        if (value[i] <= ' ' || value[i] > '~') {
            nlen = 0;
            break;
        }
    }
    if (nlen == 0 || value[nlen] != ':') {
        snprintf(err, errlen, "'%s' is not 'Header-Name: regex'", value);
        return -1;
    }
    while (isspace((unsigned char) *re))
        re++;
    if (cv_regex(re, &compiled, 0, err, errlen) < 0)
        return -1;
    *res = conf_xgrow(*res, l->n, sizeof(regex_t));
    (*res)[l->n] = compiled;
    return strlist_add(l, value);
}

/* free_header_regex - free every entry and its compiled regex */
static void free_header_regex(const struct conf_key *k, void *obj)
{
    struct strlist *l = FIELD(obj, k->off, struct strlist);
    regex_t **res = FIELD(obj, k->off2, regex_t *);

    for (size_t i = 0; i < l->n; i++)
        regfree(&(*res)[i]);
    free(*res);
    *res = NULL;
    strlist_free(l);
}

const struct conf_type conf_t_regex = {"regex", parse_regex, free_regex, NULL};
const struct conf_type conf_t_header_regex = {"header regex", parse_header_regex,
                                              free_header_regex, NULL};
