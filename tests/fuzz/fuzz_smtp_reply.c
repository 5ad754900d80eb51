/*
 * fuzz_smtp_reply.c - libFuzzer target: replies read from the upstream
 * (relay/proto/smtp_reply.c) and how they are passed on to our own client
 * (relay/server/smtpd_io.c cio_reply).
 *
 * Input: byte 0 sizes the buffer of smtp_reply_oneline(), the rest is
 * what an upstream server (or something in its place) sends: lines split
 * at LF, a CR before it dropped, fed to smtp_reply_add_line() until a
 * reply is complete, then the next reply starts.
 *
 * Invariants:
 *  - a line is taken only with a code of 200-599 that is the same on
 *    every line of the reply; the enhanced code, when kept, is "c.s.d"
 *    of the reply's class;
 *  - smtp_reply_oneline() gives one NUL-terminated line within its
 *    buffer, with no control character, starting with the code;
 *  - passed on to our client, the reply is a sequence of CRLF-terminated
 *    lines "CODE-..." then one "CODE ...", with no other CR or LF: the
 *    upstream's text can never inject a reply line of its own.
 */
#include <ctype.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "proto/smtp_reply.h"
#include "server/smtpd_io.h"

/* check_enhanced - "" or class.subject.detail of the reply's class */
static void check_enhanced(const struct smtp_reply *r)
{
    const char *e = r->enhanced;
    int     dots = 0;

    CHECK(memchr(e, 0, sizeof(r->enhanced)) != NULL);
    if (*e == 0)
        return;
    CHECK(e[0] - '0' == r->code / 100 && e[1] == '.');
    for (const char *p = e; *p; p++) {
        CHECK(isdigit((unsigned char) *p) || *p == '.');
        dots += *p == '.';
    }
    CHECK(dots == 2);
}

/* check_oneline - one clean line within size */
static void check_oneline(const struct smtp_reply *r, size_t size)
{
    char   *buf = malloc(size);         /* exact size: ASan sees overruns */
    char    code[8];

    smtp_reply_oneline(r, buf, size);
    CHECK(memchr(buf, 0, size) != NULL);
    for (const char *p = buf; *p; p++)
        CHECK((unsigned char) *p >= ' ');
    snprintf(code, sizeof(code), "%d", r->code);
    CHECK(strncmp(buf, code, size - 1 < 3 ? size - 1 : 3) == 0);
    free(buf);
}

/* check_passed_on - what our client receives for this reply */
static void check_passed_on(const struct smtp_reply *r)
{
    static struct cio c;
    char    got[16384], code[4];
    int     sv[2];
    ssize_t n;
    const char *p;

    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    cio_init(&c, sv[0], -1);
    cio_reply(&c, r);
    CHECK(cio_flush(&c) == 0);
    close(sv[0]);
    n = read(sv[1], got, sizeof(got));  /* a reply is < 16 KB: one read */
    close(sv[1]);
    CHECK(n > 0 && n < (ssize_t) sizeof(got));
    snprintf(code, sizeof(code), "%03d", r->code);
    for (p = got; p < got + n; ) {
        const char *end = memchr(p, '\n', (size_t) (got + n - p));

        CHECK(end != NULL && end - p >= 5 && end[-1] == '\r');
        CHECK(memcmp(p, code, 3) == 0 && (p[3] == '-' || p[3] == ' '));
        CHECK(memchr(p, '\r', (size_t) (end - 1 - p)) == NULL);
        CHECK((p[3] == ' ') == (end + 1 == got + n));   /* last line */
        p = end + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smtp_reply r;
    const char *p, *end;
    size_t  bufsize;

    if (size < 1)
        return 0;
    bufsize = (size_t) data[0] + 1;
    p = (const char *) data + 1;
    end = (const char *) data + size;
    smtp_reply_start(&r);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        size_t  len = (size_t) ((nl ? nl : end) - p);
        int     prev = r.code, rc;

        if (len > 0 && p[len - 1] == '\r')
            len--;
        rc = smtp_reply_add_line(&r, p, len);
        CHECK(rc >= -1 && rc <= 1);
        if (rc >= 0) {
            CHECK(r.code >= 200 && r.code <= 599);
            CHECK(prev == 0 || prev == r.code);
            CHECK(memchr(r.text, 0, sizeof(r.text)) != NULL);
            check_enhanced(&r);
        }
        if (rc == 1 || (rc == -1 && r.code != 0)) {
            if (rc == 1) {
                check_oneline(&r, bufsize);
                check_oneline(&r, 4096);
                check_passed_on(&r);
            }
            smtp_reply_start(&r);
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}
