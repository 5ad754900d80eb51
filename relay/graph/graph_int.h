/*
 * graph_int.h - the modules of the Graph client (graph.h) and how they
 * meet. Only relay/graph/ includes this file:
 *	graph_client.c	graph_send(): throttle, concurrency, token, retry
 *	graph_http.c	one HTTPS POST over the shared connections (libcurl)
 *	graph_mime.c	the message -> envelope-true MIME -> base64 body
 *	graph_diag.c	Graph's answers -> SMTP replies in the admin's words
 *	graph_route.c	which accounts use Graph now (transport = auto)
 */
#ifndef EXORELAY_GRAPH_INT_H
#define EXORELAY_GRAPH_INT_H

#include <stddef.h>

#include <curl/curl.h>

#include "common/secret.h"
#include "graph.h"

/* graph_mime.c */
struct graph_body {
    char   *b64;                /* the request body: base64 of the MIME */
    size_t  len;
    int     too_big;            /* len would pass GRAPH_MAX_REQUEST: b64 NULL */
};

int graph_mime_read(int fd, char **msg, size_t *len, size_t max);
int graph_mime_rewrite(const char *msg, size_t len, char *const *rcpts,
                       size_t nrcpt, char **out, size_t *outlen);
int graph_mime_body(int fd, char *const *rcpts, size_t nrcpt, struct graph_body *body);
void graph_body_free(struct graph_body *body);

/* graph_http.c */
struct graph_http;
struct graph_answer {
    long    status;             /* 0: no HTTP answer */
    char    code[64];           /* error.code of a JSON error, "" if none */
    char    message[256];       /* error.message */
    char    request_id[64];     /* innerError.request-id, for the log */
    int     retry_after;        /* seconds, 0 if none */
    char    curl_error[256];    /* when status is 0 */
};

struct graph_http *graph_http_new(const char *ca_file, int connect_timeout,
                                  int timeout);
void graph_http_free(struct graph_http *h);
int graph_http_post(struct graph_http *h, const char *url, const secret_t *token,
                    const char *proxy, const struct graph_body *body,
                    struct graph_answer *ans);
unsigned long graph_http_connects(struct graph_http *h);

/* graph_diag.c */
void graph_diag(const struct graph_answer *ans, const struct config *cfg,
                const struct conf_account *acct, struct graph_result *res);

#endif
