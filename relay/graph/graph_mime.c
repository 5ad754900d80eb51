/*
 * graph_mime.c - the body of a sendMail request: the message with its
 * recipient headers made to tell the truth of the envelope, base64.
 *
 * SYNOPSIS (internal, graph_int.h)
 *	int graph_mime_body(fd, rcpts, nrcpt, &body)
 *		Read the message from fd, rewrite it (below), encode it.
 *		0, with body.b64 or, when the request would pass Graph's
 *		4 MB limit, body.too_big and no b64; -1 on a read error or
 *		out of memory (errno set).
 *	int graph_mime_rewrite(msg, len, rcpts, nrcpt, &out, &outlen)
 *		The rewrite alone (for tests): 0 or -1 (out of memory).
 *	int graph_mime_read(fd, &msg, &len, max)   the whole fd, at most max
 *	void graph_body_free(&body)
 *
 * Graph takes the recipients from the MIME To, Cc and Bcc headers, never
 * from an SMTP envelope; but the envelope is the truth (Postfix expanded
 * aliases, split deliveries, took Bcc out). So the header block gets:
 *	To:  the envelope recipients that the original To named,
 *	Cc:  those the original Cc named (and To did not),
 *	Bcc: every other envelope recipient (Graph delivers to them and
 *	     removes Bcc from the copy it delivers),
 * and addresses of the original headers outside the envelope are dropped:
 * the cron case, "To: root" aliased by Postfix to admin@corp, goes to
 * admin@corp only and never makes Exchange try root@host. The original To
 * and Cc stay readable as X-Exorelay-Original-To / -Cc (an original Bcc is
 * not kept: that would reveal it). Matching is case-insensitive. Any
 * X-Exorelay-Original-* header that came from outside is dropped, so none
 * can be forged. Everything else is byte for byte, with line ends made
 * CRLF. The rewritten fields go at the end of the header block; each
 * address sits on a line of its own, so no line grows long.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "graph_int.h"
#include "common/addr.h"

/* A growing output buffer. */
struct out {
    char   *buf;
    size_t  len, cap;
    int     oom;
};

/* put - append n bytes */
static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        char *nb;
        while (cap < o->len + n + 1)
            cap *= 2;
        if ((nb = realloc(o->buf, cap)) == NULL) {
            o->oom = 1;
            return;
        }
        o->buf = nb;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
}

/* put_crlf - append text, every line end made CRLF */
static void put_crlf(struct out *o, const char *s, size_t n)
{
    size_t from = 0;

    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
            put(o, s + from, i - from);
            put(o, "\r\n", 2);
            from = i + 1;
        }
    put(o, s + from, n - from);
}

/* field_end - end of the header field starting at p (after its last line) */
static const char *field_end(const char *p, const char *end)
{
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL)
            return end;
        p = nl + 1;
        if (p >= end || (*p != ' ' && *p != '\t'))
            return p;
    }
}

/* field_is - is the field at p named name? *value gets its value */
static int field_is(const char *p, const char *fend, const char *name, const char **value)
{
    size_t n = strlen(name);

    if ((size_t) (fend - p) <= n || strncasecmp(p, name, n) != 0)
        return 0;
    for (const char *q = p + n; q < fend; q++)
        if (*q == ':') {
            *value = q + 1;
            return 1;
        } else if (*q != ' ' && *q != '\t') {
            return 0;
        }
    return 0;
}

/* unfolded - the value without its line ends, as a string */
static char *unfolded(const char *v, const char *fend)
{
    char *s = malloc((size_t) (fend - v) + 1), *d = s;

    if (s == NULL)
        return NULL;
    for (; v < fend; v++)
        if (*v != '\r' && *v != '\n')
            *d++ = *v;
    *d = 0;
    return s;
}

/* Recipient headers of the original message. */
struct orig {
    struct addr_list to, cc;    /* addresses of all To: / Cc: fields */
    struct out keep;            /* X-Exorelay-Original-To/-Cc fields */
    int     bad;
};

/* note_list - add a To or Cc value's addresses to *list, keep it for the
 * reader under label */
static void note_list(struct orig *o, const char *label, const char *v,
                      const char *fend, struct addr_list *list)
{
    char *s = unfolded(v, fend);
    struct addr_list more = {0};
    struct mailbox *grown;

    if (s == NULL || addr_parse(s, &more) < 0)
        o->bad = 1;
    else if (more.n > 0) {
        if ((grown = realloc(list->v, (list->n + more.n) * sizeof(*grown))) == NULL) {
            o->bad = 1;
            addr_list_free(&more);
        } else {
            memcpy(grown + list->n, more.v, more.n * sizeof(*grown));
            list->v = grown;
            list->n += more.n;
            free(more.v);               /* its strings moved into list */
        }
    }
    free(s);
    put(&o->keep, label, strlen(label));
    put_crlf(&o->keep, v, (size_t) (fend - v));
    if (fend > v && fend[-1] != '\n')
        put(&o->keep, "\r\n", 2);
}

