/*
 * fuzz_xoauth2.c - libFuzzer target: the XOAUTH2 encoder and the decoder of
 * its error challenge (relay/proto/xoauth2.c).
 *
 * Input: byte 0 is the length of the user name (mod the rest), then the
 * user name, then the token; the whole input after byte 0 is also tried
 * as a 334 challenge.
 *
 * Invariants:
 *  - round trip: the response is base64 (only the alphabet, "=" padding,
 *    length a multiple of 4) and decodes to exactly
 *    "user=" U "\1auth=Bearer " T "\1\1";
 *  - the error decoder either refuses (-1) or gives a NUL-terminated text
 *    of printable ASCII that fits the buffer; encoding any printable text
 *    and decoding it gives it back (cut to the buffer).
 */
#include <openssl/evp.h>

#include "fuzz.h"
#include "proto/xoauth2.h"

/* check_base64 - the alphabet, padding only at the end */
static void check_base64(const char *s, size_t len)
{
    CHECK(len % 4 == 0);
    for (size_t i = 0; i < len; i++) {
        int     c = (unsigned char) s[i];
        int     alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '+' || c == '/';

        CHECK(alpha || (c == '=' && i + 2 >= len));
    }
}

/* check_response - encode, then decode and compare */
static void check_response(const char *user, const char *tok, size_t tlen)
{
    secret_t *token = secret_new(tok, tlen), *resp;
    size_t  rlen, plen = 5 + strlen(user) + 13 + tlen + 2;
    const char *b64;
    unsigned char *plain, *want;
    int     n;

    CHECK(token != NULL);
    resp = xoauth2_response(user, token);
    CHECK(resp != NULL);
    b64 = secret_reveal(resp, &rlen);
    check_base64(b64, rlen);
    CHECK(rlen == 4 * ((plen + 2) / 3));
    plain = malloc(rlen / 4 * 3 + 1);
    n = EVP_DecodeBlock(plain, (const unsigned char *) b64, (int) rlen);
    CHECK(n >= 0 && (size_t) n == rlen / 4 * 3);
    want = malloc(plen);
    memcpy(want, "user=", 5);
    memcpy(want + 5, user, strlen(user));
    memcpy(want + 5 + strlen(user), "\1auth=Bearer ", 13);
    memcpy(want + 5 + strlen(user) + 13, tok, tlen);
    memcpy(want + plen - 2, "\1\1", 2);
    CHECK(memcmp(plain, want, plen) == 0);
    free(plain);
    free(want);
    secret_free(resp);
    secret_free(token);
}

/* check_challenge - decode arbitrary text as a 334 challenge */
static void check_challenge(const char *text, size_t bufsize)
{
    char   *buf = malloc(bufsize);

    memset(buf, 'x', bufsize);
    if (xoauth2_error_text(text, buf, bufsize) == 0) {
        CHECK(memchr(buf, 0, bufsize) != NULL);
        for (const char *p = buf; *p; p++)
            CHECK(*p >= ' ' && *p <= '~');
    }
    free(buf);
}

/* check_error_round_trip - printable text, encoded, decodes to itself */
static void check_error_round_trip(const char *text)
{
    size_t  len = strlen(text);
    char   *b64 = malloc(4 * ((len + 2) / 3) + 1), *buf = malloc(len + 1);

    for (const char *p = text; *p; p++)
        if (*p < ' ' || *p > '~')
            goto out;
    EVP_EncodeBlock((unsigned char *) b64, (const unsigned char *) text, (int) len);
    if (len == 0) {
        CHECK(xoauth2_error_text(b64, buf, len + 1) == -1);
    } else {
        CHECK(xoauth2_error_text(b64, buf, len + 1) == 0);
        CHECK(strcmp(buf, text) == 0);
    }
  out:
    free(b64);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *all, *user;
    size_t  ulen;

    if (size < 1)
        return 0;
    all = fuzz_strndup(data + 1, size - 1);
    ulen = strlen(all) ? data[0] % (strlen(all) + 1) : 0;
    user = strndup(all, ulen);
    /* The token is bytes: it may hold anything, even NUL. */
    check_response(user, (const char *) data + 1 + ulen, size - 1 - ulen);
    check_challenge(all, 1 + data[0] % 64);
    check_challenge(all, 4096);
    check_error_round_trip(all);
    free(user);
    free(all);
    return 0;
}
