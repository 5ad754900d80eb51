/*
 * test_entra_diag.c - every error of the facts table and every transport
 * failure becomes its own cause and fix, with the right exit class, and
 * Entra's trace and correlation IDs kept in the detail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <curl/curl.h>

#include "tap.h"
#include "token/token_int.h"

#define TRACE "0e4a9b3c-1111-4d2e-9f00-7a6b5c4d3e2f"
#define CORR "5c3b2a19-2222-4e3f-8a11-6b5c4d3e2f1a"

/* entra_body - an error body shaped like Entra's */
static void entra_body(char *buf, size_t len, const char *error, long code,
                       const char *text)
{
    snprintf(buf, len, "{\"error\":\"%s\",\"error_description\":\"AADSTS%ld: %s"
             "\\r\\nTrace ID: " TRACE "\\r\\nCorrelation ID: " CORR
             "\\r\\nTimestamp: 2026-01-12 10:11:12Z\",\"error_codes\":[%ld],"
             "\"timestamp\":\"2026-01-12 10:11:12Z\",\"trace_id\":\"" TRACE
             "\",\"correlation_id\":\"" CORR "\",\"error_uri\":"
             "\"https://login.microsoftonline.com/error?code=%ld\"}",
             error, code, text, code, code);
}

/* diag_of - parse a reply, return its diagnosis */
static struct token_diag diag_of(long status, const char *body, int retry_after)
{
    struct http_reply r = {0};
    struct token_diag d = {0};
    secret_t *tok = NULL;
    long exp = 0;

    r.status = status;
    r.body = (char *) body;
    r.len = body ? strlen(body) : 0;
    r.retry_after = retry_after;
    ok(token_reply_parse(&r, &tok, &exp, &d) == -1 && tok == NULL,
       "HTTP %ld is a failure", status);
    return d;
}

static const struct row {
    long status;
    const char *error;
    long code;
    const char *want_cause;     /* words the cause must contain */
    const char *want_fix;       /* words the fix must contain */
} table[] = {
    {400, "invalid_request", 90002, "Directory (tenant) ID was not found", "tenant ="},
    {400, "invalid_request", 900023, "Directory (tenant) ID is malformed", "tenant ="},
    {400, "unauthorized_client", 700016, "Application (client) ID", "client_id ="},
    {401, "invalid_client", 7000215, "client secret is wrong", "Value"},
    {401, "invalid_client", 7000222, "client secret has expired", "credential_expiry"},
    {401, "invalid_client", 700027, "certificate assertion", "upload the certificate"},
    {400, "invalid_scope", 1002012, "lacks /.default", "https://outlook.office365.com/.default"},
    {400, "invalid_scope", 70011, "scope is invalid", "https://outlook.office365.com/.default"},
};

static void check_table(void)
{
    char body[2048], seen[sizeof(table) / sizeof(table[0])][256];

    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct row *t = &table[i];
        entra_body(body, sizeof(body), t->error, t->code, "Some text from Entra.");
        struct token_diag d = diag_of(t->status, body, 0);
        ok(strstr(d.cause, t->want_cause) != NULL, "AADSTS%ld cause: %s", t->code, d.cause);
        ok(strstr(d.fix, t->want_fix) != NULL, "AADSTS%ld fix: %s", t->code, d.fix);
        is_int(d.aadsts, t->code, "aadsts recorded");
        is_int(d.http_status, t->status, "http status recorded");
        is_int(token_diag_exit(&d), EX_NOPERM, "credentials: exit 77");
        ok(strstr(d.detail, "trace_id=" TRACE) && strstr(d.detail, "correlation_id=" CORR),
           "trace and correlation IDs kept: %s", d.detail);
        snprintf(seen[i], sizeof(seen[i]), "%s", d.cause);
        int distinct = 1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(seen[k], seen[i]) == 0)
                distinct = 0;
        ok(distinct, "AADSTS%ld has its own cause", t->code);
    }
}

