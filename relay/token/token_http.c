/*
 * token_http.c - the HTTPS POST of a token request (libcurl).
 *
 * SYNOPSIS
 *	void token_http_global_init(void)
 *		once per process (idempotent, thread-safe)
 *	int token_http_post(params, url, form, &reply)
 *		POST the url-encoded form (a secret: it holds the client secret
 *		or assertion) to url. 0 when an HTTP answer came (any status),
 *		-1 when none did (reply->curl_code and curl_error say why,
 *		tls_* name the certificate that failed verification).
 *	void http_reply_free(reply)
 *		wipe and free the body
 *	void token_curl_trust(curl, ca_file)   (token.h)
 *		the same TLS checks and trust for another HTTPS client of
 *		the relay (Microsoft Graph); ca_file must outlive curl
 *
 * TLS is always verified (peer and host name), https only, no redirects.
 * ca_file ADDS trust anchors to the system store: with an OpenSSL-backed
 * libcurl (Debian's libcurl4-openssl-dev) it is loaded into the store of
 * each connection by CURLOPT_SSL_CTX_FUNCTION, next to the default CA
 * bundle; the same hook records the issuer of a certificate that failed
 * verification, for the diagnosis. XXX With another TLS backend ca_file
 * falls back to CURLOPT_CAINFO, which REPLACES the system store.
 * The proxy is the account's proxy = key, else libcurl's environment
 * (https_proxy, no_proxy). Timeouts: connect within min(connect_timeout,
 * 20 s), the whole request within twice that, at most 30 s; a hung
 * endpoint costs a delivery at most that. Nothing here logs the form or
 * the body.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "token_int.h"

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static int ssl_ctx_index = -1;          /* our http_reply in an SSL_CTX */
static int curl_has_openssl;

/* wiping_free - free() that first overwrites: jansson holds tokens too */
static void wiping_free(void *p)
{
    if (p != NULL) {
        OPENSSL_cleanse(p, malloc_usable_size(p));
        free(p);
    }
}

/* http_init_once - libcurl, and jansson's allocator (whole process) */
static void http_init_once(void)
{
    const curl_version_info_data *v;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Parsed replies and state files hold tokens in jansson's strings:
     * make its free() wipe them. Harmless for every other jansson user. */
    json_set_alloc_funcs(malloc, wiping_free);
    ssl_ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    v = curl_version_info(CURLVERSION_NOW);
    curl_has_openssl = v->ssl_version != NULL
        && strncmp(v->ssl_version, "OpenSSL", 7) == 0;
}

/* token_http_global_init - see above */
void token_http_global_init(void)
{
    pthread_once(&http_once, http_init_once);
}

/* on_body - collect the answer; over TOKEN_REPLY_MAX is not Entra's */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct http_reply *r = arg;
    size_t len = size * n;
    char *grown;

    if (r->len + len > TOKEN_REPLY_MAX || (grown = malloc(r->len + len + 1)) == NULL)
        return 0;
    /* not realloc: the old copy is wiped, not left behind in the heap */
    if (r->body) {
        memcpy(grown, r->body, r->len);
        OPENSSL_cleanse(r->body, r->len);
        free(r->body);
    }
    memcpy(grown + r->len, data, len);
    r->len += len;
    grown[r->len] = 0;
    r->body = grown;
    return len;
}

/* on_verify - remember which certificate could not be verified, and why */
static int on_verify(int ok, X509_STORE_CTX *xs)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct http_reply *r = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
                                                     ssl_ctx_index) : NULL;
    X509 *cert = X509_STORE_CTX_get_current_cert(xs);

    if (!ok && r != NULL && cert != NULL && r->tls_issuer[0] == 0) {
        X509_NAME_oneline(X509_get_subject_name(cert), r->tls_subject,
                          sizeof(r->tls_subject));
        X509_NAME_oneline(X509_get_issuer_name(cert), r->tls_issuer,
                          sizeof(r->tls_issuer));
        snprintf(r->tls_reason, sizeof(r->tls_reason), "%s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs)));
    }
    return ok;
}

struct tls_hook {
    const char *ca_file;
    struct http_reply *reply;
};

/* on_ssl_ctx - add ca_file to the store; watch verification */
static CURLcode on_ssl_ctx(CURL *curl, void *sslctx, void *arg)
{
    SSL_CTX *ctx = sslctx;
    struct tls_hook *hook = arg;

    (void) curl;
    if (hook->ca_file != NULL
        && X509_STORE_load_file(SSL_CTX_get_cert_store(ctx), hook->ca_file) != 1) {
        if (hook->reply != NULL)
            snprintf(hook->reply->curl_error, sizeof(hook->reply->curl_error),
                     "cannot load ca_file %s", hook->ca_file);
        return CURLE_SSL_CACERT_BADFILE;
    }
    if (hook->reply == NULL)
        return CURLE_OK;
    SSL_CTX_set_ex_data(ctx, ssl_ctx_index, hook->reply);
    /* keep libcurl's verify mode; only add the observer */
    SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), on_verify);
    return CURLE_OK;
}

