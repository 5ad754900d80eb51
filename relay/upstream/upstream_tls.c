/*
 * upstream_tls.c - OpenSSL client context and a verified handshake on a
 * non-blocking socket (upstream_tls.h).
 *
 * Verification is OpenSSL's own (SSL_VERIFY_PEER plus the host name or IP
 * address in the X509_VERIFY_PARAM), so a bad chain or a wrong name aborts
 * the handshake itself: nothing of ours is ever sent over such a channel. A
 * verify callback only records the first failure for the diagnosis.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "support/iowait.h"
#include "upstream_tls.h"

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *ctx_cached;
static char ctx_ca_file[4096];
static int failure_index = -1;          /* SSL ex_data slot of tls_failure */

static const char *ssl_reason(int ssl_error);

/* tls_client_ctx - the shared client context for this ca_file */
SSL_CTX *tls_client_ctx(const char *ca_file, char *err, size_t errlen)
{
    SSL_CTX *ctx;
    const char *want = ca_file ? ca_file : "";

    pthread_mutex_lock(&ctx_lock);
    if (ctx_cached == NULL || strcmp(ctx_ca_file, want) != 0) {
        if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL
            || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)
            || !SSL_CTX_set_default_verify_paths(ctx)
            || (*want && !SSL_CTX_load_verify_locations(ctx, want, NULL))) {
            snprintf(err, errlen, "cannot load the trusted CA certificates%s%s: %s",
                     *want ? " of ca_file " : "", want,
                     ssl_reason(SSL_ERROR_SSL));
            ERR_clear_error();
            SSL_CTX_free(ctx);
            pthread_mutex_unlock(&ctx_lock);
            return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        /* SMTP replies delimit themselves: a close without close_notify is
         * an ordinary lost connection, not an attack worth a special case. */
        SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
        SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                         | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        if (failure_index < 0)
            failure_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        SSL_CTX_free(ctx_cached);       /* live connections hold their own ref */
        ctx_cached = ctx;
        snprintf(ctx_ca_file, sizeof(ctx_ca_file), "%s", want);
    }
    SSL_CTX_up_ref(ctx_cached);
    ctx = ctx_cached;
    pthread_mutex_unlock(&ctx_lock);
    return ctx;
}

/* name_text - an X509 name in RFC 2253 form */
static void name_text(const X509_NAME *name, char *buf, size_t size)
{
    BIO    *bio = BIO_new(BIO_s_mem());
    int     n = 0;

    buf[0] = 0;
    if (bio == NULL)
        return;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0)
        n = BIO_read(bio, buf, (int) size - 1);
    buf[n > 0 ? n : 0] = 0;
    BIO_free(bio);
}

/* ip_text - an IP SAN as text: only 4 (IPv4) and 16 (IPv6) bytes are an
 * address; any other length (a broken or hostile certificate, seen before
 * verification rejects it) is named by its length, never read as one */
static void ip_text(const ASN1_OCTET_STRING *ip, char *buf, size_t size)
{
    int     len = ASN1_STRING_length(ip);
    const unsigned char *bytes = ASN1_STRING_get0_data(ip);

    if ((len != 4 && len != 16)
        || inet_ntop(len == 16 ? AF_INET6 : AF_INET, bytes, buf, (socklen_t) size) == NULL)
        snprintf(buf, size, "(invalid, %d bytes)", len);
}

/* dns_text - a DNS SAN as printable text: control bytes and NUL become
 * "?", so a certificate cannot write raw bytes into the log or a reply */
static void dns_text(const ASN1_IA5STRING *dns, char *buf, size_t size)
{
    int     len = ASN1_STRING_length(dns);
    const unsigned char *bytes = ASN1_STRING_get0_data(dns);
    size_t  n = 0;

    for (int i = 0; i < len && n + 1 < size; i++)
        buf[n++] = bytes[i] < 0x20 || bytes[i] >= 0x7f ? '?' : (char) bytes[i];
    buf[n] = 0;
}

/* tls_alt_names - see upstream_tls.h */
void tls_alt_names(X509 *cert, char *buf, size_t size)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    size_t  n = 0;

    buf[0] = 0;
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && n + 1 < size; i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        char    text[256];
        int     w;

        if (gn->type == GEN_DNS)
            dns_text(gn->d.dNSName, text, sizeof(text));
        else if (gn->type == GEN_IPADD)
            ip_text(gn->d.iPAddress, text, sizeof(text));
        else
            continue;
        w = snprintf(buf + n, size - n, "%s%s:%s", n ? ", " : "",
                     gn->type == GEN_DNS ? "DNS" : "IP", text);
        n = w < 0 ? n : n + (size_t) w < size ? n + (size_t) w : size - 1;
    }
    GENERAL_NAMES_free(names);
}

