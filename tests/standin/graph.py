"""graph - stand-in for Microsoft Graph's mail endpoints (EXCHANGE-FACTS.md, 5).

SYNOPSIS
    server = make_server(state, ssl_context, port=0)   HTTPS, threaded, keep-alive
    server.serve_forever()

Endpoints (all under /v1.0/users/{mailbox}):
    POST sendMail              text/plain, base64 MIME -> 202, empty body
    POST messages              the same body -> 201 {"id", ...} (a draft)
    PATCH messages/{id}        JSON toRecipients/ccRecipients/bccRecipients -> 200
    POST messages/{id}/send    -> 202
    DELETE messages/{id}       -> 204
Checks, in order: bearer present, token issued here and unexpired (401
InvalidAuthenticationToken), audience https://graph.microsoft.com (401
"Invalid audience"), roles Mail.Send (drafts: Mail.ReadWrite too; else
403 ErrorAccessDenied), mailbox exists in the token's tenant (404
ErrorInvalidUser), mailbox inside the app's access policy "graph_access"
(403 ErrorAccessDenied), body at most 4,194,304 bytes (413
RequestEntityTooLarge), at most 4 requests in flight per mailbox (429
MailboxConcurrency, Retry-After 1), base64 (400
ErrorMimeContentInvalidBase64String), a recipient in To/Cc/Bcc (400
ErrorInvalidRecipients), From allowed (403 ErrorSendAsDenied). Recipients
come from the MIME headers, never from anything else; Bcc is removed from
the recorded (delivered) copy. Faults: "graph_error" ({"status", "code",
"message", "retry_after"} answered instead, count/every as usual) and
"graph_delay_ms" (a request that passed the checks stays in flight this
long before it is executed).
"""
import base64
import binascii
import email.utils
import http.server
import json
import re
import time
import uuid

import entra

AUD = "https://graph.microsoft.com"
MAX_REQUEST = 4194304
MAX_INFLIGHT = 4
PATH_RE = re.compile(r"^/v1\.0/users/([^/]+)/(sendMail|messages)(?:/([^/]+))?(/send)?$")
HDR_END_RE = re.compile(rb"\r?\n\r?\n")

MESSAGES = {
    "empty": "Access token is empty.",
    "expired": "Access token has expired or is not yet valid.",
    "audience": "Access token validation failure. Invalid audience.",
    "denied": "Access is denied. Check credentials and try again.",
    "sendas": "The user account which was used to submit this request does not have the "
              "right to send mail on behalf of the specified sending account.",
    "base64": "Invalid base64 string for MIME content.",
    "norcpt": "At least one recipient is not valid., Recipient is missing.",
    "toolarge": "The maximum request length supported is 4MB.",
    "concurrency": "Application is over its MailBox concurrency limit.",
}


class GraphError(Exception):
    def __init__(self, status, code, message, retry_after=None):
        Exception.__init__(self, code)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


def _headers(mime):
    """_headers - the header block of a MIME message as an email.message."""
    m = HDR_END_RE.search(mime)
    head = mime[:m.start()] if m else mime
    import email.parser
    import email.policy
    return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head + b"\r\n\r\n")


def _addresses(msg, name):
    vals = msg.get_all(name) or []
    return [a for _, a in email.utils.getaddresses([v.replace("\r\n", "") for v in vals]) if a]


