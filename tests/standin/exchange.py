"""exchange - stand-in for Exchange Online SMTP submission (smtp.office365.com:587).

SYNOPSIS
    srv = SmtpServer(state, ssl_context, log, port=0)   listens on 127.0.0.1
    srv.port; srv.start()                       accept loop in a thread

One thread per session. Greeting, EHLO lists before and after STARTTLS,
AUTH XOAUTH2 (with or without initial response), token checks, SendAs
check after the final dot, 3 sessions per mailbox, recipient and size
limits, PIPELINING, CHUNKING; replies as Exchange Online's submission service (tests/standin/README.md) gives
them. Faults (state.py): smtp_delay_ms, drop_in_data, eod_4xx, smtp_421,
smtp_reply.
"""
import base64
import binascii
import email.utils
import functools
import re
import socket
import ssl
import threading
import time

from smtpconn import Closed, Conn, IdleTimeout, LineTooLong

EHLO_KEYWORDS = ["SIZE {size}", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES",
                 "STARTTLS", "8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8"]
ADDR_RE = re.compile(r"^(FROM|TO):\s*<([^<>]*)>\s*(.*)$", re.I)
SIZE_RE = re.compile(r"(?:^|\s)SIZE=(\d+)", re.I)
MSGID_RE = re.compile(rb"(?im)^message-id:[ \t]*(<[^>\r\n]*>)")
FROM_RE = re.compile(rb"(?im)^from:((?:.*)(?:\r\n[ \t].*)*)")
LIMIT_REPLY = "432 4.3.2 Concurrent connections limit exceeded."


class Abort(Exception):
    """Abort - end the session now (421 sent, or connection dropped)."""


