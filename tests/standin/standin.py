#!/usr/bin/python3
"""standin.py - local stand-ins for Entra ID and Exchange Online, one process.

usage: standin.py --dir DIR [--scenario FILE] [--token-lifetime N]
                  [--max-size N] [--record full|meta|none] [--faults JSON]

Creates in DIR a fresh CA and server certificates, then serves:
  - the token endpoint over HTTPS  (https://127.0.0.1:PORT/{tenant}/oauth2/v2.0/token)
  - SMTP submission with STARTTLS  (certificate for localhost + 127.0.0.1)
  - the same SMTP server with a certificate for a wrong host name
  - the control API over plain HTTP
all on ephemeral loopback ports. When everything listens it writes
DIR/ready.env (shell assignments) and DIR/ready.json atomically. Messages
are recorded in DIR/messages. Log lines (never a token or a secret) go to
stderr. SIGTERM or SIGINT stops it. See README.md in this directory.
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
    p.add_argument("--faults", help="initial fault table (JSON object)")
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


def serve(args):
    d = os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    args.dir = d
    paths = pki.make_pki(d)
    st = State(d, load_scenario(args), args.record)
    if args.faults:
        st.set_faults(json.loads(args.faults))
    token_srv = entra.make_server(st, tls_context(paths["server"], paths["server_key"]))
    ctl_srv = control.make_server(st, log)
    smtp = exchange.SmtpServer(st, tls_context(paths["server"], paths["server_key"]), log)
    wrong = exchange.SmtpServer(st, tls_context(paths["wrongname"], paths["wrongname_key"]), log)
    for srv in (token_srv, ctl_srv):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    smtp.start()
    wrong.start()
    info = {
        "STANDIN_DIR": d,
        "STANDIN_PID": os.getpid(),
        "STANDIN_CA": paths["ca"],
        "STANDIN_AUTHORITY": "https://127.0.0.1:%d" % token_srv.server_address[1],
        "STANDIN_SMTP_PORT": smtp.port,
        "STANDIN_SMTP_WRONGNAME_PORT": wrong.port,
        "STANDIN_CTL": "http://127.0.0.1:%d" % ctl_srv.server_address[1],
        "STANDIN_MSGDIR": st.msgdir,
        "STANDIN_CLIENTS": os.path.join(d, "clients"),
    }
    write_ready(d, info)
    log("ready: token %s, smtp %d, wrong-name smtp %d, control %s" % (
        info["STANDIN_AUTHORITY"], smtp.port, wrong.port, info["STANDIN_CTL"]))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(3600):
        pass
    log("stopping")


if __name__ == "__main__":
    serve(parse_args(sys.argv[1:]))
