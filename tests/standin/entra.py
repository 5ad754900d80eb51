"""entra - stand-in for the Entra ID token endpoint (client-credentials grant).

SYNOPSIS
    server = make_server(state, ssl_context, port=0)   HTTPS, threaded
    server.serve_forever()

POST /{tenant}/oauth2/v2.0/token with a form body: client_id, scope,
grant_type=client_credentials and client_secret (or HTTP Basic), or
client_assertion_type + client_assertion (a JWT checked by jwtcheck.py).
Answers and errors are those of Microsoft's documented token endpoint (tests/standin/README.md) (errors.py).
Faults: "token_error" (a row of errors.ROWS, or a custom status/error/code)
and "token_delay_ms".
"""
import base64
import calendar
import http.server
import json
import re
import time
import urllib.parse

import errors
import jwtcheck

SCOPE = "https://outlook.office365.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
AUDIENCE = {SCOPE: "https://outlook.office365.com", GRAPH_SCOPE: "https://graph.microsoft.com"}
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
DOMAIN_RE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$", re.I)
PATH_RE = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$")


class TokenError(Exception):
    """TokenError - answer with errors.ROWS[row], filled from ctx."""
    def __init__(self, row, ctx):
        Exception.__init__(self, row)
        self.row, self.ctx = row, ctx


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stand-in-entra"

    def log_message(self, fmt, *args):
        pass                                    # the path never has a secret,
                                                # but quiet is cheaper

    def do_GET(self):
        self._send(404, "text/plain", b"Not Found\n")

    def do_POST(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        st.count("token_requests")
        # A request's fate is decided when it arrives: a fault set while a
        # slow request sleeps is left for the requests that come after.
        fault = st.pick("token_error")
        delay = st.fault("token_delay_ms")
        if delay:
            time.sleep(float(delay) / 1000)
        if fault is not None:
            return self._fault(fault)
        try:
            tok, app = self._grant(st, body)
        except TokenError as e:
            st.count("token_errors")
            return self._error(e.row, e.ctx)
        tk = st.scenario.data["token"]
        self._json(200, {"token_type": "Bearer", "expires_in": int(tk["expires_in"]),
                         "ext_expires_in": int(tk.get("ext_expires_in", tk["expires_in"])),
                         "access_token": tok})

    def _grant(self, st, body):
        """_grant - check the request in Entra's order; (token, app) or raise."""
        sc = st.scenario
        m = PATH_RE.match(self.path.split("?")[0])
        if not m:
            raise TokenError("not_found", None)
        tname = urllib.parse.unquote(m.group(1))
        if not (GUID_RE.match(tname) or DOMAIN_RE.match(tname)):
            raise TokenError("tenant_malformed", {"tenant": tname})
        tenant = sc.tenant(tname)
        if tenant is None:
            raise TokenError("tenant_not_found", {"tenant": tname})
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}
        basic_id, basic_secret = self._basic()
        for field in ("grant_type", "scope"):
            if not form.get(field):
                raise TokenError("missing_parameter", {"param": field})
        if form["grant_type"] != "client_credentials":
            raise TokenError("unsupported_grant_type", {"grant_type": form["grant_type"]})
        client_id = form.get("client_id") or basic_id
        if not client_id:
            raise TokenError("missing_parameter", {"param": "client_id"})
        app = sc.app(tenant["id"], client_id)
        if app is None:
            raise TokenError("app_not_found", {"client_id": client_id, "tenant": tname})
        self._check_scope(form["scope"])
        self._check_credential(st, app, form, basic_secret)
        return st.issue_token(app, int(sc.data["token"]["expires_in"]),
                              AUDIENCE[form["scope"]]), app

    def _basic(self):
        h = self.headers.get("Authorization", "")
        if not h.lower().startswith("basic "):
            return None, None
        try:
            raw = base64.b64decode(h[6:].strip()).decode()
        except ValueError:
            return None, None
        cid, _, sec = raw.partition(":")
        return urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(sec)

    def _check_scope(self, scope):
        if scope in AUDIENCE:
            return
        if "/.default" not in scope:
            raise TokenError("scope_no_default", {"scope": scope})
        raise TokenError("invalid_scope", {"scope": scope})

    def _check_credential(self, st, app, form, basic_secret):
        if form.get("client_assertion") or form.get("client_assertion_type"):
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise TokenError("missing_credential", None)
            aud = "https://%s%s" % (self.headers.get("Host", ""), self.path.split("?")[0])
            why = jwtcheck.check(st, app, form.get("client_assertion", ""), aud)
            if why:
                raise TokenError("bad_assertion", {"why": why})
            return
        secret = form.get("client_secret") or basic_secret
        if not secret:
            raise TokenError("missing_credential", None)
        for s in app.get("secrets", []):
            if s.get("value") == secret:
                if _expired(s.get("expires")):
                    raise TokenError("expired_secret", {"client_id": app["client_id"]})
                return
        raise TokenError("wrong_secret", {"client_id": app["client_id"]})

    def _fault(self, f):
        row = f.get("row", "throttled")
        if row == "throttled":
            return self._throttled(f.get("retry_after", 5))
        self.server.state.count("token_errors")
        if row == "custom" or "status" in f:
            body = errors.custom(f)
            return self._json(int(f.get("status", 500)), body)
        return self._error(row, f)

    def _throttled(self, retry_after):
        self.server.state.count("token_errors")
        self._send(429, "text/plain", b"Too Many Requests",
                   {"Retry-After": str(int(retry_after))})

    def _error(self, row, arg):
        if row == "not_found":
            return self._send(404, "text/plain", b"Not Found\n")
        status, body = errors.body(row, arg, self.headers.get("client-request-id"))
        self._json(status, body)

    def _json(self, status, obj):
        self._send(status, "application/json; charset=utf-8",
                   json.dumps(obj).encode(), {"Cache-Control": "no-store, no-cache"})

    def _send(self, status, ctype, data, extra=None):
        try:
            self.send_response(status)
            if ctype:                   # none for an empty 202/204 (graph.py)
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except OSError:             # the client gave up (slow endpoint)
            self.close_connection = True


def _expired(date):
    """_expired - a secret is valid through the end of its expiry day (UTC)."""
    if not date:
        return False
    t = time.strptime(date[:10], "%Y-%m-%d")
    return time.time() >= calendar.timegm(t) + 86400


class TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True         # a restart binds the same port again

    def get_request(self):
        # Handshake in the handler thread, not in the accept loop.
        sock, addr = self.socket.accept()
        tls = self.ssl_context.wrap_socket(sock, server_side=True,
                                           do_handshake_on_connect=False)
        return tls, addr

    def finish_request(self, request, client_address):
        try:
            request.settimeout(30)
            self.state.count(getattr(self, "conn_counter", "token_connections"))
            request.do_handshake()
        except OSError:
            request.close()
            return
        http.server.ThreadingHTTPServer.finish_request(self, request, client_address)


def make_server(state, ctx, port=0, host="127.0.0.1"):
    srv = TLSServer((host, port), Handler)
    srv.state, srv.ssl_context = state, ctx
    return srv
