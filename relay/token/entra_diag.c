/*
 * entra_diag.c - what went wrong with a token request, in the admin's
 * words: a short cause, the fix, and for the log the details support
 * needs (Entra's trace and correlation IDs, libcurl's error).
 *
 * SYNOPSIS
 *	void entra_diag_error(diag, http_status, error, aadsts, description,
 *			      trace_id, correlation_id)
 *		Entra answered with an OAuth error (or a 429 / 5xx without
 *		one): look the AADSTS code up in the table of known causes.
 *	void entra_diag_transport(diag, reply, url, ca_file)
 *		No usable HTTP answer: DNS, connect, timeout, TLS
 *		verification (naming the issuer nobody vouched for), proxy.
 *	void entra_diag_set(diag, temporary, cause, fix, detail)
 *	void entra_diag_causef(diag, temporary, fix, fmt, ...)
 *		Any other diagnosis (credential files, state, policy).
 *	void entra_diag_line(diag, authority, buf, len)
 *		token_diag_line (token.h) for an authority URL
 *	void entra_diag_redact(diag, secret)
 *		Belt and braces: replace a secret's text, should a peer have
 *		echoed it, in cause, fix and detail.
 *
 * temporary = 1 means "retry later" (exorelay token exits 75, the relay
 * answers 4xx); 0 means the credentials or the app registration need the
 * admin (exit 77). Nothing here ever sees a token; the request's secret is
 * only passed to entra_diag_redact().
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/appendf.h"
#include "token_int.h"

/* What each AADSTS code of a client-credentials request means. */
static const struct aadsts_row {
    long    code;
    const char *cause;
    const char *fix;
} aadsts_table[] = {
    {90002, "the Directory (tenant) ID was not found",
     "set tenant = to the Directory (tenant) ID shown on the app "
     "registration's Overview page (a GUID), or a verified domain of that "
     "tenant"},
    {900023, "the Directory (tenant) ID is malformed",
     "set tenant = to the Directory (tenant) ID GUID from the app "
     "registration's Overview page, or a verified domain name"},
    {700016, "the Application (client) ID is not known in this tenant",
     "check client_id = (the Application (client) ID on the app "
     "registration's Overview page) and that tenant = is the tenant the app "
     "is registered in"},
    {7000215, "the client secret is wrong",
     "put the secret's Value (shown once when it was created) into the "
     "client_secret_file, not its Secret ID; if the value is lost, create a "
     "new secret under Certificates & secrets"},
    {7000222, "the client secret has expired",
     "create a new client secret under Certificates & secrets, write its "
     "Value to the client_secret_file and update credential_expiry ="},
    {700027, "Entra ID did not accept the certificate assertion",
     "upload the certificate (certificate_file, public part only) under "
     "Certificates & secrets of the app registration, and check that "
     "private_key_file is the key of that certificate"},
    {700024, "the certificate assertion is outside its valid time range",
     "this host's clock is wrong: synchronise it (NTP/chrony)"},
    {7000112, "the application is disabled in this tenant",
     "enable the enterprise application (Properties: Enabled for users to "
     "sign in = Yes)"},
    {1002012, "the requested scope lacks /.default",
     "set scope = https://outlook.office365.com/.default (or remove the "
     "scope = line: that is the default)"},
    {70011, "the requested scope is invalid",
     "set scope = https://outlook.office365.com/.default (or remove the "
     "scope = line: that is the default)"},
};

/* setf - printf into buf, truncating: diagnoses are short on purpose */
static void __attribute__((format(printf, 3, 4)))
setf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

/* entra_diag_set - fill diag with a diagnosis made here */
void entra_diag_set(struct token_diag *diag, int temporary, const char *cause,
                    const char *fix, const char *detail)
{
    diag->temporary = temporary;
    setf(diag->cause, sizeof(diag->cause), "%s", cause ? cause : "");
    setf(diag->fix, sizeof(diag->fix), "%s", fix ? fix : "");
    setf(diag->detail, sizeof(diag->detail), "%s", detail ? detail : "");
}

