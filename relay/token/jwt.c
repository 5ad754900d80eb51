/*
 * jwt.c - the client assertion that proves a certificate credential to
 * Entra ID (a JWT signed with the private key, RFC 7523).
 *
 * SYNOPSIS
 *	secret_t *jwt_client_assertion(key, cert, alg, aud, client_id, now,
 *				       err, errlen)
 *		header {"alg","typ":"JWT", thumbprint}, claims aud, iss = sub =
 *		client_id, jti (random), nbf = iat = now, exp = now + 8 min.
 *		RSA keys sign PS256 (RSASSA-PSS, SHA-256, salt 32) by default
 *		or RS256 (PKCS#1 v1.5) with alg JWT_RS256; EC P-256 keys sign
 *		ES256 whatever alg says. The thumbprint is "x5t#S256"
 *		(base64url SHA-256 of the certificate DER), or "x5t" (SHA-1)
 *		with JWT_RS256, for tenants that predate x5t#S256. Returns
 *		the compact JWS as a secret (it is a credential for its
 *		lifetime), or NULL with a reason in err.
 *	int b64url_encode(in, len, out, outlen)
 *		base64url without padding; the length, or -1 if out is small
 *	int jwt_thumbprint(cert, md, out, outlen)
 *		base64url of the digest of the certificate's DER
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "token_int.h"

/* Entra wants exp 5-10 minutes after nbf; 8 leaves room both ways. */
#define JWT_LIFETIME    480

/* b64url_encode - base64url (RFC 4648 section 5) without padding */
int b64url_encode(const unsigned char *in, size_t len, char *out, size_t outlen)
{
    size_t need = 4 * ((len + 2) / 3) + 1;
    int n;

    if (outlen < need || len > 0x7fffffff)
        return -1;
    n = EVP_EncodeBlock((unsigned char *) out, in, (int) len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = 0;
    for (int i = 0; i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return n;
}

/* jwt_thumbprint - base64url(md(certificate DER)) */
int jwt_thumbprint(X509 *cert, const EVP_MD *md, char *out, size_t outlen)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;

    if (X509_digest(cert, md, digest, &dlen) != 1)
        return -1;
    return b64url_encode(digest, dlen, out, outlen);
}

/* b64url_json - base64url of a JSON object's compact text; malloc'ed */
static char *b64url_json(json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *out = NULL;
    size_t len, outlen;

    if (text == NULL)
        return NULL;
    len = strlen(text);
    outlen = 4 * ((len + 2) / 3) + 1;
    if ((out = malloc(outlen)) != NULL && b64url_encode((unsigned char *) text,
                                                        len, out, outlen) < 0) {
        free(out);
        out = NULL;
    }
    free(text);
    return out;
}

/* jwt_random_id - a random UUID-shaped jti, so Entra can refuse replays */
static void jwt_random_id(char *buf, size_t len)
{
    unsigned char r[16];

    if (RAND_bytes(r, sizeof(r)) != 1)
        abort();                        /* no randomness: nothing is safe */
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
             r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

/* jwt_header - {"alg":..,"typ":"JWT","x5t#S256" or "x5t":..}, base64url */
static char *jwt_header(X509 *cert, const char *alg_name, enum jwt_alg alg)
{
    char thumb[64];
    int sha1 = (alg == JWT_RS256);
    json_t *hdr;
    char *out;

    if (jwt_thumbprint(cert, sha1 ? EVP_sha1() : EVP_sha256(), thumb,
                       sizeof(thumb)) < 0)
        return NULL;
    hdr = json_pack("{s:s, s:s, s:s}", "alg", alg_name, "typ", "JWT",
                    sha1 ? "x5t" : "x5t#S256", thumb);
    out = hdr ? b64url_json(hdr) : NULL;
    json_decref(hdr);
    return out;
}

/* jwt_claims - the assertion's claims, base64url */
static char *jwt_claims(const char *aud, const char *client_id, time_t now)
{
    char jti[40];
    json_t *claims;
    char *out;

    jwt_random_id(jti, sizeof(jti));
    claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
                       "aud", aud, "iss", client_id, "sub", client_id,
                       "jti", jti, "nbf", (json_int_t) now,
                       "iat", (json_int_t) now,
                       "exp", (json_int_t) (now + JWT_LIFETIME));
    out = claims ? b64url_json(claims) : NULL;
    json_decref(claims);
    return out;
}

/* jwt_alg_name - which JWS algorithm this key and option give */
static const char *jwt_alg_name(EVP_PKEY *key, enum jwt_alg alg,
                                char *err, size_t errlen)
{
    if (EVP_PKEY_is_a(key, "RSA"))
        return alg == JWT_RS256 ? "RS256" : "PS256";
    if (EVP_PKEY_is_a(key, "EC")) {
        char group[64] = "";
        size_t glen = 0;
        if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group),
                                           &glen) == 1
            && strcmp(group, "prime256v1") == 0)
            return "ES256";
        snprintf(err, errlen, "the private key is an EC key on curve %s; "
                 "only P-256 (prime256v1) is supported", *group ? group : "?");
        return NULL;
    }
    snprintf(err, errlen, "the private key is neither RSA nor EC");
    return NULL;
}

