/*
 * test_xoauth2.c - the XOAUTH2 response against Microsoft's test vector,
 * a long token, and the decoding of a 334 error challenge.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/secret.h"
#include "tap.h"
#include "proto/xoauth2.h"

int main(void)
{
    secret_t *tok = secret_new("EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA", 40);
    secret_t *resp = xoauth2_response("test@contoso.onmicrosoft.com", tok);
    size_t  len;
    char    buf[512];

    is_str(secret_reveal(resp, &len),
           "dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==",
           "Microsoft's XOAUTH2 test vector");
    is_int(len, 120, "its length");
    secret_free(resp);
    secret_free(tok);

    /* A realistic 3 KB token: the response decodes back to the exact payload. */
    size_t  tlen = 3000;
    char   *big = malloc(tlen + 1);
    for (size_t i = 0; i < tlen; i++)
        big[i] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."[i % 65];
    big[tlen] = 0;
    tok = secret_new(big, tlen);
    resp = xoauth2_response("no-reply@contoso.onmicrosoft.com", tok);
    const char *b64 = secret_reveal(resp, &len);
    unsigned char *raw = malloc(len);
    int     n = EVP_DecodeBlock(raw, (const unsigned char *) b64, (int) len);
    size_t  want = strlen("user=no-reply@contoso.onmicrosoft.com\1auth=Bearer \1\1") + tlen;
    n -= (b64[len - 1] == '=') + (b64[len - 2] == '=');
    is_int(n, (long long) want, "a 3000-byte token: payload length");
    ok(n == (int) want && memcmp(raw, "user=no-reply@contoso.onmicrosoft.com\1auth=Bearer ", 50) == 0
       && memcmp(raw + 50, big, tlen) == 0 && memcmp(raw + 50 + tlen, "\1\1", 2) == 0,
       "a 3000-byte token: payload decodes back exactly");
    free(raw);
    free(big);
    secret_free(resp);
    secret_free(tok);

    /* {"status":"400","schemes":"Bearer","scope":"https://outlook.office365.com/.default"} */
    const char *challenge = "eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL291dGxvb2sub2ZmaWNlMzY1LmNvbS8uZGVmYXVsdCJ9";
    is_int(xoauth2_error_text(challenge, buf, sizeof(buf)), 0, "334 error challenge decodes");
    is_str(buf, "{\"status\":\"400\",\"schemes\":\"Bearer\",\"scope\":\"https://outlook.office365.com/.default\"}",
           "to its JSON");
    is_int(xoauth2_error_text("not base64!", buf, sizeof(buf)), -1, "garbage is refused");
    is_int(xoauth2_error_text("AAEC", buf, sizeof(buf)), -1, "binary is refused");
    return done_testing();
}
