#!/usr/bin/python3
"""standin_ceiling.py - how many messages a second the Exchange stand-in takes
through ONE authenticated connection, so that benchmarks of the relay know
the stand-in is not what they measure.

usage: bench/standin_ceiling.py [-n MESSAGES] [--size BYTES] [--record full|meta|none]

Starts its own stand-in (tests/standin/standin.py), gets a token, logs in
once, then sends:
  stream     every message pipelined back to back (MAIL, RCPT, BDAT LAST),
             a reader thread collecting the replies: the server's ceiling
  1-rt       one BDAT message per round trip (pipelined, wait for replies)
  data-2rt   MAIL+RCPT+DATA pipelined, then the content (2 round trips)
  3 conns    three connections at once, 1-rt each (clients in 3 processes)
Baseline measured in the same run: the same byte stream as "stream" pushed
through Python TLS on loopback into a sink that only reads (the transport's
ceiling on this machine). Prints messages/s for each, and messages per
CPU-second the stand-in process used (the figure that does not depend on
what else the machine is doing: the stand-in's ceiling on one free core).
"""
import argparse
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "standin"))

import pki                                           # noqa: E402
from client import Env, Smtp, get_token              # noqa: E402

MAILBOX = "no-reply@contoso.onmicrosoft.com"


def start_standin(d, record):
    proc = subprocess.Popen([sys.executable, os.path.join(TOP, "tests/standin/standin.py"),
                             "--dir", d, "--record", record],
                            stderr=open(os.path.join(d, "standin.log"), "w"))
    ready = os.path.join(d, "ready.env")
    for _ in range(200):
        if os.path.exists(ready):
            break
        time.sleep(0.05)
    for line in open(ready):
        k, _, v = line.strip().partition("=")
        os.environ[k] = v.strip("'")
    os.environ["STANDIN_SCENARIO"] = os.path.join(TOP, "tests/standin/scenario-default.json")
    return proc


def body(size):
    head = ("From: %s\r\nTo: r@example.com\r\nSubject: bench\r\n\r\n" % MAILBOX).encode()
    line = b"x" * 70 + b"\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


def bdat_msg(content):
    return (b"MAIL FROM:<%s>\r\nRCPT TO:<r@example.com>\r\nBDAT %d LAST\r\n"
            % (MAILBOX.encode(), len(content))) + content


def cpu_seconds(pid):
    """cpu_seconds - user + system CPU time used so far by process pid."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(proc, fn, s, n, content):
    """measure - (wall msgs/s, msgs per CPU-second of the stand-in)."""
    c0 = cpu_seconds(proc.pid)
    rate = fn(s, n, content)
    used = cpu_seconds(proc.pid) - c0
    return rate, (n / used if used > 0 else float("inf"))


def stream(s, n, content):
    """stream - writer thread sends all, this thread reads 3 replies each."""
    msg = bdat_msg(content)
    t0 = time.time()
    w = threading.Thread(target=lambda: [s.send(msg) for _ in range(n)])
    w.start()
    for _ in range(n):
        for _ in range(3):
            code, _ = s.reply()
        assert code == 250, code
    w.join()
    return n / (time.time() - t0)


def one_rt(s, n, content):
    msg = bdat_msg(content)
    t0 = time.time()
    for _ in range(n):
        s.send(msg)
        for _ in range(3):
            code, _ = s.reply()
        assert code == 250, code
    return n / (time.time() - t0)


def data_2rt(s, n, content):
    cmds = b"MAIL FROM:<%s>\r\nRCPT TO:<r@example.com>\r\nDATA\r\n" % MAILBOX.encode()
    t0 = time.time()
    for _ in range(n):
        s.send(cmds)
        for _ in range(3):
            s.reply()
        s.send(content + b".\r\n")
        code, _ = s.reply()
        assert code == 250, code
    return n / (time.time() - t0)


def _client_proc(args):
    """_client_proc - one connection of the parallel run (a process: no shared GIL)."""
    tok, n, content = args
    env = Env()
    s = Smtp(env.smtp_port, env.ca)
    s.login(MAILBOX, tok)
    one_rt(s, n, content)
    s.cmd("QUIT")
    return n


def parallel(proc, tok, conns, n, content):
    """parallel - conns connections at once (the relay's pool has up to 3)."""
    import multiprocessing
    c0 = cpu_seconds(proc.pid)
    t0 = time.time()
    with multiprocessing.Pool(conns) as pool:
        total = sum(pool.map(_client_proc, [(tok, n, content)] * conns))
    wall = time.time() - t0
    return total / wall, total / max(1e-9, cpu_seconds(proc.pid) - c0)


def baseline(d, n, content):
    """baseline - the same bytes through Python TLS into a read-only sink."""
    paths = pki.make_pki(d)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(paths["server"], paths["server_key"])
    lsock = socket.create_server(("127.0.0.1", 0))
    total = len(bdat_msg(content)) * n

    def sink():
        c, _ = lsock.accept()
        t = sctx.wrap_socket(c, server_side=True)
        got = 0
        while got < total:
            got += len(t.recv(262144))
        t.sendall(b"250 done\r\n")
    threading.Thread(target=sink, daemon=True).start()
    cctx = ssl.create_default_context(cafile=paths["ca"])
    c = cctx.wrap_socket(socket.create_connection(lsock.getsockname()),
                         server_hostname="localhost")
    msg = bdat_msg(content)
    t0 = time.time()
    for _ in range(n):
        c.sendall(msg)
    c.recv(100)
    return n / (time.time() - t0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-n", type=int, default=3000)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--record", default="full", choices=("full", "meta", "none"))
    a = p.parse_args()
    d = tempfile.mkdtemp(prefix="standin-bench.")
    proc = start_standin(d, a.record)
    try:
        env = Env()
        tok = get_token(env)
        content = body(a.size)
        s = Smtp(env.smtp_port, env.ca)
        code, _ = s.login(MAILBOX, tok)
        assert code == 235, code
        res = {"stream": measure(proc, stream, s, a.n, content),
               "1-rt": measure(proc, one_rt, s, a.n // 3, content),
               "data-2rt": measure(proc, data_2rt, s, a.n // 3, content)}
        s.close()
        res["3 conns"] = parallel(proc, tok, 3, a.n // 3, content)
        base = baseline(os.path.join(d, "base"), a.n, content) if os.makedirs(
            os.path.join(d, "base")) is None else 0
        print("stand-in ceiling, one authenticated connection, %d-byte messages, "
              "record=%s, %d CPUs:" % (len(content), a.record, os.cpu_count()))
        print("  baseline (same bytes through Python TLS into a sink): %8.0f msgs/s" % base)
        for k, (v, per_cpu) in res.items():
            print("  %-10s %8.0f msgs/s  (%3.0f%% of baseline); %6.0f msgs per CPU-second "
                  "of the stand-in" % (k, v, 100 * v / base, per_cpu))
        print("load average: %s" % open("/proc/loadavg").read().split()[0])
    finally:
        proc.terminate()
        proc.wait()
        if os.environ.get("KEEP_TMP") != "1":
            shutil.rmtree(d, ignore_errors=True)
        else:
            print("kept", d)


if __name__ == "__main__":
    main()
