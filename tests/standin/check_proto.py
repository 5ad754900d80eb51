#!/usr/bin/python3
"""check_proto.py - the stand-in checks curl cannot drive: exact EHLO lists,
AUTH before TLS, XOAUTH2 initial response, pipelining and round trips, BDAT,
bare LF, limits, concurrency, client assertions, the control API.

Run by tests/t_standin_proto.sh with a fresh stand-in (STANDIN_* set).
Prints TAP lines; never prints a token.
"""
import base64
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cryptography.hazmat.primitives import hashes, serialization      # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa    # noqa: E402

import pki                                                            # noqa: E402
from client import Env, Smtp, ctl, get_token, post_token, xoauth2      # noqa: E402

N = 0
MAILBOX = "no-reply@contoso.onmicrosoft.com"
EHLO_PLAIN = ["SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS",
              "8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8"]
EHLO_TLS = ["SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES",
            "AUTH LOGIN XOAUTH2", "8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8"]


def ok(cond, desc, why=""):
    global N
    N += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", N, desc))
    if not cond and why:
        print("# %s" % why)
    sys.stdout.flush()


def keywords(lines):
    return [l[4:] for l in lines[1:]]


def message(frm=MAILBOX, body="hello\r\n"):
    return ("From: %s\r\nTo: r@example.com\r\nSubject: t\r\n\r\n%s" % (frm, body)).encode()


def wait_until(cond, limit=60.0):
    """wait_until - poll cond() every 0.05 s until it is true (a bound for a
    hang, not a measure of speed); its last value."""
    end = time.monotonic() + limit
    while not cond() and time.monotonic() < end:
        time.sleep(0.05)
    return cond()


def record(env, n):
    with open(os.path.join(env.msgdir, "%06d.eml" % n), "rb") as f:
        content = f.read()
    with open(os.path.join(env.msgdir, "%06d.json" % n)) as f:
        return content, json.load(f)


def check_plain(env):
    s = Smtp(env.smtp_port, env.ca)
    code, g = s.greeting
    ok(code == 220 and re.match(r"^220 \S+\.outlook\.office365\.com Microsoft ESMTP MAIL "
                                r"Service ready at .+ \[\S+\]$", g[0]), "greeting", g)
    code, lines = s.cmd("EHLO client.example")
    ok(code == 250 and keywords(lines) == EHLO_PLAIN, "EHLO before TLS: exact list, no AUTH",
       lines)
    code, lines = s.cmd("AUTH XOAUTH2 " + xoauth2(MAILBOX, "x"))
    ok(lines == ["504 5.7.4 Unrecognized authentication type"], "AUTH before STARTTLS: 504 5.7.4",
       lines)
    code, lines = s.cmd("MAIL FROM:<%s>" % MAILBOX)
    ok(lines == ["530 5.7.57 Client not authenticated to send mail."],
       "MAIL before TLS and AUTH: 530 5.7.57", lines)
    code, lines = s.cmd("STARTTLS")
    ok(lines == ["220 2.0.0 SMTP server ready"], "STARTTLS: 220 2.0.0 SMTP server ready", lines)
    s.sock = s.ctx.wrap_socket(s.sock, server_hostname="localhost")
    code, lines = s.cmd("EHLO client.example")
    ok(code == 250 and keywords(lines) == EHLO_TLS,
       "EHLO after TLS: AUTH LOGIN XOAUTH2, no STARTTLS", lines)
    code, lines = s.cmd("MAIL FROM:<%s>" % MAILBOX)
    ok(code == 530 and "5.7.57" in lines[0], "MAIL after TLS before AUTH: 530 5.7.57", lines)
    code, lines = s.cmd("AUTH PLAIN AGZvbwBiYXI=")
    ok(lines == ["504 5.7.4 Unrecognized authentication type"], "AUTH PLAIN: 504 5.7.4", lines)
    vector = ("dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFV"
              "RkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==")
    code, lines = s.cmd("AUTH XOAUTH2 " + vector)
    ok(code == 535 and lines[0].startswith("535 5.7.3 Authentication unsuccessful ["),
       "Microsoft's XOAUTH2 test vector (token not issued here): 535 5.7.3", lines)
    code, lines = s.cmd("AUTH XOAUTH2 !!!notbase64")
    ok(code == 501, "XOAUTH2 payload that is not base64: 501", lines)
    code, lines = s.cmd("FROB")
    ok(code == 500, "unknown command: 500", lines)
    code, lines = s.cmd("QUIT")
    ok(lines == ["221 2.0.0 Service closing transmission channel"], "QUIT: 221 2.0.0", lines)
    s.close()


