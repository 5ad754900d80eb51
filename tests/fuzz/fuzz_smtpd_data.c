/*
 * fuzz_smtpd_data.c - libFuzzer target: the SMTP server's DATA scanner
 * (relay/proto/smtpd_data.c) on arbitrary client bytes.
 *
 * Input: byte 0 picks the size limit (0 = none, else a small one so the
 * oversize path runs), bytes 1-4 seed the cutting pattern, the rest is
 * what the client sends after its DATA command.
 *
 * Invariants (each computed independently of the scanner):
 *  - the result does not depend on how the bytes are cut into reads;
 *  - it stops exactly at the first CR LF "." CR LF (the data start counts
 *    as a line start) and consumes everything when there is none;
 *  - "bare" is set exactly when the consumed bytes hold a CR not followed
 *    by LF or an LF not preceded by CR;
 *  - what it forwards holds no bare CR or LF and no CR LF "." CR LF, and
 *    does not start with ".\r\n": it can never end the data early upstream
 *    (SMTP smuggling);
 *  - for an accepted message (done, not bare, not oversize) the forwarded
 *    bytes plus ".\r\n" are exactly the client's bytes;
 *  - size is the unstuffed content size, and stays within the limit unless
 *    oversize is set.
 */
#include "fuzz.h"
#include "proto/smtpd_data.h"

struct scan_result {
    char   *out;
    size_t  outlen, consumed;
    struct data_scan ds;
};

/* scan - run the scanner over in, cut by seed (0: in one piece) */
static void scan(const char *in, size_t len, uint32_t seed, int whole,
                 long long max, struct scan_result *r)
{
    struct chunker ch;
    size_t  off = 0;

    chunker_init(&ch, seed);
    r->out = malloc(len + 2);
    r->outlen = 0;
    data_scan_init(&r->ds, max);
    while (off < len && !r->ds.done) {
        size_t  n = whole ? len - off : chunk_next(&ch, len - off), got;
        /* Exactly the room the contract asks for: ASan sees any overrun. */
        char   *out = malloc(n + 2);
        size_t  used = data_scan(&r->ds, in + off, n, out, &got);

        CHECK(got <= n + 2);
        CHECK(used <= n);
        CHECK(used == n || r->ds.done);
        memcpy(r->out + r->outlen, out, got);
        r->outlen += got;
        off += used;
        free(out);
    }
    r->consumed = off;
    CHECK(r->outlen <= len + 2);
}

/* end_of_data - where the first CRLF.CRLF ends (after the data start) */
static size_t end_of_data(const char *in, size_t len)
{
    for (size_t i = 0; i + 3 <= len; i++) {
        int     bol = i == 0 || (i >= 2 && in[i - 2] == '\r' && in[i - 1] == '\n');

        if (bol && memcmp(in + i, ".\r\n", 3) == 0)
            return i + 3;
    }
    return 0;
}

/* has_bare - a CR not followed by LF or LF not after CR in in[0..len) */
static int has_bare(const char *in, size_t len, int complete)
{
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
            return 1;
        /* A CR at the very end may still get its LF in the next read. */
        if (in[i] == '\r' && (i + 1 < len ? in[i + 1] != '\n' : complete))
            return 1;
    }
    return 0;
}

/* check_forwarded - nothing forwarded can end the data or smuggle */
static void check_forwarded(const char *out, size_t len)
{
    CHECK(!has_bare(out, len, 1));
    CHECK(!(len >= 3 && memcmp(out, ".\r\n", 3) == 0));
    CHECK(memmem(out, len, "\r\n.\r\n", 5) == NULL);
}

/* unstuffed_size - content bytes: one leading dot per line is stuffing */
static long long unstuffed_size(const char *out, size_t len)
{
    long long n = (long long) len;

    for (size_t i = 0; i < len; i++)
        if (out[i] == '.' && (i == 0 || out[i - 1] == '\n'))
            n--;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scan_result whole, cut;
    const char *in;
    size_t  len, end;
    long long max;
    uint32_t seed;

    if (size < 5)
        return 0;
    max = data[0] < 128 ? 0 : data[0] - 127;
    memcpy(&seed, data + 1, 4);
    in = (const char *) data + 5;
    len = size - 5;

    scan(in, len, 0, 1, max, &whole);
    scan(in, len, seed, 0, max, &cut);
    CHECK(cut.outlen == whole.outlen && memcmp(cut.out, whole.out, whole.outlen) == 0);
    CHECK(cut.consumed == whole.consumed && cut.ds.done == whole.ds.done);
    CHECK(cut.ds.bare == whole.ds.bare && cut.ds.oversize == whole.ds.oversize);
    CHECK(cut.ds.size == whole.ds.size);

    end = end_of_data(in, len);
    CHECK(whole.ds.done == (end > 0));
    CHECK(whole.consumed == (end ? end : len));
    CHECK(whole.ds.bare == has_bare(in, whole.consumed, whole.ds.done));
    check_forwarded(whole.out, whole.outlen);
    CHECK(max > 0 || !whole.ds.oversize);
    if (!whole.ds.oversize)
        CHECK(max == 0 || whole.ds.size <= max);
    if (!whole.ds.bare && !whole.ds.oversize) {
        CHECK(whole.ds.size == unstuffed_size(whole.out, whole.outlen));
        if (whole.ds.done) {
            CHECK(whole.outlen + 3 == whole.consumed);
            CHECK(memcmp(whole.out, in, whole.outlen) == 0);
        }
    }
    free(whole.out);
    free(cut.out);
    return 0;
}
