#!/bin/sh
# t_upstream.sh - the upstream client, pool and one-shot delivery against
# the Exchange Online stand-in: content arrives byte-identical, a warm
# connection costs 2 round trips, at most 3 sessions per mailbox under 20
# threads, a certificate for the wrong name never sees AUTH, and faults
# (421, drops mid-DATA, 4xx at end of data, 432, quota, revoked tokens) end
# as 4xx or a retry without anything reported delivered that was not.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"

TOOL="$BUILD/tests/tools/tool_deliver"
[ -x "$TOOL" ] || { echo "not ok 1 - $TOOL is not built"; exit 1; }
standin_start || { echo "not ok 1 - stand-in starts"; exit 1; }
CONF="$TESTS_TMP/exorelay.conf"
standin_write_conf "$CONF"
M="$TESTS_TMP/msg"
mkdir -p "$M"

# deliver NAME [tool args] - run the tool; output in NAME.out, log in NAME.err
deliver() {
    _name=$1; shift
    "$TOOL" -c "${DCONF:-$CONF}" "$@" >"$TESTS_TMP/$_name.out" 2>"$TESTS_TMP/$_name.err"
}
# msgline NAME I - the result line of message I
msgline() { grep "^msg $2 " "$TESTS_TMP/$1.out"; }
# summary NAME KEY - a value of the summary line
summary() { sed -n "s/^summary.* $2=\([^ ]*\).*/\1/p" "$TESTS_TMP/$1.out"; }
# stats_ok EXPR - a Python expression over the stand-in's counters holds
stats_ok() {
    standin_ctl GET /stats | "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
ok = eval(sys.argv[1], {}, s)
if not ok:
    print("#   stand-in counters: " + json.dumps({k: v for k, v in s.items() if k in sys.argv[1]}))
sys.exit(0 if ok else 1)' "$1"
}
MBOX=no-reply@contoso.onmicrosoft.com
# has NAME I WORDS - message I's line contains WORDS
has() { msgline "$1" "$2" | grep -qF -- "$3"; }
show() { sed 's/^/#   /' "$TESTS_TMP/$1.out" "$TESTS_TMP/$1.err" | tail -n 12; }