def check_auth(env, tok):
    s = Smtp(env.smtp_port, env.ca)
    code, lines = s.login(MAILBOX, tok, initial_response=True)
    ok(lines == ["235 2.7.0 Authentication successful"],
       "AUTH XOAUTH2 <2 KB token> initial response (line over 2 KB): 235 2.7.0", lines)
    code, lines = s.cmd("AUTH XOAUTH2 " + xoauth2(MAILBOX, tok))
    ok(code == 503, "second AUTH: 503", lines)
    s.cmd("QUIT")
    s.close()
    s = Smtp(env.smtp_port, env.ca)
    code, lines = s.login(MAILBOX, tok, initial_response=False)
    ok(code == 235, "AUTH XOAUTH2, 334, payload: 235", lines)
    code, lines = s.cmd("EHLO again.example")
    code, lines = s.cmd("MAIL FROM:<%s>" % MAILBOX)
    ok(code == 250, "authentication survives a new EHLO", lines)
    s.close()
    s = Smtp(env.smtp_port, env.ca)
    s.starttls()
    s.cmd("EHLO client.example")
    code, lines = s.cmd("AUTH LOGIN")
    code2, _ = s.cmd(base64.b64encode(MAILBOX.encode()).decode())
    code3, lines3 = s.cmd(base64.b64encode(b"password").decode())
    ok(code == 334 and code2 == 334 and lines3[0].startswith("535 5.7.139"),
       "AUTH LOGIN (basic auth): 535 5.7.139", lines3)
    s.close()


def check_pipelining(env, tok):
    before = len(os.listdir(env.msgdir))
    s = Smtp(env.smtp_port, env.ca)
    s.login(MAILBOX, tok)
    body = b"line1\r\n..dot line\r\nbare\n.\nLF dot LF stays\r\nlast\r\n"
    content = message(body=body.decode())
    stuffed = content.replace(b"\r\n.", b"\r\n..")
    s.send("MAIL FROM:<%s>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
           % MAILBOX)
    replies = [s.reply()[0] for _ in range(4)]
    ok(replies == [250, 250, 250, 354], "pipelined MAIL, RCPT, RCPT, DATA", replies)
    s.send(stuffed + b".\r\n")
    code, lines = s.reply()
    ok(code == 250 and lines[0].startswith("250 2.0.0 OK <"), "end of data: 250 2.0.0 OK", lines)
    st = ctl(env, "GET", "/stats")
    ok(st["round_trips_last"] == 2, "pipelined DATA message: 2 round trips",
       st["round_trips_last"])
    n = before // 2 + 1
    got, meta = record(env, n)
    ok(got == content, "record byte-exact: unstuffed, bare LF.LF kept as content")
    ok(meta["rcpt_to"] == ["a@example.com", "b@example.com"] and meta["via"] == "DATA",
       "record envelope", meta)
    # BDAT: two chunks, the last pipelined with MAIL and RCPT.
    part1, part2 = content[:20], content[20:] + b".not unstuffed\r\n"
    s.send(("MAIL FROM:<%s>\r\nRCPT TO:<c@example.com>\r\nBDAT %d\r\n" %
            (MAILBOX, len(part1))).encode() + part1 +
           ("BDAT %d LAST\r\n" % len(part2)).encode() + part2)
    replies = [s.reply() for _ in range(4)]
    ok([r[0] for r in replies] == [250, 250, 250, 250] and
       replies[3][1][0].startswith("250 2.0.0 OK"), "BDAT chunk + BDAT LAST", replies)
    got, meta = record(env, n + 1)
    ok(got == part1 + part2 and meta["via"] == "BDAT", "BDAT content recorded as sent")
    st = ctl(env, "GET", "/stats")
    ok(st["round_trips_last"] == 1, "fully pipelined BDAT message: 1 round trip",
       st["round_trips_last"])
    # Not pipelined: one round trip per command.
    for line in ("MAIL FROM:<%s>" % MAILBOX, "RCPT TO:<d@example.com>", "DATA"):
        s.cmd(line)
    s.send(content + b".\r\n")
    s.reply()
    st = ctl(env, "GET", "/stats")
    ok(st["round_trips_last"] == 4, "lock-step message: 4 round trips", st["round_trips_last"])
    s.send(b"MAIL FROM:<%s>\r\nRCPT TO:<e@example.com>\r\nDATA\r\n" % MAILBOX.encode())
    [s.reply() for _ in range(3)]
    s.send(b"no terminator here\n.\n")
    s.send(b"\r\n.\r\n")
    code, _ = s.reply()
    ok(code == 250, "CRLF . CRLF ends it")
    # Had the bare LF . LF ended DATA, that 250 would have been its reply and
    # the record would stop before the ".".
    got, _ = record(env, n + 3)
    ok(got.startswith(b"no terminator here\n.\n") and ctl(env, "GET", "/stats")["recorded"] == n + 3,
       "bare LF . LF does not end DATA: it is content of the one message", got)
    s.close()


