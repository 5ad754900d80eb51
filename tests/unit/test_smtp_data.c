/*
 * test_smtp_data.c - CRLF normalisation and dot-stuffing of the DATA
 * stream, also when the input is cut at every possible place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp_data.h"
#include "tap.h"

/* encode - the whole stream for in, cut into pieces of at most step bytes */
static char *encode(const char *in, size_t step, struct smtp_data_enc *enc)
{
    size_t  len = strlen(in), n = 0;
    char   *out = malloc(2 * len + 2 + SMTP_DATA_FINISH_MAX + 1);

    smtp_data_init(enc);
    for (size_t off = 0; off < len; off += step)
        n += smtp_data_encode(enc, in + off, len - off < step ? len - off : step, out + n);
    n += smtp_data_finish(enc, out + n);
    out[n] = 0;
    return out;
}

static const struct {
    const char *in, *out, *name;
} cases[] = {
    {"Subject: x\r\n\r\nbody\r\n", "Subject: x\r\n\r\nbody\r\n.\r\n", "CRLF input passes unchanged"},
    {"Subject: x\n\nbody\n", "Subject: x\r\n\r\nbody\r\n.\r\n", "LF becomes CRLF"},
    {"a\n.\nb\n", "a\r\n..\r\nb\r\n.\r\n", "a lone dot line is doubled"},
    {".start\n..two\n", "..start\r\n...two\r\n.\r\n", "leading dots are doubled"},
    {"a.b\n", "a.b\r\n.\r\n", "a dot inside a line stays"},
    {"no newline at end", "no newline at end\r\n.\r\n", "a missing last line end is added"},
    {"", ".\r\n", "empty message"},
    {"x\r.\ry\r\n", "x\r\n..\r\ny\r\n.\r\n", "bare CR is a line end: no smuggled end of data"},
    {"x\n.\r\ny", "x\r\n..\r\ny\r\n.\r\n", "bare LF before a dot line: stuffed"},
    {"a\r\r\nb", "a\r\n\r\nb\r\n.\r\n", "CR CR LF is two line ends"},
    {"end\r", "end\r\n.\r\n", "a CR at the very end"},
    {".", "..\r\n.\r\n", "a message that is just a dot"},
};

/* dots - lines of out starting with "..": each had one dot added */
static long long dots(const char *out)
{
    long long n = 0;

    for (const char *p = out; p; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL)
        n += strncmp(p, "..", 2) == 0;
    return n;
}

int main(void)
{
    struct smtp_data_enc enc;

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        int     all_same = 1;
        char   *whole = encode(cases[c].in, 1 << 20, &enc);

        is_str(whole, cases[c].out, cases[c].name);
        is_int(enc.out_bytes, (long long) strlen(cases[c].out), "  out_bytes counts it");
        is_int(smtp_data_size(&enc), (long long) strlen(cases[c].out) - 3 - dots(cases[c].out),
               "  size: without added dots and the final line");
        free(whole);
        for (size_t step = 1; step < 8; step++) {
            char   *cut = encode(cases[c].in, step, &enc);

            all_same &= strcmp(cut, cases[c].out) == 0;
            free(cut);
        }
        ok(all_same, "  same result when cut into pieces of 1..7 bytes");
    }
    {
        char    out[64];
        size_t  n;

        smtp_data_init_bdat(&enc);
        n = smtp_data_encode(&enc, ".a\n.\nb", 6, out);
        n += smtp_data_finish(&enc, out + n);
        out[n] = 0;
        is_str(out, ".a\r\n.\r\nb\r\n", "BDAT: line ends only, no stuffing, no final dot");
        is_int(smtp_data_size(&enc), (long long) n, "BDAT: size is what was produced");
    }
    free(encode("caf\xc3\xa9\n", 4, &enc));
    ok(enc.eight_bit, "8-bit content is noticed");
    free(encode("plain\n", 4, &enc));
    ok(!enc.eight_bit, "7-bit content is not flagged");
    return done_testing();
}
