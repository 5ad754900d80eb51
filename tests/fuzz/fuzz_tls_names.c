/*
 * fuzz_tls_names.c - libFuzzer target: the certificate name check of the
 * upstream TLS connection (relay/upstream/upstream_tls.c: tls_expect_name,
 * the names of a failed certificate in tls_note_failure/tls_alt_names).
 * The certificate comes from whoever answers on the SMTP port, before
 * anything is verified.
 *
 * Input: byte 0 sizes the names buffer (1-256 bytes, allocated exactly,
 * so ASan sees any overrun); then the server name we expect, up to a NUL;
 * then subject CN and subjectAltName entries, each [type][length][bytes]:
 * type % 4 = 0 DNS name, 1 IP address (of any length), 2 e-mail, 3 the
 * subject CN. A self-signed certificate is made of them (Ed25519, signed
 * for each input), trusted, and verified with our name check as
 * tls_handshake() would.
 *
 * Invariants:
 *  - verified only when the server name is in the certificate: an IP
 *    literal only by an IP SAN of exactly its bytes; a host name only by
 *    a DNS SAN (or, when there is none, the CN) equal to it ignoring case
 *    and a final dot, or by "*." and the rest of it, the wildcard standing
 *    for exactly one whole left-most label (no "f*.example.com");
 *  - a DNS SAN equal to a plain host name (letters, digits, '-', '.')
 *    verifies it;
 *  - a failure is recorded with an error, and the names of the
 *    certificate are printable text inside their buffer, whatever the
 *    SAN bytes and lengths (an IP SAN of 1 byte is not read as 4).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "fuzz.h"
#include "upstream/upstream_tls.h"

struct names {
    const uint8_t *dns[16], *ip[16];
    size_t  dnslen[16], iplen[16], ndns, nip;
    char    cn[128];
};

static EVP_PKEY *key;

/* add_san - one GENERAL_NAME of type with the raw bytes */
static void add_san(GENERAL_NAMES *gens, int type, const uint8_t *p, size_t n)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_STRING *s = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();

    CHECK(gn && s && ASN1_STRING_set(s, p, (int) n));
    GENERAL_NAME_set0_value(gn, type, s);
    CHECK(sk_GENERAL_NAME_push(gens, gn) > 0);
}

/* make_cert - a self-signed certificate with the input's names */
static X509 *make_cert(const uint8_t *p, const uint8_t *end, struct names *nm)
{
    X509   *cert = X509_new();
    X509_NAME *subj = X509_NAME_new();
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();

    memset(nm, 0, sizeof(*nm));
    while (end - p >= 2) {
        int     type = p[0] % 4;
        size_t  n = p[1] < end - p - 2 ? p[1] : (size_t) (end - p - 2);
        const uint8_t *v = p + 2;

        p += 2 + n;
        if (type == 0 && nm->ndns < 16) {
            nm->dns[nm->ndns] = v;
            nm->dnslen[nm->ndns++] = n;
            add_san(gens, GEN_DNS, v, n);
        } else if (type == 1 && nm->nip < 16) {
            nm->ip[nm->nip] = v;
            nm->iplen[nm->nip++] = n;
            add_san(gens, GEN_IPADD, v, n);
        } else if (type == 2) {
            add_san(gens, GEN_EMAIL, v, n);
        } else if (type == 3 && nm->cn[0] == 0 && n > 0 && n < sizeof(nm->cn)
                   && memchr(v, 0, n) == NULL) {
            memcpy(nm->cn, v, n);
        }
    }
    CHECK(X509_set_version(cert, 2));
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    if (nm->cn[0])
        X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *) nm->cn,
                                   -1, -1, 0);
    X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_ASC, (const unsigned char *) "fuzz",
                               -1, -1, 0);
    CHECK(X509_set_subject_name(cert, subj) && X509_set_issuer_name(cert, subj));
    X509_gmtime_adj(X509_getm_notBefore(cert), -86400);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    CHECK(X509_set_pubkey(cert, key));
    if (sk_GENERAL_NAME_num(gens) > 0)
        CHECK(X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, 0, 0) == 1);
    CHECK(X509_sign(cert, key, NULL) > 0);
    GENERAL_NAMES_free(gens);
    X509_NAME_free(subj);
    return cert;
}