def check_limits(env, tok):
    s = Smtp(env.smtp_port, env.ca)
    s.login(MAILBOX, tok)
    cmds = "MAIL FROM:<%s>\r\n" % MAILBOX + "".join(
        "RCPT TO:<r%d@example.com>\r\n" % i for i in range(501))
    s.send(cmds)
    replies = [s.reply() for _ in range(502)]
    ok(all(r[0] == 250 for r in replies[:501]), "500 recipients accepted")
    ok(replies[501][1] == ["452 4.5.3 Too many recipients"], "501st: 452 4.5.3", replies[501])
    s.cmd("RSET")
    code, lines = s.cmd("NOOP " + "x" * 9000)
    ok(code == 250, "9 KB command line accepted", lines)
    code, lines = s.cmd("NOOP " + "x" * 17000)
    ok(code == 500 and "5.5.6" in lines[0], "17 KB command line: 500 5.5.6", lines)
    code, lines = s.cmd("NOOP")
    ok(code == 250, "session still usable after a too long line", lines)
    ctl(env, "POST", "/scenario", {"smtp": {"max_size": 1000}})
    s.cmd("MAIL FROM:<%s>" % MAILBOX)
    s.cmd("RCPT TO:<r@example.com>")
    s.cmd("DATA")
    s.send(message(body="x" * 70 + "\r\n") * 30 + b".\r\n")
    code, lines = s.reply()
    ok(lines == ["552 5.3.4 Message size exceeds fixed maximum message size"],
       "over max_size without SIZE=: 552 5.3.4 after the data", lines)
    ctl(env, "POST", "/scenario", {"smtp": {"max_size": 157286400}})
    s.close()


def check_sendas_bdat(env, tok):
    s = Smtp(env.smtp_port, env.ca)
    s.login(MAILBOX, tok)
    content = message(frm="Display <Alerts@Contoso.onmicrosoft.com>")
    s.send("MAIL FROM:<%s>\r\nRCPT TO:<r@example.com>\r\nBDAT %d LAST\r\n" % (MAILBOX, len(content)))
    s.send(content)
    r = [s.reply() for _ in range(3)]
    ok(r[2][0] == 250, "From: with display name and SendAs right (case-insensitive)", r[2])
    content = message(frm="a@contoso.onmicrosoft.com, %s" % MAILBOX)
    s.send("MAIL FROM:<%s>\r\nRCPT TO:<r@example.com>\r\nBDAT %d LAST\r\n" % (MAILBOX, len(content)))
    s.send(content)
    r = [s.reply() for _ in range(3)]
    ok(r[2][0] == 554 and r[2][1][0].startswith(
        "554 5.2.252 SendAsDenied; %s not allowed to send as a@contoso.onmicrosoft.com;" % MAILBOX),
       "BDAT: any From: address without SendAs: 554 5.2.252", r[2])
    s.close()


