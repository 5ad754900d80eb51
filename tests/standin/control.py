"""control - the stand-ins' control API (plain HTTP + JSON on loopback).

SYNOPSIS
    srv = make_server(state, log, port=0)   on 127.0.0.1; srv.serve_forever()

    GET  /stats              counters (state.stats())
    POST /reset              counters to zero (records stay)
    GET  /faults             the fault table
    POST /faults             merge faults ({"name": null} removes one;
                             "clear": true empties the table first)
    DELETE /faults           remove every fault
    GET  /scenario           the effective scenario
    POST /scenario           merge a fragment; ?replace=1 replaces it whole
    GET  /messages           envelopes of the recorded messages
    POST /revoke             forget every issued token (they then fail AUTH)
    POST /hold               {"mailbox": M, "sessions": N}: other hosts hold
                             N sessions of M (0 frees them)
    GET  /health             {"ok": true}

Answers are JSON objects; errors are {"error": "..."} with status 400/404.
"""
import http.server
import json

import errors

from scenario import Scenario


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw.strip() else {}

    def _send(self, status, obj):
        data = (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method):
        st = self.server.state
        path, _, query = self.path.partition("?")
        try:
            body = self._body() if method in ("POST", "PUT") else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            fn = ROUTES.get((method, path.rstrip("/") or "/"))
            if fn is None:
                return self._send(404, {"error": "no such endpoint %s %s" % (method, path)})
            self._send(200, fn(st, body, query, self.server.log))
        except (ValueError, KeyError, TypeError, OSError) as e:
            self._send(400, {"error": "%s: %s" % (type(e).__name__, e)})

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_DELETE(self):
        self._route("DELETE")


def _scenario_post(st, body, query, log):
    if "replace=1" in query:
        new = Scenario(body, st.scenario.client_dir)
    else:
        new = st.scenario.merged(body)
    st.scenario = new
    log("control: scenario %s" % ("replaced" if "replace=1" in query else "updated"))
    return new.public()


FAULTS = {"token_error": dict, "token_delay_ms": (int, float), "smtp_delay_ms": (int, float),
          "drop_in_data": dict, "eod_4xx": dict, "smtp_421": dict, "smtp_reply": dict,
          "graph_error": dict, "graph_delay_ms": (int, float)}


def _check_faults(body):
    """_check_faults - refuse what would only fail later, inside a session."""
    for k, v in body.items():
        if k not in FAULTS and v is not None:
            raise ValueError("unknown fault %r (known: %s)" % (k, ", ".join(sorted(FAULTS))))
        if v is not None and not isinstance(v, FAULTS[k]):
            raise ValueError("fault %s: wrong type %s" % (k, type(v).__name__))
    row = (body.get("token_error") or {}).get("row")
    if row is not None and row not in errors.ROWS and row not in ("throttled", "custom"):
        raise ValueError("token_error row %r is not one of %s" % (
            row, ", ".join(sorted(errors.ROWS) + ["throttled", "custom"])))


def _faults_post(st, body, query, log):
    clear = bool(body.pop("clear", False))
    _check_faults(body)
    faults = st.set_faults(body, clear=clear)
    log("control: faults now %s" % json.dumps(faults, sort_keys=True))
    return faults


def _hold(st, body, query, log):
    held = st.hold(str(body["mailbox"]), int(body["sessions"]))
    log("control: sessions held elsewhere now %s" % json.dumps(held, sort_keys=True))
    return {"held": held}


def _reset(st, body, query, log):
    st.reset()
    return st.stats()


ROUTES = {
    ("GET", "/stats"): lambda st, b, q, l: st.stats(),
    ("POST", "/reset"): _reset,
    ("GET", "/faults"): lambda st, b, q, l: st.set_faults({}),
    ("POST", "/faults"): _faults_post,
    ("DELETE", "/faults"): lambda st, b, q, l: st.set_faults({}, clear=True),
    ("GET", "/scenario"): lambda st, b, q, l: st.scenario.public(),
    ("POST", "/scenario"): _scenario_post,
    ("GET", "/messages"): lambda st, b, q, l: {"messages": st.messages()},
    ("POST", "/revoke"): lambda st, b, q, l: {"revoked": st.revoke_tokens()},
    ("POST", "/hold"): _hold,
    ("GET", "/health"): lambda st, b, q, l: {"ok": True},
}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def make_server(state, log, port=0, host="127.0.0.1"):
    srv = Server((host, port), Handler)
    srv.state, srv.log = state, log
    return srv