/* tls_note_failure - see upstream_tls.h */
void tls_note_failure(struct tls_failure *f, X509_STORE_CTX *store)
{
    X509   *cert = X509_STORE_CTX_get_current_cert(store);

    if (f->verify_error != X509_V_OK)
        return;
    f->verify_error = X509_STORE_CTX_get_error(store);
    f->depth = X509_STORE_CTX_get_error_depth(store);
    snprintf(f->reason, sizeof(f->reason), "%s",
             X509_verify_cert_error_string(f->verify_error));
    if (cert != NULL) {
        name_text(X509_get_subject_name(cert), f->subject, sizeof(f->subject));
        name_text(X509_get_issuer_name(cert), f->issuer, sizeof(f->issuer));
        tls_alt_names(cert, f->names, sizeof(f->names));
    }
}

/* verify_cb - remember the first certificate that failed, and why */
static int verify_cb(int ok, X509_STORE_CTX *store)
{
    SSL    *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct tls_failure *f = ssl ? SSL_get_ex_data(ssl, failure_index) : NULL;

    if (!ok && f != NULL)
        tls_note_failure(f, store);
    return ok;
}

/* tls_expect_name - see upstream_tls.h */
int tls_expect_name(X509_VERIFY_PARAM *vp, const char *server)
{
    /* OpenSSL takes "" as "check no name", and ".example.com" as "any
     * name under example.com": neither is a host name */
    if (server == NULL || *server == 0 || *server == '.')
        return 0;
    if (tls_server_is_ip(server))
        return X509_VERIFY_PARAM_set1_ip_asc(vp, server);
    X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return X509_VERIFY_PARAM_set1_host(vp, server, 0);
}

/* tls_server_is_ip - an IPv4 or IPv6 literal (no SNI, an IP SAN check) */
int tls_server_is_ip(const char *server)
{
    unsigned char addr[16];

    return inet_pton(AF_INET, server, addr) == 1 || inet_pton(AF_INET6, server, addr) == 1;
}

/* expect_name - the certificate must be for server: host name or IP literal */
static int expect_name(SSL *ssl, const char *server)
{
    if (!tls_expect_name(SSL_get0_param(ssl), server))
        return 0;
    return tls_server_is_ip(server) || SSL_set_tlsext_host_name(ssl, server);
}

/* ssl_reason - OpenSSL's reason for a failed handshake */
static const char *ssl_reason(int ssl_error)
{
    const char *why = ERR_reason_error_string(ERR_peek_last_error());

    if (why != NULL)
        return why;
    return ssl_error == SSL_ERROR_SYSCALL ? "connection closed by the server"
        : "protocol error";
}

/* tls_handshake - verified client handshake; NULL + failure on any problem */
SSL *tls_handshake(SSL_CTX *ctx, int fd, const char *server, long long deadline_ms,
                   struct tls_failure *failure)
{
    SSL    *ssl = SSL_new(ctx);
    int     rc, e;

    memset(failure, 0, sizeof(*failure));
    failure->verify_error = X509_V_OK;
    if (ssl == NULL || !SSL_set_fd(ssl, fd) || !expect_name(ssl, server)
        || !SSL_set_ex_data(ssl, failure_index, failure)) {
        snprintf(failure->reason, sizeof(failure->reason), "cannot set up TLS");
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_verify(ssl, SSL_VERIFY_PEER, verify_cb);
    while ((rc = SSL_connect(ssl)) != 1) {
        e = SSL_get_error(ssl, rc);
        if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            && fd_wait(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_ms) == 0)
            continue;
        failure->timed_out = (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE);
        if (failure->verify_error == X509_V_OK && !failure->timed_out)
            snprintf(failure->reason, sizeof(failure->reason), "%s",
                     ssl_reason(e));
        ERR_clear_error();
        SSL_set_ex_data(ssl, failure_index, NULL);
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_ex_data(ssl, failure_index, NULL);
    return ssl;
}

/* tls_describe - protocol, cipher and the server's certificate, one line */
void tls_describe(SSL *ssl, char *buf, size_t size)
{
    X509   *cert = SSL_get1_peer_certificate(ssl);
    char    subject[256], issuer[256], until[32] = "?";
    struct tm tm;

    if (cert == NULL) {
        snprintf(buf, size, "%s %s, no server certificate", SSL_get_version(ssl),
                 SSL_get_cipher_name(ssl));
        return;
    }
    name_text(X509_get_subject_name(cert), subject, sizeof(subject));
    name_text(X509_get_issuer_name(cert), issuer, sizeof(issuer));
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1)
        strftime(until, sizeof(until), "%Y-%m-%d", &tm);
    snprintf(buf, size, "%s %s; certificate %s, issued by %s, valid until %s; "
             "chain and name verified", SSL_get_version(ssl), SSL_get_cipher_name(ssl),
             subject, issuer, until);
    X509_free(cert);
}
