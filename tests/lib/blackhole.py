#!/usr/bin/python3
"""blackhole.py - a TCP port on 127.0.0.1 that never answers.

Default: a port that never completes a connection, like a host behind a
firewall that drops packets (a connect times out). It listens with a
backlog of 0 and fills its accept queue with connections of its own that
it never accepts; the kernel then drops every further SYN, so a client's
connect() waits until its own timeout.

--silent: a server that accepts every connection and never says a word
(no greeting): the connection succeeds, the client waits for a banner.
It counts what it accepted in --count FILE when given.

Prints the port on stdout, then runs until killed.

usage: blackhole.py [--silent [--count FILE]]
"""
import os
import socket
import sys
import time


def drop_syns():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    fillers = []
    for _ in range(4):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    time.sleep(0.2)
    # Prove it: one more connect must not complete within a second.
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(("127.0.0.1", port))
        sys.exit("blackhole: connection completed; the kernel did not drop the SYN")
    except socket.timeout:
        pass
    probe.close()
    print(port, flush=True)
    while True:
        time.sleep(3600)


def silent(count_file):
    srv = socket.create_server(("127.0.0.1", 0), backlog=64)
    print(srv.getsockname()[1], flush=True)
    held = []
    while True:
        c, _ = srv.accept()
        held.append(c)                  # kept open, never written to
        if count_file:
            with open(count_file + ".tmp", "w") as f:
                f.write("%d\n" % len(held))
            os.replace(count_file + ".tmp", count_file)


if __name__ == "__main__":
    if "--silent" in sys.argv:
        args = sys.argv[1:]
        silent(args[args.index("--count") + 1] if "--count" in args else None)
    else:
        drop_syns()
