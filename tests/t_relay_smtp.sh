#!/bin/sh
# t_relay_smtp.sh - "exorelay run" driven by a byte-exact SMTP client
# (tests/lib/smtp_script.py) against the Exchange/Entra stand-ins: the
# protocol rules, limits, SMTP smuggling, pipelining round trips, LMTP,
# the allow list, account choice by X-Exorelay, retry on a dead pooled
# connection, SIGHUP and SIGTERM.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"

standin_start || exit 1
PORT=$(free_port)
PORT6=$(free_port)
SOCK=$TESTS_TMP/relay.sock
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF" "127.0.0.1:$PORT, [::1]:$PORT6, unix:$SOCK"
sed -i "/^\[relay\]/a allow = 127.0.0.0/8\nmax_recipients = 3\nmax_message_size = 20K" "$CONF"
relay_add_account "$CONF" second second second@contoso.onmicrosoft.com
# second@ may send as ops@example.org; no-reply@ may not.
standin_ctl POST /scenario '{"mailboxes": [{"address": "second@contoso.onmicrosoft.com", "send_as": ["ops@example.org"]}]}' >/dev/null
relay_start "$CONF" || exit 1

MB=$STANDIN_MAILBOX
count() { standin_count; }
# --- greeting and extensions
out=$(printf '<\n> EHLO client.example\\r\\n\n<\n> QUIT\\r\\n\n<\n' | smtp_session $PORT)
echo "$out" | grep -q '^220 ' ; tap_ok $? "greeting is 220"
for ext in PIPELINING 'SIZE 20480' 8BITMIME SMTPUTF8 ENHANCEDSTATUSCODES DSN; do
    echo "$out" | grep -q "250[- ]$ext\( |\|\$\)"
    tap_ok $? "EHLO offers $ext"
done
echo "$out" | grep -q 'AUTH\|STARTTLS\|CHUNKING'
tap_ok $((! $?)) "EHLO offers no AUTH, STARTTLS or CHUNKING"