/* copy_headers - every field but the recipient ones, noting those */
static void copy_headers(const char *p, const char *hend, struct out *o, struct orig *og)
{
    while (p < hend) {
        const char *fend = field_end(p, hend), *v;
        if (field_is(p, fend, "To", &v))
            note_list(og, "X-Exorelay-Original-To:", v, fend, &og->to);
        else if (field_is(p, fend, "Cc", &v))
            note_list(og, "X-Exorelay-Original-Cc:", v, fend, &og->cc);
        else if (field_is(p, fend, "Bcc", &v))
            ;                           /* the envelope says who gets it */
        else if (!field_is(p, fend, "X-Exorelay-Original-To", &v)
                 && !field_is(p, fend, "X-Exorelay-Original-Cc", &v)) {
            put_crlf(o, p, (size_t) (fend - p));
            if (fend[-1] != '\n')
                put(o, "\r\n", 2);
        }
        p = fend;
    }
}

/* listed - is addr in list (case-insensitive)? */
static int listed(const struct addr_list *list, const char *addr)
{
    for (size_t i = 0; i < list->n; i++)
        if (list->v[i].addr && strcasecmp(list->v[i].addr, addr) == 0)
            return 1;
    return 0;
}

/* said_before - is rcpts[i] a repeat of an earlier envelope recipient? */
static int said_before(char *const *rcpts, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (strcasecmp(rcpts[k], rcpts[i]) == 0)
            return 1;
    return 0;
}

/* put_recipients - one of To/Cc/Bcc (which: 0, 1, 2) from the envelope */
static void put_recipients(struct out *o, const struct orig *og, int which,
                           char *const *rcpts, size_t nrcpt)
{
    static const char *const names[] = {"To: ", "Cc: ", "Bcc: "};
    int first = 1;

    for (size_t i = 0; i < nrcpt; i++) {
        int in_to = listed(&og->to, rcpts[i]);
        int in_cc = !in_to && listed(&og->cc, rcpts[i]);
        int mine = which == 0 ? in_to : which == 1 ? in_cc : !in_to && !in_cc;
        if (!mine || said_before(rcpts, i))
            continue;                   /* not this field's, or said already */
        put(o, first ? names[which] : ",\r\n ", first ? strlen(names[which]) : 4);
        put(o, rcpts[i], strlen(rcpts[i]));
        first = 0;
    }
    if (!first)
        put(o, "\r\n", 2);
}

/* header_end - where the header block ends (its blank line starts) */
static const char *header_end(const char *msg, size_t len, const char **body)
{
    const char *end = msg + len;

    for (const char *p = msg; p < end;) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        size_t linelen = nl ? (size_t) (nl - p) : (size_t) (end - p);
        if (linelen == 0 || (linelen == 1 && *p == '\r')) {
            *body = nl ? nl + 1 : end;
            return p;
        }
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    *body = end;
    return end;
}

/* graph_mime_rewrite - see above */
int graph_mime_rewrite(const char *msg, size_t len, char *const *rcpts,
                       size_t nrcpt, char **out, size_t *outlen)
{
    struct out o = {0};
    struct orig og = {0};
    const char *body, *hend = header_end(msg, len, &body);

    copy_headers(msg, hend, &o, &og);
    for (int which = 0; which < 3; which++)
        put_recipients(&o, &og, which, rcpts, nrcpt);
    if (og.keep.len)
        put(&o, og.keep.buf, og.keep.len);
    put(&o, "\r\n", 2);
    put_crlf(&o, body, (size_t) (msg + len - body));
    addr_list_free(&og.to);
    addr_list_free(&og.cc);
    free(og.keep.buf);
    if (o.oom || og.keep.oom || og.bad) {
        free(o.buf);
        errno = ENOMEM;
        return -1;
    }
    *out = o.buf ? o.buf : strdup("");
    *outlen = o.len;
    return *out ? 0 : -1;
}

/* graph_mime_read - see above; 1 when fd holds more than max */
int graph_mime_read(int fd, char **msg, size_t *len, size_t max)
{
    struct out o = {0};
    char    buf[65536];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0 && o.len <= max)
        put(&o, buf, (size_t) n);
    if (n < 0 || o.oom) {
        free(o.buf);
        if (o.oom)
            errno = ENOMEM;
        return -1;
    }
    *msg = o.buf;
    *len = o.len;
    return o.len > max;
}

/* graph_mime_body - see above */
int graph_mime_body(int fd, char *const *rcpts, size_t nrcpt, struct graph_body *body)
{
    /* base64 makes 4 of 3; the rewrite adds a little: read a bit beyond */
    size_t  max = GRAPH_MAX_REQUEST / 4 * 3 + 65536, len, mlen;
    char   *msg = NULL, *mime = NULL;
    int     rc = graph_mime_read(fd, &msg, &len, max);

    memset(body, 0, sizeof(*body));
    if (rc == 0)
        rc = graph_mime_rewrite(msg ? msg : "", msg ? len : 0, rcpts, nrcpt, &mime, &mlen);
    else if (rc == 1)
        body->too_big = 1;
    free(msg);
    if (rc != 0) {
        free(mime);
        return rc == 1 ? 0 : -1;
    }
    body->len = (mlen + 2) / 3 * 4;
    if (body->len > (size_t) GRAPH_MAX_REQUEST) {
        body->too_big = 1;
    } else if ((body->b64 = malloc(body->len + 1)) != NULL) {
        EVP_EncodeBlock((unsigned char *) body->b64, (unsigned char *) mime, (int) mlen);
    }
    free(mime);
    if (!body->too_big && body->b64 == NULL) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

/* graph_body_free - free the encoded body */
void graph_body_free(struct graph_body *body)
{
    free(body->b64);
    body->b64 = NULL;
}