/* same_name - equal ignoring case and one final dot on either side */
static int same_name(const char *a, size_t na, const char *b, size_t nb)
{
    if (na > 1 && a[na - 1] == '.')
        na--;
    if (nb > 1 && b[nb - 1] == '.')
        nb--;
    return na == nb && strncasecmp(a, b, na) == 0 && memchr(a, 0, na) == NULL;
}

/* dns_may_match - could this DNS pattern stand for server? */
static int dns_may_match(const char *pat, size_t n, const char *server)
{
    const char *dot = strchr(server, '.');

    if (same_name(pat, n, server, strlen(server)))
        return 1;
    return n > 2 && pat[0] == '*' && pat[1] == '.' && dot && dot > server
        && same_name(pat + 1, n - 1, dot, strlen(dot));
}

/* may_verify - is server in the certificate at all (the model above)? */
static int may_verify(const struct names *nm, const char *server)
{
    unsigned char addr[16];
    size_t  alen = inet_pton(AF_INET, server, addr) == 1 ? 4
        : inet_pton(AF_INET6, server, addr) == 1 ? 16 : 0;

    if (alen) {
        for (size_t i = 0; i < nm->nip; i++)
            if (nm->iplen[i] == alen && memcmp(nm->ip[i], addr, alen) == 0)
                return 1;
        return 0;
    }
    for (size_t i = 0; i < nm->ndns; i++)
        if (dns_may_match((const char *) nm->dns[i], nm->dnslen[i], server))
            return 1;
    return nm->ndns == 0 && nm->cn[0] && dns_may_match(nm->cn, strlen(nm->cn), server);
}

/* must_verify - a DNS SAN exactly equal to a plain host name */
static int must_verify(const struct names *nm, const char *server)
{
    size_t  n = strlen(server);
    unsigned char addr[16];

    if (n == 0 || n > 253 || server[0] == '.' || server[0] == '-' || strstr(server, "..")
        || server[n - 1] == '.' || inet_pton(AF_INET, server, addr) == 1)
        return 0;
    for (const char *p = server; *p; p++)
        if (!isalnum((unsigned char) *p) && *p != '-' && *p != '.')
            return 0;
    for (size_t i = 0; i < nm->ndns; i++)
        if (nm->dnslen[i] == n && memcmp(nm->dns[i], server, n) == 0)
            return 1;
    return 0;
}

static struct tls_failure failure;

/* note_cb - the verify callback of tls_handshake(), without an SSL */
static int note_cb(int ok, X509_STORE_CTX *store)
{
    if (!ok)
        tls_note_failure(&failure, store);
    return ok;
}

/* printable - a NUL-terminated, printable text inside size bytes */
static void printable(const char *s, size_t size)
{
    CHECK(memchr(s, 0, size) != NULL);
    for (; *s; s++)
        CHECK((unsigned char) *s >= ' ' && (unsigned char) *s < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul, *end = data + size;
    struct names nm;
    X509   *cert;
    X509_STORE *store;
    X509_STORE_CTX *ctx;
    char   *server, *buf;
    size_t  bufsize;
    int     verified;

    if (key == NULL)
        CHECK((key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) != NULL);
    if (size < 2 || (nul = memchr(data + 1, 0, size - 1)) == NULL)
        return 0;
    bufsize = (size_t) data[0] + 1;
    server = fuzz_strndup(data + 1, (size_t) (nul - data - 1));
    cert = make_cert(nul + 1, end, &nm);

    buf = malloc(bufsize);
    tls_alt_names(cert, buf, bufsize);
    printable(buf, bufsize);
    free(buf);

    store = X509_STORE_new();
    ctx = X509_STORE_CTX_new();
    CHECK(store && ctx && X509_STORE_add_cert(store, cert));
    CHECK(X509_STORE_CTX_init(ctx, store, cert, NULL));
    X509_STORE_CTX_set_verify_cb(ctx, note_cb);
    memset(&failure, 0, sizeof(failure));
    failure.verify_error = X509_V_OK;
    if (tls_expect_name(X509_STORE_CTX_get0_param(ctx), server)) {
        verified = X509_verify_cert(ctx) == 1;
        if (verified)
            CHECK(may_verify(&nm, server));
        else
            CHECK(failure.verify_error != X509_V_OK && failure.reason[0]);
        if (must_verify(&nm, server))
            CHECK(verified);
        printable(failure.names, sizeof(failure.names));
        printable(failure.subject, sizeof(failure.subject));
    }
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(cert);
    free(server);
    return 0;
}