static void check_unknown_and_http(void)
{
    char body[2048];
    struct token_diag d;

    entra_body(body, sizeof(body), "invalid_request", 50011, "The reply URL is odd.");
    d = diag_of(400, body, 0);
    ok(strstr(d.cause, "AADSTS50011: The reply URL is odd.") != NULL,
       "unknown code: Entra's first line, without the IDs: %s", d.cause);
    ok(strstr(d.cause, "Trace ID") == NULL, "no trace ID in the cause");
    ok(strstr(d.fix, "AADSTS50011") != NULL, "fix points to the code: %s", d.fix);

    d = diag_of(429, "Too Many Requests", 17);
    ok(strstr(d.cause, "throttling") != NULL, "429: %s", d.cause);
    ok(strstr(d.fix, "17 seconds") != NULL, "429 fix honours Retry-After: %s", d.fix);
    is_int(d.retry_after, 17, "retry_after kept");
    is_int(token_diag_exit(&d), EX_TEMPFAIL, "429: exit 75");

    d = diag_of(503, "<html>Service Unavailable</html>", 0);
    ok(strstr(d.cause, "server error (HTTP 503)") != NULL, "5xx: %s", d.cause);
    is_int(token_diag_exit(&d), EX_TEMPFAIL, "5xx: exit 75");

    entra_body(body, sizeof(body), "temporarily_unavailable", 90033, "Busy.");
    d = diag_of(503, body, 0);
    is_int(token_diag_exit(&d), EX_TEMPFAIL, "5xx with an OAuth error: still exit 75");

    d = diag_of(200, "<html>Please log in to the proxy</html>", 0);
    ok(strstr(d.cause, "not an Entra ID token reply") != NULL, "unparsable 200: %s", d.cause);
    is_int(token_diag_exit(&d), EX_TEMPFAIL, "unparsable: exit 75");
    d = diag_of(200, "{\"token_type\":\"Bearer\"}", 0);
    ok(strstr(d.cause, "not an Entra ID token reply") != NULL, "200 without a token: %s", d.cause);
    d = diag_of(404, "<html>not found</html>", 0);
    ok(strstr(d.cause, "not an Entra ID token reply") != NULL, "404 page: %s", d.cause);
    ok(strstr(d.fix, "authority =") != NULL, "points to authority =: %s", d.fix);
}

static struct token_diag transport(int code, const char *err, const char *issuer,
                                   int via_proxy, const char *ca_file)
{
    struct http_reply r = {0};
    struct token_diag d = {0};

    r.curl_code = code;
    snprintf(r.curl_error, sizeof(r.curl_error), "%s", err);
    if (issuer) {
        snprintf(r.tls_issuer, sizeof(r.tls_issuer), "%s", issuer);
        snprintf(r.tls_reason, sizeof(r.tls_reason), "unable to get local issuer certificate");
    }
    r.via_proxy = via_proxy;
    entra_diag_transport(&d, &r, "https://login.example.net/t/oauth2/v2.0/token", ca_file);
    is_int(token_diag_exit(&d), EX_TEMPFAIL, "transport failures: exit 75");
    ok(strstr(d.detail, err) != NULL, "curl's error in the detail: %s", d.detail);
    return d;
}

