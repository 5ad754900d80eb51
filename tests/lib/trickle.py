#!/usr/bin/python3
"""trickle.py - a slow SMTP client: it opens a transaction, then sends its
message one byte every few seconds, as a slow or hostile client would.

Usage: trickle.py PORT SENDER RCPT INTERVAL [STAGE [MAXSECS]]

STAGE says where it trickles: "data" (default: EHLO, MAIL, RCPT, DATA, then
the message text byte by byte) or "command" (EHLO, MAIL, then a RCPT
command byte by byte).

Prints one line per event, flushed at once, for the test to wait on:
  reply TEXT      a reply to a command (one line; multi-line joined by |)
  holding         the transaction is open (354 seen, or MAIL accepted for
                  "command"), trickling starts
  closed TEXT     the server answered or closed while we trickled (TEXT:
                  its reply, or EOF)
  refused TEXT    a command got an unexpected reply; the client quits
It stops by itself after MAXSECS (default 600) of trickling ("still
open"), or when killed.
"""
import select
import socket
import sys
import time


def say(*words):
    print(*words, flush=True)


def reply(f):
    """One whole reply from file f, "EOF" when the server closed."""
    lines = []
    while True:
        line = f.readline()
        if not line:
            return "EOF"
        line = line.decode("latin-1").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return " | ".join(lines)


def command(s, f, text, want):
    s.sendall(text.encode() + b"\r\n")
    r = reply(f)
    say("reply", r)
    if not r.startswith(want):
        say("refused", r)
        sys.exit(0)


def main():
    port, sender, rcpt, interval = sys.argv[1:5]
    stage = sys.argv[5] if len(sys.argv) > 5 else "data"
    maxsecs = float(sys.argv[6]) if len(sys.argv) > 6 else 600
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=900)
    f = s.makefile("rb")
    say("reply", reply(f))
    command(s, f, "EHLO trickle.example", "250")
    command(s, f, "MAIL FROM:<%s>" % sender, "250")
    if stage == "data":
        command(s, f, "RCPT TO:<%s>" % rcpt, "250")
        command(s, f, "DATA", "354")
        text = b"Subject: slow\r\n\r\n" + b"x" * 100000
    else:
        text = ("RCPT TO:<%s>" % rcpt).encode() + b" " * 100000
    say("holding")
    end = time.monotonic() + maxsecs
    for byte in text:
        s.sendall(bytes([byte]))
        ready, _, _ = select.select([s], [], [], float(interval))
        if ready:
            say("closed", reply(f))
            return
        if time.monotonic() > end:
            break
    say("still open")


if __name__ == "__main__":
    try:
        main()
    except (ConnectionError, BrokenPipeError) as e:
        say("closed", "EOF (%s)" % e.__class__.__name__)
