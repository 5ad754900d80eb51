/*
 * test_graph_mime.c - the envelope-true rewrite of a message for Graph
 * sendMail (relay/graph/graph_mime.c), and reading a token's claims
 * (relay/token/token_claims.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "graph/graph_int.h"
#include "tap.h"

/* rewrite - the rewritten message as a string (caller frees) */
static char *rewrite(const char *msg, char *const *rcpts, size_t n)
{
    char *out = NULL;
    size_t len = 0;

    if (graph_mime_rewrite(msg, strlen(msg), rcpts, n, &out, &len) < 0)
        return NULL;
    return out;
}

static void test_cron(void)
{
    char *rcpts[] = {"admin@corp.example"};
    char *out = rewrite("From: root@host\nTo: root@host.example\nSubject: cron\n\nbody\n",
                        rcpts, 1);

    is_str(out, "From: root@host\r\nSubject: cron\r\nBcc: admin@corp.example\r\n"
           "X-Exorelay-Original-To: root@host.example\r\n\r\nbody\r\n",
           "cron: To root@host dropped, admin@corp as Bcc, original kept, CRLF");
    free(out);
}

static void test_lists(void)
{
    char *rcpts[] = {"A@x.example", "c@x.example", "b@x.example", "A@x.example"};
    char *out = rewrite("To: a@x.example,\r\n \"Only, Header\" <h@x.example>\r\n"
                        "Cc: C <c@x.example>\r\nBcc: b@x.example\r\n"
                        "X-Exorelay-Original-To: forged@x.example\r\nSubject: s\r\n\r\nx\r\n",
                        rcpts, 4);

    is_str(out, "Subject: s\r\nTo: A@x.example\r\nCc: c@x.example\r\nBcc: b@x.example\r\n"
           "X-Exorelay-Original-To: a@x.example,\r\n \"Only, Header\" <h@x.example>\r\n"
           "X-Exorelay-Original-Cc: C <c@x.example>\r\n\r\nx\r\n",
           "To/Cc kept where the envelope agrees, Bcc not revealed, forged header dropped, "
           "duplicates once");
    free(out);
}

static void test_many_and_no_header(void)
{
    char *rcpts[] = {"p@x.example", "q@x.example"};
    char *out = rewrite("Subject: only\n", rcpts, 2);

    is_str(out, "Subject: only\r\nBcc: p@x.example,\r\n q@x.example\r\n\r\n",
           "no body separator; one address per line");
    free(out);
    out = rewrite("\nbody only\n", rcpts, 2);
    is_str(out, "Bcc: p@x.example,\r\n q@x.example\r\n\r\nbody only\r\n", "no header at all");
    free(out);
}

static void test_body_and_size(void)
{
    char *rcpts[] = {"p@x.example"};
    const char *msg = "To: p@x.example\n\nhi\n";
    int fd = memfd_create("t", 0);
    struct graph_body body;
    char *big;
    size_t n = 3300000;

    ok(write(fd, msg, strlen(msg)) == (ssize_t) strlen(msg), "message written");
    lseek(fd, 0, SEEK_SET);
    is_int(graph_mime_body(fd, rcpts, 1, &body), 0, "small message encodes");
    is_str(body.b64, "VG86IHBAeC5leGFtcGxlDQpYLUV4b3JlbGF5LU9yaWdpbmFsLVRvOiBwQHguZXhhbXBsZQ0KDQpoaQ0K",
           "base64 of the rewritten CRLF message");
    ok(!body.too_big, "not too big");
    graph_body_free(&body);
    big = malloc(n);
    memset(big, 'x', n);
    ok(ftruncate(fd, 0) == 0, "emptied for the large message");
    lseek(fd, 0, SEEK_SET);
    ok(write(fd, big, n) == (ssize_t) n, "3.3 MB written");
    lseek(fd, 0, SEEK_SET);
    is_int(graph_mime_body(fd, rcpts, 1, &body), 0, "large message read");
    ok(body.too_big && body.b64 == NULL, "3.3 MB is over 4 MB in base64: too big");
    free(big);
    close(fd);
}

static void test_claims(void)
{
    /* {"aud":"https://graph.microsoft.com","roles":["Mail.Send"]} */
    const char *jwt = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20i"
        "LCJyb2xlcyI6WyJNYWlsLlNlbmQiXX0.c2ln";
    secret_t *t = secret_new(jwt, strlen(jwt)), *o = secret_new("EwBopaque", 9);
    char aud[128];

    is_int(token_claims_roles(t, "Mail.Send", aud, sizeof(aud)), 1, "roles hold Mail.Send");
    is_str(aud, "https://graph.microsoft.com", "aud read");
    is_int(token_claims_roles(t, "Mail.ReadWrite", NULL, 0), 0, "Mail.ReadWrite absent");
    is_int(token_claims_roles(o, "Mail.Send", aud, sizeof(aud)), -1, "opaque token: unknown");
    secret_free(t);
    secret_free(o);
}

int main(void)
{
    test_cron();
    test_lists();
    test_many_and_no_header();
    test_body_and_size();
    test_claims();
    return done_testing();
}
