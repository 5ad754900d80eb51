"""errors - Entra ID token endpoint error bodies (Microsoft's documented token endpoint (tests/standin/README.md)).

SYNOPSIS
    status, body = body(row, ctx, correlation_id=None)
        The JSON error of a row of ROWS, filled from ctx (tenant,
        client_id, scope, param, grant_type, why): error, error_description
        ending in "\\r\\nTrace ID: ...\\r\\nCorrelation ID: ...\\r\\nTimestamp: ...",
        error_codes, timestamp, trace_id, correlation_id, error_uri.
    body = custom(fault)   a fault's own status/error/code/description

The "throttled" row (429) is plain text with Retry-After; entra.py sends it.
Rows marked extra are real Entra answers outside the facts table.
"""
import collections
import time
import uuid

# row: (HTTP status, error, AADSTS code, description template)
ROWS = {
    "tenant_not_found": (400, "invalid_request", 90002,
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
        "and are signing into the correct cloud. Check with your subscription "
        "administrator, this may happen if there are no active subscriptions for the tenant."),
    "tenant_malformed": (400, "invalid_request", 900023,
        "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid "
        "external domain."),
    "app_not_found": (400, "unauthorized_client", 700016,
        "Application with identifier '{client_id}' was not found in the directory "
        "'{tenant}'. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You may "
        "have sent your authentication request to the wrong tenant."),
    "wrong_secret": (401, "invalid_client", 7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is "
        "the client secret value, not the client secret ID, for a secret added to app "
        "'{client_id}'."),
    "expired_secret": (401, "invalid_client", 7000222,
        "The provided client secret keys for app '{client_id}' are expired. Visit the "
        "Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or "
        "consider using certificate credentials for added security: "
        "https://aka.ms/certCreds."),
    "bad_assertion": (401, "invalid_client", 700027, "{why}"),
    "scope_no_default": (400, "invalid_scope", 1002012,
        "The provided value for scope {scope} is not valid. Client credential flows must "
        "have a scope value with /.default suffixed to the resource identifier "
        "(application ID URI)."),
    "invalid_scope": (400, "invalid_scope", 70011,
        "The provided request must include a 'scope' input parameter. The provided value "
        "for the input parameter 'scope' is not valid. The scope {scope} is not valid."),
    # extra
    "missing_parameter": (400, "invalid_request", 900144,
        "The request body must contain the following parameter: '{param}'."),
    "unsupported_grant_type": (400, "unsupported_grant_type", 70003,
        "The app requested an unsupported grant type '{grant_type}'."),
    "missing_credential": (401, "invalid_client", 7000218,
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'."),
    "transient": (503, "temporarily_unavailable", 90033,
        "A transient error has occurred. Please try again."),
}


def _tail(corr):
    trace = str(uuid.uuid4())
    corr = corr or str(uuid.uuid4())
    ts = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return trace, corr, ts


def _assemble(error, code, text, corr):
    trace, corr, ts = _tail(corr)
    return {
        "error": error,
        "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s"
                             "\r\nTimestamp: %s" % (code, text, trace, corr, ts),
        "error_codes": [code],
        "timestamp": ts,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": "https://login.microsoftonline.com/error?code=%d" % code,
    }


def body(row, ctx, corr=None):
    status, error, code, tmpl = ROWS[row]
    fill = collections.defaultdict(str, {"tenant": "contoso.onmicrosoft.com",
                                         "client_id": "00000000-0000-0000-0000-000000000000",
                                         "scope": "", "why": "Client assertion failed "
                                         "signature validation."})
    fill.update({k: v for k, v in (ctx or {}).items() if v is not None})
    return status, _assemble(error, code, tmpl.format_map(fill), corr)


def custom(f):
    return _assemble(f.get("error", "server_error"), int(f.get("code", 90033)),
                     f.get("description", "A transient error has occurred."), None)
