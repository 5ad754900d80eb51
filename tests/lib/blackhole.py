#!/usr/bin/python3
"""blackhole.py - a TCP port on 127.0.0.1 that never completes a connection,
like a host behind a firewall that drops packets (a connect times out).

It listens with a backlog of 0 and fills its accept queue with connections
of its own that it never accepts; the kernel then drops every further SYN,
so a client's connect() waits until its own timeout. Prints the port on
stdout, then sleeps until killed.

usage: blackhole.py
"""
import socket
import sys
import time

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