/* proxy_in_environment - the proxy libcurl takes from the environment, or
 * NULL. XXX no_proxy is not consulted: a host it exempts is still said to
 * be reached through the proxy in diagnoses. */
static const char *proxy_in_environment(void)
{
    static const char *const names[] = {"https_proxy", "HTTPS_PROXY",
                                        "all_proxy", "ALL_PROXY"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (getenv(names[i]) && *getenv(names[i]))
            return getenv(names[i]);
    return NULL;
}

/* note_proxy - which proxy the request goes through, for diagnoses: the
 * URL without a user:password@ part (an environment proxy may hold one) */
static void note_proxy(struct http_reply *reply, const char *configured)
{
    const char *url = configured ? configured : proxy_in_environment();
    const char *host, *at;

    reply->via_proxy = url != NULL;
    reply->proxy_from_env = url != NULL && configured == NULL;
    if (url == NULL)
        return;
    host = strstr(url, "://") ? strstr(url, "://") + 3 : url;
    at = memchr(host, '@', strcspn(host, "/"));
    snprintf(reply->proxy, sizeof(reply->proxy), "%.*s%s", (int) (host - url), url,
             at ? at + 1 : host);
}

/* http_setup - every option of the request */
static void http_setup(CURL *curl, const struct token_params *p, const char *url,
                       const secret_t *form, struct tls_hook *hook,
                       struct curl_slist *headers)
{
    size_t len;
    const char *body = secret_reveal(form, &len);
    long connect = p->connect_timeout > 0 && p->connect_timeout < TOKEN_CONNECT_TIMEOUT
        ? p->connect_timeout : TOKEN_CONNECT_TIMEOUT;

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long) len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "exorelay/" EXORELAY_VERSION);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, connect);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 2 * connect < TOKEN_TOTAL_TIMEOUT
                     ? 2 * connect : (long) TOKEN_TOTAL_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, hook->reply);
    if (p->proxy != NULL)
        curl_easy_setopt(curl, CURLOPT_PROXY, p->proxy);
    note_proxy(hook->reply, p->proxy);
    if (curl_has_openssl) {
        curl_easy_setopt(curl, CURLOPT_CA_CACHE_TIMEOUT, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, hook);
    } else if (p->ca_file != NULL) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, p->ca_file);
    }
}

/* on_ssl_ctx_plain - add ca_file (arg) to the store */
static CURLcode on_ssl_ctx_plain(CURL *curl, void *sslctx, void *arg)
{
    struct tls_hook hook = {arg, NULL};

    return on_ssl_ctx(curl, sslctx, &hook);
}

/* token_curl_trust - see above and token.h */
void token_curl_trust(CURL *curl, const char *ca_file)
{
    token_http_global_init();
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "exorelay/" EXORELAY_VERSION);
    if (curl_has_openssl) {
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx_plain);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, (void *) ca_file);
    } else if (ca_file != NULL) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    }
}

/* token_http_post - see above */
int token_http_post(const struct token_params *p, const char *url,
                    const secret_t *form, struct http_reply *reply)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct tls_hook hook = {p->ca_file, reply};
    struct curl_slist *headers;
    curl_off_t retry = 0;
    CURL *curl;
    CURLcode rc;

    token_http_global_init();
    memset(reply, 0, sizeof(*reply));
    if ((curl = curl_easy_init()) == NULL) {
        reply->curl_code = CURLE_OUT_OF_MEMORY;
        snprintf(reply->curl_error, sizeof(reply->curl_error), "out of memory");
        return -1;
    }
    headers = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
    headers = curl_slist_append(headers, "Accept: application/json");
    http_setup(curl, p, url, form, &hook, headers);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    rc = curl_easy_perform(curl);
    reply->curl_code = (int) rc;
    if (rc != CURLE_OK && reply->curl_error[0] == 0)
        snprintf(reply->curl_error, sizeof(reply->curl_error), "%s",
                 *errbuf ? errbuf : curl_easy_strerror(rc));
    if (reply->via_proxy) {             /* whose fault: the proxy's or beyond */
        curl_off_t connect_us = 0;

        curl_easy_getinfo(curl, CURLINFO_HTTP_CONNECTCODE, &reply->proxy_status);
        curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME_T, &connect_us);
        reply->proxy_reached = connect_us > 0 || reply->proxy_status > 0;
    }
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
        if (curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK
            && retry > 0)
            reply->retry_after = retry > 86400 ? 86400 : (int) retry;
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    return rc == CURLE_OK ? 0 : -1;
}

/* http_reply_free - wipe and free the body */
void http_reply_free(struct http_reply *reply)
{
    if (reply->body) {
        OPENSSL_cleanse(reply->body, reply->len);
        free(reply->body);
    }
    reply->body = NULL;
    reply->len = 0;
}