def check_concurrency(env, tok):
    ctl(env, "POST", "/reset")
    sess = []
    for i in range(3):
        s = Smtp(env.smtp_port, env.ca)
        code, _ = s.login(MAILBOX, tok)
        sess.append((s, code))
    ok([c for _, c in sess] == [235] * 3, "3 sessions for one mailbox")
    s4 = Smtp(env.smtp_port, env.ca)
    code, lines = s4.login(MAILBOX, tok)
    ok(lines == ["432 4.3.2 Concurrent connections limit exceeded."],
       "4th session: 432 4.3.2 Concurrent connections limit exceeded.", lines)
    sess[0][0].cmd("QUIT")
    sess[0][0].close()
    wait_until(lambda: ctl(env, "GET", "/stats")["concurrent"].get(MAILBOX, 0) < 3)
    code, lines = s4.cmd("AUTH XOAUTH2 " + xoauth2(MAILBOX, tok))
    ok(code == 235, "after one session ends the 4th may authenticate", lines)
    st = ctl(env, "GET", "/stats")
    ok(st["max_concurrent"].get(MAILBOX) == 3 and st["concurrency_refused"] == 1,
       "stats: max_concurrent 3, concurrency_refused 1", st["max_concurrent"])
    for s, _ in sess[1:]:
        s.close()
    s4.close()


def jwt(env, app, key, cert_pem, alg="PS256", thumb="x5t#S256", **over):
    x5t, x5t256, _ = pki.thumbprints(cert_pem)
    head = {"alg": alg, "typ": "JWT", thumb: x5t256 if thumb == "x5t#S256" else x5t}
    now = int(time.time())
    claims = {"aud": "%s/%s/oauth2/v2.0/token" % (env.authority, app["tenant"]),
              "iss": app["client_id"], "sub": app["client_id"], "jti": str(uuid.uuid4()),
              "nbf": now, "exp": now + 600, "iat": now}
    claims.update(over)
    enc = lambda o: pki.b64url(json.dumps(o).encode())                  # noqa: E731
    signed = (enc(head) + "." + enc(claims)).encode()
    pad = (padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
           if alg == "PS256" else padding.PKCS1v15())
    return signed.decode() + "." + pki.b64url(key.sign(signed, pad, hashes.SHA256()))


def assertion_post(env, app, assertion):
    return post_token(env, app["tenant"], {
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "scope": "https://outlook.office365.com/.default", "client_assertion": assertion,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})


def check_held(env, tok):
    """check_held - sessions held by "another host" (POST /hold) count
    against the limit; with session_limit_at MAIL the 432 answers MAIL and
    the pipelined RCPT and BDAT behind it get 503."""
    ctl(env, "POST", "/reset")
    r = ctl(env, "POST", "/hold", {"mailbox": MAILBOX, "sessions": 3})
    ok(r == {"held": {MAILBOX: 3}}, "POST /hold: 3 sessions held elsewhere", r)
    s = Smtp(env.smtp_port, env.ca)
    code, lines = s.login(MAILBOX, tok)
    ok(lines == ["432 4.3.2 Concurrent connections limit exceeded."],
       "held at the limit: AUTH gets 432 (session_limit_at AUTH, the default)", lines)
    s.close()
    ctl(env, "POST", "/scenario", {"smtp": {"session_limit_at": "MAIL"}})
    s = Smtp(env.smtp_port, env.ca)
    code, lines = s.login(MAILBOX, tok)
    ok(code == 235, "session_limit_at MAIL: AUTH succeeds", lines)
    content = message()
    s.send("MAIL FROM:<%s>\r\nRCPT TO:<r@example.com>\r\nBDAT %d LAST\r\n"
           % (MAILBOX, len(content)))
    s.send(content)
    r = [s.reply() for _ in range(3)]
    ok([x[1][0] for x in r] == ["432 4.3.2 Concurrent connections limit exceeded.",
                                "503 5.5.2 Need mail command", "503 5.5.2 Need mail command"],
       "MAIL 432, then 503 to the RCPT and BDAT pipelined behind it", r)
    ctl(env, "POST", "/hold", {"mailbox": MAILBOX, "sessions": 2})
    code, lines = s.cmd("MAIL FROM:<%s>" % MAILBOX)
    ok(code == 250, "a slot freed: the next MAIL of the same session is accepted", lines)
    st = ctl(env, "GET", "/stats")
    ok(st["concurrent"].get(MAILBOX) == 1 and st["held"] == {MAILBOX: 2}
       and st["concurrency_refused"] == 2, "stats: concurrent 1, held 2, refused 2", st)
    s.close()
    ctl(env, "POST", "/hold", {"mailbox": MAILBOX, "sessions": 0})
    ctl(env, "POST", "/scenario", {"smtp": {"session_limit_at": "AUTH"}})


