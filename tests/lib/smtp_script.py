#!/usr/bin/python3
"""smtp_script.py - a scripted SMTP client for tests that need exact bytes.

Usage: smtp_script.py HOST:PORT | PORT | unix:PATH   < script

Script lines:
  > TEXT     send TEXT with escapes decoded (\\r \\n \\t \\\\ \\xNN); no CRLF
             is added, so "> MAIL FROM:<a@b>\\r\\n" is one command
  >> N C     send N bytes of character C (big payloads)
  <          read one whole reply (multi-line included) and print it
  <*         read replies until the peer closes, print them
  sleep S    pause S seconds (a client that trickles or idles)
  until PATH wait until the file PATH exists (the test creates it once it
             has done what must happen meanwhile, e.g. signalled the
             server); gives up after 120 s
  # ...      comment
Replies are printed one per line ("250 2.0.0 Ok"; multi-line replies joined
with " | "). A closed connection prints "EOF". Exit 0 unless the script is
bad.
"""
import os
import socket
import sys
import time


def connect(target):
    if target.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(target[5:])
        return s
    host, _, port = target.rpartition(":")
    if not host:
        host = "127.0.0.1"
    host = host.strip("[]")
    return socket.create_connection((host, int(port)), timeout=30)


def decode(text):
    return text.encode("utf-8").decode("unicode_escape").encode("latin-1")


class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def line(self):
        while b"\n" not in self.buf:
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                data = b""
            if not data:
                return None
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        lines = []
        while True:
            line = self.line()
            if line is None:
                return " | ".join(lines) if lines else "EOF"
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return " | ".join(lines)


def main():
    sock = connect(sys.argv[1])
    rd = Reader(sock)
    for raw in sys.stdin.read().splitlines():
        if raw.startswith(">> "):
            n, c = raw[3:].split()
            sock.sendall(c.encode() * int(n))
        elif raw.startswith("> "):
            try:
                sock.sendall(decode(raw[2:]))
            except OSError:
                print("EOF")
        elif raw.strip() == "<":
            print(rd.reply(), flush=True)
        elif raw.strip() == "<*":
            while True:
                r = rd.reply()
                print(r, flush=True)
                if r == "EOF":
                    break
        elif raw.startswith("sleep "):
            time.sleep(float(raw[6:]))
        elif raw.startswith("until "):
            for _ in range(1200):
                if os.path.exists(raw[6:]):
                    break
                time.sleep(0.1)
            else:
                sys.exit("smtp_script: %s never appeared" % raw[6:])
        elif raw.startswith("#") or not raw.strip():
            continue
        else:
            sys.exit("smtp_script: bad line: %r" % raw)
    sock.close()


if __name__ == "__main__":
    main()
