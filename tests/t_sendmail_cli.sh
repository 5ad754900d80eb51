#!/bin/sh
# t_sendmail_cli.sh - exorelay-sendmail's command line behaves like
# sendmail's: every supported flag, the calls cron, mutt, PHP and git make,
# and the cases msmtp, nullmailer and dma document (-t with Bcc removal,
# dot handling, -f, -F, header completion, mailq, -bs). No daemon runs here:
# messages stay in the spool, where this test inspects them.
. "$(dirname "$0")/lib/common.sh"

SPOOL=$TESTS_TMP/spool
CONF=$TESTS_TMP/exorelay.conf
mkdir -p "$SPOOL"
for d in maildrop queue state failed; do mkdir -p "$SPOOL/$d"; done
chmod 1770 "$SPOOL/maildrop"; chmod 0700 "$SPOOL/queue" "$SPOOL/failed"
chmod 2750 "$SPOOL/state"
cat >"$CONF" <<EOF
[relay]
spool_dir = $SPOOL
state_dir = $TESTS_TMP
user =
max_message_size = 2K
[account main]
tenant = contoso.onmicrosoft.com
client_id = 3e1f0c2a-5b7d-4e8f-9a6b-1c2d3e4f5a6b
client_secret_file = $TESTS_TMP/main.secret
mailbox = no-reply@contoso.onmicrosoft.com
EOF
# No secret file: as for an ordinary user, no delivery can be tried here
# (exorelay-sendmail checks only the config's syntax), so messages stay.
# The exorelay program checks the whole config: it gets a twin with one.
ADMIN_CONF=$TESTS_TMP/admin.conf
sed "s|main.secret|admin.secret|" "$CONF" >"$ADMIN_CONF"
(umask 077; echo not-a-real-secret >"$TESTS_TMP/admin.secret")
SM="$BIN/exorelay-sendmail"
OUT=$TESTS_TMP/out
ERR=$TESTS_TMP/err