# --- a clean pipelined message: upstream replies, 2 round trips, dots
n0=$(count)
cat >"$TESTS_TMP/clean.script" <<EOF2
<
> EHLO c\r\n
<
> MAIL FROM:<$MB>\r\nRCPT TO:<a@example.net>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
<
<
<
<
> From: $MB\r\nSubject: dots\r\n\r\n..\r\n..leading\r\n...three\r\nend\r\n.\r\n
<
> QUIT\r\n
<
EOF2
out=$(smtp_session $PORT <"$TESTS_TMP/clean.script")
echo "$out" | sed -n 3p | grep -q '^250 2.1.0 Sender OK'; tap_ok $? "MAIL gets the upstream's own reply"
echo "$out" | sed -n 4p | grep -q '^250 2.1.5 Recipient OK'; tap_ok $? "RCPT gets the upstream's own reply"
echo "$out" | sed -n 6p | grep -q '^354 Start mail input'; tap_ok $? "DATA's 354 is the upstream's"
echo "$out" | sed -n 7p | grep -q '^250 2.0.0 OK <'; tap_ok $? "final reply is the upstream's 250"
tap_ok $([ "$(count)" -eq $((n0 + 1)) ]; echo $?) "one message recorded upstream"
last=$(ls "$STANDIN_MSGDIR"/*.eml | tail -1)
printf 'From: %s\r\nSubject: dots\r\n\r\n.\r\n.leading\r\n..three\r\nend\r\n' "$MB" | cmp -s - "$last"
tap_ok $? "dot-stuffing: upstream stores exactly the unstuffed content"
tap_ok $([ "$(standin_stat round_trips_last)" -eq 2 ]; echo $?) "pipelined message costs 2 upstream round trips"

# --- a control character in a parameter value: refused here, 501 5.5.4,
# before any upstream work (no connection, no AUTH: issue 13)
c0=$(standin_stat smtp_connections); a0=$(standin_stat auth_attempts)
out=$(printf '%s\n' '<' '> EHLO c\r\n' '<' "> MAIL FROM:<$MB> ENVID=a\\rb\\r\\n" '<' \
      "> MAIL FROM:<$MB> RET=HDRS\\tENVID=x\\r\\n" '<' \
      "> MAIL FROM:<$MB> ENVID=a\\x1b[2Jb\\r\\n" '<' '> QUIT\r\n' '<' | smtp_session $PORT)
echo "$out" | sed -n 3p | grep -q '^501 5\.5\.4 .*[Cc]ontrol character'
tap_ok $? "MAIL ... ENVID=a<CR>b: 501 5.5.4 from the relay itself"
echo "$out" | sed -n 4,5p | grep -c '^501 5\.5\.4' | grep -qx 2
tap_ok $? "a TAB or an ESC in the parameters: 501 5.5.4 too"
tap_ok $([ "$(standin_stat smtp_connections)" = "$c0" ] && [ "$(standin_stat auth_attempts)" = "$a0" ]; echo $?) \
    "no upstream connection or AUTH for them"
echo "$out" | sed -n 3p | sed 's/^/# /'

# --- SMTP smuggling: no second message upstream, 550 5.5.2, nothing submitted
i=0
for payload in '\n.\r\n' '\r\n.\n' '\n.\n' '\r.\r\n' '\r\n.\r' '\n..\r\n' 'x\ry\r\n'; do
    i=$((i + 1))
    n0=$(count)
    out=$(cat <<EOF2 | smtp_session $PORT
<
> EHLO c\r\n
<
> MAIL FROM:<$MB>\r\nRCPT TO:<a@example.net>\r\nDATA\r\n
<
<
<
> Subject: smuggle $i\r\n\r\nbody$payload
> MAIL FROM:<$MB>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nSubject: forged\r\n\r\nforged\r\n.\r\n
<
> QUIT\r\n
<
EOF2
)
    echo "$out" | sed -n 6p | grep -q '^550 5.5.2'
    tap_ok $? "smuggling payload $i: refused with 550 5.5.2"
    tap_ok $([ "$(count)" -eq "$n0" ]; echo $?) "smuggling payload $i: nothing submitted upstream"
done
grep -l 'forged\|victim' "$STANDIN_MSGDIR"/*.json >/dev/null 2>&1
tap_ok $((! $?)) "no forged message ever reached the upstream"

# --- limits
out=$(printf '<\n> EHLO c\\r\\n\n<\n> MAIL FROM:<%s> SIZE=30000\\r\\n\n<\n' "$MB" | smtp_session $PORT)
echo "$out" | tail -1 | grep -q '^552 5.3.4'; tap_ok $? "SIZE above max_message_size: 552 5.3.4"
n0=$(count)
out=$( { printf '<\n> EHLO c\\r\\n\n<\n> MAIL FROM:<%s>\\r\\nRCPT TO:<a@example.net>\\r\\nDATA\\r\\n\n<\n<\n<\n> Subject: big\\r\\n\\r\\n\n' "$MB"
         i=0; while [ $i -lt 300 ]; do printf '> %0100d\\r\\n\n' 0; i=$((i+1)); done
         printf '> .\\r\\n\n<\n'; } | smtp_session $PORT)
echo "$out" | tail -1 | grep -q '^552 5.3.4'; tap_ok $? "data over max_message_size: 552 5.3.4"
tap_ok $([ "$(count)" -eq "$n0" ]; echo $?) "oversize message not submitted"
out=$(printf '<\n> EHLO c\\r\\n\n<\n> MAIL FROM:<%s>\\r\\nRCPT TO:<a@x.net>\\r\\nRCPT TO:<b@x.net>\\r\\nRCPT TO:<c@x.net>\\r\\nRCPT TO:<d@x.net>\\r\\nRSET\\r\\n\n<\n<\n<\n<\n<\n<\n' "$MB" | smtp_session $PORT)
echo "$out" | sed -n 7p | grep -q '^452 4.5.3'; tap_ok $? "recipient over max_recipients: 452 4.5.3"
echo "$out" | sed -n 8p | grep -q '^250'; tap_ok $? "RSET after a pipelined group answered in order"
out=$( { printf '<\n> EHLO c\\r\\n\n<\n> NOOP '; printf 'x%.0s' $(seq 1 2100); printf '\\r\\n\n<\n> NOOP\\r\\n\n<\n'; } | smtp_session $PORT)
echo "$out" | sed -n 3p | grep -q '^500 5.5.2'; tap_ok $? "command line over 2048 bytes: 500 5.5.2"
echo "$out" | sed -n 4p | grep -q '^250'; tap_ok $? "the next command is read cleanly"

# --- allow: ::1 is not in allow = 127.0.0.0/8
n0=$(count)
out=$(printf '<\n> EHLO c\\r\\n\n<\n' | smtp_session "[::1]:$PORT6")
echo "$out" | head -1 | grep -q '^554 5.7.1'; tap_ok $? "client outside allow gets 554 5.7.1"
wait_for relay_log_has 'reject: connect from \[::1\]'; tap_ok $? "... and is logged"

# --- LMTP on the unix socket: one final reply per accepted recipient
n0=$(count)
out=$(cat <<EOF2 | smtp_session "unix:$SOCK"
<
> LHLO c\r\n
<
> MAIL FROM:<$MB>\r\nRCPT TO:<a@example.net>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
<
<
<
<
> Subject: lmtp\r\n\r\nhi\r\n.\r\n
<
<
> QUIT\r\n
<
EOF2
)
tap_ok $([ "$(echo "$out" | grep -c '^250 2.0.0 OK')" -eq 2 ]; echo $?) "LMTP: one final reply per recipient"
tap_ok $([ "$(count)" -eq $((n0 + 1)) ]; echo $?) "LMTP: one message upstream"

# --- account choice: X-Exorelay names "second"; the guess (by sender) was main
sendtag() {
    cat <<EOF2 | smtp_session $PORT
<
> EHLO c\r\n
<
> MAIL FROM:<ops@example.org>\r\nRCPT TO:<a@example.net>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
<
<
<
<
> From: ops@example.org\r\nX-Exorelay: class=ops; account=second\r\nSubject: $1\r\n\r\nhi\r\n.\r\n
<
EOF2
}
out=$(sendtag switch1)
echo "$out" | tail -1 | grep -q '^250 2.0.0 OK'; tap_ok $? "tagged message accepted"
last=$(ls "$STANDIN_MSGDIR"/*.json | tail -1)
grep -q '"auth_user": "second@contoso.onmicrosoft.com"' "$last"; tap_ok $? "submitted as the tagged account's mailbox"
grep -q '"rcpt_to": \["a@example.net", "b@example.net"\]' "$last"; tap_ok $? "all recipients replayed on the new account"
wait_for relay_log_has 'account=second \(switched from main\)'; tap_ok $? "log line shows the switch"
out=$(sendtag switch2)
echo "$out" | tail -1 | grep -q '^250 2.0.0 OK'; tap_ok $? "second tagged message accepted"
tap_ok $([ "$(grep -c 'switched from' "$RELAY_LOG")" -eq 1 ]; echo $?) "second message from that sender needs no switch"

# --- a pooled connection the upstream closed: retried on a fresh one
cat >"$TESTS_TMP/retry.script" <<EOF2
<
> EHLO c\r\n
<
> MAIL FROM:<$MB>\r\nRCPT TO:<a@example.net>\r\nDATA\r\n
<
<
<
> Subject: retry\r\n\r\nx\r\n.\r\n
<
EOF2
smtp_session $PORT <"$TESTS_TMP/retry.script" >/dev/null     # warm the pool
standin_ctl POST /faults '{"smtp_421": {"at": "MAIL", "count": 1}}' >/dev/null
out=$(smtp_session $PORT <"$TESTS_TMP/retry.script")
echo "$out" | sed -n 3p | grep -q '^250 2.1.0'; tap_ok $? "421 on a reused connection: the client never sees it"
echo "$out" | tail -1 | grep -q '^250 2.0.0 OK'; tap_ok $? "... the message goes through a fresh connection"
wait_for relay_log_has 'reused upstream connection was closed'; tap_ok $? "... and the retry is logged"

# --- upstream 4xx at end of data reaches the client as 4xx
standin_ctl POST /faults '{"eod_4xx": {"count": 1}}' >/dev/null
out=$(smtp_session $PORT <"$TESTS_TMP/retry.script")
echo "$out" | tail -1 | grep -q '^451 4.3.0'; tap_ok $? "upstream 451 after data is the client's final reply"

# --- SIGHUP: new limit for new sessions, open sessions go on
# (the session has its EHLO reply before the SIGHUP, and goes on after the
# reload was logged)
{ printf '<\n> EHLO c\\r\\n\n<\nuntil %s\n' "$TESTS_TMP/hup.done"; sed -n '4,$p' "$TESTS_TMP/retry.script"; } |
    smtp_session $PORT >"$TESTS_TMP/hup.out" &
hup_pid=$!
wait_for grep -q '^250' "$TESTS_TMP/hup.out"
sed -i 's/^max_recipients = 3/max_recipients = 1/' "$CONF"
relay_reload; tap_ok $? "SIGHUP reloads the config"
touch "$TESTS_TMP/hup.done"
wait $hup_pid
tail -1 "$TESTS_TMP/hup.out" | grep -q '^250 2.0.0 OK'; tap_ok $? "a session open across SIGHUP goes on and relays"
out=$(printf '<\n> EHLO c\\r\\n\n<\n> MAIL FROM:<%s>\\r\\nRCPT TO:<a@x.net>\\r\\nRCPT TO:<b@x.net>\\r\\nRSET\\r\\n\n<\n<\n<\n<\n' "$MB" | smtp_session $PORT)
echo "$out" | sed -n 5p | grep -q '^452 4.5.3'; tap_ok $? "new sessions use the reloaded config"

# --- SIGTERM in the middle of a message: it is finished, then exit 0
n0=$(count)
"$PYTHON" - "$PORT" "$RELAY_PID" "$MB" >"$TESTS_TMP/term.out" 2>&1 <<'PY' &
import os, signal, socket, sys, time
port, pid, mb = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline()
        if len(line) < 4 or line[3:4] != b"-":
            return line.decode().strip()
reply(); s.sendall(b"EHLO c\r\n"); reply()
s.sendall(b"MAIL FROM:<%s>\r\nRCPT TO:<a@example.net>\r\nDATA\r\n" % mb.encode())
reply(); reply(); print(reply())
s.sendall(b"Subject: term\r\n\r\nfirst half\r\n")
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
s.sendall(b"second half\r\n.\r\n")
print(reply())
s.sendall(b"QUIT\r\n")
print(reply())
PY
pypid=$!
wait $pypid
wait "$RELAY_PID"; rc=$?
grep -q '^250 2.0.0 OK' "$TESTS_TMP/term.out"; tap_ok $? "SIGTERM: the message in flight is finished (250)"
tap_ok $([ "$(count)" -eq $((n0 + 1)) ]; echo $?) "SIGTERM: ... and submitted"
tap_ok $rc "SIGTERM: exit status 0"
