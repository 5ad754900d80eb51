/*
 * token_claims.c - what an access token says about itself, for the
 * diagnosis of "exorelay test" (token.h: token_claims_roles).
 *
 * Entra's access tokens for Microsoft Graph are JWTs: header.payload.sig,
 * each base64url. The payload's "aud" names the API it is for and "roles"
 * the application permissions granted with admin consent (Mail.Send).
 * Nothing here verifies the signature: Graph does that; this only reads
 * the claims to tell the admin what is missing. Tokens that are not JWTs
 * (Microsoft may change the format) give -1 and the caller says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "token_int.h"

/* b64url_payload - the decoded middle part of a JWT; NULL if none */
static char *b64url_payload(const char *tok, size_t len, size_t *outlen)
{
    const char *dot1 = memchr(tok, '.', len), *dot2;
    size_t n, padded;
    char *std, *out;
    int got;

    if (dot1 == NULL || (dot2 = memchr(dot1 + 1, '.', len - (size_t) (dot1 + 1 - tok))) == NULL)
        return NULL;
    n = (size_t) (dot2 - dot1 - 1);
    padded = (n + 3) / 4 * 4;
    if ((std = malloc(padded + 1)) == NULL || (out = malloc(padded + 1)) == NULL) {
        free(std);
        return NULL;
    }
    for (size_t i = 0; i < padded; i++)
        std[i] = i >= n ? '=' : dot1[1 + i] == '-' ? '+' : dot1[1 + i] == '_' ? '/'
            : dot1[1 + i];
    got = EVP_DecodeBlock((unsigned char *) out, (unsigned char *) std, (int) padded);
    free(std);
    if (got < 0) {
        free(out);
        return NULL;
    }
    *outlen = (size_t) got - (padded - n);      /* the padding decoded to zeros */
    out[*outlen] = 0;
    return out;
}

/* token_claims_roles - see token.h */
int token_claims_roles(const secret_t *token, const char *role, char *aud, size_t audlen)
{
    size_t len, plen;
    const char *tok = secret_reveal(token, &len);
    char *payload = b64url_payload(tok, len, &plen);
    json_t *root, *roles;
    int found = -1;

    if (aud && audlen)
        aud[0] = 0;
    if (payload == NULL)
        return -1;
    root = json_loadb(payload, plen, 0, NULL);
    OPENSSL_cleanse(payload, plen);
    free(payload);
    if (!json_is_object(root)) {
        json_decref(root);
        return -1;
    }
    if (aud && audlen && json_is_string(json_object_get(root, "aud")))
        snprintf(aud, audlen, "%s", json_string_value(json_object_get(root, "aud")));
    roles = json_object_get(root, "roles");
    found = 0;
    for (size_t i = 0; json_is_array(roles) && i < json_array_size(roles); i++) {
        const char *r = json_string_value(json_array_get(roles, i));
        if (r && strcmp(r, role) == 0)
            found = 1;
    }
    json_decref(root);
    return found;
}