# --- messages: CRLF, LF, no final newline, dots, 8-bit, a long line ------
"$PYTHON" - "$M" <<'PY'
import sys
d = sys.argv[1]
long = "x" * 3000
body = ("From: no-reply@contoso.onmicrosoft.com\nTo: a@example.com\n"
        "Subject: caf\u00e9 test\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        "line one\n.\n..two dots\n.leading\n" + long + "\nend caf\u00e9\n").encode()
crlf = body.replace(b"\n", b"\r\n")
open(d + "/crlf.eml", "wb").write(crlf)
open(d + "/crlf.want", "wb").write(crlf)
open(d + "/lf.eml", "wb").write(body.replace(b"Subject: caf", b"Subject: lf caf"))
open(d + "/lf.want", "wb").write(body.replace(b"Subject: caf", b"Subject: lf caf").replace(b"\n", b"\r\n"))
noeol = b"From: no-reply@contoso.onmicrosoft.com\nSubject: noeol\n\nlast line without newline"
open(d + "/noeol.eml", "wb").write(noeol)
open(d + "/noeol.want", "wb").write(noeol.replace(b"\n", b"\r\n") + b"\r\n")
open(d + "/small.eml", "wb").write(b"From: no-reply@contoso.onmicrosoft.com\nSubject: s\n\nsmall\n")
PY

# --- 1. byte-identical, and the envelope as given -------------------------
standin_ctl POST /reset >/dev/null
deliver ident -r a@example.com -r b@example.com "$M/crlf.eml" "$M/lf.eml" "$M/noeol.eml"
tap_ok $? "three messages delivered through one connection" || show ident
"$PYTHON" - "$STANDIN_MSGDIR" "$M" <<'PY'
import glob, json, sys
msgdir, m = sys.argv[1], sys.argv[2]
recs = {}
for j in sorted(glob.glob(msgdir + "/*.json")):
    r = json.load(open(j))
    recs[r["id"]] = (r, open(j[:-5] + ".eml", "rb").read())
n = 0
for name in ("crlf", "lf", "noeol"):
    want = open(m + "/" + name + ".want", "rb").read()
    hits = [r for r, eml in recs.values() if eml == want]
    good = len(hits) == 1
    r = hits[0] if hits else {}
    n += 1
    print(("ok" if good else "not ok"), "- %s: arrives byte-identical (%d bytes)" % (name, len(want)))
    env = (r.get("mail_from") == "no-reply@contoso.onmicrosoft.com"
           and r.get("rcpt_to") == ["a@example.com", "b@example.com"]
           and r.get("auth_user") == "no-reply@contoso.onmicrosoft.com")
    print(("ok" if env else "not ok"), "- %s: envelope and authenticated mailbox" % name)
    if name == "crlf":
        p = r.get("mail_params", "")
        p = " ".join(p) if isinstance(p, list) else str(p)
        ok = "BODY=8BITMIME" in p and ("SIZE=%d" % len(want)) in p
        print(("ok" if ok else "not ok"), "- crlf: MAIL has SIZE= of the message and BODY=8BITMIME (%s)" % p)
PY
_tap_n=$((_tap_n + 7))
stats_ok 'smtp_connections == 1 and auth_ok == 1'
tap_ok $? "one connection, one AUTH for the three"
has ident 1 "reused=1" && has ident 2 "reused=1"
tap_ok $? "messages 2 and 3 went over the pooled connection"

# --- 2. round trips on a warm connection ----------------------------------
# From a file the size is known: BDAT LAST, one round trip. From a pipe it
# is DATA: two.
standin_ctl POST /reset >/dev/null
deliver warm -n 6 "$M/small.eml"
stats_ok 'messages == 6 and round_trips == 6 and smtp_connections == 1'
tap_ok $? "warm connection, from a file: 1 round trip per message (BDAT LAST)"
standin_ctl POST /reset >/dev/null
deliver warmpipe -P -n 6 "$M/small.eml"
stats_ok 'messages == 6 and round_trips == 12 and smtp_connections == 1'
tap_ok $? "warm connection, from a pipe: 2 round trips per message (DATA)"
before=$(standin_count)
deliver identpipe -P -r a@example.com -r b@example.com "$M/crlf.eml" "$M/lf.eml" "$M/noeol.eml"
tap_ok $? "from a pipe: three messages delivered with DATA"
"$PYTHON" - "$STANDIN_MSGDIR" "$M" "$before" <<'PY'
import glob, json, sys
msgdir, m, before = sys.argv[1], sys.argv[2], int(sys.argv[3])
new = sorted(glob.glob(msgdir + "/*.json"))[before:]
emls = [open(j[:-5] + ".eml", "rb").read() for j in new]
vias = [json.load(open(j)).get("via") for j in new]
wants = [open(m + "/" + n + ".want", "rb").read() for n in ("crlf", "lf", "noeol")]
good = sorted(emls) == sorted(wants) and vias == ["DATA"] * 3
print(("ok" if good else "not ok"), "- from a pipe: dot-stuffed DATA arrives byte-identical (via %s)" % vias)
PY
_tap_n=$((_tap_n + 1))

# a connection idle past pool_idle is not reused
sed "s/^\[upstream\]/[upstream]\npool_idle = 1/" "$CONF" >"$TESTS_TMP/idle.conf"
standin_ctl POST /reset >/dev/null
DCONF="$TESTS_TMP/idle.conf" deliver idle -n 2 -p 1300 "$M/small.eml"
has idle 1 "reused=0" && stats_ok 'messages == 2 and smtp_connections == 2'
tap_ok $? "pool_idle = 1: after 1.3 s idle a new connection is made" || show idle

# a connection whose token expires within 2 minutes is not reused
mkdir -p "$TESTS_TMP/state2" && chmod 700 "$TESTS_TMP/state2"
sed "s|^state_dir = .*|state_dir = $TESTS_TMP/state2|" "$CONF" >"$TESTS_TMP/shorttoken.conf"
standin_ctl POST /scenario '{"token": {"expires_in": 100}}' >/dev/null
standin_ctl POST /reset >/dev/null
DCONF="$TESTS_TMP/shorttoken.conf" deliver shorttoken -n 3 "$M/small.eml"
tap_ok $? "token valid 100 s: delivered" || show shorttoken
! grep -q "reused=1" "$TESTS_TMP/shorttoken.out" &&
    stats_ok 'messages == 3 and smtp_connections == 3 and token_requests == 1'
tap_ok $? "token valid 100 s: no connection reused (token too close to expiry)"
standin_ctl POST /scenario '{"token": {"expires_in": 3599}}' >/dev/null

# per-recipient results: the stand-in takes 1 recipient per message
standin_ctl POST /scenario '{"smtp": {"max_recipients": 1}}' >/dev/null
before=$(standin_count)
deliver partial -r a@example.com -r b@example.com "$M/small.eml"
has partial 0 "rc=0" && has partial 0 "rcpt=250,452" &&
    test $(( $(standin_count) - before )) = 1
tap_ok $? "one recipient refused (452): delivered to the other, per-recipient codes" || show partial
# every recipient refused: a 4xx, and the connection serves the next message
# (an RSET rides in front of its MAIL)
standin_ctl POST /scenario '{"smtp": {"max_recipients": 0}}' >/dev/null
standin_ctl POST /reset >/dev/null
deliver norcpt -n 3 "$M/small.eml"
has norcpt 0 "final=452 4.5.3" && has norcpt 0 "permanent=0" && has norcpt 2 "final=452 4.5.3" &&
    has norcpt 2 "reused=1" && stats_ok 'smtp_connections == 1 and messages == 0'
tap_ok $? "no recipient accepted: 452 each time, same connection after RSET" || show norcpt
standin_ctl POST /scenario '{"smtp": {"max_recipients": 500}}' >/dev/null
deliver afterrset -n 1 "$M/small.eml"
tap_ok $? "recipients accepted again: delivered" || show afterrset

# --- 3. a certificate for the wrong name: no AUTH, 4xx naming it ----------
sed "s/^port = .*/port = $STANDIN_SMTP_WRONGNAME_PORT/" "$CONF" >"$TESTS_TMP/wrongname.conf"
standin_ctl POST /reset >/dev/null
DCONF="$TESTS_TMP/wrongname.conf" deliver wrongname "$M/small.eml"
tap_ok "$(test $? = 1; echo $?)" "wrong-name certificate: not delivered"
stats_ok 'auth_attempts == 0 and messages == 0'
tap_ok $? "wrong-name certificate: the stand-in never saw AUTH"
has wrongname 0 "final=454 4.7.5" && has wrongname 0 "wrong.example.net" &&
    has wrongname 0 "not for 127.0.0.1" && has wrongname 0 "permanent=0"
tap_ok $? "wrong-name certificate: 454 4.7.5 naming the certificate's name" || show wrongname

# an untrusted issuer (no ca_file): the issuer is named, ca_file is the fix
grep -v '^ca_file' "$CONF" >"$TESTS_TMP/noca.conf"
DCONF="$TESTS_TMP/noca.conf" deliver noca "$M/small.eml"
has noca 0 "final=454 4.7.5" && has noca 0 "CN=exorelay stand-in CA" && has noca 0 "ca_file"
tap_ok $? "untrusted CA: 454 naming the issuer and ca_file" || show noca
stats_ok 'auth_attempts == 0'
tap_ok $? "untrusted CA: no AUTH either"

# --- 4. 20 threads, never more than 3 sessions ----------------------------
standin_ctl POST /reset >/dev/null
before=$(standin_count)
deliver threads -t 20 -n 60 -s "$M/small.eml"
tap_ok $? "20 threads: 60 messages delivered" || show threads
stats_ok "1 <= max_concurrent['$MBOX'] <= 3 and concurrency_refused == 0" &&
    test "$(summary threads max_open)" -le 3
tap_ok $? "20 threads: at most 3 sessions for the mailbox, no 432"
tap_ok "$(test $(( $(standin_count) - before )) = 60; echo $?)" "20 threads: 60 recorded"

# --- 5. faults --------------------------------------------------------------
fault() { standin_ctl POST /faults "{\"clear\": true, $1}" >/dev/null; }

# 421 at MAIL on a reused connection: retried once on a new one
standin_ctl POST /reset >/dev/null
fault '"smtp_421": {"at": "MAIL", "every": 2}'
before=$(standin_count)
deliver f421 -n 3 "$M/small.eml"
tap_ok $? "421 at MAIL of a reused connection: every message still delivered" || show f421
has f421 1 "retried=1" && has f421 2 "retried=1"
tap_ok $? "421 at MAIL: the transaction was sent again on a new connection"
test $(( $(standin_count) - before )) = 3 && stats_ok 'smtp_connections == 3'
tap_ok $? "421 at MAIL: 3 recorded, 3 connections"

# dropped mid-DATA: 4xx, not recorded, the next one on a new connection
standin_ctl POST /reset >/dev/null
fault '"drop_in_data": {"count": 1}'
before=$(standin_count)
deliver drop -n 2 "$M/small.eml"
has drop 0 "rc=-1 final=451 4.4.2" && has drop 0 "permanent=0" &&
    has drop 1 "rc=0" && has drop 1 "reused=0"
tap_ok $? "drop mid-DATA: 451 4.4.2, then a new connection delivers" || show drop
test $(( $(standin_count) - before )) = 1 && stats_ok 'dropped_in_data == 1'
tap_ok $? "drop mid-DATA: nothing reported delivered that was not (1 recorded)"

# 4xx at end of data: upstream's 4xx, connection kept
fault '"eod_4xx": {"count": 1}'
before=$(standin_count)
deliver eod -n 2 "$M/small.eml"
has eod 0 "rc=-1 final=451 4.3.0" && has eod 0 "permanent=0" && has eod 1 "rc=0" &&
    has eod 1 "reused=1"
tap_ok $? "4xx at end of data: passed on as 4xx, connection reused after it" || show eod
tap_ok "$(test $(( $(standin_count) - before )) = 1; echo $?)" "4xx at end of data: 1 recorded"

# 421 at end of data: 4xx, connection replaced
standin_ctl POST /reset >/dev/null
fault '"smtp_421": {"at": "EOD", "count": 1}'
before=$(standin_count)
deliver eod421 -n 2 "$M/small.eml"
has eod421 0 "final=421" && has eod421 0 "permanent=0" && has eod421 1 "rc=0" &&
    has eod421 1 "reused=0"
tap_ok $? "421 at end of data: 4xx, the next message on a new connection" || show eod421
tap_ok "$(test $(( $(standin_count) - before )) = 1; echo $?)" "421 at end of data: 1 recorded"

# 421 during the setup (greeting, EHLO): a 4xx that says so, never an empty reply
for at in CONNECT EHLO; do
    standin_ctl POST /reset >/dev/null
    fault "\"smtp_421\": {\"at\": \"$at\", \"count\": 1}"
    deliver setup421 -n 1 "$M/small.eml"
    has setup421 0 "final=451" && has setup421 0 "permanent=0" && has setup421 0 "421"
    tap_ok $? "421 at $at: a 451 naming the 421, not an empty reply" || show setup421
done

# Exchange's quota refusal is temporary
fault '"eod_4xx": {"count": 1, "reply": "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception"}'
deliver quota "$M/small.eml"
has quota 0 "final=452 4.2.0" && has quota 0 "permanent=0" && has quota 0 "quota"
tap_ok $? "554 5.2.0 SubmissionQuotaExceeded becomes 452 4.2.0, not permanent" || show quota
fault '"x": null'

# 432: the stand-in allows 1 session; extra connections get a 4xx naming it
standin_ctl POST /scenario '{"smtp": {"max_sessions_per_mailbox": 1}}' >/dev/null
before=$(standin_count)
deliver c432 -t 3 -n 6 "$M/small.eml"
sent=$(summary c432 sent); failed=$(summary c432 failed)
tap_ok "$(test "$sent" -ge 1 && test "$failed" -ge 1 && test "$(grep -c 'final=451 4.3.2' "$TESTS_TMP/c432.out")" = "$failed"; echo $?)" \
    "432: refused sessions end as 451 4.3.2 ($sent sent, $failed deferred)" || show c432
grep 'final=451 4.3.2' "$TESTS_TMP/c432.out" | head -n 1 | grep -q "max_connections"
tap_ok $? "432: the text names max_connections"
tap_ok "$(test $(( $(standin_count) - before )) = "$sent"; echo $?)" "432: recorded = reported sent"
standin_ctl POST /scenario '{"smtp": {"max_sessions_per_mailbox": 3}}' >/dev/null

# a revoked token (cached in state_dir): one fresh token, then success
standin_ctl POST /revoke >/dev/null
standin_ctl POST /reset >/dev/null
deliver revoked "$M/small.eml"
tap_ok $? "revoked token: delivered" || show revoked
stats_ok 'token_requests == 1 and auth_failed == 1 and auth_ok == 1'
tap_ok $? "revoked token: exactly one fresh token, one refused AUTH, one good"

# no permission on the mailbox: 535 5.7.3 twice, then the diagnosis
standin_ctl POST /scenario '{"apps": [{"client_id": "'"$STANDIN_CLIENT_ID"'", "mailbox_access": []}]}' >/dev/null
standin_ctl POST /reset >/dev/null
deliver noperm "$M/small.eml"
has noperm 0 "final=454 4.7.0" && has noperm 0 "New-ServicePrincipal" && has noperm 0 "FullAccess"
tap_ok $? "535 5.7.3: 454 naming New-ServicePrincipal and FullAccess" || show noperm
stats_ok 'auth_attempts == 2 and token_requests == 1'
tap_ok $? "535 5.7.3: one fresh token tried, no more"
standin_ctl POST /scenario '{"apps": [{"client_id": "'"$STANDIN_CLIENT_ID"'", "mailbox_access": ["no-reply@contoso.onmicrosoft.com"]}]}' >/dev/null

# SMTP AUTH disabled for the mailbox: 535 5.7.139, not retried
sed "s/^mailbox = .*/mailbox = disabled@contoso.onmicrosoft.com/" "$CONF" >"$TESTS_TMP/disabled.conf"
standin_ctl POST /reset >/dev/null
DCONF="$TESTS_TMP/disabled.conf" deliver disabled "$M/small.eml"
has disabled 0 "final=454 4.7.0" && has disabled 0 "Set-CASMailbox"
tap_ok $? "535 5.7.139: 454 naming Set-CASMailbox" || show disabled
stats_ok 'auth_attempts == 1'
tap_ok $? "535 5.7.139: no second token"

# --- 6. unreachable server: connect timeout names the port ----------------
port=$(free_port)
sed -e "s/^port = .*/port = $port/" -e "s/^\[upstream\]/[upstream]\nconnect_timeout = 2/" \
    "$CONF" >"$TESTS_TMP/refused.conf"
DCONF="$TESTS_TMP/refused.conf" deliver refused "$M/small.eml"
has refused 0 "final=451 4.4.1" && has refused 0 "refused the connection"
tap_ok $? "nothing listening: 451 4.4.1 saying so" || show refused

# a server that goes silent: command_timeout, then a 4xx saying so (silent
# for 10 s: a relay kept waiting on a loaded machine still times out first)
sed "s/^\[upstream\]/[upstream]\ncommand_timeout = 1/" "$CONF" >"$TESTS_TMP/slow.conf"
fault '"smtp_delay_ms": 10000'
DCONF="$TESTS_TMP/slow.conf" deliver slow "$M/small.eml"
has slow 0 "final=451 4.4.2" && has slow 0 "within 1 s"
tap_ok $? "silent server: 451 4.4.2 after command_timeout (1 s)" || show slow
fault '"x": null'

# --- 7. never a token in any output ---------------------------------------
"$PYTHON" - "$TESTS_TMP" <<'PY'
import glob, json, sys
d = sys.argv[1]
toks = [json.load(open(f)).get("access_token", "") for f in glob.glob(d + "/state/token-*.json")]
toks = [t for t in toks if len(t) > 20]
leak = [f for f in glob.glob(d + "/*.out") + glob.glob(d + "/*.err")
        if any(t[:40] in open(f, errors="replace").read() for t in toks)]
print(("ok" if toks and not leak else "not ok"),
      "- no token in the tool's output or log (%d files checked)" % len(glob.glob(d + "/*.[oe][ur][tr]")))
PY
_tap_n=$((_tap_n + 1))
echo "1..$_tap_n"
