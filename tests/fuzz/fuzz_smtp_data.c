/*
 * fuzz_smtp_data.c - libFuzzer target: the DATA encoder of the SMTP client
 * side (relay/proto/smtp_data.c), checked against the server's scanner
 * (relay/proto/smtpd_data.c).
 *
 * Input: bytes 0-3 seed the cutting pattern, the rest is message content
 * with any line ends (LF, CRLF, bare CR), as exorelay-sendmail or the
 * spool hands it over.
 *
 * Invariants:
 *  - the stream does not depend on how the content is cut into pieces,
 *    and each piece's output fits the 2 * len + 2 bytes the contract names
 *    (each piece is encoded into a buffer of exactly that size, so ASan
 *    sees any overrun);
 *  - the stream holds no bare CR or LF, ends with CR LF "." CR LF (or is
 *    ".\r\n" for no content), and nothing before its end can end the data;
 *  - out_bytes counts the stream, eight_bit says whether a byte > 127 came;
 *  - the server scanner reads it as one clean message ending exactly at its
 *    end, and the unstuffed content is the input with every line end made
 *    CR LF and an unfinished last line ended.
 */
#include "fuzz.h"
#include "proto/smtp_data.h"
#include "proto/smtpd_data.h"

/* encode - the whole stream for in, cut by seed */
static char *encode(const char *in, size_t len, uint32_t seed,
                    struct smtp_data_enc *enc, size_t *outlen)
{
    struct chunker ch;
    size_t  cap = 2 * len + 2 + SMTP_DATA_FINISH_MAX, off = 0, n = 0, got;
    char   *stream = malloc(cap), *piece, fin[SMTP_DATA_FINISH_MAX];

    chunker_init(&ch, seed);
    smtp_data_init(enc);
    while (off < len) {
        size_t  k = chunk_next(&ch, len - off);

        piece = malloc(2 * k + 2);
        got = smtp_data_encode(enc, in + off, k, piece);
        CHECK(got <= 2 * k + 2 && n + got <= cap);
        memcpy(stream + n, piece, got);
        n += got;
        off += k;
        free(piece);
    }
    got = smtp_data_finish(enc, fin);
    CHECK(got <= SMTP_DATA_FINISH_MAX && n + got <= cap);
    memcpy(stream + n, fin, got);
    *outlen = n + got;
    return stream;
}

/* normalize - the expected content: every line end CR LF, last line ended */
static char *normalize(const char *in, size_t len, size_t *outlen)
{
    char   *out = malloc(2 * len + 2);
    size_t  n = 0;

    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\r' || in[i] == '\n') {
            out[n++] = '\r';
            out[n++] = '\n';
            if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
                i++;
        } else {
            out[n++] = in[i];
        }
    }
    if (n > 0 && out[n - 1] != '\n') {
        out[n++] = '\r';
        out[n++] = '\n';
    }
    *outlen = n;
    return out;
}

/* unstuff - drop the first "." of every line */
static size_t unstuff(const char *in, size_t len, char *out)
{
    size_t  n = 0;

    for (size_t i = 0; i < len; i++)
        if (!(in[i] == '.' && (i == 0 || in[i - 1] == '\n')))
            out[n++] = in[i];
    return n;
}

/* any_8bit - a byte above 127 */
static int any_8bit(const char *in, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) in[i] > 127)
            return 1;
    return 0;
}

/* check_scanned - the server reads the stream as exactly one clean message */
static void check_scanned(const char *stream, size_t len, const char *want,
                          size_t wantlen)
{
    struct data_scan ds;
    char   *out = malloc(len + 2), *plain = malloc(len + 2);
    size_t  outlen, used, plainlen;

    data_scan_init(&ds, 0);
    used = data_scan(&ds, stream, len, out, &outlen);
    CHECK(ds.done && !ds.bare && !ds.oversize);
    CHECK(used == len);
    CHECK(outlen + 3 == len && memcmp(out, stream, outlen) == 0);
    plainlen = unstuff(out, outlen, plain);
    CHECK(plainlen == wantlen && memcmp(plain, want, wantlen) == 0);
    CHECK(ds.size == (long long) wantlen);
    free(out);
    free(plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smtp_data_enc e1, e2;
    const char *in;
    char   *s1, *s2, *want;
    size_t  len, n1, n2, wantlen;
    uint32_t seed;

    if (size < 4)
        return 0;
    memcpy(&seed, data, 4);
    in = (const char *) data + 4;
    len = size - 4;

    s1 = encode(in, len, 0, &e1, &n1);
    s2 = encode(in, len, seed, &e2, &n2);
    CHECK(n1 == n2 && memcmp(s1, s2, n1) == 0);
    CHECK(e1.out_bytes == (long long) n1 && e2.out_bytes == (long long) n2);
    CHECK(e1.eight_bit == any_8bit(in, len) && e2.eight_bit == e1.eight_bit);
    CHECK(n1 >= 3 && memcmp(s1 + n1 - 3, ".\r\n", 3) == 0);
    CHECK(n1 == 3 || (n1 >= 5 && memcmp(s1 + n1 - 5, "\r\n.\r\n", 5) == 0));
    CHECK(memmem(s1, n1 - 3, "\r\n.\r\n", 5) == NULL);

    want = normalize(in, len, &wantlen);
    check_scanned(s1, n1, want, wantlen);
    free(want);
    free(s1);
    free(s2);
    return 0;
}
