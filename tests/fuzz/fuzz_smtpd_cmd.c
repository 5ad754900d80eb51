/*
 * fuzz_smtpd_cmd.c - libFuzzer target: how the SMTP server reads and parses
 * commands (relay/server/smtpd_io.c cio_getline, relay/proto/smtpd_cmd.c).
 *
 * Input: byte 0 says which EHLO keywords the upstream offered (bit per
 * SIZE, 8BITMIME, SMTPUTF8, DSN), the rest is what a client sends in the
 * command phase. It goes through a socket pair and is read line by line
 * as the server does (a line too long is refused, not cut); every line
 * goes through smtpd_verb(), and MAIL/RCPT lines through smtpd_path(),
 * smtpd_params_check(), smtpd_params_upstream() and smtpd_param_value()
 * (the relay and exorelay-sendmail -bs share this parser).
 *
 * Invariants:
 *  - a line handed out fits its buffer and holds no LF;
 *  - the address lies inside the line, between "<" and ">", and holds no
 *    control character, space, "<" or ">";
 *  - every refusal is a 5xx reply with an enhanced code;
 *  - the parameters for upstream are a space-separated selection of the
 *    client's own parameters, fit their buffer, and name only extensions
 *    the upstream offered (BODY=7BIT needs none);
 *  - a parameter's value fits its buffer and is the client's own text.
 */
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "proto/smtpd_cmd.h"
#include "server/smtpd_io.h"

static const char *const ext_names[] = {"SIZE", "8BITMIME", "SMTPUTF8", "DSN"};

/* has_ext - the upstream's EHLO keywords, one bit each in *ctx */
static int has_ext(void *ctx, const char *keyword)
{
    unsigned mask = *(unsigned *) ctx;

    for (unsigned i = 0; i < 4; i++)
        if (strcmp(keyword, ext_names[i]) == 0)
            return (mask >> i) & 1;
    CHECK(!"unknown extension asked");
    return 0;
}

/* check_refusal - a 5xx reply with an enhanced code */
static void check_refusal(const struct smtp_reply *r)
{
    CHECK(r->code >= 500 && r->code <= 599);
    CHECK(r->enhanced[0] == '5' && r->enhanced[1] == '.');
    CHECK(memchr(r->text, 0, sizeof(r->text)) != NULL);
}

/* ext_needed - the extension a "NAME=..." token needs, or NULL */
static const char *ext_needed(const char *tok, size_t len)
{
    if (len == 9 && strncasecmp(tok, "BODY=7BIT", 9) == 0)
        return NULL;
    if (len >= 4 && strncasecmp(tok, "SIZE", 4) == 0)
        return "SIZE";
    if (len >= 4 && strncasecmp(tok, "BODY", 4) == 0)
        return "8BITMIME";
    if (len >= 8 && strncasecmp(tok, "SMTPUTF8", 8) == 0)
        return "SMTPUTF8";
    return "DSN";
}

/* check_upstream_params - a selection of params the upstream can take */
static void check_upstream_params(const char *params, unsigned mask)
{
    char    out[256];
    const char *p;

    memset(out, 'x', sizeof(out));
    smtpd_params_upstream(params, has_ext, &mask, out, sizeof(out));
    CHECK(memchr(out, 0, sizeof(out)) != NULL);
    CHECK(out[0] == 0 || out[0] == ' ');
    for (p = out; *p == ' '; ) {
        size_t  len = strcspn(++p, " ");
        const char *ext = ext_needed(p, len);
        const char *q = params;

        CHECK(len > 0);
        if (ext)
            CHECK(has_ext(&mask, ext));
        /* The token is one of the client's own. */
        for (;;) {
            size_t  qlen = strcspn(q, " ");

            CHECK(*q != 0);
            if (qlen == len && memcmp(q, p, len) == 0)
                break;
            q += qlen;
            q += strspn(q, " ");
        }
        p += len;
    }
    CHECK(*p == 0);
}

/* check_param_values - what exorelay-sendmail -bs reads from a checked
 * list: each value fits its buffer, holds no space, and follows its
 * "NAME=" in the client's own parameters */
static void check_param_values(const char *params)
{
    static const char *const names[] = {"SIZE", "BODY", "RET", "ENVID", "NOTIFY", "ORCPT"};
    char    v[24], want[40];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *got = smtpd_param_value(params, names[i], v, sizeof(v));

        if (got == NULL)
            continue;
        CHECK(got == v && strlen(v) < sizeof(v) && strchr(v, ' ') == NULL);
        snprintf(want, sizeof(want), "%s=%s", names[i], v);
        CHECK(strcasestr(params, want) != NULL);
    }
}

/* check_path - MAIL FROM: / RCPT TO: */
static void check_path(char *args, const char *keyword, int is_rcpt, unsigned mask)
{
    char   *copy = strdup(args), *addr = NULL, *params = NULL;
    size_t  len = strlen(copy);
    struct smtp_reply reply;
    long long msize;

    memset(&reply, 0, sizeof(reply));
    if (smtpd_path(copy, keyword, &addr, &params, &reply) < 0) {
        check_refusal(&reply);
        free(copy);
        return;
    }
    CHECK(addr > copy && addr <= copy + len && addr[-1] == '<');
    CHECK(args[addr - copy + strlen(addr)] == '>');
    for (const char *a = addr; *a; a++)
        CHECK((unsigned char) *a > ' ' && *a != '<' && *a != '>' && *a != 0x7f);
    CHECK(params > addr && params <= copy + len && *params != ' ');
    if (smtpd_params_check(params, is_rcpt, &msize, &reply) < 0) {
        check_refusal(&reply);
    } else {
        CHECK(msize >= 0);
        check_upstream_params(params, mask);
        check_param_values(params);
    }
    free(copy);
}

/* check_line - one command line */
static void check_line(char *line, unsigned mask)
{
    char   *args;
    enum smtpd_verb v = smtpd_verb(line, &args);

    CHECK(args >= line && args <= line + strlen(line));
    CHECK(*args != ' ');
    if (v == V_MAIL)
        check_path(args, "FROM:", 0, mask);
    else if (v == V_RCPT)
        check_path(args, "TO:", 1, mask);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cio c;        /* 24 KB: not on the stack */
    char    line[SMTPD_LINE_MAX + 1];
    int     sv[2], rc;
    unsigned mask;

    if (size < 1 || size > 65536)
        return 0;
    mask = data[0] & 0xf;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    /* The socket buffer holds the whole input: write it all, then EOF. */
    CHECK(write(sv[1], data + 1, size - 1) == (ssize_t) (size - 1));
    close(sv[1]);
    cio_init(&c, sv[0], -1);
    while ((rc = cio_getline(&c, line, sizeof(line), 1, 0)) != CIO_EOF) {
        CHECK(rc == CIO_OK || rc == CIO_TOOLONG);
        CHECK(strlen(line) < sizeof(line) && strchr(line, '\n') == NULL);
        if (rc == CIO_OK)
            check_line(line, mask);
    }
    close(sv[0]);
    return 0;
}
