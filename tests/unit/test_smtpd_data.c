/*
 * test_smtpd_data.c - the DATA scanner: end of data, bare CR/LF
 * (smuggling), dot-stuffing pass-through, size limit, and that splitting
 * the input anywhere gives the same result (the client's TCP segments
 * fall where they like).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtpd_data.h"
#include "tap.h"

struct result {
    char    out[4096];
    size_t  outlen;
    size_t  consumed;
    int     done, bare, oversize;
    long long size;
};

static int unstuff;             /* scan for BDAT: drop the stuffing dots */

/* scan - feed in chunks of chunk bytes (0: all at once) */
static void scan(const char *in, size_t len, size_t chunk, long long max,
                 struct result *r)
{
    struct data_scan ds;
    char out[4096];
    size_t off = 0;

    memset(r, 0, sizeof(*r));
    data_scan_init(&ds, max);
    ds.unstuff = unstuff;
    while (off < len && !ds.done) {
        size_t n = chunk && len - off > chunk ? chunk : len - off, outlen;
        size_t used = data_scan(&ds, in + off, n, out, &outlen);
        memcpy(r->out + r->outlen, out, outlen);
        r->outlen += outlen;
        off += used;
    }
    r->out[r->outlen] = 0;
    r->consumed = off;
    r->done = ds.done;
    r->bare = ds.bare;
    r->oversize = ds.oversize;
    r->size = ds.size;
}

/* same_every_split - the result does not depend on how input is cut */
static int same_every_split(const char *in, long long max)
{
    struct result whole, part;
    size_t len = strlen(in);

    scan(in, len, 0, max, &whole);
    for (size_t chunk = 1; chunk < len; chunk++) {
        scan(in, len, chunk, max, &part);
        if (part.outlen != whole.outlen || memcmp(part.out, whole.out, whole.outlen)
            || part.done != whole.done || part.bare != whole.bare
            || part.consumed != whole.consumed || part.size != whole.size)
            return 0;
    }
    return 1;
}

static void clean_message(void)
{
    const char *msg = "Subject: hi\r\n\r\nline 1\r\n..dot line\r\n.\r\nMAIL FROM:<x>\r\n";
    struct result r;

    scan(msg, strlen(msg), 0, 0, &r);
    ok(r.done, "CRLF.CRLF ends the data");
    ok(!r.bare, "a clean message has no bare line end");
    is_str(r.out, "Subject: hi\r\n\r\nline 1\r\n..dot line\r\n",
           "content passes through still dot-stuffed, final dot not emitted");
    is_int((long long) r.consumed, (long long) (strlen(msg) - strlen("MAIL FROM:<x>\r\n")),
           "bytes after the end are left for the next command");
    is_int(r.size, (long long) strlen("Subject: hi\r\n\r\nline 1\r\n.dot line\r\n"),
           "size counts the unstuffed content");
    ok(same_every_split(msg, 0), "any split of the input gives the same result");
}

static void empty_and_dots(void)
{
    struct result r;

    scan(".\r\n", 3, 0, 0, &r);
    ok(r.done && r.outlen == 0 && r.size == 0, "an empty message is just .CRLF");
    scan("..\r\n.\r\n", 7, 0, 0, &r);
    is_str(r.out, "..\r\n", "a stuffed lone dot stays stuffed");
    is_int(r.size, 3, "... and counts as one dot plus CRLF");
    scan("...x\r\n.\r\n", 9, 0, 0, &r);
    is_str(r.out, "...x\r\n", "'...x' passes through (upstream unstuffs to '..x')");
    scan(".x\r\n.\r\n", 7, 0, 0, &r);
    is_str(r.out, ".x\r\n", "an unstuffed '.x' is passed on; upstream strips the dot as we would");
    is_int(r.size, 3, "... its dot is not content");
    scan("a.\r\n.\r\n", 7, 0, 0, &r);
    is_str(r.out, "a.\r\n", "a dot inside a line is plain content");
}

static void unstuffed(void)
{
    const char *msg = "Subject: hi\r\n\r\n..dot line\r\n..\r\n...x\r\na.b\r\n.\r\n";
    struct result r;

    unstuff = 1;
    scan(msg, strlen(msg), 0, 0, &r);
    is_str(r.out, "Subject: hi\r\n\r\n.dot line\r\n.\r\n..x\r\na.b\r\n",
           "unstuff: the content itself, each line's stuffing dot removed (for BDAT)");
    is_int(r.size, (long long) r.outlen, "unstuff: size is exactly the bytes emitted");
    ok(same_every_split(msg, 0), "unstuff: any split of the input gives the same result");
    unstuff = 0;
}

/* smuggle - payload that must not end the data where a lax server would */
static void smuggle(const char *payload, const char *name)
{
    struct result r;
    char msg[512];

    snprintf(msg, sizeof(msg), "Subject: a\r\n\r\nbody%s"
             "MAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\nDATA\r\nforged\r\n.\r\n", payload);
    scan(msg, strlen(msg), 0, 0, &r);
    ok(r.done && r.consumed == strlen(msg),
       "%s: only the final CRLF.CRLF ends the data", name);
    ok(r.bare, "%s: flagged as bare CR/LF", name);
    ok(strstr(r.out, "MAIL FROM") == NULL && strncmp(r.out, msg, r.outlen) == 0
       && r.outlen >= strlen("Subject: a\r\n\r\nbody"),
       "%s: nothing after the bad line end is forwarded", name);
    for (size_t i = 0; i < r.outlen; i++) {
        if ((r.out[i] == '\n' && (i == 0 || r.out[i - 1] != '\r'))
            || (r.out[i] == '\r' && (i + 1 >= r.outlen || r.out[i + 1] != '\n'))) {
            ok(0, "%s: bare line end forwarded at %zu", name, i);
            return;
        }
    }
    ok(1, "%s: no bare CR or LF is ever forwarded", name);
    ok(same_every_split(msg, 0), "%s: same result for any split", name);
}

static void bare_line_ends(void)
{
    smuggle("\r\n\n.\r\n", "LF.CRLF");
    smuggle("\r\n.\n", "CRLF.LF");
    smuggle("\n.\n", "LF.LF");
    smuggle("\r\n.\r", "CRLF.CR then text");
    smuggle("\r.\r\n", "CR.CRLF");
    smuggle("\n.\r\n", "bare LF.CRLF");
    smuggle("\r\n\r.\r\n", "CRLF CR.CRLF");
    smuggle("x\ry\r\n", "CR inside a line");
}

static void size_limit(void)
{
    struct result r;
    const char *msg = "0123456789\r\n0123456789\r\n.\r\n";

    scan(msg, strlen(msg), 0, 24, &r);
    ok(r.done && !r.oversize, "exactly max_size is accepted");
    scan(msg, strlen(msg), 0, 23, &r);
    ok(r.done && r.oversize, "one byte over max_size is flagged");
    ok(r.outlen <= 23, "nothing past the limit is forwarded");
    ok(same_every_split(msg, 23), "size limit: same result for any split");
}

int main(void)
{
    clean_message();
    empty_and_dots();
    unstuffed();
    bare_line_ends();
    size_limit();
    return done_testing();
}
