#!/usr/bin/python3
"""syslog_sink.py - a stand-in for the syslog daemon's /dev/log in tests.

Usage: syslog_sink.py SOCKET LOGFILE

Binds a unix datagram socket at SOCKET and, for every datagram in the
syslog(3) form "<PRI>Mmm dd hh:mm:ss TAG[PID]: TEXT", appends to LOGFILE
the line a syslog daemon writes: "Mmm dd hh:mm:ss HOST TAG[PID]: TEXT",
and to LOGFILE.pri the PRI value, so a test can check the facility. A
datagram of another form is written as "MALFORMED <datagram>". Each line
is flushed at once. Runs until killed (SIGTERM); creates LOGFILE before
it binds, so "SOCKET exists" means "ready".
"""
import os
import re
import socket
import sys

FORM = re.compile(rb"^<(\d{1,3})>([A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d) (.*)$", re.S)


def main():
    path, logfile = sys.argv[1], sys.argv[2]
    host = socket.gethostname().split(".")[0].encode()
    out = open(logfile, "ab", buffering=0)
    pri = open(logfile + ".pri", "ab", buffering=0)
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path + ".tmp")
    os.chmod(path + ".tmp", 0o666)
    os.rename(path + ".tmp", path)
    while True:
        data = sock.recv(65536)
        m = FORM.match(data)
        if not m or b"\n" in data:
            out.write(b"MALFORMED " + data.replace(b"\n", b"\\n") + b"\n")
            continue
        out.write(m.group(2) + b" " + host + b" " + m.group(3) + b"\n")
        pri.write(m.group(1) + b"\n")


if __name__ == "__main__":
    main()
