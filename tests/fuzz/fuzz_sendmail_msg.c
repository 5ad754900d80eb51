/*
 * fuzz_sendmail_msg.c - libFuzzer target: the message reader of the setgid
 * exorelay-sendmail (relay/sendmail/sendmail_msg.c: sendmail_read_message,
 * and sendmail_complete with its -t header scan and recipient extraction
 * through relay/sendmail/addr_list.c). Any user of the host feeds it.
 *
 * Input: byte 0 holds the options: bit 0 = -i (dots are data), bit 1 = -t
 * (recipients from To/Cc/Bcc), bits 2-7 = the size limit (0: none, else
 * N * 37 bytes); the rest is standard input.
 *
 * Invariants:
 *  - the reader gives exactly what a plain model gives: lines cut at LF,
 *    CRLF made LF, a last line without LF given one, the message ended by
 *    a line "." unless -i; over the limit it refuses (EX_DATAERR, no
 *    buffer) exactly when the model's message is larger than the limit;
 *  - the completed message starts with our Received: field, has From:,
 *    Date: and Message-ID:, an empty line ending the header, no Bcc:
 *    field left in the header, and ends with the body it was given;
 *  - recipients come only with -t; each is non-empty and holds no control
 *    character (it goes into the spool file and "RCPT TO:<...>"; a
 *    space, legal in a quoted local part, is refused later by
 *    sendmail_submit.c).
 */
#include <ctype.h>
#include <strings.h>
#include <sysexits.h>

#include "fuzz.h"
#include "sendmail/sendmail_msg.h"

/* model_read - what the reader must produce from in (see the top) */
static char *model_read(const char *in, size_t len, int ignore_dots, size_t *outlen)
{
    char   *out = malloc(len + 2);
    size_t  n = 0;
    const char *p = in, *end = in + len;

    CHECK(out != NULL);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        size_t  body = (size_t) ((nl ? nl : end) - p);

        if (nl && body > 0 && p[body - 1] == '\r')
            body--;
        if (nl && !ignore_dots && body == 1 && p[0] == '.')
            break;
        memcpy(out + n, p, body);
        n += body;
        out[n++] = '\n';
        p = nl ? nl + 1 : end;
    }
    *outlen = n;
    return out;
}

/* header_end - the first byte after the header's empty line */
static const char *header_end(const char *msg, size_t len)
{
    const char *p = msg, *end = msg + len;

    while (p < end && *p != '\n') {
        const char *nl = memchr(p, '\n', (size_t) (end - p));

        CHECK(nl != NULL);
        p = nl + 1;
    }
    CHECK(p < end);                     /* the empty line is there */
    return p + 1;
}

/* has_field - a header line (not a continuation) starting with name: */
static int has_field(const char *msg, const char *hend, const char *name)
{
    size_t  n = strlen(name);

    for (const char *p = msg; p < hend; ) {
        const char *nl = memchr(p, '\n', (size_t) (hend - p));

        if ((size_t) (hend - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':')
            return 1;
        p = nl ? nl + 1 : hend;
    }
    return 0;
}

/* check_completed - the completed message and its recipients */
static void check_completed(const char *in, size_t len, const struct sm_origin *o,
                            const struct sm_result *r)
{
    const char *hend = header_end(r->msg, r->len);

    CHECK(strncmp(r->msg, "Received: by fuzz.example (exorelay-sendmail", 44) == 0);
    CHECK(has_field(r->msg, hend, "From") && has_field(r->msg, hend, "Date")
          && has_field(r->msg, hend, "Message-ID"));
    CHECK(!has_field(r->msg, hend, "Bcc"));
    /* the body is the input's tail, as given */
    size_t  body = r->len - (size_t) (hend - r->msg);
    CHECK(body <= len && memcmp(hend, in + len - body, body) == 0);
    CHECK(o->extract || r->nrcpt == 0);
    for (size_t i = 0; i < r->nrcpt; i++) {
        CHECK(r->rcpt[i][0] != 0);
        for (const unsigned char *p = (const unsigned char *) r->rcpt[i]; *p; p++)
            CHECK(*p >= ' ' && *p != 0x7f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *buf = NULL, *want, err[256];
    size_t  len = 0, wantlen;
    int     ignore_dots, rc;
    long long max;
    FILE   *in;

    if (size < 2)
        return 0;
    ignore_dots = data[0] & 1;
    max = (long long) (data[0] >> 2) * 37;
    const char *text = (const char *) data + 1;
    size_t  tlen = size - 1;
    struct sm_origin o = {
        .id = "0123456789ABCDEF0123", .sender = "app@fuzz.example",
        .fullname = "Fuzz User", .hostname = "fuzz.example", .login = "fuzz",
        .uid = 1000, .now = 1764000000, .extract = (data[0] >> 1) & 1,
    };
    struct sm_result r;

    CHECK((in = fmemopen((void *) text, tlen, "r")) != NULL);
    rc = sendmail_read_message(in, ignore_dots, max, &buf, &len, err, sizeof(err));
    fclose(in);
    want = model_read(text, tlen, ignore_dots, &wantlen);
    if (max > 0 && (long long) wantlen > max) {
        CHECK(rc == EX_DATAERR && buf == NULL);
        CHECK(strstr(err, "message too large") != NULL);
    } else {
        CHECK(rc == 0);
        CHECK(len == wantlen && memcmp(buf, want, len) == 0);
        if (sendmail_complete(buf, len, &o, &r) == 0) {
            check_completed(buf, len, &o, &r);
            sm_result_free(&r);
        }
    }
    free(want);
    free(buf);
    return 0;
}
