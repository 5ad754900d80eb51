/*
 * graph_http.c - one sendMail POST over HTTPS connections kept and shared
 * by every thread of the process (libcurl share handle).
 *
 * SYNOPSIS (internal, graph_int.h)
 *	struct graph_http *graph_http_new(ca_file, connect_timeout, timeout)
 *	void graph_http_free(h)
 *	int graph_http_post(h, url, token, proxy, body, &answer)
 *		POST body (text/plain: base64 MIME) with the bearer token.
 *		0 when an HTTP answer came (any status: answer.status, and
 *		for a JSON error its code and message, Retry-After); -1 when
 *		none did (answer.curl_error says why).
 *	unsigned long graph_http_connects(h)
 *		new connections made so far (each a TLS handshake)
 *
 * Speed: the share handle holds the connection cache, TLS sessions and
 * DNS for all easy handles, so a message on a warm connection costs one
 * request and no handshake; easy handles are kept in a free list, so
 * that libcurl's per-handle state is reused too. HTTP/2 is asked for
 * where the server offers it (ALPN), HTTP/1.1 keep-alive otherwise.
 * TLS rules are the token requests' (token_curl_trust). The Authorization
 * header is built in a wiped buffer and the header list wiped after use.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "graph_int.h"
#include "token/token.h"

#define ANSWER_MAX  (64 * 1024)     /* an error body is small */
#define HANDLES_KEPT 16

struct graph_http {
    CURLSH *share;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
    pthread_mutex_t mu;             /* the free list and the counter */
    CURL   *free_list[HANDLES_KEPT];
    int     nfree;
    char   *ca_file;
    long    connect_timeout, timeout;
    unsigned long connects;
};

static void share_lock(CURL *c, curl_lock_data data, curl_lock_access a, void *arg)
{
    struct graph_http *h = arg;

    (void) c;
    (void) a;
    pthread_mutex_lock(&h->locks[data]);
}

static void share_unlock(CURL *c, curl_lock_data data, void *arg)
{
    struct graph_http *h = arg;

    (void) c;
    pthread_mutex_unlock(&h->locks[data]);
}

/* graph_http_new - the shared state; NULL if out of memory */
struct graph_http *graph_http_new(const char *ca_file, int connect_timeout, int timeout)
{
    struct graph_http *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return NULL;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&h->locks[i], NULL);
    pthread_mutex_init(&h->mu, NULL);
    h->ca_file = ca_file && *ca_file ? strdup(ca_file) : NULL;
    h->connect_timeout = connect_timeout > 0 ? connect_timeout : 60;
    h->timeout = timeout > 0 ? timeout : 300;
    if ((h->share = curl_share_init()) == NULL) {
        graph_http_free(h);
        return NULL;
    }
    curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    return h;
}

/* graph_http_free - close every connection */
void graph_http_free(struct graph_http *h)
{
    if (h == NULL)
        return;
    for (int i = 0; i < h->nfree; i++)
        curl_easy_cleanup(h->free_list[i]);
    if (h->share)
        curl_share_cleanup(h->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&h->locks[i]);
    pthread_mutex_destroy(&h->mu);
    free(h->ca_file);
    free(h);
}

/* take_handle - a kept easy handle, or a new one set up for Graph */
static CURL *take_handle(struct graph_http *h)
{
    CURL   *c = NULL;

    pthread_mutex_lock(&h->mu);
    if (h->nfree > 0)
        c = h->free_list[--h->nfree];
    pthread_mutex_unlock(&h->mu);
    if (c != NULL || (c = curl_easy_init()) == NULL)
        return c;
    token_curl_trust(c, h->ca_file);
    curl_easy_setopt(c, CURLOPT_SHARE, h->share);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->connect_timeout);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, h->timeout);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    return c;
}

