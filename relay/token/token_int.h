/*
 * token_int.h - the parts of the token engine (token.h) and how they meet.
 *
 * Only the token engine's modules include this file:
 *	token.c		the engine: memory cache per account, token_get()
 *	token_refresh.c	the background refresher thread
 *	token_sched.c	when to refresh, how long to back off (pure functions)
 *	token_fetch.c	one fetch: state file under its lock, else a request
 *	token_params.c	a private copy of what one account's fetch needs
 *	token_cred.c	client secret or certificate + private key
 *	token_cache.c	the state file (JSON, 0600, atomic, flock)
 *	token_http.c	the HTTPS POST (libcurl)
 *	token_reply.c	Entra's JSON answer -> token or diagnosis
 *	jwt.c		the signed client assertion for certificates
 *	token_claims.c	the claims of a token (aud, roles), for diagnosis
 *	entra_diag.c	errors -> cause and fix in the admin's words
 */
#ifndef EXORELAY_TOKEN_INT_H
#define EXORELAY_TOKEN_INT_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/config.h"
#include "common/secret.h"
#include "token.h"

/* Policy (see token.h): hand out only tokens valid this much longer. */
#define TOKEN_MIN_VALID         60
/* Request timeouts: a hung endpoint must not hang a delivery. */
#define TOKEN_CONNECT_TIMEOUT   20
#define TOKEN_TOTAL_TIMEOUT     30
/* Replies larger than this are not an Entra token reply. */
#define TOKEN_REPLY_MAX         (64 * 1024)

/* token_params.c: everything a fetch for one account needs, owned copies,
 * so a fetch never touches a config that a reload may free. */
struct token_params {
    char   *name;               /* account name */
    enum token_scope kind;      /* which of the account's scopes */
    char   *tenant;
    char   *client_id;
    char   *secret_file;        /* or cert_file + key_file */
    char   *cert_file;
    char   *key_file;
    enum jwt_alg jwt_alg;
    char   *authority;          /* no trailing slash */
    char   *scope;
    char   *proxy;              /* NULL: libcurl's environment (https_proxy) */
    char   *ca_file;            /* NULL: system store only */
    char   *state_dir;
    int     connect_timeout;
};

struct token_params *token_params_new(const struct config *cfg,
                                      const struct conf_account *acct,
                                      enum token_scope kind);
struct token_params *token_params_dup(const struct token_params *p);
void token_params_free(struct token_params *p);
int token_params_same_identity(const struct token_params *a,
                               const struct token_params *b);
/* token_endpoint - "{authority}/{tenant}/oauth2/v2.0/token" into buf */
int token_endpoint(const struct token_params *p, char *buf, size_t len);

/* token_cred.c: the credential of one account. */
struct token_cred {
    secret_t *secret;           /* client secret, or NULL */
    EVP_PKEY *key;              /* certificate credential, or NULL */
    X509   *cert;
    char    fingerprint[96];    /* for the state file: which credential */
    time_t  not_after;          /* certificate end, 0 for a secret */
};

int token_cred_load(const struct token_params *p, struct token_cred *cred,
                    struct token_diag *diag);
void token_cred_free(struct token_cred *cred);

/* jwt.c: the client assertion (a signed JWT). */
secret_t *jwt_client_assertion(EVP_PKEY *key, X509 *cert, enum jwt_alg alg,
                               const char *aud, const char *client_id,
                               time_t now, char *err, size_t errlen);
int b64url_encode(const unsigned char *in, size_t len, char *out, size_t outlen);
int jwt_thumbprint(X509 *cert, const EVP_MD *md, char *out, size_t outlen);

/* token_http.c: one POST. */
struct http_reply {
    long    status;             /* 0: no HTTP answer */
    char   *body;               /* NUL-terminated; wiped when freed */
    size_t  len;
    int     retry_after;        /* seconds, from Retry-After; 0 if none */
    int     curl_code;          /* CURLcode */
    char    curl_error[256];
    char    tls_subject[256];   /* certificate that failed verification */
    char    tls_issuer[256];    /* ... and the issuer nobody could vouch for */
    char    tls_reason[128];    /* X509_verify_cert_error_string */
    int     via_proxy;          /* a proxy was configured or in the environment */
    char    proxy[256];         /* ... which one, without user:password */
    int     proxy_from_env;     /* ... from https_proxy/all_proxy, not proxy = */
    int     proxy_reached;      /* the TCP connection to the proxy was made */
    long    proxy_status;       /* the proxy's answer to CONNECT, 0 if none */
};