sm() { "$SM" -C "$CONF" "$@" >"$OUT" 2>"$ERR"; }
clear_drop() { rm -f "$SPOOL"/maildrop/* "$SPOOL"/state/*; }
# last - the newest message file in maildrop
last() { ls "$SPOOL/maildrop" | grep -v '^[tf]\.' | sort | tail -n 1; }
count() { ls "$SPOOL/maildrop" | grep -vc '^[tf]\.'; }
env_of() { sed '/^$/q' "$SPOOL/maildrop/$(last)"; }
msg_of() { sed '1,/^$/d' "$SPOOL/maildrop/$(last)"; }
has_env() { env_of | grep -qx "$1"; }
has_msg() { msg_of | grep -q "$1"; }

# --- basics -----------------------------------------------------------------
ok "--version prints the version" sh -c "'$SM' --version | grep -q '^exorelay-sendmail [0-9]'"
printf 'Subject: one\n\nhello\n' | sm a@example.com
tap_ok $? "a message to one recipient is accepted (exit 0)"
ok "exactly one message file in maildrop" test "$(count)" = 1
ok "no temp file left behind" sh -c "! ls '$SPOOL/maildrop' | grep -q '^t\.'"
ok "file mode 0604 (the daemon reads it, the drop group cannot)" \
    test "$(stat -c %a "$SPOOL/maildrop/$(last)")" = 604
ok "envelope recipient" has_env "rcpt a@example.com"
ok "default sender is the account's mailbox" has_env "sender no-reply@contoso.onmicrosoft.com"
ok "submitting uid recorded" has_env "uid $(id -u)"
ok "size line matches the message" test "$(env_of | sed -n 's/^size //p')" = \
    "$(msg_of | wc -c)"
ok "stdout stays empty (sendmail prints nothing on success)" test ! -s "$OUT"

clear_drop
printf 'Subject: two\n\nx\n' | sm "b@example.com,c@example.org" d@example.net
ok "comma list and several arguments: three recipients" \
    test "$(env_of | grep -c '^rcpt ')" = 3
ok "duplicates collapse" sh -c "printf 'x\n' | '$SM' -C '$CONF' e@x.org E@x.org e@x.org &&
    test \$(sed '/^\$/q' '$SPOOL/maildrop/'\$(ls '$SPOOL/maildrop' | sort | tail -n1) | grep -c '^rcpt ') = 1"

# --- header completion (as sendmail, nullmailer-inject, dma do) ------------
clear_drop
printf 'Subject: bare\n\nbody\n' | sm -F "Cron Daemon" a@example.com
ok "From: added with -F's name and the sender" \
    has_msg '^From: Cron Daemon <no-reply@contoso.onmicrosoft.com>$'
ok "Date: added" has_msg '^Date: [A-Z][a-z][a-z], [0-9]'
ok "Message-ID: added" has_msg '^Message-ID: <[0-9]*\.[0-9A-F]*@'
ok "Received: trace with the uid" has_msg "^Received: by .* (exorelay-sendmail, from userid $(id -u))"
# A long non-ASCII -F: RFC 2047 words of at most 75 characters each, that
# decode (Python's email.header) back to exactly the name given.
clear_drop
NAME="Système de supervision du réseau — alarmes critiques"
printf 'Subject: alarm\n\nbody\n' | sm -F "$NAME" a@example.com
msg_of | sed -n 's/^From: //p' >"$TESTS_TMP/from.value"
"$PYTHON" - "$TESTS_TMP/from.value" "$NAME" <<'PY'
import re, sys
from email.header import decode_header, make_header
value = open(sys.argv[1], encoding="ascii").read().strip()
name, addr = value.rsplit(" <", 1)
words = name.split(" ")
assert all(re.fullmatch(r"=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=", w) for w in words), words
assert max(len(w) for w in words) <= 75, [len(w) for w in words]
assert len(words) > 1, words
decoded = str(make_header(decode_header(name)))
assert decoded == sys.argv[2], decoded
assert addr == "no-reply@contoso.onmicrosoft.com>", addr
PY
tap_ok $? "-F with a long non-ASCII name: encoded words of <= 75 characters that decode to the name ($(cat "$TESTS_TMP/from.value" | head -c 200))"
printf 'Subject: x\n\nbody\n' | sm -F "$(printf 'Evil\nBcc: victim@example.org')" a@example.com
! msg_of | grep -q '^Bcc:' && has_msg '^From: =?UTF-8?B?'
tap_ok $? "-F with a line break: encoded, never a header line of its own"
clear_drop
printf 'From: Me <me@x.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <k@x.org>\n\nb\n' |
    sm a@example.com
ok "an existing From: is kept, none added" test "$(msg_of | grep -c '^From:')" = 1
ok "an existing Date: is kept" has_msg '^Date: Mon, 1 Jan 2024'
ok "an existing Message-ID: is kept" test "$(msg_of | grep -ci '^Message-ID:')" = 1
clear_drop
printf 'From MAILER-DAEMON Mon Jan  1 00:00:00 2024\nSubject: mbox\n\nb\n' | sm a@example.com
ok "an mbox From_ line is dropped" sh -c "! sed '1,/^\$/d' '$SPOOL/maildrop/$(last)' | grep -q '^From MAILER'"
clear_drop
printf '' | sm a@example.com
ok "an empty message is accepted, with a header made for it" has_msg '^Message-ID:'

# --- -t (msmtp, nullmailer, dma: recipients from To/Cc/Bcc, Bcc removed) ----
clear_drop
printf 'To: "Doe, J" <j@example.com>, k@example.com\nCc: l@example.com\nBcc: secret@example.com,\n  s2@example.com\nSubject: t\n\nBcc: body line\n' |
    sm -t extra@example.com
tap_ok $? "-t accepted"
ok "-t: To (with a quoted comma), Cc, folded Bcc, and the argument: 6 recipients" \
    test "$(env_of | grep -c '^rcpt ')" = 6
ok "-t: Bcc recipient in the envelope" has_env "rcpt s2@example.com"
ok "-t: the Bcc field is removed from the message" sh -c "! sed '1,/^\$/d' '$SPOOL/maildrop/$(last)' | sed '/^\$/q' | grep -qi '^bcc:\|s2@example'"
ok "-t: a Bcc: line in the body is left alone" has_msg '^Bcc: body line$'
clear_drop
printf 'Subject: nobody\n\nx\n' | sm -t
rc=$?
ok "-t without recipients: exit 64 (EX_USAGE)" test $rc = 64
ok "and says so" grep -q "no recipient addresses found" "$ERR"
ok "and nothing is queued" test "$(count)" = 0
# 300 MB without a newline against max_message_size = 2K: the reader stops
# at the limit (it reads bounded pieces, not whole lines), so the writer
# gets EPIPE long before the end, and memory stays small.
"$PYTHON" - "$SM" -C "$CONF" a@example.com >"$TESTS_TMP/flood" 2>"$ERR" <<'PYEOF'
import subprocess, sys
cmd = sys.argv[1:]
p = subprocess.Popen(["/usr/bin/time", "-f", "rss_kb %M", "--"] + cmd,
                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=sys.stderr)
chunk, sent = b"x" * 65536, 0
try:
    while sent < 300 << 20:
        p.stdin.write(chunk)
        sent += len(chunk)
    p.stdin.close()
except BrokenPipeError:
    pass
print("sent", sent, "rc", p.wait())
PYEOF
sent=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' "$TESTS_TMP/flood")
rss=$(sed -n 's/^rss_kb //p' "$ERR" | tail -n 1)
ok "300 MB without a newline: refused with exit 65" grep -q " rc 65$" "$TESTS_TMP/flood"
ok "with a clear error" grep -q "message too large (limit 2048 bytes)" "$ERR"
ok "it stopped reading early (sent ${sent:-?} of 314572800 bytes)" \
    test "${sent:-314572800}" -lt 16777216
if [ -z "${EXORELAY_WRAP:-}" ]; then
    ok "its memory stayed small (max RSS ${rss:-?} KB < 32 MB)" test "${rss:-999999}" -lt 32768
fi
ok "and nothing is queued" test "$(count)" = 0
printf 'x\n' | sm
ok "no recipients and no -t: exit 64" test $? = 64

# --- dots: -i / -oi ---------------------------------------------------------
clear_drop
printf 'Subject: dots\n\nline1\n.\nafter the dot\n' | sm a@example.com
ok "without -i a lone dot ends the message" sh -c "! sed '1,/^\$/d' '$SPOOL/maildrop/$(last)' | grep -q 'after the dot'"
clear_drop
printf 'Subject: dots\n\nline1\n.\nafter the dot\n' | sm -i a@example.com
ok "-i: the dot and what follows are data" has_msg '^after the dot$'
clear_drop
printf 'Subject: dots\n\n.\nafter\n' | sm -oi a@example.com
ok "-oi: same as -i" has_msg '^after$'
clear_drop
printf 'Subject: dots\n\n..two dots\n' | sm -i a@example.com
ok "no dot-unstuffing on standard input" has_msg '^\.\.two dots$'
clear_drop
printf 'Subject: crlf\r\n\r\nbody\r\n' | sm a@example.com
ok "CRLF input is stored with LF" sh -c "! grep -q \"\$(printf '\r')\" '$SPOOL/maildrop/$(last)'"

# --- sender: -f, -r, <> ------------------------------------------------------
clear_drop
printf 'x\n' | sm -f alice@example.com a@example.com
ok "-f sets the envelope sender" has_env "sender alice@example.com"
ok "and the added From:" has_msg '^From: .*alice@example.com'
printf 'x\n' | sm -falice2@example.com a@example.com
ok "-fADDR attached" has_env "sender alice2@example.com"
printf 'x\n' | sm -r bob@example.com a@example.com
ok "-r is -f" has_env "sender bob@example.com"
printf 'x\n' | sm -f '<>' a@example.com
ok "-f '<>' is the null sender" has_env "sender "
printf 'x\n' | sm -f 'bad address@x' a@example.com
ok "a sender with a space: exit 64" test $? = 64

# --- DSN flags ---------------------------------------------------------------
clear_drop
printf 'x\n' | sm -N success,failure -R hdrs -V env-7 a@example.com
ok "-N recorded" has_env "notify success,failure"
ok "-R recorded" has_env "ret hdrs"
ok "-V recorded" has_env "envid env-7"
printf 'x\n' | sm -N sometimes a@example.com
ok "bad -N: exit 64" test $? = 64

# --- flags other programs pass ---------------------------------------------
clear_drop
printf 'Subject: cron\n\nout\n' | sm -FCronDaemon -i -B8BITMIME -oem root@example.com
tap_ok $? "Debian cron's call (-FCronDaemon -i -B8BITMIME -oem)"
printf 'x\n' | sm -oem -oi -- a@example.com
tap_ok $? "mutt's call (-oem -oi --)"
printf 'To: a@example.com\n\nx\n' | sm -t -i
tap_ok $? "PHP's default sendmail_path (-t -i)"
printf 'x\n' | sm -odb -oQ/tmp -B 7BIT -X /dev/null -O DeliveryMode=b -L tag -U -n -m -h 5 -Am a@example.com
tap_ok $? "-o* -B -X -O -L -U -n -m -h -A are accepted and ignored"
printf 'x\n' | sm -G a@example.com
ok "an unknown flag: exit 64" test $? = 64
ok "the error names the flag" grep -q -- "-G" "$ERR"
sm -bd
ok "-bd: exit 64, pointing at exorelay run" sh -c "test $? = 64 && grep -q 'exorelay run' '$ERR'"
sm -bi
ok "-bi (newaliases) is a no-op, exit 0" test $? = 0
ln -sf "$SM" "$TESTS_TMP/newaliases"
ok "called as newaliases: exit 0" "$TESTS_TMP/newaliases"

# --- -v ----------------------------------------------------------------------
clear_drop
printf 'x\n' | sm -v a@example.com
ok "-v names the queue ID on stderr" grep -q "$(last): queued" "$ERR"

# --- limits and errors -------------------------------------------------------
clear_drop
head -c 5000 /dev/zero | tr '\0' 'x' | fold -w 70 | sm a@example.com
ok "over max_message_size: exit 65 (EX_DATAERR)" test $? = 65
ok "and nothing is queued" test "$(count)" = 0
printf 'x\n' | "$SM" -C "$TESTS_TMP/nonexistent.conf" a@example.com 2>"$ERR"
ok "a missing config: exit 78 (EX_CONFIG)" test $? = 78
sed "s|^spool_dir = .*|spool_dir = $TESTS_TMP/newspool|" "$CONF" >"$TESTS_TMP/new.conf"
printf 'x\n' | "$SM" -C "$TESTS_TMP/new.conf" a@example.com 2>"$ERR"
ok "a spool that does not exist yet is created on first use (by root)" \
    sh -c "test $? = 0 && test \$(stat -c %a '$TESTS_TMP/newspool/maildrop') = 1770"
sed "s|^spool_dir = .*|spool_dir = $TESTS_TMP/no/such/spool|" "$CONF" >"$TESTS_TMP/nospool.conf"
printf 'x\n' | "$SM" -C "$TESTS_TMP/nospool.conf" a@example.com 2>"$ERR"
ok "an impossible spool: exit 73 (EX_CANTCREAT), nothing claimed" test $? = 73
ok "and the error names the path" grep -q "no/such/spool" "$ERR"

# --- -bp / mailq -------------------------------------------------------------
clear_drop
sm -bp
ok "-bp on an empty queue: 'Mail queue is empty'" grep -q "^Mail queue is empty" "$OUT"
printf 'x\n' | sm -f alice@example.com q1@example.com q2@example.com
ID=$(last)
sm -bp
ok "-bp lists the ID" grep -q "^$ID " "$OUT"
ok "with the sender" grep -q "^$ID .*alice@example.com" "$OUT"
ok "and each recipient" sh -c "grep -q ' q1@example.com\$' '$OUT' && grep -q ' q2@example.com\$' '$OUT'"
ok "and why it waits" grep -q "no \"exorelay run\" daemon is running" "$OUT"
ok "and a total line" grep -q "^-- 1 Kbytes in 1 Request\." "$OUT"
ln -sf "$SM" "$TESTS_TMP/mailq"
EXORELAY_CONF=$CONF "$TESTS_TMP/mailq" >"$OUT" 2>"$ERR"
ok "called as mailq (config from EXORELAY_CONF): the same listing" grep -q "^$ID " "$OUT"
"$BIN/exorelay" -c "$ADMIN_CONF" queue list >"$OUT" 2>"$ERR"
ok "exorelay queue list shows it too" grep -q "^$ID .*alice@example.com" "$OUT"
ok "and the failed/ folder" grep -q "failed messages in" "$OUT"
"$BIN/exorelay" -c "$ADMIN_CONF" queue delete 0123 >"$OUT" 2>"$ERR"
ok "queue delete of a malformed ID: exit 64" test $? = 64
"$BIN/exorelay" -c "$ADMIN_CONF" queue delete 0123456789ABCDEF0123 >"$OUT" 2>"$ERR"
ok "queue delete of an unknown ID: exit 66" test $? = 66
"$BIN/exorelay" -c "$ADMIN_CONF" queue delete "$ID" >"$OUT" 2>"$ERR"
ok "queue delete ID: exit 0" test $? = 0
ok "and the message is gone" test ! -e "$SPOOL/maildrop/$ID"
sm -q
ok "-q without a daemon (and no credentials): exit 69, says to start it" \
    sh -c "test $? = 69 && grep -q 'exorelay run' '$ERR'"

# --- -bs ---------------------------------------------------------------------
clear_drop
printf 'EHLO client\r\nMAIL FROM:<s@example.com> RET=HDRS ENVID=abc\r\nRCPT TO:<r1@example.com> NOTIFY=FAILURE\r\nRCPT TO:<r2@example.com>\r\nDATA\r\nSubject: smtp\r\n\r\n..stuffed\r\nplain\r\n.\r\nQUIT\r\n' |
    sm -bs
tap_ok $? "-bs session ends with exit 0"
ok "-bs greets with 220" sh -c "head -n1 '$OUT' | grep -q '^220 '"
ok "-bs EHLO lists DSN and PIPELINING" sh -c "grep -q '^250-DSN' '$OUT' && grep -q '^250-PIPELINING' '$OUT'"
ok "-bs accepts the message only once queued" grep -q "^250 2.0.0 Ok: queued as $(last)" "$OUT"
ok "-bs: the sender from MAIL FROM" has_env "sender s@example.com"
ok "-bs: both recipients" test "$(env_of | grep -c '^rcpt ')" = 2
ok "-bs: RET, ENVID and NOTIFY recorded" sh -c "sed '/^\$/q' '$SPOOL/maildrop/$(last)' | grep -q '^ret hdrs' &&
    sed '/^\$/q' '$SPOOL/maildrop/$(last)' | grep -q '^envid abc' &&
    sed '/^\$/q' '$SPOOL/maildrop/$(last)' | grep -q '^notify failure'"
ok "-bs: dot-unstuffed" has_msg '^\.stuffed$'
ok "-bs: header completed" has_msg '^Message-ID:'
ok "-bs ends with 221" sh -c "tail -n1 '$OUT' | grep -q '^221 '"
printf 'RCPT TO:<a@b.c>\r\nDATA\r\nMAIL FROM:<bad address>\r\nFOO\r\nQUIT\r\n' | sm -bs
ok "-bs: RCPT before MAIL is 503" grep -q '^503 5.5.1 Error: need MAIL' "$OUT"
ok "-bs: a bad sender is refused as the relay does (553 5.1.7)" grep -q '^553 5.1.7 ' "$OUT"
ok "-bs: an unknown command is 502" grep -q '^502 ' "$OUT"
# the relay's command parser: unknown or misplaced parameters are refused
printf 'EHLO c\r\nMAIL FROM:<s@example.com> BOGUS=1\r\nRCPT TO:<r@example.com>\r\nMAIL FROM:<s@example.com> NOTIFY=NEVER\r\nMAIL FROM:<s@example.com> SIZE=12x\r\nMAIL FROM:<s@example.com>\r\nRCPT TO:<r@example.com> RET=FULL\r\nQUIT\r\n' | sm -bs
ok "-bs: MAIL FROM with an unknown parameter is 555 5.5.4, as the relay answers" \
    grep -q '^555 5.5.4 Unsupported parameter BOGUS=1' "$OUT"
ok "-bs: ... and starts no transaction (RCPT is 503)" grep -q '^503 5.5.1 Error: need MAIL' "$OUT"
ok "-bs: a RCPT parameter on MAIL is 555" grep -q '^555 5.5.4 Unsupported parameter NOTIFY=NEVER' "$OUT"
ok "-bs: a bad SIZE is 501 5.5.4" grep -q '^501 5.5.4 Bad SIZE parameter' "$OUT"
ok "-bs: a MAIL parameter on RCPT is 555" grep -q '^555 5.5.4 Unsupported parameter RET=FULL' "$OUT"
{ printf 'NOOP %s\r\n' "$(head -c 3000 /dev/zero | tr '\0' x)"; printf 'QUIT\r\n'; } | sm -bs
ok "-bs: a command line over the relay's limit is 500 5.5.2" grep -q '^500 5.5.2 Line too long' "$OUT"
# -bs reads bounded pieces too: 300 MB without a newline inside DATA (then
# the end of data) and as a command line: 552 and 500, memory small.
clear_drop
"$PYTHON" - "$SM" -C "$CONF" -bs >"$TESTS_TMP/bsflood" 2>"$ERR" <<'PYEOF'
import subprocess, sys
p = subprocess.Popen(["/usr/bin/time", "-f", "rss_kb %M", "--"] + sys.argv[1:],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr)
p.stdin.write(b"EHLO c\r\nMAIL FROM:<s@example.com>\r\nRCPT TO:<r@example.com>\r\nDATA\r\n")
chunk = b"x" * 65536
for flood in (b"\r\n.\r\n", b"\r\nQUIT\r\n"):
    for _ in range(300 * 16):
        p.stdin.write(chunk)
    p.stdin.write(flood)
p.stdin.close()
sys.stdout.write(p.stdout.read().decode())
p.wait()
PYEOF
rss=$(sed -n 's/^rss_kb //p' "$ERR" | tail -n 1)
ok "-bs: 300 MB of data without a newline: 552 5.3.4" grep -q '^552 5\.3\.4' "$TESTS_TMP/bsflood"
ok "-bs: a 300 MB command line: 500 5.5.2 line too long" grep -q '^500 5\.5\.2 .*too long' "$TESTS_TMP/bsflood"
ok "-bs: nothing is queued" test "$(count)" = 0
if [ -z "${EXORELAY_WRAP:-}" ]; then
    ok "-bs: memory stayed small (max RSS ${rss:-?} KB < 32 MB)" test "${rss:-999999}" -lt 32768
fi

echo "1..$_tap_n"
