#!/usr/bin/python3
"""check_token_reply.py - does a token endpoint answer look like Entra's?

usage: check_token_reply.py BODY_FILE HTTP_STATUS ok [EXPIRES_IN]
       check_token_reply.py BODY_FILE HTTP_STATUS STATUS ERROR AADSTS

Exit 0 when the answer has the expected status and every field of
Microsoft's documented token endpoint (tests/standin/README.md) in the right form; else exit 1 with "# why" on
stderr. With "ok", the token is written to BODY_FILE.token (never printed).
"""
import json
import re
import sys

DESC_RE = re.compile(r"^AADSTS(\d+): .+\r\nTrace ID: [0-9a-f-]{36}\r\n"
                     r"Correlation ID: [0-9a-f-]{36}\r\nTimestamp: "
                     r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$", re.S)


def fail(why):
    sys.stderr.write("# %s\n" % why)
    sys.exit(1)


def check_ok(body, status, expires_in):
    if status != 200:
        fail("status %d, expected 200" % status)
    if body.get("token_type") != "Bearer":
        fail("token_type %r" % body.get("token_type"))
    for k in ("expires_in", "ext_expires_in"):
        if type(body.get(k)) is not int:
            fail("%s is not a JSON integer" % k)
    if expires_in is not None and body["expires_in"] != int(expires_in):
        fail("expires_in %d, expected %s" % (body["expires_in"], expires_in))
    tok = body.get("access_token", "")
    if len(tok) < 1000 or not re.match(r"^[A-Za-z0-9_.~+/=-]+$", tok):
        fail("access_token is not a long opaque string (%d chars)" % len(tok))
    return tok


def check_error(body, status, want_status, error, code):
    if status != int(want_status):
        fail("status %d, expected %s" % (status, want_status))
    if body.get("error") != error:
        fail("error %r, expected %r" % (body.get("error"), error))
    if body.get("error_codes") != [int(code)]:
        fail("error_codes %r, expected [%s]" % (body.get("error_codes"), code))
    m = DESC_RE.match(body.get("error_description", ""))
    if not m or m.group(1) != str(code):
        fail("error_description not in Entra's format: %r" % body.get("error_description"))
    for k in ("timestamp", "trace_id", "correlation_id", "error_uri"):
        if not isinstance(body.get(k), str) or not body[k]:
            fail("field %s missing" % k)
    if body["trace_id"] not in body["error_description"]:
        fail("trace_id differs from the description's Trace ID")


def main(argv):
    path, status = argv[1], int(argv[2])
    try:
        with open(path) as f:
            body = json.load(f)
    except ValueError:
        fail("body is not JSON")
    if argv[3] == "ok":
        tok = check_ok(body, status, argv[4] if len(argv) > 4 else None)
        with open(path + ".token", "w") as f:
            f.write(tok)
    else:
        check_error(body, status, argv[3], argv[4], argv[5])


if __name__ == "__main__":
    main(sys.argv)