/* entra_diag_causef - a diagnosis whose cause is formatted */
void entra_diag_causef(struct token_diag *diag, int temporary, const char *fix,
                       const char *fmt, ...)
{
    va_list ap;

    entra_diag_set(diag, temporary, "", fix, "");
    va_start(ap, fmt);
    vsnprintf(diag->cause, sizeof(diag->cause), fmt, ap);
    va_end(ap);
}

/* first_line - the description up to its first CR/LF (the rest is IDs) */
static void first_line(const char *text, char *buf, size_t len)
{
    size_t n = text ? strcspn(text, "\r\n") : 0;

    if (n >= len)
        n = len - 1;
    memcpy(buf, text ? text : "", n);
    buf[n] = 0;
}

/* diag_unknown_error - an OAuth error the table does not know */
static void diag_unknown_error(struct token_diag *diag, const char *error,
                               long aadsts, const char *description)
{
    char line[160];

    first_line(description, line, sizeof(line));
    setf(diag->cause, sizeof(diag->cause), "Entra ID refused the token "
             "request: %s", *line ? line : error);
    if (aadsts && !*line)
        appendf(diag->cause, sizeof(diag->cause), " (AADSTS%ld)", aadsts);
    if (aadsts)
        setf(diag->fix, sizeof(diag->fix), "look up AADSTS%ld on "
                 "https://login.microsoftonline.com/error?code=%ld and check "
                 "the app registration", aadsts, aadsts);
    else
        setf(diag->fix, sizeof(diag->fix), "check tenant =, client_id = "
                 "and the credential of this account");
}

/* diag_http_without_error - 429, 5xx and others without an OAuth error */
static void diag_http_without_error(struct token_diag *diag, long status)
{
    diag->temporary = 1;
    if (status == 429) {
        setf(diag->cause, sizeof(diag->cause), "Entra ID is throttling "
                 "token requests (HTTP 429)");
        if (diag->retry_after > 0)
            setf(diag->fix, sizeof(diag->fix), "nothing to do: exorelay "
                     "waits %d seconds as Entra asked, then retries; if it "
                     "persists, look for another program requesting tokens "
                     "for this app", diag->retry_after);
        else
            setf(diag->fix, sizeof(diag->fix), "nothing to do: exorelay "
                     "backs off and retries; if it persists, look for another "
                     "program requesting tokens for this app");
    } else if (status >= 500) {
        setf(diag->cause, sizeof(diag->cause), "the Entra ID token "
                 "endpoint has a server error (HTTP %ld)", status);
        setf(diag->fix, sizeof(diag->fix), "nothing to fix here: exorelay "
                 "retries; check https://status.cloud.microsoft if it "
                 "persists");
    } else {
        setf(diag->cause, sizeof(diag->cause), "the token endpoint "
                 "answered HTTP %ld without an OAuth error", status);
        setf(diag->fix, sizeof(diag->fix), "check authority = and, if a "
                 "proxy is in the way, that it passes the request through");
    }
}

/* entra_diag_error - Entra answered, with an error */
void entra_diag_error(struct token_diag *diag, long http_status,
                      const char *error, long aadsts, const char *description,
                      const char *trace_id, const char *correlation_id)
{
    diag->http_status = (int) http_status;
    diag->aadsts = aadsts;
    diag->temporary = 0;
    setf(diag->detail, sizeof(diag->detail), "HTTP %ld", http_status);
    if (error)
        appendf(diag->detail, sizeof(diag->detail), " error=%s", error);
    if (aadsts)
        appendf(diag->detail, sizeof(diag->detail), " AADSTS%ld", aadsts);
    if (trace_id)
        appendf(diag->detail, sizeof(diag->detail), " trace_id=%s", trace_id);
    if (correlation_id)
        appendf(diag->detail, sizeof(diag->detail), " correlation_id=%s",
                correlation_id);
    for (size_t i = 0; i < sizeof(aadsts_table) / sizeof(aadsts_table[0]); i++) {
        if (aadsts_table[i].code == aadsts) {
            setf(diag->cause, sizeof(diag->cause), "%s (AADSTS%ld)",
                     aadsts_table[i].cause, aadsts);
            setf(diag->fix, sizeof(diag->fix), "%s", aadsts_table[i].fix);
            return;
        }
    }
    if (error == NULL || http_status == 429 || http_status >= 500)
        diag_http_without_error(diag, http_status);
    else
        diag_unknown_error(diag, error, aadsts, description);
}