static void check_transport(void)
{
    struct token_diag d;

    d = transport(CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host", NULL, 0, NULL);
    ok(strstr(d.cause, "cannot resolve Entra ID's host login.example.net (DNS)") != NULL,
       "DNS: %s", d.cause);
    d = transport(CURLE_OPERATION_TIMEDOUT, "Connection timed out after 20001 ms", NULL, 0, NULL);
    ok(strstr(d.cause, "no answer from Entra ID (login.example.net port 443)") != NULL,
       "timeout: %s", d.cause);
    ok(strstr(d.fix, "proxy =") != NULL, "timeout without proxy suggests one: %s", d.fix);
    d = transport(CURLE_OPERATION_TIMEDOUT, "Connection timed out", NULL, 1, NULL);
    ok(strstr(d.fix, "check that the proxy runs") != NULL,
       "timeout through a proxy never reached: the proxy's fault: %s", d.fix);
    d = transport(CURLE_COULDNT_CONNECT, "Failed to connect", NULL, 0, NULL);
    ok(strstr(d.cause, "cannot connect to Entra ID (login.example.net port 443)") != NULL,
       "refused: %s", d.cause);
    d = transport(CURLE_COULDNT_RESOLVE_PROXY, "Could not resolve proxy", NULL, 1, NULL);
    ok(strstr(d.cause, "proxy") != NULL, "proxy DNS: %s", d.cause);
    d = transport(CURLE_PEER_FAILED_VERIFICATION, "SSL certificate problem",
                  "/CN=Contoso Inspection CA", 0, NULL);
    ok(strstr(d.cause, "issuer: /CN=Contoso Inspection CA") != NULL, "TLS names the issuer: %s", d.cause);
    ok(strstr(d.fix, "ca_file =") != NULL, "TLS fix points to ca_file: %s", d.fix);
    d = transport(CURLE_PEER_FAILED_VERIFICATION, "SSL certificate problem",
                  "/CN=Other CA", 0, "/etc/exorelay/ca.pem");
    ok(strstr(d.fix, "/etc/exorelay/ca.pem") != NULL, "TLS fix names the current ca_file: %s", d.fix);
    d = transport(CURLE_PEER_FAILED_VERIFICATION, "SSL: no alternative certificate "
                  "subject name matches target host name", NULL, 0, NULL);
    ok(strstr(d.cause, "no alternative certificate subject name") != NULL,
       "host name mismatch: %s", d.cause);
}

/* the proxy failed: it is named, not Entra ID */
static void check_proxy(void)
{
    struct http_reply r = {0};
    struct token_diag d = {0};
    const char *url = "https://login.example.net/t/oauth2/v2.0/token";

    r.via_proxy = 1;
    snprintf(r.proxy, sizeof(r.proxy), "http://proxy.example.net:3128");
    r.curl_code = CURLE_COULDNT_CONNECT;
    snprintf(r.curl_error, sizeof(r.curl_error), "Failed to connect to proxy.example.net "
             "port 3128: Connection refused");
    entra_diag_transport(&d, &r, url, NULL);
    ok(strstr(d.cause, "cannot connect to the proxy http://proxy.example.net:3128") != NULL
       && strstr(d.cause, "login.example.net") == NULL, "proxy down: %s", d.cause);
    ok(strstr(d.fix, "proxy = in the account") != NULL, "... fix: %s", d.fix);
    r.proxy_from_env = 1;
    entra_diag_transport(&d, &r, url, NULL);
    ok(strstr(d.fix, "https_proxy") != NULL, "... from the environment: %s", d.fix);
    r.proxy_from_env = 0;
    r.curl_code = CURLE_OPERATION_TIMEDOUT;
    entra_diag_transport(&d, &r, url, NULL);
    ok(strstr(d.cause, "no answer from the proxy http://proxy.example.net:3128") != NULL,
       "proxy silent: %s", d.cause);
    r.proxy_reached = 1;
    entra_diag_transport(&d, &r, url, NULL);
    ok(strstr(d.cause, "no answer from Entra ID (login.example.net port 443) in time "
              "through the proxy") != NULL, "proxy up, Entra silent: %s", d.cause);
    r.curl_code = CURLE_RECV_ERROR;
    r.proxy_status = 403;
    entra_diag_transport(&d, &r, url, NULL);
    ok(strstr(d.cause, "the proxy http://proxy.example.net:3128 refused to connect to "
              "Entra ID (login.example.net port 443): HTTP 403") != NULL,
       "proxy refuses CONNECT: %s", d.cause);
    ok(strstr(d.fix, "allow login.example.net port 443 on the proxy") != NULL,
       "... fix: %s", d.fix);
    r.curl_code = CURLE_COULDNT_RESOLVE_PROXY;
    r.proxy_status = 0;
    r.proxy_reached = 0;
    entra_diag_transport(&d, &r, url, NULL);
    ok(strstr(d.cause, "cannot resolve the proxy http://proxy.example.net:3128") != NULL,
       "proxy DNS: %s", d.cause);
}

/* the one-line cause names who failed */
static void check_line(void)
{
    struct conf_account acct = {0};
    struct token_diag d = {0};
    char    line[600];

    acct.authority = "https://login.microsoftonline.com";
    entra_diag_error(&d, 401, "invalid_client", 7000215, "AADSTS7000215: Invalid", NULL, NULL);
    token_diag_line(&d, &acct, line, sizeof(line));
    ok(strcmp(line, "Entra ID (login.microsoftonline.com): the client secret is wrong "
              "(AADSTS7000215)") == 0, "AADSTS: Entra ID and its host: %s", line);
    acct.authority = "https://127.0.0.1:8443";
    token_diag_line(&d, &acct, line, sizeof(line));
    ok(strstr(line, "Entra ID (127.0.0.1:8443): ") == line, "... a port other than 443: %s", line);
    memset(&d, 0, sizeof(d));
    entra_diag_error(&d, 429, NULL, 0, NULL, NULL, NULL);
    token_diag_line(&d, &acct, line, sizeof(line));
    ok(strstr(line, "throttling") && strstr(line, "(token endpoint 127.0.0.1:8443)"),
       "429: the cause and the endpoint: %s", line);
    memset(&d, 0, sizeof(d));
    entra_diag_set(&d, 1, "cannot connect to the proxy http://p:3128", "", "");
    token_diag_line(&d, &acct, line, sizeof(line));
    ok(strcmp(line, "cannot connect to the proxy http://p:3128") == 0,
       "not reached: the cause alone (it names the culprit): %s", line);
}

static void check_redact(void)
{
    struct token_diag d = {0};
    secret_t *s = secret_new("s3cr3t~value", 12);

    entra_diag_set(&d, 0, "Invalid secret s3cr3t~value given", "fix it", "x s3cr3t~value");
    entra_diag_redact(&d, s);
    ok(strstr(d.cause, "s3cr3t") == NULL && strstr(d.detail, "s3cr3t") == NULL,
       "an echoed secret is withheld: %s", d.cause);
    is_str(d.fix, "fix it", "other text stays");
    secret_free(s);
}

int main(void)
{
    check_table();
    check_unknown_and_http();
    check_transport();
    check_proxy();
    check_line();
    check_redact();
    return done_testing();
}
