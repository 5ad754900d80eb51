"""client - a minimal SMTP and token client for the stand-ins' own tests and bench.

SYNOPSIS
    env = Env()                          the STANDIN_* variables of standin.sh
    tok = get_token(env, app_name="main", tenant=None)
    s = Smtp(env.smtp_port, env.ca)      connected; s.greeting
    s.send(b"..."); s.reply() -> (code, [lines])   one whole reply
    s.cmd("EHLO x") -> (code, lines)     send a line, read its reply
    s.starttls(); s.login(user, tok, initial_response=True)
    xoauth2(user, tok) -> str            base64 payload
    s.close()

Tokens stay in memory; nothing here prints them.
"""
import base64
import json
import os
import socket
import ssl
import urllib.parse
import urllib.request

SCOPE = "https://outlook.office365.com/.default"


class Env:
    def __init__(self):
        e = os.environ
        self.ca = e["STANDIN_CA"]
        self.authority = e["STANDIN_AUTHORITY"]
        self.smtp_port = int(e["STANDIN_SMTP_PORT"])
        self.ctl = e["STANDIN_CTL"]
        self.msgdir = e["STANDIN_MSGDIR"]
        self.clients = e["STANDIN_CLIENTS"]
        with open(e["STANDIN_SCENARIO"]) as f:
            self.scenario = json.load(f)

    def app(self, name):
        return [a for a in self.scenario["apps"] if a.get("name") == name][0]

    def tls(self):
        return ssl.create_default_context(cafile=self.ca)


def post_token(env, tenant, fields, headers=None):
    """post_token - (status, parsed JSON or text, headers) of a token POST."""
    url = "%s/%s/oauth2/v2.0/token" % (env.authority, tenant)
    req = urllib.request.Request(url, urllib.parse.urlencode(fields).encode(),
                                 headers or {})
    try:
        with urllib.request.urlopen(req, context=env.tls(), timeout=10) as r:
            return r.status, json.loads(r.read()), r.headers
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body), e.headers
        except ValueError:
            return e.code, body.decode(), e.headers


def get_token(env, app_name="main", tenant=None):
    app = env.app(app_name)
    st, body, _ = post_token(env, tenant or app["tenant"], {
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["secrets"][0]["value"], "scope": SCOPE})
    if st != 200:
        raise RuntimeError("token request failed: %d %s" % (st, body.get("error")))
    return body["access_token"]


def ctl(env, method, path, obj=None):
    data = json.dumps(obj).encode() if obj is not None else None
    req = urllib.request.Request(env.ctl + path, data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def xoauth2(user, tok):
    return base64.b64encode(("user=%s\x01auth=Bearer %s\x01\x01" % (user, tok))
                            .encode()).decode()


class Smtp:
    def __init__(self, port, ca, host="127.0.0.1"):
        self.ctx = ssl.create_default_context(cafile=ca)
        self.sock = socket.create_connection((host, port), timeout=20)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.greeting = self.reply()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def _line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def reply(self):
        lines = []
        while True:
            line = self._line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self):
        """closed - True when the server has closed the connection."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionError, OSError):
            return True

    def starttls(self, host="localhost"):
        self.cmd("EHLO client.example")
        code, lines = self.cmd("STARTTLS")
        self.sock = self.ctx.wrap_socket(self.sock, server_hostname=host)
        return code, lines

    def login(self, user, tok, initial_response=True):
        self.starttls()
        self.cmd("EHLO client.example")
        if initial_response:
            return self.cmd("AUTH XOAUTH2 " + xoauth2(user, tok))
        code, lines = self.cmd("AUTH XOAUTH2")
        if code != 334:
            return code, lines
        return self.cmd(xoauth2(user, tok))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
