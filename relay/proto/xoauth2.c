/*
 * xoauth2.c - build the XOAUTH2 response, decode its error challenge
 * (xoauth2.h). Base64 is OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock.
 *
 * The plain text and the encoded response both contain the token: they live
 * only in memory that is wiped before it is freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "xoauth2.h"

/* xoauth2_response - base64 of user=U^Aauth=Bearer T^A^A, as a secret */
secret_t *xoauth2_response(const char *user, const secret_t *token)
{
    size_t  tlen, ulen = strlen(user), plen, blen;
    const char *tok = secret_reveal(token, &tlen);
    unsigned char *plain;
    char   *b64;
    secret_t *out = NULL;

    plen = 5 + ulen + 1 + 12 + tlen + 2;        /* "user=" "\1" "auth=Bearer " "\1\1" */
    blen = 4 * ((plen + 2) / 3) + 1;
    plain = malloc(plen);
    b64 = malloc(blen);
    if (plain != NULL && b64 != NULL) {
        memcpy(plain, "user=", 5);
        memcpy(plain + 5, user, ulen);
        memcpy(plain + 5 + ulen, "\1auth=Bearer ", 13);
        memcpy(plain + 5 + ulen + 13, tok, tlen);
        memcpy(plain + 5 + ulen + 13 + tlen, "\1\1", 2);
        blen = (size_t) EVP_EncodeBlock((unsigned char *) b64, plain, (int) plen);
        out = secret_new(b64, blen);
        OPENSSL_cleanse(plain, plen);
        OPENSSL_cleanse(b64, blen);
    }
    free(plain);
    free(b64);
    return out;
}

/* printable - 1 when the len bytes are printable ASCII */
static int printable(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < ' ' || s[i] > '~')
            return 0;
    return 1;
}

/* xoauth2_error_text - decode a 334 challenge (base64 JSON) for the log */
int xoauth2_error_text(const char *challenge, char *buf, size_t size)
{
    size_t  len = strlen(challenge), pad = 0;
    unsigned char *raw;
    int     n;

    if (len == 0 || len % 4 != 0 || size == 0)
        return -1;
    if ((raw = malloc(len / 4 * 3 + 1)) == NULL)
        return -1;
    n = EVP_DecodeBlock(raw, (const unsigned char *) challenge, (int) len);
    if (n >= 0) {
        /* EVP_DecodeBlock counts the padding as zero bytes. */
        pad = (challenge[len - 1] == '=') + (challenge[len - 2] == '=');
        n -= (int) pad;
        if (!printable(raw, (size_t) n))
            n = -1;
    }
    if (n >= 0)
        snprintf(buf, size, "%.*s", n, (char *) raw);
    free(raw);
    return n >= 0 ? 0 : -1;
}