/* diag_tls - the endpoint's certificate could not be verified */
static void diag_tls(struct token_diag *diag, const struct http_reply *r,
                     const char *ca_file)
{
    if (r->tls_issuer[0] == 0) {
        /* the chain was fine: the name, or a ca_file that would not load */
        setf(diag->cause, sizeof(diag->cause), "the token endpoint's TLS "
             "certificate could not be verified: %s", r->curl_error);
        setf(diag->fix, sizeof(diag->fix), "check that authority = names the "
             "real Entra endpoint, and that ca_file = (if set) is a readable "
             "PEM file");
        return;
    }
    setf(diag->cause, sizeof(diag->cause), "the token endpoint's TLS "
         "certificate could not be verified: %s (issuer: %s)",
         *r->tls_reason ? r->tls_reason : "verification failed", r->tls_issuer);
    setf(diag->fix, sizeof(diag->fix), "if a TLS-inspecting proxy or a private "
         "CA issued it, add that CA certificate (PEM) to ca_file = in "
         "[upstream]%s%s%s; otherwise check that authority = names the real "
         "Entra endpoint", ca_file ? " (now " : "", ca_file ? ca_file : "",
         ca_file ? ")" : "");
}

/* proxy_key - where the proxy was set, for the fix */
static const char *proxy_key(const struct http_reply *r)
{
    return r->proxy_from_env ? "the https_proxy environment variable"
        : "proxy = in the account";
}

/* diag_proxy - the proxy itself failed: name it, not Entra ID; 0 when the
 * failure lies beyond the proxy (diag_connect words it) */
static int diag_proxy(struct token_diag *diag, const struct http_reply *r,
                      const char *host, int port)
{
    if (r->curl_code == CURLE_COULDNT_RESOLVE_PROXY) {
        setf(diag->cause, sizeof(diag->cause), "cannot resolve the proxy %s "
             "(DNS); Entra ID was not reached", r->proxy);
        setf(diag->fix, sizeof(diag->fix), "check %s and this host's DNS "
             "(/etc/resolv.conf)", proxy_key(r));
    } else if (r->proxy_status >= 300) {
        setf(diag->cause, sizeof(diag->cause), "the proxy %s refused to "
             "connect to Entra ID (%s port %d): HTTP %ld", r->proxy, host, port,
             r->proxy_status);
        setf(diag->fix, sizeof(diag->fix), "allow %s port %d on the proxy "
             "(CONNECT), or check %s", host, port, proxy_key(r));
    } else if (!r->proxy_reached && r->curl_code == CURLE_OPERATION_TIMEDOUT) {
        setf(diag->cause, sizeof(diag->cause), "no answer from the proxy %s "
             "in time; Entra ID was not reached", r->proxy);
        setf(diag->fix, sizeof(diag->fix), "check that the proxy runs and that "
             "the firewall lets this host reach it, or correct %s", proxy_key(r));
    } else if (!r->proxy_reached) {
        setf(diag->cause, sizeof(diag->cause), "cannot connect to the proxy "
             "%s: %s; Entra ID was not reached", r->proxy, r->curl_error);
        setf(diag->fix, sizeof(diag->fix), "start the proxy, or correct %s",
             proxy_key(r));
    } else {
        return 0;
    }
    return 1;
}

