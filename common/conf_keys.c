/*
 * conf_keys.c - every section and key of exorelay.conf, one table line
 * each: name, value type (conf_types.c), default in config syntax, and
 * the field it fills. To add a key: add its field to config.h, one line
 * here, and its entry in man/exorelay.conf.5.
 *
 * Defaults that depend on other keys or on the host (control_socket,
 * local_domains, a class's account) are filled in by conf_check.c.
 */
#include <stddef.h>
#include <string.h>

#include "conf_impl.h"

#define KEY(n, t, d, f, ...) \
    { .name = n, .type = &conf_t_##t, .def = d, .off = offsetof(KEY_OBJ, f), __VA_ARGS__ }
#define OFF(f)	offsetof(KEY_OBJ, f)
#define NONE	NULL

/* [relay], [upstream], [milter], [alarms] fill struct config itself. */
#define KEY_OBJ struct config

static const struct conf_key relay_keys[] = {
    KEY("listen", listen_list, "127.0.0.1:10587", listen, .off2 = OFF(nlisten), .flags = CONF_REQUIRED),
    KEY("allow", cidr_list, "127.0.0.0/8, ::1", allow, .off2 = OFF(nallow)),
    KEY("state_dir", path, "/var/lib/exorelay", state_dir, .flags = CONF_REQUIRED),
    KEY("spool_dir", path, "/var/spool/exorelay", spool_dir, .flags = CONF_REQUIRED),
    KEY("user", username, "exorelay", user),
    KEY("log_level", log_level, "info", log_level),
    KEY("max_clients", int, "100", max_clients, .min = 1, .max = 100000),
    KEY("max_message_size", size, "35M", max_message_size, .min = 1024,
        .max = 1LL << 31),
    KEY("max_recipients", int, "500", max_recipients, .min = 1, .max = 100000),
    KEY("idle_timeout", duration, "300", idle_timeout, .min = 1, .max = 86400),
    KEY("data_timeout", duration, "300", data_timeout, .min = 1, .max = 86400),
    KEY("data_total_timeout", duration, "600", data_total_timeout, .min = 1, .max = 86400),
    KEY("pool_wait_timeout", duration, "60", pool_wait_timeout, .min = 1, .max = 3600),
    KEY("socket_owner", username, NONE, socket_owner),
    KEY("socket_group", username, NONE, socket_group),
    KEY("socket_mode", mode, "0660", socket_mode),
    KEY("control_socket", path, NONE, control_socket),
    KEY("metrics_file", path, NONE, metrics_file),
    KEY("metrics_interval", duration, "60", metrics_interval, .min = 1, .max = 3600),
    KEY("queue_lifetime", duration, "5d", queue_lifetime, .min = 60, .max = 365 * 86400),
    KEY("retry_min", duration, "60", retry_min, .min = 1, .max = 86400),
    KEY("retry_max", duration, "3600", retry_max, .min = 1, .max = 7 * 86400),
};

static const struct conf_key upstream_keys[] = {
    KEY("server", host, "smtp.office365.com", server, .flags = CONF_REQUIRED),
    KEY("port", int, "587", port, .min = 1, .max = 65535),
    KEY("connect_timeout", duration, "60", connect_timeout, .min = 1, .max = 3600),
    KEY("command_timeout", duration, "300", command_timeout, .min = 1, .max = 3600),
    KEY("pool_idle", duration, "60", pool_idle, .min = 0, .max = 3600),
    KEY("ca_file", cert_file, NONE, ca_file),
    KEY("helo_name", domain, NONE, helo_name),
    KEY("graph_url", https_url, "https://graph.microsoft.com", graph_url, .flags = CONF_REQUIRED),
};

static const struct conf_key milter_keys[] = {
    KEY("socket", milter_socket, "unix:/var/spool/postfix/exorelay/milter.sock",
        milter_socket, .flags = CONF_REQUIRED),
    KEY("local_domains", domain_list, NONE, local_domains),
    KEY("refuse_too_many_recipients", bool, "yes", milter_refuse_recipients),
    KEY("refuse_oversize", bool, "yes", milter_refuse_size),
    KEY("socket_group", username, NONE, milter_socket_group),
    KEY("socket_mode", mode, "0660", milter_socket_mode),
};

static const struct conf_key alarms_keys[] = {
    KEY("notify", mailbox_list, NONE, alarm_notify),
    KEY("days", int_list, "30, 14, 7, 3, 1, 0", alarm_days, .off2 = OFF(nalarm_days),
        .min = 0, .max = 3650),
    KEY("critical_days", int, "7", alarm_critical_days, .min = 0, .max = 3650),
};

#undef KEY_OBJ
#define KEY_OBJ struct conf_account

static const struct conf_key account_keys[] = {
    KEY("tenant", tenant, NONE, tenant, .flags = CONF_REQUIRED,
        .hint = "the directory (tenant) GUID or its domain"),
    KEY("client_id", guid, NONE, client_id, .flags = CONF_REQUIRED,
        .hint = "the application (client) GUID of the app registration"),
    KEY("client_secret_file", secret_file, NONE, client_secret_file),
    KEY("certificate_file", cert_file, NONE, certificate_file),
    KEY("private_key_file", key_file, NONE, private_key_file),
    KEY("jwt_alg", jwt_alg, "PS256", jwt_alg),
    KEY("credential_expiry", date, NONE, credential_expiry,
        .hint = "the date the client secret expires, YYYY-MM-DD; with a certificate, remove the line"),
    KEY("mailbox", mailbox, NONE, mailbox, .flags = CONF_REQUIRED,
        .hint = "the mailbox to send as, e.g. no-reply@contoso.onmicrosoft.com"),
    KEY("senders", glob_list, NONE, senders),
    KEY("authority", https_url, "https://login.microsoftonline.com", authority, .flags = CONF_REQUIRED),
    KEY("scope", string, "https://outlook.office365.com/.default", scope, .flags = CONF_REQUIRED),
    KEY("proxy", proxy_url, NONE, proxy),
    KEY("max_connections", int, "3", max_connections, .min = 1, .max = 20),
    KEY("messages_per_minute", int, "0", messages_per_minute, .min = 0, .max = 100000),
    KEY("transport", transport, "smtp", transport),
    KEY("graph_scope", string, "https://graph.microsoft.com/.default", graph_scope,
        .flags = CONF_REQUIRED),
    KEY("daily_recipients", int, "10000", daily_recipients, .min = 0, .max = 10000000),
};

#undef KEY_OBJ
#define KEY_OBJ struct conf_class

static const struct conf_key class_keys[] = {
    KEY("match_from", glob_list, NONE, match_from),
    KEY("match_subject", regex, NONE, match_subject, .off2 = OFF(subject_re)),
    KEY("match_header", header_regex, NONE, match_header, .off2 = OFF(header_re),
        .flags = CONF_REPEAT),
    KEY("send_as", send_as, NONE, send_as),
    KEY("account", name_list, NONE, accounts),
};

/* Section objects: the singletons share struct config. */

/* config_obj - the singletons fill struct config itself */
static void *config_obj(struct config *cfg, size_t idx)
{
    (void) idx;
    return cfg;
}

/* one - a singleton section has one object */
static size_t one(const struct config *cfg)
{
    (void) cfg;
    return 1;
}

/* account_obj - the account of instance idx */
static void *account_obj(struct config *cfg, size_t idx)
{
    return &cfg->accounts[idx];
}

/* account_add - a new, empty [account NAME] */
static size_t account_add(struct config *cfg, const char *name, int line)
{
    struct conf_account *v = conf_xgrow(cfg->accounts, cfg->naccounts, sizeof(*v));

    cfg->accounts = v;
    memset(&v[cfg->naccounts], 0, sizeof(*v));
    v[cfg->naccounts].name = conf_xstrdup(name);
    v[cfg->naccounts].line = line;
    return cfg->naccounts++;
}

/* account_count - how many accounts there are */
static size_t account_count(const struct config *cfg)
{
    return cfg->naccounts;
}

/* class_obj - the class of instance idx */
static void *class_obj(struct config *cfg, size_t idx)
{
    return &cfg->classes[idx];
}

/* class_add - a new, empty [class NAME] */
static size_t class_add(struct config *cfg, const char *name, int line)
{
    struct conf_class *v = conf_xgrow(cfg->classes, cfg->nclasses, sizeof(*v));

    cfg->classes = v;
    memset(&v[cfg->nclasses], 0, sizeof(*v));
    v[cfg->nclasses].name = conf_xstrdup(name);
    v[cfg->nclasses].line = line;
    return cfg->nclasses++;
}

/* class_count - how many classes there are */
static size_t class_count(const struct config *cfg)
{
    return cfg->nclasses;
}

#define NKEYS(t)	(sizeof(t) / sizeof((t)[0]))
#define SINGLE(n, t)	{n, 0, t, NKEYS(t), sizeof(struct config), config_obj, NULL, one}

const struct conf_section conf_sections[] = {
    SINGLE("relay", relay_keys),
    SINGLE("upstream", upstream_keys),
    {"account", 1, account_keys, NKEYS(account_keys), sizeof(struct conf_account),
     account_obj, account_add, account_count},
    SINGLE("milter", milter_keys),
    {"class", 1, class_keys, NKEYS(class_keys), sizeof(struct conf_class),
     class_obj, class_add, class_count},
    SINGLE("alarms", alarms_keys),
};
const size_t conf_nsections = NKEYS(conf_sections);

/* conf_section_find - a section kind by its name, or NULL */
const struct conf_section *conf_section_find(const char *name)
{
    for (size_t i = 0; i < conf_nsections; i++)
        if (strcmp(conf_sections[i].name, name) == 0)
            return &conf_sections[i];
    return NULL;
}

/* conf_key_find - a key of a section by its name, or NULL */
const struct conf_key *conf_key_find(const struct conf_section *sec, const char *name)
{
    for (size_t i = 0; i < sec->nkeys; i++)
        if (strcmp(sec->keys[i].name, name) == 0)
            return &sec->keys[i];
    return NULL;
}
