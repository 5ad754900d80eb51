"""smtpconn - the byte stream of one SMTP session: lines, data, replies.

SYNOPSIS
    c = Conn(sock, delay_fn)
    c.reply(text)            queue a reply line (CRLF added)
    c.read_line() -> bytes   one command line without CRLF; LineTooLong when
                             it exceeds MAX_LINE (the rest of it is skipped)
    c.read_data(limit) -> (content, oversize)
                             DATA content up to CRLF.CRLF, dot-unstuffed,
                             CRLF kept; a bare LF "." LF never ends it
    c.read_bytes(n) -> bytes exactly n bytes (BDAT)
    c.wait_for_input()       flush and block until some input is buffered
    c.starttls(ctx)          flush, drop buffered plaintext, TLS handshake
    c.flush(); c.close()
    c.in_txn, c.rt           round-trip accounting (below)
    Reads raise Closed when the client goes away, IdleTimeout (a Closed)
    when it stays silent past the socket's timeout.
    c.on_wait                callback run before a flush that precedes a wait

Replies are only sent when the server needs more input: that is how a
pipelining server behaves, and it makes the round-trip count meaningful.
A round trip is counted each time the server has answered everything it
read and now waits for the client while a mail transaction is open
(in_txn). delay_fn() gives the emulated network delay in seconds, slept
once per such batch of replies. A wait for the rest of a BDAT chunk is no
round trip (and is not delayed): the client owes those bytes and sends
them without waiting for any reply, so replies flushed meanwhile (to MAIL
and RCPT of a large one-flight message) cost it nothing.
"""
import socket
import time

MAX_LINE = 16384
CHUNK = 262144


class Closed(Exception):
    """Closed - the client went away."""


class IdleTimeout(Closed):
    """IdleTimeout - the client was silent longer than the socket timeout."""


class LineTooLong(Exception):
    """LineTooLong - a command line longer than MAX_LINE."""


class Conn:
    def __init__(self, sock, delay_fn):
        self.sock = sock
        self.delay_fn = delay_fn
        self.buf = bytearray()
        self.pos = 0
        self.out = []
        self.in_txn = False
        self.rt = 0
        self.owed = False           # inside a BDAT chunk: the client is not waiting
        self.on_wait = None

    def reply(self, text):
        self.out.append(text.encode("utf-8") + b"\r\n")

    def flush(self):
        if not self.out:
            return
        data = b"".join(self.out)
        self.out = []
        self.sock.sendall(data)

    def _compact(self):
        if self.pos:
            del self.buf[:self.pos]
            self.pos = 0

    def _fill(self):
        """_fill - answer what was read, then wait for more bytes."""
        if self.out:
            if self.in_txn and not self.owed:
                self.rt += 1
            if self.on_wait:
                self.on_wait()
            d = 0 if self.owed else self.delay_fn()
            if d:
                time.sleep(d)
            self.flush()
        try:
            data = self.sock.recv(CHUNK)
        except socket.timeout:
            raise IdleTimeout("idle")
        except (ConnectionError, OSError) as e:
            raise Closed(str(e))
        if not data:
            raise Closed("EOF")
        self.buf += data

    def wait_for_input(self):
        if self.pos >= len(self.buf):
            self._compact()
            self._fill()

    def read_line(self):
        scan = self.pos
        while True:
            i = self.buf.find(b"\r\n", scan)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                if len(line) > MAX_LINE:
                    raise LineTooLong()
                return line
            self._compact()
            scan = max(0, len(self.buf) - 1)
            if len(self.buf) > MAX_LINE:
                self._skip_line()
                raise LineTooLong()
            self._fill()

    def _skip_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                self.pos = i + 2
                return
            del self.buf[:max(0, len(self.buf) - 1)]
            self._fill()

    def read_data(self, limit):
        """read_data - content of DATA; oversize content is not kept."""
        self._compact()
        scan, dropped = 0, 0
        while True:
            if not dropped and self.buf.startswith(b".\r\n"):
                self.pos = 3
                return b"", False
            i = self.buf.find(b"\r\n.\r\n", scan)
            if i >= 0:
                raw = bytes(self.buf[:i + 2])
                self.pos = i + 5
                return _unstuff(raw), dropped > 0 or len(raw) > limit
            if len(self.buf) + dropped > limit and len(self.buf) > 8:
                # Too big: keep only what a terminator split across
                # reads needs, and just count the rest.
                dropped += len(self.buf) - 4
                del self.buf[:len(self.buf) - 4]
            scan = max(0, len(self.buf) - 4)
            self._fill()

    def read_bytes(self, n):
        self._compact()
        self.owed = True
        try:
            while len(self.buf) < n:
                self._fill()
        finally:
            self.owed = False
        data = bytes(self.buf[:n])
        self.pos = n
        return data

    def starttls(self, ctx):
        self.flush()
        self.buf = bytearray()          # never act on plaintext sent after STARTTLS
        self.pos = 0
        self.sock = ctx.wrap_socket(self.sock, server_side=True)

    def close(self):
        try:
            self.flush()
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def _unstuff(raw):
    """_unstuff - remove the leading dot that transparency added to lines."""
    if raw.startswith(b"."):
        raw = raw[1:]
    return raw.replace(b"\r\n.", b"\r\n")