/* give_back - keep the handle for the next request (or clean it up) */
static void give_back(struct graph_http *h, CURL *c)
{
    pthread_mutex_lock(&h->mu);
    if (h->nfree < HANDLES_KEPT) {
        h->free_list[h->nfree++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&h->mu);
    if (c)
        curl_easy_cleanup(c);
}

struct sink {
    char    buf[ANSWER_MAX];
    size_t  len;
};

/* on_body - keep the first ANSWER_MAX bytes of the answer */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t  len = size * n, room = sizeof(s->buf) - 1 - s->len;

    memcpy(s->buf + s->len, data, len < room ? len : room);
    s->len += len < room ? len : room;
    s->buf[s->len] = 0;
    return len;
}

/* parse_error - Graph's {"error": {"code", "message", "innerError"}} */
static void parse_error(const struct sink *s, struct graph_answer *ans)
{
    json_t *root = json_loadb(s->buf, s->len, 0, NULL);
    json_t *err = json_object_get(root, "error");
    json_t *inner = json_object_get(err, "innerError");
    const char *v;

    if ((v = json_string_value(json_object_get(err, "code"))) != NULL)
        snprintf(ans->code, sizeof(ans->code), "%s", v);
    if ((v = json_string_value(json_object_get(err, "message"))) != NULL)
        snprintf(ans->message, sizeof(ans->message), "%s", v);
    if ((v = json_string_value(json_object_get(inner, "request-id"))) != NULL)
        snprintf(ans->request_id, sizeof(ans->request_id), "%s", v);
    json_decref(root);
}

/* bearer_headers - the request's headers; the token line wiped by caller */
static struct curl_slist *bearer_headers(const secret_t *token, char *line, size_t size)
{
    size_t  len;
    const char *tok = secret_reveal(token, &len);
    struct curl_slist *hl;

    snprintf(line, size, "Authorization: Bearer %.*s", (int) len, tok);
    hl = curl_slist_append(NULL, line);
    OPENSSL_cleanse(line, size);
    hl = hl ? curl_slist_append(hl, "Content-Type: text/plain") : NULL;
    return hl ? curl_slist_append(hl, "Accept: application/json") : NULL;
}

/* wipe_headers - overwrite the header list (it holds the token), free it */
static void wipe_headers(struct curl_slist *hl)
{
    for (struct curl_slist *p = hl; p; p = p->next)
        OPENSSL_cleanse(p->data, strlen(p->data));
    curl_slist_free_all(hl);
}

/* graph_http_post - see above */
int graph_http_post(struct graph_http *h, const char *url, const secret_t *token,
                    const char *proxy, const struct graph_body *body,
                    struct graph_answer *ans)
{
    static char line_fail[] = "out of memory";
    char   *line = malloc(16384), errbuf[CURL_ERROR_SIZE] = "";
    struct sink *sink = calloc(1, sizeof(*sink));
    struct curl_slist *hl = line ? bearer_headers(token, line, 16384) : NULL;
    CURL   *c = hl && sink ? take_handle(h) : NULL;
    curl_off_t retry = 0;
    long    connects = 0;
    CURLcode rc = CURLE_OUT_OF_MEMORY;

    memset(ans, 0, sizeof(*ans));
    if (c != NULL) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROXY, proxy ? proxy : NULL);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->b64);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body->len);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
        if (rc == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ans->status);
            if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK && retry > 0)
                ans->retry_after = retry > 86400 ? 86400 : (int) retry;
            if (ans->status >= 300)
                parse_error(sink, ans);
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
        give_back(h, c);
    }
    if (rc != CURLE_OK)
        snprintf(ans->curl_error, sizeof(ans->curl_error), "%s",
                 c == NULL ? line_fail : *errbuf ? errbuf : curl_easy_strerror(rc));
    pthread_mutex_lock(&h->mu);
    h->connects += (unsigned long) connects;
    pthread_mutex_unlock(&h->mu);
    wipe_headers(hl);
    free(line);
    free(sink);
    return rc == CURLE_OK ? 0 : -1;
}

/* graph_http_connects - see above */
unsigned long graph_http_connects(struct graph_http *h)
{
    unsigned long n;

    pthread_mutex_lock(&h->mu);
    n = h->connects;
    pthread_mutex_unlock(&h->mu);
    return n;
}