/* ecdsa_der_to_raw - JWS wants r || s (32 bytes each), OpenSSL gives DER */
static int ecdsa_der_to_raw(const unsigned char *der, size_t len,
                            unsigned char *raw)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long) len);
    const BIGNUM *r, *s;
    int ok;

    if (sig == NULL)
        return -1;
    ECDSA_SIG_get0(sig, &r, &s);
    ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok ? 64 : -1;
}

/* jwt_sign - signature over "header.claims", base64url into out */
static int jwt_sign(EVP_PKEY *key, const char *alg_name, const char *input,
                    char *out, size_t outlen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char sig[1024], raw[64];
    size_t siglen = sizeof(sig);
    int ok;

    ok = md != NULL && EVP_PKEY_get_size(key) <= (int) sizeof(sig)
        && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) == 1;
    if (ok && strcmp(alg_name, "PS256") == 0)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0;
    ok = ok && EVP_DigestSign(md, sig, &siglen, (const unsigned char *) input,
                              strlen(input)) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        return -1;
    if (strcmp(alg_name, "ES256") == 0) {
        if (ecdsa_der_to_raw(sig, siglen, raw) < 0)
            return -1;
        return b64url_encode(raw, sizeof(raw), out, outlen);
    }
    return b64url_encode(sig, siglen, out, outlen);
}

/* jwt_client_assertion - header.claims.signature, as a secret */
secret_t *jwt_client_assertion(EVP_PKEY *key, X509 *cert, enum jwt_alg alg,
                               const char *aud, const char *client_id,
                               time_t now, char *err, size_t errlen)
{
    const char *alg_name = jwt_alg_name(key, alg, err, errlen);
    char *header = NULL, *claims = NULL, *jws = NULL;
    char sig[1500];
    size_t len;
    secret_t *out = NULL;

    if (alg_name == NULL)
        return NULL;
    header = jwt_header(cert, alg_name, alg);
    claims = jwt_claims(aud, client_id, now);
    if (header == NULL || claims == NULL) {
        snprintf(err, errlen, "cannot encode the client assertion");
        goto out;
    }
    len = strlen(header) + 1 + strlen(claims) + 1 + sizeof(sig);
    if ((jws = malloc(len)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    snprintf(jws, len, "%s.%s", header, claims);
    if (jwt_sign(key, alg_name, jws, sig, sizeof(sig)) < 0) {
        unsigned long e = ERR_get_error();
        const char *why = e ? ERR_reason_error_string(e) : NULL;
        snprintf(err, errlen, "cannot sign the client assertion with the "
                 "private key (%s)", why ? why : "no reason given");
        ERR_clear_error();
        goto out;
    }
    strcat(jws, ".");
    strcat(jws, sig);
    out = secret_new(jws, strlen(jws));
    OPENSSL_cleanse(jws, strlen(jws));
out:
    free(header);
    free(claims);
    free(jws);
    return out;
}