def _without_bcc(mime):
    """_without_bcc - the delivered copy: Bcc fields taken out."""
    m = HDR_END_RE.search(mime)
    end = m.start() if m else len(mime)
    lines = re.split(rb"(?<=\n)", mime[:end])
    out, skip = [], False
    for ln in lines:
        if ln[:1] in (b" ", b"\t") and skip:
            continue
        skip = ln[:4].lower() == b"bcc:"
        if not skip:
            out.append(ln)
    return b"".join(out) + mime[end:]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stand-in-graph"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        self._handle("POST")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_GET(self):
        self._handle("GET")

    def _handle(self, method):
        st = self.server.state
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        st.count("graph_requests")
        m = PATH_RE.match(self.path.split("?")[0])
        if not m:
            return self._send(404, "text/plain", b"Not Found\n")
        fault = st.pick("graph_error")
        delay = st.fault("graph_delay_ms")
        mbox_id = m.group(1)
        inflight = False
        try:
            if fault is not None:
                raise GraphError(int(fault.get("status", 503)), fault.get("code", "ServiceUnavailable"),
                                 fault.get("message", "Service unavailable."),
                                 fault.get("retry_after"))
            app, grant, mbox = self._authorize(st, mbox_id, m.group(2) == "messages" and not m.group(4))
            if len(body) > MAX_REQUEST:
                raise GraphError(413, "RequestEntityTooLarge", MESSAGES["toolarge"])
            inflight = True
            if st.inflight(mbox["address"].lower(), 1) > MAX_INFLIGHT:
                raise GraphError(429, "MailboxConcurrency", MESSAGES["concurrency"], 1)
            if delay:                   # the request is in flight meanwhile
                time.sleep(float(delay) / 1000)
            status, out = self._route(st, method, m, body, app, grant, mbox)
        except GraphError as e:
            if e.status == 429:
                st.count("graph_throttled")
            st.count("graph_errors")
            status, out = e.status, e
        finally:
            if inflight:
                st.inflight(self._mbox_key, -1)
        self._answer(status, out)

    def _authorize(self, st, mbox_id, drafts):
        """_authorize - (app, grant, mailbox) or raise GraphError, in Graph's order."""
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            raise GraphError(401, "InvalidAuthenticationToken", MESSAGES["empty"])
        grant = st.lookup_token(auth[7:].strip())
        if grant is None or grant["expires"] <= time.time():
            raise GraphError(401, "InvalidAuthenticationToken", MESSAGES["expired"])
        if grant.get("aud") != AUD:
            raise GraphError(401, "InvalidAuthenticationToken", MESSAGES["audience"])
        roles = grant.get("roles", [])
        if "Mail.Send" not in roles or (drafts and "Mail.ReadWrite" not in roles):
            raise GraphError(403, "ErrorAccessDenied", MESSAGES["denied"])
        sc = st.scenario
        app = sc.app_by_id(grant["client_id"])
        mbox = sc.mailbox(mbox_id)
        tenant = sc.mailbox_tenant(mbox) if mbox else None
        if app is None or mbox is None or tenant is None or tenant["id"] != grant["tenant"]:
            raise GraphError(404, "ErrorInvalidUser", "The requested user '%s' is invalid." % mbox_id)
        scope = app.get("graph_access")
        if scope is not None and mbox["address"].lower() not in [a.lower() for a in scope] \
                and "*" not in scope:
            raise GraphError(403, "ErrorAccessDenied", MESSAGES["denied"])
        self._mbox_key = mbox["address"].lower()
        return app, grant, mbox

    def _route(self, st, method, m, body, app, grant, mbox):
        kind, mid, send = m.group(2), m.group(3), m.group(4)
        if kind == "sendMail" and method == "POST" and not mid:
            mime = self._mime(body)
            self._deliver(st, mime, None, app, grant, mbox)
            return 202, None
        if kind == "messages" and method == "POST" and not mid:
            mime = self._mime(body)
            did = str(uuid.uuid4())
            with st.lock:
                st.drafts = getattr(st, "drafts", {})
                st.drafts[did] = {"mime": mime, "mbox": mbox["address"].lower(), "lists": None}
            return 201, {"id": did, "isDraft": True}
        draft = getattr(st, "drafts", {}).get(mid or "")
        if draft is None or draft["mbox"] != mbox["address"].lower():
            raise GraphError(404, "ErrorItemNotFound",
                             "The specified object was not found in the store.")
        if method == "PATCH" and not send:
            upd = json.loads(body or b"{}")
            lists = {k: [r["emailAddress"]["address"] for r in upd.get(k, [])]
                     for k in ("toRecipients", "ccRecipients", "bccRecipients")}
            draft["lists"] = lists
            return 200, {"id": mid, "isDraft": True}
        if method == "POST" and send:
            self._deliver(st, draft["mime"], draft["lists"], app, grant, mbox)
            st.drafts.pop(mid, None)
            return 202, None
        if method == "DELETE" and not send:
            st.drafts.pop(mid, None)
            return 204, None
        raise GraphError(405, "ErrorInvalidRequest", "Unsupported request.")

    def _mime(self, body):
        try:
            return base64.b64decode(re.sub(rb"\s+", b"", body), validate=True)
        except (binascii.Error, ValueError):
            raise GraphError(400, "ErrorMimeContentInvalidBase64String", MESSAGES["base64"])

    def _deliver(self, st, mime, lists, app, grant, mbox):
        hdr = _headers(mime)
        if lists is None:
            lists = {"toRecipients": _addresses(hdr, "To"), "ccRecipients": _addresses(hdr, "Cc"),
                     "bccRecipients": _addresses(hdr, "Bcc")}
        rcpts = lists["toRecipients"] + lists["ccRecipients"] + lists["bccRecipients"]
        if not rcpts:
            raise GraphError(400, "ErrorInvalidRecipients", MESSAGES["norcpt"])
        sender = (_addresses(hdr, "From") or [mbox["address"]])[0]
        if not st.scenario.may_send_as(app, mbox, sender):
            raise GraphError(403, "ErrorSendAsDenied", MESSAGES["sendas"])
        st.count("graph_sent")
        st.record(_without_bcc(mime), {
            "mail_from": sender, "rcpt_to": rcpts, "to": lists["toRecipients"],
            "cc": lists["ccRecipients"], "bcc": lists["bccRecipients"],
            "mail_params": "", "auth_user": mbox["address"], "client_id": app["client_id"],
            "tenant": grant["tenant"], "session": "graph", "via": "graph",
            "received": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, 1)

    def _answer(self, status, out):
        extra = {"request-id": str(uuid.uuid4()), "client-request-id": str(uuid.uuid4())}
        if isinstance(out, GraphError):
            if out.retry_after is not None:
                extra["Retry-After"] = str(int(out.retry_after))
            err = {"error": {"code": out.code, "message": out.message, "innerError": {
                "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
                "request-id": extra["request-id"],
                "client-request-id": extra["client-request-id"]}}}
            return self._send(status, "application/json", json.dumps(err).encode(), extra)
        if out is None:
            return self._send(status, None, b"", extra)
        self._send(status, "application/json", json.dumps(out).encode(), extra)

    _send = entra.Handler._send


def make_server(state, ctx, port=0, host="127.0.0.1"):
    srv = entra.TLSServer((host, port), Handler)
    srv.state, srv.ssl_context, srv.conn_counter = state, ctx, "graph_connections"
    return srv