def check_assertions(env):
    app = env.app("main")
    with open(os.path.join(env.clients, "main.key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    with open(os.path.join(env.clients, "main.pem")) as f:
        pem = f.read()
    a = jwt(env, app, key, pem)
    st, body, _ = assertion_post(env, app, a)
    ok(st == 200 and len(body.get("access_token", "")) > 1000, "assertion PS256 + x5t#S256: 200")
    st, body, _ = assertion_post(env, app, a)
    ok(st == 401 and body.get("error_codes") == [700027], "replayed jti: 401 AADSTS700027")
    st, body, _ = assertion_post(env, app, jwt(env, app, key, pem, "RS256", "x5t"))
    ok(st == 200, "assertion RS256 + x5t (SHA-1): 200", body.get("error_description"))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = {
        "signed by another key": jwt(env, app, other, pem),
        "wrong aud": jwt(env, app, key, pem, aud="https://login.microsoftonline.com/x/oauth2/v2.0/token"),
        "iss is not the client": jwt(env, app, key, pem, iss=str(uuid.uuid4())),
        "expired": jwt(env, app, key, pem, nbf=int(time.time()) - 2000, exp=int(time.time()) - 1000),
        "not yet valid": jwt(env, app, key, pem, nbf=int(time.time()) + 1000),
        "no jti": jwt(env, app, key, pem, jti=""),
        "not a JWT": "abc.def",
    }
    for what, a in bad.items():
        st, body, _ = assertion_post(env, app, a)
        ok(st == 401 and body.get("error") == "invalid_client" and
           body.get("error_codes") == [700027], "assertion %s: 401 AADSTS700027" % what,
           (st, body.get("error_description", "")[:120]))
    _, _, newpem = pki.make_client_cert(os.environ["TESTS_TMP"], "unregistered")
    with open(os.path.join(os.environ["TESTS_TMP"], "unregistered.key"), "rb") as f:
        nkey = serialization.load_pem_private_key(f.read(), None)
    st, body, _ = assertion_post(env, app, jwt(env, app, nkey, newpem))
    ok(st == 401 and "not registered" in body.get("error_description", ""),
       "certificate not registered on the app: 700027", body.get("error_description", "")[:80])
    ctl(env, "POST", "/scenario", {"apps": [{"client_id": app["client_id"],
                                            "certificates": [{"generate": "main"}, {"pem": newpem}]}]})
    st, body, _ = assertion_post(env, app, jwt(env, app, nkey, newpem))
    ok(st == 200, "certificate registered while running (POST /scenario): 200")


def check_smtp_reply(env, tok):
    quota = "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"
    ctl(env, "POST", "/faults", {"clear": True,
                                 "smtp_reply": {"at": "EOD", "reply": quota, "count": 1}})
    s = Smtp(env.smtp_port, env.ca)
    s.login(MAILBOX, tok)
    n = ctl(env, "GET", "/stats")["recorded"]
    bdat = "MAIL FROM:<%s>\r\nRCPT TO:<r@example.com>\r\nBDAT 8 LAST\r\nabcdefgh" % MAILBOX
    s.send(bdat)
    r = [s.reply() for _ in range(3)]
    ok(r[2][1] == [quota] and ctl(env, "GET", "/stats")["recorded"] == n,
       "smtp_reply at EOD: the given reply, message not recorded", r[2])
    ctl(env, "POST", "/faults", {"smtp_reply": {"at": "BDAT", "reply": "452 4.3.1 Busy",
                                                "count": 1}})
    s.send(bdat)
    r = [s.reply() for _ in range(3)]
    code, _ = s.cmd("NOOP")
    ok(r[2][1] == ["452 4.3.1 Busy"] and code == 250,
       "smtp_reply at BDAT: chunk consumed, session in step", r)
    ctl(env, "POST", "/faults", {"smtp_421": {"at": "CONNECT", "count": 1}})
    try:
        s2 = Smtp(env.smtp_port, env.ca)
        greeting = s2.greeting[1][0]
        s2.close()
    except EOFError:
        greeting = "EOF"
    ok(greeting.startswith("421 4.3.2"), "smtp_421 at CONNECT: greeting 421", greeting)
    s.close()


def check_mailbox_limits(env, tok):
    # A window long enough for two messages on a loaded machine: the 3rd is
    # then held (the stand-in counts it), however fast the first two went.
    ctl(env, "POST", "/scenario", {"smtp": {"messages_per_minute": 2, "rate_window": 5,
                                            "recipients_per_day": 4}})
    delayed0 = ctl(env, "GET", "/stats")["rate_delayed"]
    s = Smtp(env.smtp_port, env.ca)
    s.login(MAILBOX, tok)
    bdat = "MAIL FROM:<%s>\r\n%sBDAT 8 LAST\r\nabcdefgh"
    times, codes = [], []
    for rcpts in (1, 1, 2, 1):
        t0 = time.time()
        s.send(bdat % (MAILBOX, "RCPT TO:<r@example.com>\r\n" * rcpts))
        r = [s.reply() for _ in range(2 + rcpts)]
        times.append(time.time() - t0)
        codes.append(r[-1][1][0][:9])
    delayed = ctl(env, "GET", "/stats")["rate_delayed"] - delayed0
    ok(codes[:3] == ["250 2.0.0"] * 3 and delayed == 1,
       "messages_per_minute 2 (window 5 s): the 3rd is held (%.1f s), not refused" % times[2],
       (codes, delayed))
    ok(codes[3].startswith("554 5.2.0") and ctl(env, "GET", "/stats")["quota_refused"] == 1,
       "recipients_per_day 4: the 5th recipient: 554 5.2.0 SubmissionQuotaExceeded", codes)
    ctl(env, "POST", "/scenario", {"smtp": {"messages_per_minute": 0, "recipients_per_day": 0}})
    s.close()


def check_slow_token(env):
    app = env.app("main")
    fields = {"grant_type": "client_credentials", "client_id": app["client_id"],
              "client_secret": app["secrets"][0]["value"],
              "scope": "https://outlook.office365.com/.default"}
    ctl(env, "POST", "/faults", {"clear": True, "token_delay_ms": 1200})
    req = urllib.request.Request("%s/%s/oauth2/v2.0/token" % (env.authority, app["tenant"]),
                                 urllib.parse.urlencode(fields).encode())
    try:
        urllib.request.urlopen(req, context=env.tls(), timeout=0.3)
        gave_up = False
    except OSError:
        gave_up = True
    ctl(env, "POST", "/faults", {"token_delay_ms": None,
                                 "token_error": {"row": "transient", "count": 1}})
    time.sleep(1.2)                 # the abandoned request finishes meanwhile
    st, body, _ = post_token(env, app["tenant"], fields)
    ok(gave_up and st == 503 and body.get("error_codes") == [90033],
       "a fault set while a slow request sleeps is left for the next request", st)
    ctl(env, "DELETE", "/faults")


def check_idle(env, tok):
    ctl(env, "POST", "/scenario", {"smtp": {"idle_timeout": 1.0}, "tenants": [
        {"id": "6714cd82-bac5-41be-94b0-9e4101ad0e72", "smtp_auth_disabled": False}]})
    s = Smtp(env.smtp_port, env.ca)
    code, lines = s.login(MAILBOX, tok)
    ok(code == 235, "tenant SMTP AUTH switched back on while running", lines)
    time.sleep(1.5)
    code, lines = s.reply()
    ok(lines == ["451 4.7.0 Timeout waiting for client input"] and s.closed(),
       "idle_timeout: 451 4.7.0 then closed", lines)
    ctl(env, "POST", "/scenario", {"smtp": {"idle_timeout": 600}})
    s.close()
    st = ctl(env, "GET", "/stats")
    ok(st["idle_timeouts"] == 1 and st["concurrent"].get(MAILBOX) is None,
       "idle_timeouts counted, session slot freed", st["concurrent"])


def check_control(env, tok):
    ok(ctl(env, "GET", "/health") == {"ok": True}, "GET /health")
    m = ctl(env, "GET", "/messages")["messages"]
    ok(len(m) == ctl(env, "GET", "/stats")["recorded"] and m[0]["auth_user"] == MAILBOX,
       "GET /messages lists the records")
    f = ctl(env, "POST", "/faults", {"eod_4xx": {"every": 2}, "smtp_delay_ms": 5})
    ok(f.get("eod_4xx") == {"every": 2} and f.get("smtp_delay_ms") == 5, "POST /faults")
    s = Smtp(env.smtp_port, env.ca)
    s.login(MAILBOX, tok)
    codes = []
    for _ in range(4):
        s.send("MAIL FROM:<%s>\r\nRCPT TO:<r@example.com>\r\nBDAT 8 LAST\r\nabcdefgh"
               % MAILBOX)
        codes.append([s.reply()[0] for _ in range(3)][2])
    ok(codes == [250, 451, 250, 451], "eod_4xx every 2nd message", codes)
    f = ctl(env, "POST", "/faults", {"clear": True, "smtp_421": {"at": "MAIL", "count": 1}})
    code, lines = s.cmd("MAIL FROM:<%s>" % MAILBOX)
    ok(code == 421 and s.closed(), "smtp_421 at MAIL: 421 then closed", lines)
    ctl(env, "POST", "/faults", {"drop_in_data": {"probability": 0.5, "seed": 7}})
    seq = []
    for _ in range(6):
        s = Smtp(env.smtp_port, env.ca)
        s.login(MAILBOX, tok)
        s.send("MAIL FROM:<%s>\r\nRCPT TO:<r@example.com>\r\nBDAT 8 LAST\r\nabcdefgh" % MAILBOX)
        try:
            seq.append([s.reply()[0] for _ in range(3)][2])
        except (EOFError, OSError):
            seq.append("drop")
        s.close()
    ok("drop" in seq and 250 in seq, "drop_in_data with probability 0.5 (seed 7): %s" % seq)
    check_smtp_reply(env, tok)
    ctl(env, "DELETE", "/faults")
    ok(ctl(env, "GET", "/faults") == {}, "DELETE /faults")
    try:
        ctl(env, "POST", "/faults", {"token_error": {"row": "no_such_row"}})
        refused = False
    except urllib.error.HTTPError as e:
        refused = e.code == 400
    ok(refused and ctl(env, "GET", "/faults") == {}, "POST /faults refuses an unknown row: 400")
    st = ctl(env, "POST", "/reset")
    ok(st["messages"] == 0 and st["auth_ok"] == 0, "POST /reset zeroes the counters")
    sc = ctl(env, "POST", "/scenario", {"tenants": [{"id": "6714cd82-bac5-41be-94b0-9e4101ad0e72",
                                                    "smtp_auth_disabled": True}],
                                        "mailboxes": [{"address": MAILBOX, "smtp_auth": None}]})
    s = Smtp(env.smtp_port, env.ca)
    code, lines = s.login(MAILBOX, tok)
    ok(code == 535 and "disabled for the Tenant" in lines[0],
       "tenant-wide SMTP AUTH switched off while running: 535 5.7.139", lines)
    s.close()
    ok(len(sc["tenants"]) == 2, "scenario merge keeps the other tenants")
    full = ctl(env, "GET", "/scenario")
    small = dict(full, tenants=full["tenants"][:1],
                 apps=[a for a in full["apps"] if a["name"] != "fabrikam"])
    ctl(env, "POST", "/scenario?replace=1", small)
    st, body, _ = post_token(env, "fabrikam.onmicrosoft.com", {})
    ok(st == 400 and body["error_codes"] == [90002],
       "POST /scenario?replace=1: a tenant left out is gone (90002)", st)
    ctl(env, "POST", "/scenario?replace=1", full)
    ok(get_token(env, "fabrikam") != "", "... and back after replacing again")


def main():
    env = Env()
    tok = get_token(env)
    check_plain(env)
    check_auth(env, tok)
    check_pipelining(env, tok)
    check_limits(env, tok)
    check_sendas_bdat(env, tok)
    check_concurrency(env, tok)
    check_held(env, tok)
    check_assertions(env)
    check_control(env, tok)
    check_idle(env, tok)
    check_mailbox_limits(env, tok)
    check_slow_token(env)
    print("1..%d" % N)


if __name__ == "__main__":
    main()