class Session:
    """Session - the protocol state of one client connection."""

    def __init__(self, srv, sock, addr, ctx):
        self.srv, self.st, self.ctx, self.log = srv, srv.state, ctx, srv.log
        self.sc = self.st.scenario
        self.ip = addr[0]
        self.c = Conn(sock, self._delay)
        self.c.on_wait = self._commit_pending
        self.id = srv.new_session_id()
        self.tls = False
        self.helo = None
        self.auth = None            # (mailbox dict, app dict, grant dict)
        self.slot = None            # mailbox whose session limit counts us
        self.pending = None         # accepted message not yet recorded
        self._txn_reset()

    def _delay(self):
        ms = self.st.fault("smtp_delay_ms")
        return float(ms) / 1000 if ms else 0

    def _txn_reset(self):
        self.mail_from = None
        self.mail_params = ""
        self.rcpts = []
        self.chunks = []
        self.chunk_size = 0
        # An accepted message's transaction lasts until its 250 has gone out
        # and the server waits: that wait is its last round trip.
        self.c.in_txn = self.pending is not None

    def fqdn(self):
        return self.sc.data["smtp"]["host"] + ".namprd04.prod.outlook.com"

    def diag(self):
        return "[%s %s %s]" % (self.fqdn(), time.strftime("%Y-%m-%dT%H:%M:%S.000Z",
                                                         time.gmtime()), self.id)

    def reply(self, text):
        self.c.reply(text)

    # session loop

    def run(self):
        try:
            if self._fault_at("CONNECT"):
                self.c.flush()
                raise Abort()
            self.reply("220 %s.outlook.office365.com Microsoft ESMTP MAIL Service ready "
                       "at %s [%s]" % (self.sc.data["smtp"]["host"], time.strftime(
                           "%a, %d %b %Y %H:%M:%S +0000", time.gmtime()), self.id))
            while self._command():
                pass
        except IdleTimeout:
            self._idle_timeout()
        except (Closed, Abort, LineTooLong, ssl.SSLError, OSError):
            pass
        finally:
            self._commit_pending()
            if self.slot:
                self.st.session_close(self.slot)
            self.c.close()

    def _idle_timeout(self):
        self.st.count("idle_timeouts")
        self.log("session %s: idle timeout, closing" % self.id)
        self.reply("451 4.7.0 Timeout waiting for client input")
        try:
            self.c.flush()
        except OSError:
            pass

    def _command(self):
        try:
            line = self.c.read_line()
        except LineTooLong:
            self.reply("500 5.5.6 Line too long")
            return True
        self.sc = self.st.scenario          # follow scenario changes between commands
        text = line.decode("utf-8", "replace")
        verb, _, arg = text.partition(" ")
        verb = verb.upper()
        if self._fault_at(verb):
            if verb == "BDAT":
                self._skip_chunk(arg)
            return True
        handler = getattr(self, "cmd_" + verb, None) if verb.isalpha() else None
        if handler is None:
            self.reply("500 5.3.3 Unrecognized command '%s'" % verb[:32])
            return True
        return handler(arg.strip()) is not False

    def _fault_at(self, where):
        """_fault_at - faults smtp_421 and smtp_reply: answer instead of acting.

        Returns True when a reply was given in place of the command's own
        (the command is not executed); raises Abort when the fault closes
        the connection (smtp_421 always, smtp_reply with "close": true)."""
        for name in ("smtp_421", "smtp_reply"):
            f = self.st.fault(name)
            if not isinstance(f, dict) or str(f.get("at", "MAIL")).upper() not in (where, "ANY"):
                continue
            if self.st.pick(name) is None:
                continue
            self.log("session %s: fault %s at %s" % (self.id, name, where))
            if name == "smtp_421":
                self.reply(f.get("reply", "421 4.3.2 Service not available, closing "
                                          "transmission channel"))
            else:
                self.reply(f.get("reply", "451 4.3.0 Temporary server error. "
                                          "Please try again later."))
            if name == "smtp_421" or f.get("close"):
                self._commit_pending()      # a 250 queued before goes out now
                self.c.flush()
                raise Abort()
            return True
        return False

    def _skip_chunk(self, arg):
        """_skip_chunk - a BDAT answered by a fault: its bytes still follow."""
        parts = arg.split()
        if parts and parts[0].isdigit():
            self.c.read_bytes(int(parts[0]))
        self._txn_reset()

    # greeting and TLS

    def cmd_EHLO(self, arg, esmtp=True):
        if not arg:
            self.reply("501 5.5.4 Invalid domain name")
            return
        self.helo = arg
        self._txn_reset()
        first = "%s.outlook.office365.com Hello [%s]" % (self.sc.data["smtp"]["host"], self.ip)
        if not esmtp:
            self.reply("250 " + first)
            return
        lines = [first] + [k.format(size=self.sc.data["smtp"]["size"])
                           for k in EHLO_KEYWORDS if not (self.tls and k == "STARTTLS")]
        if self.tls:
            lines.insert(lines.index("ENHANCEDSTATUSCODES") + 1, "AUTH LOGIN XOAUTH2")
        for n, l in enumerate(lines):
            self.reply(("250 " if n == len(lines) - 1 else "250-") + l)

    def cmd_HELO(self, arg):
        self.cmd_EHLO(arg, esmtp=False)

    def cmd_STARTTLS(self, arg):
        if self.tls:
            self.reply("500 5.3.3 Unrecognized command 'STARTTLS'")
            return
        self.reply("220 2.0.0 SMTP server ready")
        self.c.starttls(self.ctx)
        self.st.count("tls_handshakes")
        self.tls, self.helo = True, None
        self._txn_reset()

    def cmd_NOOP(self, arg):
        self.reply("250 2.0.0 OK")

    def cmd_RSET(self, arg):
        self._txn_reset()
        self.reply("250 2.0.0 Resetting")

    def cmd_QUIT(self, arg):
        self.reply("221 2.0.0 Service closing transmission channel")
        return False

    # authentication

    def cmd_AUTH(self, arg):
        mech, _, resp = arg.partition(" ")
        mech = mech.upper()
        if self.helo is None:
            return self.reply("503 5.5.2 Send hello first")
        if not self.tls or mech not in ("XOAUTH2", "LOGIN"):
            return self.reply("504 5.7.4 Unrecognized authentication type")
        if self.auth:
            return self.reply("503 5.5.2 Already authenticated")
        self.st.count("auth_attempts")
        if mech == "LOGIN":
            return self._auth_login(resp)
        if not resp:
            self.reply("334 ")
            resp = self.c.read_line().decode("utf-8", "replace").strip()
        if resp == "*":
            self.st.count("auth_failed")
            return self.reply("501 5.7.0 Authentication aborted")
        self._xoauth2(resp)

    def _auth_login(self, resp):
        """_auth_login - basic authentication is off, as in a modern tenant."""
        if not resp:
            self.reply("334 VXNlcm5hbWU6")
            self.c.read_line()
        self.reply("334 UGFzc3dvcmQ6")
        self.c.read_line()
        self.st.count("auth_failed")
        self.reply("535 5.7.139 Authentication unsuccessful, basic authentication is "
                   "disabled. %s" % self.diag())

    def _xoauth2(self, resp):
        try:
            raw = base64.b64decode(resp, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            self.st.count("auth_failed")
            return self.reply("501 5.5.2 Cannot Decode response")
        user, why, refusal = self._check_token(raw)
        if refusal is None and self._limit_at() == "AUTH" and not self._take_slot(user):
            why, refusal = "concurrent sessions", LIMIT_REPLY
        if refusal:
            self.st.count("auth_failed")
            self.log("session %s: AUTH refused: %s" % (self.id, why))
            return self.reply(refusal)
        self.auth = user, self._app, self._grant
        self.st.count("auth_ok")
        self.reply("235 2.7.0 Authentication successful")

    def _limit_at(self):
        return str(self.sc.data["smtp"].get("session_limit_at", "AUTH")).upper()

    def _take_slot(self, mbox):
        """_take_slot - count this session against the mailbox's limit; False
        when the mailbox (with the sessions other hosts hold) is at it."""
        if self.slot is None and self.st.session_open(
                mbox["address"].lower(), int(self.sc.data["smtp"]["max_sessions_per_mailbox"])):
            self.slot = mbox["address"].lower()
        return self.slot is not None

    def _check_token(self, raw):
        """_check_token - (mailbox, why, None) on success, else a refusal."""
        bad = "535 5.7.3 Authentication unsuccessful " + self.diag()
        m = re.match(r"^user=([^\x01]*)\x01auth=Bearer ([^\x01]+)\x01\x01$", raw)
        if not m:
            return None, "malformed XOAUTH2 payload", bad
        grant = self.st.lookup_token(m.group(2))
        if grant is None:
            return None, "token unknown (not issued by this stand-in, or revoked)", bad
        if grant["expires"] <= time.time():
            return None, "token expired", bad
        if grant.get("aud", "https://outlook.office365.com") != "https://outlook.office365.com":
            return None, "token is for %s, not Exchange" % grant.get("aud"), bad
        app, mbox = self.sc.app_by_id(grant["client_id"]), self.sc.mailbox(m.group(1))
        if app is None or mbox is None:
            return None, "no such app or mailbox %r" % m.group(1), bad
        tenant = self.sc.mailbox_tenant(mbox)
        if tenant is None or tenant["id"] != grant["tenant"]:
            return None, "mailbox %s is not in the token's tenant" % m.group(1), bad
        off = self.sc.smtp_auth_disabled(mbox)
        if off:
            return None, "SMTP AUTH disabled (%s)" % off, (
                "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is "
                "disabled for the %s. Visit https://aka.ms/smtp_auth_disabled for more "
                "information. %s" % (off, self.diag()))
        if not app.get("service_principal", True):
            return None, "service principal of %s not registered" % app["client_id"], bad
        if not self.sc.has_access(app, mbox["address"]):
            return None, "app has no permission on mailbox %s" % mbox["address"], bad
        self._app, self._grant = app, grant
        return mbox, None, None

    # mail transaction

    def cmd_MAIL(self, arg):
        self._commit_pending()
        if self.helo is None:
            return self.reply("503 5.5.2 Send hello first")
        if not self.auth:
            return self.reply("530 5.7.57 Client not authenticated to send mail.")
        if self.mail_from is not None:
            return self.reply("503 5.5.2 Sender already specified")
        if self._limit_at() == "MAIL" and not self._take_slot(self.auth[0]):
            self.log("session %s: MAIL refused: concurrent sessions" % self.id)
            return self.reply(LIMIT_REPLY)
        m = ADDR_RE.match(arg)
        if not m or m.group(1).upper() != "FROM":
            return self.reply("501 5.1.7 Invalid address")
        size = SIZE_RE.search(m.group(3))
        if size and int(size.group(1)) > self._limit():
            return self.reply("552 5.3.4 Message size exceeds fixed maximum message size")
        self.mail_from, self.mail_params = m.group(2), m.group(3)
        self.c.in_txn = True
        self.c.rt = 0
        self.reply("250 2.1.0 Sender OK")

    def _limit(self):
        s = self.sc.data["smtp"]
        return min(int(s["size"]), int(s.get("max_size") or s["size"]))

    def cmd_RCPT(self, arg):
        if self.mail_from is None:
            return self.reply("503 5.5.2 Need mail command")
        m = ADDR_RE.match(arg)
        if not m or m.group(1).upper() != "TO" or "@" not in m.group(2):
            return self.reply("501 5.1.3 Invalid address")
        if len(self.rcpts) >= int(self.sc.data["smtp"]["max_recipients"]):
            return self.reply("452 4.5.3 Too many recipients")
        self.rcpts.append(m.group(2))
        self.reply("250 2.1.5 Recipient OK")

    def _can_send(self):
        if self.mail_from is None:
            self.reply("503 5.5.2 Need mail command")
        elif not self.rcpts:
            self.reply("503 5.5.2 Need rcpt command")
        else:
            return True
        return False

    def cmd_DATA(self, arg):
        if not self._can_send():
            return
        self.reply("354 Start mail input; end with <CRLF>.<CRLF>")
        self._maybe_drop()
        content, oversize = self.c.read_data(self._limit())
        self._end_of_data(content, oversize, "DATA")

    def cmd_BDAT(self, arg):
        parts = arg.split()
        if not parts or not parts[0].isdigit() or len(parts) > 2 or \
                (len(parts) == 2 and parts[1].upper() != "LAST"):
            return self.reply("501 5.5.4 Invalid arguments")
        n, last = int(parts[0]), len(parts) == 2
        ok = self._can_send()       # the chunk is read (and dropped) either way
        if ok and not self.chunks:
            self._maybe_drop()
        data = self.c.read_bytes(n)
        if not ok:
            return
        self.chunk_size += n
        if self.chunk_size <= self._limit():
            self.chunks.append(data)
        if not last:
            return self.reply("250 2.0.0 %d bytes received" % n)
        oversize = self.chunk_size > self._limit()
        self._end_of_data(b"".join(self.chunks), oversize, "BDAT")

    def _maybe_drop(self):
        """_maybe_drop - fault drop_in_data: cut the connection mid-content."""
        if self.st.fault("drop_in_data") is None or self.st.pick("drop_in_data") is None:
            return
        self.c.wait_for_input()     # the client has started sending content
        self.st.count("dropped_in_data")
        self.log("session %s: dropping connection in the middle of DATA (fault)" % self.id)
        try:
            self.c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        except OSError:
            pass
        raise Abort()

    def _end_of_data(self, content, oversize, via):
        try:
            self._final_reply(content, oversize, via)
        finally:
            self._txn_reset()

    def _final_reply(self, content, oversize, via):
        if self._fault_at("EOD"):
            self.st.count("messages_refused")
            return
        mbox, app, grant = self.auth
        if oversize:
            self.st.count("messages_refused")
            return self.reply("552 5.3.4 Message size exceeds fixed maximum message size")
        denied = self._send_as_denied(content, mbox, app)
        if denied:
            self.st.count("messages_refused")
            return self.reply(
                "554 5.2.252 SendAsDenied; %s not allowed to send as %s; "
                "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied;"
                " Failed to process message due to a permanent exception with message "
                "[BeginDiagnosticData]Cannot submit message. %s[EndDiagnosticData] "
                "[Hostname=%s]" % (mbox["address"], denied, self.id, self.fqdn()))
        f = self.st.pick("eod_4xx")
        if f is not None:
            self.st.count("messages_refused")
            return self.reply(f.get("reply", "451 4.3.0 Temporary server error. "
                                             "Please try again later."))
        if not self._within_limits(mbox["address"].lower()):
            return
        self.pending = (content, {
            "mail_from": self.mail_from, "rcpt_to": list(self.rcpts),
            "mail_params": self.mail_params, "auth_user": mbox["address"],
            "client_id": app["client_id"], "tenant": grant["tenant"],
            "session": self.id, "via": via,
            "received": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        m = MSGID_RE.search(content, 0, _header_end(content))
        msgid = m.group(1).decode("utf-8", "replace") if m else "<%s@%s>" % (
            self.id, self.fqdn())
        self.reply("250 2.0.0 OK %s [Hostname=%s]" % (msgid, self.fqdn().upper()))

    def _within_limits(self, mbox):
        """_within_limits - recipients per day (refused) and messages per
        minute (delayed), when the scenario sets them."""
        s = self.sc.data["smtp"]
        per_day = int(s.get("recipients_per_day") or 0)
        if per_day and not self.st.quota_take(mbox, len(self.rcpts), per_day):
            self.st.count("messages_refused")
            self.st.count("quota_refused")
            self.reply("554 5.2.0 STOREDRV.Submission.Exception:"
                       "SubmissionQuotaExceededException; Failed to process message due to a "
                       "permanent exception with message Cannot submit message. %s "
                       "[Hostname=%s]" % (self.id, self.fqdn().upper()))
            return False
        per_minute = int(s.get("messages_per_minute") or 0)
        if per_minute:
            hold = self.st.rate_delay(mbox, per_minute, float(s.get("rate_window") or 60))
            if hold > 0:
                time.sleep(hold)
        return True

    def _commit_pending(self):
        """_commit_pending - record the accepted message before its 250 leaves."""
        if self.pending is None:
            return
        content, meta = self.pending
        self.pending = None
        self.c.in_txn = False
        self.st.record(content, meta, self.c.rt)

    def _send_as_denied(self, content, mbox, app):
        """_send_as_denied - the first of envelope sender and From: not allowed."""
        addrs = [self.mail_from] if self.mail_from else []
        m = FROM_RE.search(content, 0, _header_end(content))
        if m:
            addrs += _from_addresses(m.group(1))
        for a in addrs:
            if not self.sc.may_send_as(app, mbox, a):
                return a
        return None


@functools.lru_cache(maxsize=256)
def _from_addresses(raw):
    """_from_addresses - the addresses of a From: value (cached: bulk mail repeats it)."""
    value = raw.decode("utf-8", "replace").replace("\r\n", "")
    return [a for _, a in email.utils.getaddresses([value]) if a]


def _header_end(content):
    i = content.find(b"\r\n\r\n")
    return len(content) if i < 0 else i + 2


class SmtpServer:
    def __init__(self, state, ctx, log, port=0, host="127.0.0.1"):
        self.state, self.ctx, self.log = state, ctx, log
        self.lsock = socket.create_server((host, port), backlog=128)
        self.port = self.lsock.getsockname()[1]
        self._n = 0
        self._lock = threading.Lock()

    def new_session_id(self):
        with self._lock:
            self._n += 1
            return "08DC%04X%08X" % (self.port & 0xFFFF, self._n)

    def start(self):
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while True:
            sock, addr = self.lsock.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(float(self.state.scenario.data["smtp"].get("idle_timeout", 600)))
            self.state.count("smtp_connections")
            threading.Thread(target=Session(self, sock, addr, self.ctx).run,
                             daemon=True).start()