int token_http_post(const struct token_params *p, const char *url,
                    const secret_t *form, struct http_reply *reply);
void http_reply_free(struct http_reply *reply);
void token_http_global_init(void);

/* token_reply.c: Entra's answer. */
int token_reply_parse(const struct http_reply *reply, secret_t **token,
                      long *expires_in, struct token_diag *diag);

/* entra_diag.c: diagnoses. */
void entra_diag_error(struct token_diag *diag, long http_status,
                      const char *error, long aadsts, const char *description,
                      const char *trace_id, const char *correlation_id);
void entra_diag_transport(struct token_diag *diag, const struct http_reply *reply,
                          const char *url, const char *ca_file);
void entra_diag_set(struct token_diag *diag, int temporary, const char *cause,
                    const char *fix, const char *detail);
void entra_diag_causef(struct token_diag *diag, int temporary, const char *fix,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void entra_diag_redact(struct token_diag *diag, const secret_t *secret);
void entra_diag_line(const struct token_diag *diag, const char *authority,
                     char *buf, size_t len);

/* token_cache.c: the state file. */
struct token_state {
    secret_t *token;            /* NULL: none */
    time_t  expires;
    time_t  obtained;
    time_t  retry_at;           /* after a failure: no request before this */
    int     failures;           /* consecutive failed requests */
    struct token_diag diag;     /* the last failure, when failures > 0 */
};

int token_cache_path(const struct token_params *p, char *buf, size_t len);
int token_cache_lock(const char *path);
void token_cache_unlock(int lockfd);
int token_cache_read(const char *path, const struct token_params *p,
                     const char *credential, struct token_state *st);
int token_cache_write(const char *path, const struct token_params *p,
                      const char *credential, const struct token_state *st);
void token_state_clear(struct token_state *st);

/* token_sched.c: timing policy. */
time_t token_refresh_at(time_t obtained, time_t expires);
int token_backoff(int failures, int retry_after, int temporary, long room);

/* token_fetch.c: one fetch, shared across processes. want_fresh: a token
 * of the state file counts only when it is not yet due for refresh (the
 * refresher); else one valid TOKEN_MIN_VALID more seconds will do. */
int token_fetch(const struct token_params *p, int want_fresh,
                struct token_state *out, int *requested);
/* token_forget - drop token from the state file if it is still there */
void token_forget(const struct token_params *p, const secret_t *token);

/* token.c + token_refresh.c: the engine. */
struct token_slot {
    struct token_params *params;
    int     in_use;             /* the refresher keeps it fresh */
    unsigned epoch;             /* bumped when the account's identity changes */
    int     retired;            /* account gone after a reload */
    secret_t *token;            /* NULL: none in memory */
    time_t  expires;
    time_t  obtained;
    int     fetching;           /* a thread is fetching for this slot */
    unsigned long generation;   /* bumped when a fetch ends */
    int     failures;           /* consecutive failed fetches */
    time_t  retry_at;           /* no new attempt before this */
    struct token_diag last_diag;/* of the last failed fetch */
};

struct token_engine {
    pthread_mutex_t mu;
    pthread_cond_t fetched;     /* a fetch ended */
    pthread_cond_t wake;        /* the refresher: schedule changed, or stop */
    struct token_slot **slots;
    size_t  nslots;
    pthread_t refresher;
    int     refresher_running;
    int     stopping;
    struct token_stats stats;
};

/* token_slot_fetch - fetch for slot with mu held; drops mu meanwhile */
int token_slot_fetch(struct token_engine *te, struct token_slot *slot,
                     int want_fresh, int *requested);
void token_refresher_stop(struct token_engine *te);

#endif
