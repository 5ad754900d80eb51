/*
 * test_jwt.c - the client assertion: header, claims, and a signature that
 * OpenSSL verifies with the certificate's public key (PS256, RS256, ES256).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

#include "tap.h"
#include "testcert.h"
#include "token/token_int.h"

#define AUD "https://login.example/tenant/oauth2/v2.0/token"
#define CLIENT "11111111-2222-3333-4444-555555555555"

struct jws {
    char header_b64[512], claims_b64[2048], sig_b64[1024];
    json_t *header, *claims;
    unsigned char sig[512];
    size_t siglen;
};

/* split - header.claims.signature, decoded */
static int split(const char *text, struct jws *j)
{
    unsigned char buf[4096];
    size_t n;

    memset(j, 0, sizeof(*j));
    if (sscanf(text, "%511[^.].%2047[^.].%1023s", j->header_b64, j->claims_b64,
               j->sig_b64) != 3)
        return -1;
    n = tc_b64url_decode(j->header_b64, buf, sizeof(buf));
    j->header = json_loadb((char *) buf, n, 0, NULL);
    n = tc_b64url_decode(j->claims_b64, buf, sizeof(buf));
    j->claims = json_loadb((char *) buf, n, 0, NULL);
    j->siglen = tc_b64url_decode(j->sig_b64, j->sig, sizeof(j->sig));
    return j->header && j->claims && j->siglen ? 0 : -1;
}

/* verify - the signature over "header.claims" with the public key */
static int verify(struct jws *j, EVP_PKEY *key, const char *alg)
{
    char input[4096];
    unsigned char der[128];
    unsigned char *sig = j->sig;
    size_t siglen = j->siglen;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok;

    snprintf(input, sizeof(input), "%s.%s", j->header_b64, j->claims_b64);
    if (strcmp(alg, "ES256") == 0) {
        /* JWS r||s -> DER for OpenSSL */
        ECDSA_SIG *es = ECDSA_SIG_new();
        unsigned char *p = der;
        if (siglen != 64)
            return 0;
        ECDSA_SIG_set0(es, BN_bin2bn(j->sig, 32, NULL), BN_bin2bn(j->sig + 32, 32, NULL));
        siglen = (size_t) i2d_ECDSA_SIG(es, &p);
        ECDSA_SIG_free(es);
        sig = der;
    }
    ok = EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key) == 1;
    if (ok && strcmp(alg, "PS256") == 0)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) > 0;
    ok = ok && EVP_DigestVerify(md, sig, siglen, (unsigned char *) input,
                                strlen(input)) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "(missing)";
}

/* check_one - sign with key/alg, then check everything about the result */
static void check_one(const char *keytype, enum jwt_alg alg, const char *want_alg,
                      const char *thumb_key, const EVP_MD *thumb_md)
{
    EVP_PKEY *key = tc_key(keytype), *other = tc_key(keytype);
    X509 *cert = tc_cert(key, "exorelay test");
    char err[256] = "", thumb[64];
    time_t now = 1700000000;
    secret_t *s = jwt_client_assertion(key, cert, alg, AUD, CLIENT, now, err, sizeof(err));
    struct jws j;

    ok(s != NULL, "%s %s: assertion made (%s)", keytype, want_alg, err);
    if (s == NULL)
        return;
    ok(split(secret_reveal(s, NULL), &j) == 0, "%s: three base64url JSON parts", want_alg);
    is_str(jstr(j.header, "alg"), want_alg, "header alg");
    is_str(jstr(j.header, "typ"), "JWT", "header typ");
    jwt_thumbprint(cert, thumb_md, thumb, sizeof(thumb));
    is_str(jstr(j.header, thumb_key), thumb, "header thumbprint of the certificate");
    ok(json_object_size(j.header) == 3, "header has alg, typ and one thumbprint");
    is_str(jstr(j.claims, "aud"), AUD, "aud is the token endpoint");
    is_str(jstr(j.claims, "iss"), CLIENT, "iss is the client id");
    is_str(jstr(j.claims, "sub"), CLIENT, "sub is the client id");
    ok(strlen(jstr(j.claims, "jti")) == 36, "jti is a UUID");
    is_int(json_integer_value(json_object_get(j.claims, "nbf")), now, "nbf = now");
    is_int(json_integer_value(json_object_get(j.claims, "iat")), now, "iat = now");
    long life = (long) (json_integer_value(json_object_get(j.claims, "exp")) - now);
    ok(life >= 300 && life <= 600, "exp is 5-10 minutes after nbf (%ld s)", life);
    ok(verify(&j, key, want_alg), "%s signature verifies with the certificate's key", want_alg);
    ok(!verify(&j, other, want_alg), "%s signature does not verify with another key", want_alg);
    j.claims_b64[3] ^= 1;
    ok(!verify(&j, key, want_alg), "%s signature fails on changed claims", want_alg);

    secret_t *s2 = jwt_client_assertion(key, cert, alg, AUD, CLIENT, now, err, sizeof(err));
    struct jws j2;
    split(secret_reveal(s2, NULL), &j2);
    ok(strcmp(jstr(j.claims, "jti"), jstr(j2.claims, "jti")) != 0, "each assertion has its own jti");
    json_decref(j.header); json_decref(j.claims);
    json_decref(j2.header); json_decref(j2.claims);
    secret_free(s);
    secret_free(s2);
    X509_free(cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

static void check_b64url(void)
{
    char out[16];
    const unsigned char in[] = {0xfb, 0xff, 0xbf};

    is_int(b64url_encode(in, 3, out, sizeof(out)), 4, "b64url length");
    is_str(out, "-_-_", "b64url uses - and _");
    is_int(b64url_encode((const unsigned char *) "a", 1, out, sizeof(out)), 2, "no padding");
    is_str(out, "YQ", "b64url of 'a'");
    ok(b64url_encode(in, 3, out, 4) < 0, "too small a buffer is refused");
}

static void check_bad_curve(void)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    X509 *cert = tc_cert(key, "p384");
    char err[256] = "";
    secret_t *s = jwt_client_assertion(key, cert, JWT_PS256, AUD, CLIENT, 0, err, sizeof(err));

    ok(s == NULL, "an EC P-384 key is refused");
    ok(strstr(err, "P-256") != NULL, "and the reason names P-256: %s", err);
    X509_free(cert);
    EVP_PKEY_free(key);
}

int main(void)
{
    check_b64url();
    check_one("RSA", JWT_PS256, "PS256", "x5t#S256", EVP_sha256());
    check_one("RSA", JWT_RS256, "RS256", "x5t", EVP_sha1());
    check_one("EC", JWT_PS256, "ES256", "x5t#S256", EVP_sha256());
    check_bad_curve();
    return done_testing();
}
