#!/usr/bin/python3
"""standin.py - local stand-ins for Entra ID and Exchange Online, one process.

usage: standin.py --dir DIR [--scenario FILE] [--token-lifetime N]
                  [--max-size N] [--record full|meta|none] [--msgdir DIR]
                  [--faults JSON] [--restart]

Creates in DIR a fresh CA and server certificates, then serves:
  - the token endpoint over HTTPS  (https://127.0.0.1:PORT/{tenant}/oauth2/v2.0/token)
  - SMTP submission with STARTTLS  (certificate for localhost + 127.0.0.1)
  - the same SMTP server with a certificate for a wrong host name
  - Microsoft Graph's mail endpoints over HTTPS (sendMail, drafts)
  - the control API over plain HTTP
all on ephemeral loopback ports. When everything listens it writes
DIR/ready.env (shell assignments) and DIR/ready.json atomically. Messages
are recorded in DIR/messages. Log lines (never a token or a secret) go to
stderr. SIGTERM or SIGINT stops it. With --restart, a stand-in that ran in
DIR before comes back on the same ports with the same CA, its tokens still
valid and its message numbers continuing. See README.md in this directory.
"""
import argparse
import json
import os
import signal
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import control                                  # noqa: E402
import entra                                    # noqa: E402
import exchange                                 # noqa: E402
import graph                                    # noqa: E402
import pki                                      # noqa: E402
from scenario import Scenario                   # noqa: E402
from state import State                         # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    sys.stderr.write("%s standin: %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


def parse_args(argv):
    p = argparse.ArgumentParser(description="Entra ID + Exchange Online stand-ins")
    p.add_argument("--dir", required=True)
    p.add_argument("--scenario", default=os.path.join(HERE, "scenario-default.json"))
    p.add_argument("--token-lifetime", type=int, help="expires_in of tokens (seconds)")
    p.add_argument("--max-size", type=int, help="enforced message size limit (bytes)")
    p.add_argument("--record", choices=("full", "meta", "none"), default="full")
    p.add_argument("--msgdir", help="where to record messages (default DIR/messages)")
    p.add_argument("--faults", help="initial fault table (JSON object)")
    p.add_argument("--cert-days", type=int, default=30,
                   help="lifetime of the server certificates (days; the CA lives 30 more)")
    p.add_argument("--restart", action="store_true",
                   help="same ports and CA as the previous run in DIR")
    return p.parse_args(argv)


def load_scenario(args):
    with open(args.scenario) as f:
        data = json.load(f)
    sc = Scenario(data, os.path.join(args.dir, "clients"))
    if args.token_lifetime:
        sc = sc.merged({"token": {"expires_in": args.token_lifetime,
                                  "ext_expires_in": args.token_lifetime}})
    if args.max_size:
        sc = sc.merged({"smtp": {"max_size": args.max_size}})
    return sc


def write_ready(d, info):
    env = "".join("%s='%s'\n" % (k, v) for k, v in sorted(info.items()))
    for name, text in (("ready.json", json.dumps(info, indent=1)), ("ready.env", env)):
        tmp = os.path.join(d, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, os.path.join(d, name))


def previous_run(d):
    """previous_run - ports and PKI of the last run in d, for --restart."""
    with open(os.path.join(d, "ready.json")) as f:
        info = json.load(f)
    port = lambda url: int(url.rsplit(":", 1)[1])                       # noqa: E731
    ports = {"token": port(info["STANDIN_AUTHORITY"]), "ctl": port(info["STANDIN_CTL"]),
             "smtp": int(info["STANDIN_SMTP_PORT"]),
             "wrong": int(info["STANDIN_SMTP_WRONGNAME_PORT"]),
             "graph": port(info["STANDIN_GRAPH_URL"])}
    paths = {"ca": os.path.join(d, "ca.pem")}
    for tag in ("server", "wrongname"):
        paths[tag] = os.path.join(d, tag + ".pem")
        paths[tag + "_key"] = os.path.join(d, tag + ".key")
    return ports, paths


def serve(args):
    d = os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    args.dir = d
    if args.restart and os.path.exists(os.path.join(d, "ready.json")):
        ports, paths = previous_run(d)
    else:
        ports, paths = {}, pki.make_pki(d, args.cert_days)
    for name in ("ready.json", "ready.env"):
        if os.path.exists(os.path.join(d, name)):
            os.unlink(os.path.join(d, name))
    st = State(d, load_scenario(args), args.record, args.msgdir)
    if args.faults:
        st.set_faults(json.loads(args.faults))
    server_ctx = tls_context(paths["server"], paths["server_key"])
    token_srv = entra.make_server(st, server_ctx, ports.get("token", 0))
    graph_srv = graph.make_server(st, server_ctx, ports.get("graph", 0))
    ctl_srv = control.make_server(st, log, ports.get("ctl", 0))
    smtp = exchange.SmtpServer(st, server_ctx, log, ports.get("smtp", 0))
    wrong = exchange.SmtpServer(st, tls_context(paths["wrongname"], paths["wrongname_key"]),
                                log, ports.get("wrong", 0))
    for srv in (token_srv, ctl_srv, graph_srv):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    smtp.start()
    wrong.start()
    info = {
        "STANDIN_DIR": d,
        "STANDIN_PID": os.getpid(),
        "STANDIN_CA": paths["ca"],
        "STANDIN_AUTHORITY": "https://127.0.0.1:%d" % token_srv.server_address[1],
        "STANDIN_GRAPH_URL": "https://127.0.0.1:%d" % graph_srv.server_address[1],
        "STANDIN_SMTP_PORT": smtp.port,
        "STANDIN_SMTP_WRONGNAME_PORT": wrong.port,
        "STANDIN_CTL": "http://127.0.0.1:%d" % ctl_srv.server_address[1],
        "STANDIN_MSGDIR": st.msgdir,
        "STANDIN_CLIENTS": os.path.join(d, "clients"),
    }
    write_ready(d, info)
    log("ready: token %s, graph %s, smtp %d, wrong-name smtp %d, control %s" % (
        info["STANDIN_AUTHORITY"], info["STANDIN_GRAPH_URL"], smtp.port, wrong.port,
        info["STANDIN_CTL"]))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(3600):
        pass
    log("stopping")


if __name__ == "__main__":
    serve(parse_args(sys.argv[1:]))
