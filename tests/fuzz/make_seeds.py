#!/usr/bin/python3
"""make_seeds.py - write the seed corpora of the fuzz targets.

Run from the top of the tree: /usr/bin/python3 tests/fuzz/make_seeds.py
Each seed is a small, meaningful input in the target's layout (see the
comment at the top of tests/fuzz/fuzz_NAME.c); its file name says what it
is. Inputs that once crashed a target are added by hand as crash-*.
"""
import base64
import json
import os

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
SEED = b"\x2a\x00\x00\x00"          # a cutting pattern: mostly small pieces


def put(target, name, data):
    d = os.path.join(TOP, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# fuzz_smtpd_cmd: byte 0 = upstream extensions (SIZE 1, 8BITMIME 2,
# SMTPUTF8 4, DSN 8), then the client's command lines.
CMD = {
    "session": b"\x0fEHLO client.example\r\n"
               b"MAIL FROM:<alarm@host.example> SIZE=1000 BODY=8BITMIME\r\n"
               b"RCPT TO:<ops@example.com> NOTIFY=SUCCESS,FAILURE "
               b"ORCPT=rfc822;ops@example.com\r\nDATA\r\nQUIT\r\n",
    "null-sender-no-ext": b"\x00MAIL FROM:<> BODY=7BIT SMTPUTF8\r\n"
                          b"RCPT TO:<postmaster>\r\nRSET\r\nNOOP\r\n",
    "lowercase-lf-space": b"\x05mail from: <x@y.example> ret=hdrs envid=abc\n"
                          b"rcpt to: <z@w.example>\nlhlo me\n",
    "bad-syntax": b"\x0fMAIL FROM:x@y\r\nMAIL FROM:<a b>\r\nRCPT TO:<a>junk\r\n"
                  b"MAIL FROM:<a> SIZE=abc\r\nMAIL FROM:<a> FOO=bar\r\n"
                  b"RCPT TO:<a> SIZE=10\r\nMAIL FROM:<a> SIZE=99999999999999999999\r\n"
                  b"MAIL TO:<a>\r\nRCPT FROM:<a>\r\nMAIL FROM:<a\r\n",
    "long-line": b"\x0fMAIL FROM:<" + b"a" * 2100 + b"@x>\r\nNOOP\r\n",
    "other-verbs": b"\x08HELO h\r\nVRFY x\r\nEXPN y\r\nHELP\r\nSTARTTLS\r\n"
                   b"AUTH XOAUTH2 abc=\r\nBDAT 10 LAST\r\nXYZZY\r\n\r\n",
}
for k, v in CMD.items():
    put("smtpd_cmd", k, v)

# fuzz_smtpd_data: byte 0 = size limit (< 128: none, else byte - 127),
# bytes 1-4 = cutting pattern, then the bytes after DATA.
DATA = {
    "simple": b"\x00" + SEED + b"Subject: hi\r\n\r\nbody\r\n.\r\n",
    "empty": b"\x00" + SEED + b".\r\n",
    "stuffed-then-next-command": b"\x00" + SEED +
        b"..leading dot\r\n.. \r\n...\r\n.\r\nMAIL FROM:<next@x>\r\n",
    "smuggle-lf-dot": b"\x00" + SEED + b"body\n.\r\nMAIL FROM:<evil@x>\r\n.\r\n",
    "smuggle-dot-lf": b"\x00" + SEED + b"body\r\n.\nRCPT TO:<e@x>\r\n.\r\n",
    "smuggle-cr-dot": b"\x00" + SEED + b"body\r.\r\nDATA\r\n.\r\n",
    "dot-cr-x": b"\x00" + SEED + b"a\r\n.\rX\r\n.\r\n",
    "oversize": b"\xc8" + SEED + b"0123456789" * 10 + b"\r\n.\r\n",
    "unfinished": b"\x00" + SEED + b"Subject: x\r\n\r\nno end yet\r",
}
for k, v in DATA.items():
    put("smtpd_data", k, v)

# fuzz_smtp_data: bytes 0-3 = cutting pattern, then message content.
ENC = {
    "lf-lines": SEED + b"Subject: x\n\n.dot line\n..\nend\n",
    "mixed-ends": SEED + b"a\r\nb\rc\nd\r\r\n\n.\r.\n",
    "empty": SEED,
    "8bit": SEED + "Subject: caf\u00e9\n\n\u00e9t\u00e9\n.\n".encode(),
    "no-final-newline": SEED + b"last line without end",
    "cr-at-end": SEED + b"x\r",
}
for k, v in ENC.items():
    put("smtp_data", k, v)

# fuzz_token_reply: byte 0 < 160 = HTTP 200 (else a status from a table:
# 160 -> 400, 161 -> 401, 162 -> 429, 163 -> 500 ...), byte 1 = Retry-After
# (when a multiple of 8), then the body.
TOKEN = "eyJ0eXAiOiJKV1QiLCJub25jZSI6IkFCQyIsImFsZyI6IlJTMjU2In0.payload.sig"
DESC = ("AADSTS7000215: Invalid client secret provided. Ensure the secret "
        "being sent in the request is the client secret value, not the "
        "client secret ID.\r\nTrace ID: 0c7a\r\nCorrelation ID: 9d1b\r\n"
        "Timestamp: 2025-01-01 00:00:00Z")
TR = {
    "ok": b"\x00\x00" + json.dumps({"token_type": "Bearer", "expires_in": 3599,
                                    "ext_expires_in": 3599,
                                    "access_token": TOKEN}).encode(),
    "ok-quoted-expiry": b"\x00\x00" + json.dumps(
        {"token_type": "Bearer", "expires_in": "3599", "access_token": TOKEN}).encode(),
    "ok-no-type": b"\x00\x00" + json.dumps({"expires_in": 60, "access_token": "t"}).encode(),
    "wrong-secret": b"\xa1\x00" + json.dumps({
        "error": "invalid_client", "error_description": DESC,
        "error_codes": [7000215], "timestamp": "2025-01-01 00:00:00Z",
        "trace_id": "0c7a", "correlation_id": "9d1b",
        "error_uri": "https://login.microsoftonline.com/error?code=7000215"}).encode(),
    "unknown-code": b"\xa0\x00" + json.dumps({
        "error": "invalid_request", "error_description": "AADSTS99999: odd\r\nTrace ID: 1",
        "error_codes": [99999]}).encode(),
    "throttled": b"\xa2\x1e" + b"Too Many Requests",
    "server-error": b"\xa3\x00" + b"<html><body>502 Bad Gateway</body></html>",
    "portal-200": b"\x00\x00" + b"<html><title>Please log in</title></html>",
    "ok-bad-type": b"\x00\x00" + json.dumps({"token_type": "MAC", "expires_in": 5,
                                            "access_token": TOKEN}).encode(),
    "ok-huge-expiry": b"\x00\x00" + b'{"token_type":"Bearer","expires_in":'
                      b'9223372036854775807,"access_token":"abcdefghij"}',
}
for k, v in TR.items():
    put("token_reply", k, v)

# fuzz_xoauth2: byte 0 = user name length (mod the rest), then user name,
# then token; the whole rest is also tried as a 334 challenge.
USER = b"test@contoso.onmicrosoft.com"
CHALLENGE = base64.b64encode(json.dumps(
    {"status": "401", "schemes": "bearer",
     "scope": "https://outlook.office365.com/"}).encode())
XO = {
    "ms-test-vector": bytes([len(USER)]) + USER + b"EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA",
    "challenge": bytes([0]) + CHALLENGE,
    "challenge-not-text": bytes([0]) + base64.b64encode(b"\x00\x01binary"),
    "padding-1": bytes([0]) + b"YWI=",
    "padding-2": bytes([0]) + b"YQ==",
    "bad-length": bytes([0]) + b"YWJj=",
}
for k, v in XO.items():
    put("xoauth2", k, v)

# fuzz_smtp_reply: byte 0 = smtp_reply_oneline buffer size - 1, then
# what the upstream sends (lines split at LF).
RP = {
    "greeting-ehlo": b"\x50220 BN8PR.outlook.office365.com Microsoft ESMTP MAIL "
                     b"Service ready at Mon, 1 Jan 2025 00:00:00 +0000 [08DC]\r\n"
                     b"250-BN8PR.outlook.office365.com Hello [192.0.2.1]\r\n"
                     b"250-SIZE 157286400\r\n250-PIPELINING\r\n250-DSN\r\n"
                     b"250-ENHANCEDSTATUSCODES\r\n250-AUTH LOGIN XOAUTH2\r\n"
                     b"250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n",
    "auth-refused": b"\x10535 5.7.3 Authentication unsuccessful "
                    b"[BN8PR.namprd.prod.outlook.com 2025-01-01T00:00:00.000Z]\r\n",
    "sendas-denied": b"\xff554 5.2.252 SendAsDenied; no-reply@contoso.com not allowed "
                     b"to send as x@example.com; STOREDRV.Submission.Exception:"
                     b"SendAsDeniedException.MapiExceptionSendAsDenied\r\n",
    "quota": b"\x40554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException\r\n",
    "multiline-enhanced": b"\x08451-4.4.1 first\r\n451-4.4.1 second\r\n451 4.4.1 third\r\n",
    "code-change": b"\x20250-a\r\n251 b\r\n432 4.3.2 Concurrent connections limit exceeded.\r\n",
    "injection": b"\x80250 ok\rinjected\x00\x1b[31m\r\n250-\r\n250 \r\n",
    "odd-codes": b"\x02199 x\r\n600 y\r\n25\r\n2500\r\n354 Start mail input\r\n",
}
for k, v in RP.items():
    put("smtp_reply", k, v)

# fuzz_milter_rewrite: byte 0 = flags (1: has Reply-To; 2-6: number of
# From headers << 1; 8: send_as empty, the field is the mailbox), then
# NUL-separated: envelope sender, send_as (or mailbox), From values.
def mr(flags, *fields):
    return bytes([flags]) + b"\0".join(f.encode() for f in fields)


MR = {
    "cron-display": mr(2, "root@host.example", "Guest Wi-Fi <guest-wifi@contoso.com>",
                       "Cron Daemon <root@host.example>"),
    "comment-name": mr(2, "root@host.example", "alerts@contoso.com",
                       "root@host (Cron Daemon)"),
    "encoded-word": mr(2, "ise@example.com", "G\u00e4ste WLAN <guest@contoso.com>",
                       "=?UTF-8?B?w6l0w6k=?= <ise@example.com>"),
    "null-sender-reply-to": mr(3, "", "alerts@contoso.com", "MAILER-DAEMON@host"),
    "mailbox-default": mr(8 | 2, "nagios@host", "no-reply@contoso.onmicrosoft.com",
                          "nagios@host"),
    "group-two-froms": mr(4, "a@b.example", "x@contoso.com", "Team: a@b.example, c@d;",
                          "Second <s@e.example>"),
    "malformed": mr(6, "x@y", "\"Quote\\\" (x)\" <as@contoso.com>",
                    "\"unterminated <x@y>", "(comment <x@y>", "a, b <x@y"),
    "folded": mr(2, "X@Y", "x@y", "Very Long\r\n Name <x@y>"),
    "no-address": mr(2, "a@b", "Display Only", "a@b"),
}
# Message mode (byte 0 >= 16): MAIL arguments, then header lines.
MR.update({
    "msg-portal": b"\x10<ise@host.example> SIZE=2048\r\n"
                  b"From: Cisco ISE <ise@host.example>\r\nSubject: Guest account created\r\n"
                  b"To: guest@example.net\r\nX-Exorelay: class=forged\r\n",
    "msg-alarm-folded": b"\x10<nagios@host.example>\n"
                        b"From: Nagios\n\t<nagios@host.example>\nX-Mailer: Nagios 4.4\n"
                        b"Subject: =?UTF-8?B?w6l0w6k=?=\n  continued\nReply-To: ops@example.com\n"
                        b"x-exorelay-original-from: a\nX-EXORELAY-Original-From: b\n",
    "msg-bounce": b"\x10<>\nFrom: MAILER-DAEMON@host.example (Mail Delivery System)\n"
                  b"Subject: Undelivered Mail Returned to Sender\n",
    "msg-no-from": b"\x10<root@host.example> SIZE=x\nSubject: cron\nSubject: second\n",
})
for k, v in MR.items():
    put("milter_rewrite", k, v)

# fuzz_config: a configuration file.
MIN = b"""[account main]
tenant = 4f2c1d3e-9a8b-4c7d-b6e5-0a1b2c3d4e5f
client_id = 3e1f0c2a-5b7d-4e8f-9a6b-1c2d3e4f5a6b
client_secret_file = /etc/exorelay/main.secret
mailbox = no-reply@contoso.onmicrosoft.com
"""
CONF = {
    "minimal": MIN,
    "full": b"""\xef\xbb\xbf# comment
[relay]
listen = 127.0.0.1:10587, [::1]:10587, unix:/run/exorelay/smtp.sock
allow = 127.0.0.0/8, ::1, 10.0.0.0/8
state_dir = /var/lib/exorelay
spool_dir = /var/spool/exorelay
user = exorelay
log_level = debug
max_message_size = 35M   ; inline comment
max_recipients = 500
idle_timeout = 5m
data_timeout = 300
queue_lifetime = 5d
retry_min = 60
retry_max = 1h
socket_mode = 0660
metrics_file = /var/lib/exorelay/metrics.prom

[upstream]
server = smtp.office365.com
port = 587
connect_timeout = 60
command_timeout = 300
pool_idle = 60
helo_name = host.example.com

[account main]
tenant = contoso.onmicrosoft.com
client_id = 3e1f0c2a-5b7d-4e8f-9a6b-1c2d3e4f5a6b
certificate_file = /etc/exorelay/main.crt
private_key_file = /etc/exorelay/main.key
jwt_alg = RS256
credential_expiry = 2027-06-30
mailbox = no-reply@contoso.onmicrosoft.com
senders = *@example.com, root@*
max_connections = 3
messages_per_minute = 30

[account second]
tenant = 4f2c1d3e-9a8b-4c7d-b6e5-0a1b2c3d4e5f
client_id = 3e1f0c2a-5b7d-4e8f-9a6b-1c2d3e4f5a6b
client_secret_file = /etc/exorelay/second.secret
mailbox = alerts@contoso.onmicrosoft.com

[milter]
socket = unix:/var/spool/postfix/exorelay/milter.sock
local_domains = example.com, localhost

[class guest]
match_from = ise@*, guest-portal@example.com
match_subject = ^(Guest|Sponsor) (account|request)
match_header = X-Mailer: ^Cisco
send_as = Guest Wi-Fi <guest-wifi@contoso.com>
account = second

[alarms]
notify = admin@example.com
days = 30, 14, 7, 3, 1, 0
""",
    "errors": b"""[relay
[relya]
listen = 127.0.0.1:99999
max_message_size = 35Q
[account]
tenant = not a guid
timeout
 = novalue
[class x]
match_subject = (unclosed
account = nobody
""",
    "crlf-and-tabs": MIN.replace(b"\n", b"\r\n").replace(b" = ", b"\t=\t"),
    "nul-byte": b"[relay]\nlisten = 1\x002\n",
}
for k, v in CONF.items():
    put("config", k, v)

# fuzz_sendmail_msg: byte 0 = options (bit 0 -i, bit 1 -t, bits 2-7 the
# size limit in units of 37 bytes, 0 = none), then standard input.
def sm_opts(i=0, t=0, limit=0):
    return bytes([i | t << 1 | limit << 2])


SM = {
    "cron": sm_opts() + b"From: root (Cron Daemon)\nTo: root\n"
            b"Subject: Cron <root@host> run-parts\n\nok\n",
    "t-bcc-groups": sm_opts(t=1) + b"To: \"Doe, J\" <j@d.example>, a@b.example (c)\r\n"
                    b"Cc: team: x@y.example, z@w.example;\r\n"
                    b"Bcc: hidden@e.example,\r\n <route@f.example>\r\n"
                    b"Subject: t\r\n\r\nbody\r\n",
    "t-folded-no-blank": sm_opts(t=1) + b"to: a@b.example,\n\tc@d.example\nnot a header\n",
    "dot-end": sm_opts() + b"Subject: d\n\nline\n.\nafter the dot\n",
    "dot-data-i": sm_opts(i=1) + b"Subject: d\n\n.\n..\n",
    "mbox-from": sm_opts(t=1) + b"From someone Thu Dec  3 10:00:00 2026\nTo: x@y.example\n\nb\n",
    "limit": sm_opts(limit=2) + b"Subject: big\n\n" + b"x" * 200 + b"\n",
    "no-newline-at-end": sm_opts() + b"Subject: n\n\nlast line",
    "control-in-to": sm_opts(t=1) + b"To: a\x1b@b.example\n\nx\n",
    "cr-split": sm_opts() + b"a\r\rb\r\n\r\n.\r\n",
}
for k, v in SM.items():
    put("sendmail_msg", k, v)

# fuzz_spool_file: bytes 0-1 = where a copy is cut, then a spool file.
SPOOL_ENV = (b"exorelay-spool 1\nid 0123456789ABCDEF0123\ntime 1764000000\nuid 1000\n"
             b"sender app@example.com\nnotify success,failure\nret hdrs\n"
             b"envid abc123\n")
SPOOL_BODY = b"Subject: x\n\nhello\n"
SPOOL = {
    "queued": b"\x00\x30" + SPOOL_ENV + b"size %d\nrcpt a@example.com\n"
              b"rcpt b@example.com\n\n" % len(SPOOL_BODY) + SPOOL_BODY,
    "null-sender-dsn": b"\x01\x00" + b"exorelay-spool 1\nsender \ndsn 1\nsize 0\n"
                       b"rcpt postmaster@example.com\n\n",
    "state": b"\x00\x10" + SPOOL_ENV + b"size 5\nrcpt a@example.com\nattempts 3\n"
             b"first 1764000000\nlast 1764000600\nnext 1764001200\n"
             b"error 451 4.4.2 connection lost\ndone a@example.com\n"
             b"failed b@example.com\t550 5.1.1 unknown\n\n",
    "torn-envelope": b"\x00\x00" + SPOOL_ENV + b"size 99\nrcpt a@exam",
    "torn-body": b"\x00\x00" + SPOOL_ENV + b"size 99\nrcpt a@example.com\n\nSubject: x\n",
    "no-sender": b"\x00\x00exorelay-spool 1\nrcpt a@example.com\n\n",
    "bad-magic": b"\x00\x00exorelay-spool 2\nsender a\n\n",
    "unknown-key-cr": b"\x00\x05exorelay-spool 1\nfuture key\nsender a@b\r\nsize 0\n\n",
    "negative-size": b"\x00\x05exorelay-spool 1\nsender a@b\nsize -1\n\n",
}
for k, v in SPOOL.items():
    put("spool_file", k, v)

# fuzz_tls_names: byte 0 = size of the names buffer - 1, the server name,
# NUL, then entries [type][length][bytes]: type 0 DNS, 1 IP, 2 e-mail, 3 CN.
def san(kind, value):
    return bytes([kind, len(value)]) + value


TLS = {
    "exchange": b"\xff" + b"smtp.office365.com\x00" + san(3, b"outlook.com")
                + san(0, b"*.office365.com") + san(0, b"outlook.com")
                + san(0, b"*.outlook.com"),
    "exact": b"\x80smtp.example.com\x00" + san(0, b"SMTP.Example.COM"),
    "partial-wildcard": b"\x80smtp.example.com\x00" + san(0, b"s*.example.com"),
    "wildcard-two-labels": b"\x80a.smtp.example.com\x00" + san(0, b"*.example.com"),
    "ip4": b"\x80" + b"127.0.0.1\x00" + san(1, b"\x7f\x00\x00\x01"),
    "ip6": b"\x80::1\x00" + san(1, b"\x00" * 15 + b"\x01"),
    "ip-short": b"\x80" + b"127.0.0.1\x00" + san(1, b"\x7f"),
    "ip-odd-length": b"\x10" + b"10.0.0.1\x00" + san(1, b"\x0a\x00\x00\x01\x00")
                     + san(1, b""),
    "cn-only": b"\x80relay.example\x00" + san(3, b"relay.example"),
    "cn-ignored-with-san": b"\x80relay.example\x00" + san(3, b"relay.example")
                           + san(0, b"other.example"),
    "control-in-dns": b"\x20evil.example\x00" + san(0, b"evil\x1b[2J.example")
                      + san(0, b"nul\x00.example") + san(2, b"a@b"),
    "tiny-buffer": b"\x00x.example\x00" + san(0, b"y.example"),
}
for k, v in TLS.items():
    put("tls_names", k, v)

# fuzz_addr: a header value or a recipient argument, as it comes.
ADDR = {
    "list": b'a@b.example, "Doe, John" <john@d.example>, jane@y.example (Jane Y)',
    "group": b"team: x@e.example, y@e.example;, z@e.example",
    "empty-group": b"undisclosed-recipients:;",
    "route": b"<@relay.example:user@e.example>",
    "quoted-local": b'"odd user"@e.example',
    "literal": b"postmaster@[192.0.2.1], root",
    "encoded-name": b"=?UTF-8?B?U3TDtnJ1bmc=?= <alarm@host.example>",
    "folded": b"Cron Daemon\r\n <root@host.example>",
    "control": b"a@b\x01.example",
    "unterminated": b'"open <a@b (comment',
}
for k, v in ADDR.items():
    put("addr", k, v)