/* diag_connect - DNS, refused, timed out */
static void diag_connect(struct token_diag *diag, const struct http_reply *r,
                         const char *host, int port)
{
    if (r->via_proxy && diag_proxy(diag, r, host, port))
        return;
    switch (r->curl_code) {
    case CURLE_COULDNT_RESOLVE_HOST:
        setf(diag->cause, sizeof(diag->cause), "cannot resolve Entra ID's "
                 "host %s (DNS)", host);
        setf(diag->fix, sizeof(diag->fix), "check this host's DNS "
                 "(/etc/resolv.conf) and authority =");
        break;
    case CURLE_OPERATION_TIMEDOUT:
        setf(diag->cause, sizeof(diag->cause), "no answer from Entra ID "
                 "(%s port %d) in time%s", host, port,
                 r->via_proxy ? " through the proxy" : "");
        setf(diag->fix, sizeof(diag->fix), r->via_proxy
                 ? "check that the proxy reaches %s port %d"
                 : "if this host reaches the Internet only through a proxy, "
                 "set proxy = in the account (or https_proxy); else check the "
                 "firewall for %s port %d", host, port);
        break;
    default:
        setf(diag->cause, sizeof(diag->cause), "cannot connect to Entra ID "
                 "(%s port %d)%s%s: %s", host, port,
                 r->via_proxy ? " through the proxy " : "", r->proxy, r->curl_error);
        setf(diag->fix, sizeof(diag->fix), r->via_proxy
                 ? "check that the proxy allows %s port %d" : "check the firewall "
                 "for %s port %d, or set proxy = if outbound traffic must use a "
                 "proxy", host, port);
    }
}

/* url_host - "host" or "host port N" of an https URL, for messages */
static void url_host(const char *url, char *host, size_t hlen, int *port)
{
    const char *p = strstr(url, "://");
    size_t n;

    p = p ? p + 3 : url;
    n = strcspn(p, "/:?");
    if (n >= hlen)
        n = hlen - 1;
    memcpy(host, p, n);
    host[n] = 0;
    *port = p[n] == ':' ? atoi(p + n + 1) : 443;
}

/* token_diag_line - see token.h */
void token_diag_line(const struct token_diag *diag, const struct conf_account *acct,
                     char *buf, size_t len)
{
    entra_diag_line(diag, acct->authority, buf, len);
}

/* entra_diag_line - token_diag_line for an authority URL */
void entra_diag_line(const struct token_diag *diag, const char *authority,
                     char *buf, size_t len)
{
    char    host[256], where[300];
    int     port;
    const char *cause = diag->cause[0] ? diag->cause : "the token request failed";

    if (diag->http_status == 0) {       /* not reached: the cause says who */
        snprintf(buf, len, "%s", cause);
        return;
    }
    url_host(authority ? authority : "https://login.microsoftonline.com",
             host, sizeof(host), &port);
    if (port == 443)
        snprintf(where, sizeof(where), "%s", host);
    else
        snprintf(where, sizeof(where), "%s:%d", host, port);
    if (diag->aadsts != 0 && strstr(cause, "Entra ID") == NULL)
        snprintf(buf, len, "Entra ID (%s): %s", where, cause);
    else                                /* it names Entra ID, or an answer not its own */
        snprintf(buf, len, "%s (token endpoint %s)", cause, where);
}

/* entra_diag_transport - no usable HTTP answer */
void entra_diag_transport(struct token_diag *diag, const struct http_reply *r,
                          const char *url, const char *ca_file)
{
    char host[256];
    int port;

    url_host(url, host, sizeof(host), &port);
    diag->temporary = 1;
    diag->http_status = 0;
    diag->aadsts = 0;
    setf(diag->detail, sizeof(diag->detail), "curl error %d: %s",
             r->curl_code, r->curl_error);
    if (r->curl_code == CURLE_PEER_FAILED_VERIFICATION
        || r->curl_code == CURLE_SSL_CACERT_BADFILE || *r->tls_issuer)
        diag_tls(diag, r, ca_file);
    else
        diag_connect(diag, r, host, port);
}

/* withhold - a text that contains the secret is replaced as a whole */
static void withhold(char *buf, size_t size, const char *secret, size_t len)
{
    if (memmem(buf, strlen(buf), secret, len) != NULL)
        snprintf(buf, size, "(text withheld: it contained a credential)");
}

/* entra_diag_redact - no secret text in a diagnosis, even if echoed */
void entra_diag_redact(struct token_diag *diag, const secret_t *secret)
{
    size_t len;
    const char *text = secret_reveal(secret, &len);

    if (text == NULL || len == 0)
        return;
    withhold(diag->cause, sizeof(diag->cause), text, len);
    withhold(diag->fix, sizeof(diag->fix), text, len);
    withhold(diag->detail, sizeof(diag->detail), text, len);
}
