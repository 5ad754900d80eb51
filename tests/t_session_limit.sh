#!/bin/sh
# t_session_limit.sh - Exchange's limit of 3 sessions per mailbox, held by
# someone else (the stand-in's POST /hold): a 432 4.3.2 is temporary for
# every recipient, on the spool path (exorelay-sendmail without a daemon,
# then the daemon's queue runner) and on the relay path (an SMTP client);
# the refused connection is closed, never reused, and the pool backs off
# instead of opening one refused connection per message. A 503 to a RCPT
# is never a permanent failure of the recipient either.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"

MBOX=$STANDIN_MAILBOX
standin_start || exit 1
PORT=$(free_port)
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF" "127.0.0.1:$PORT"
SECOND=second@contoso.onmicrosoft.com
relay_add_account "$CONF" second second "$SECOND"
sed -i 's/^log_level = .*/log_level = info\nretry_min = 1\nretry_max = 2/' "$CONF"
SPOOL=$TESTS_TMP/spool
SM="$BIN/exorelay-sendmail"
hold() { standin_ctl POST /hold "{\"mailbox\": \"$MBOX\", \"sessions\": $1}" >/dev/null; }
limit_at() { standin_ctl POST /scenario "{\"smtp\": {\"session_limit_at\": \"$1\"}}" >/dev/null; }
spooled() { ls "$SPOOL/queue" "$SPOOL/maildrop" 2>/dev/null | grep -c '^[0-9A-F]\{20\}$'; }
failed_count() { ls "$SPOOL/failed" 2>/dev/null | grep -c '^[0-9A-F]\{20\}$'; }
wait_long() {
    _n=$(( $1 * 10 )); shift
    while [ "$_n" -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; _n=$((_n - 1)); done
    return 1
}
# records_to ADDR - messages the stand-in recorded for this recipient
records_to() { standin_ctl GET /messages | "$PYTHON" -c '
import json, sys
print(sum(sys.argv[1] in m["rcpt_to"] for m in json.load(sys.stdin)["messages"]))' "$1"; }

echo "# $(date +%T) spool, no daemon: 432 at MAIL while 3 sessions are held elsewhere"
limit_at MAIL
hold 3
printf 'Subject: held\nMessage-ID: <held-1@test>\n\nbody\n' |
    "$SM" -C "$CONF" -v a@example.com b@example.com 2>"$TESTS_TMP/err"
ok "exorelay-sendmail exits 0 (the message is safe in the spool)" test $? = 0
sed 's/^/#   /' "$TESTS_TMP/err"
ok "the message stays queued" test "$(spooled)" = 1
"$SM" -C "$CONF" -bp >"$TESTS_TMP/mailq"
sed 's/^/#   /' "$TESTS_TMP/mailq"
ok "mailq shows it with the 432 text" \
    grep -q "432 4.3.2 Concurrent connections limit exceeded" "$TESTS_TMP/mailq"
ok "mailq lists both recipients as waiting" \
    sh -c "grep -q a@example.com '$TESTS_TMP/mailq' && grep -q b@example.com '$TESTS_TMP/mailq'"
ok "no DSN was made (nothing else queued, nothing failed)" \
    sh -c "[ \$(ls '$SPOOL/maildrop' '$SPOOL/queue' | grep -c '^[0-9A-F]\{20\}\$') = 1 ] && [ $(failed_count) = 0 ]"
ok "nothing reached the stand-in" test "$(standin_count)" = 0

hold 0
"$BIN/exorelay" -c "$CONF" queue flush >"$TESTS_TMP/flush" 2>&1
sed 's/^/#   /' "$TESTS_TMP/flush"
ok "a session freed: queue flush delivers it" test "$(records_to a@example.com)" = 1
ok "to both recipients, in one message" test "$(records_to b@example.com)" = 1
ok "the spool is empty, failed/ too" sh -c "[ $(spooled) = 0 ] && [ $(failed_count) = 0 ]"
ok "exactly one message at the stand-in: no DSN" test "$(standin_count)" = 1

echo "# $(date +%T) a 503 to a RCPT (MAIL accepted) is no verdict on the recipient either"
SEQ503='{"smtp_reply": {"at": "RCPT", "reply": "503 5.5.2 Need mail command"}}'
standin_ctl POST /faults "$SEQ503" >/dev/null
printf 'Subject: seq\nMessage-ID: <seq-1@test>\n\nbody\n' | "$SM" -C "$CONF" f@example.com
ok "the message stays queued" test "$(spooled)" = 1
"$SM" -C "$CONF" -bp >"$TESTS_TMP/mailq2"
sed 's/^/#   /' "$TESTS_TMP/mailq2"
ok "mailq: 451 4.5.1 quoting the 503" grep -q "451 4.5.1 .*503 5.5.2 Need mail command" "$TESTS_TMP/mailq2"
ok "no DSN, nothing failed" sh -c "[ $(spooled) = 1 ] && [ $(failed_count) = 0 ]"
standin_ctl DELETE /faults >/dev/null
"$BIN/exorelay" -c "$CONF" queue flush >/dev/null 2>&1
ok "the fault gone: queue flush delivers it, once" sh -c "[ $(records_to f@example.com) = 1 ] && [ $(spooled) = 0 ]"

echo "# $(date +%T) the relay: a client's MAIL meets the 432"
hold 3
standin_ctl POST /reset >/dev/null
relay_start "$CONF" || exit 1
smtp_session "$PORT" >"$TESTS_TMP/s1" <<'EOF'
<
> EHLO client.test\r\n
<
> MAIL FROM:<no-reply@contoso.onmicrosoft.com>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n
<
<
<
<
> MAIL FROM:<no-reply@contoso.onmicrosoft.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n
<
<
<
> QUIT\r\n
<
EOF
sed 's/^/#   /' "$TESTS_TMP/s1"
sed -n 3p "$TESTS_TMP/s1" >"$TESTS_TMP/mail1"
ok "MAIL: the 432 is relayed" grep -q "^432 4.3.2 Concurrent connections limit exceeded" "$TESTS_TMP/mail1"
ok "the RCPTs and DATA pipelined behind it get the MAIL's 4xx, not a 503" \
    sh -c "sed -n 4,6p '$TESTS_TMP/s1' | grep -c '^432 4.3.2' | grep -qx 3"
ok "the next message: a 4xx at once that says why" \
    sh -c "sed -n 7p '$TESTS_TMP/s1' | grep -q '^451 4.3.2 exorelay: the sessions of $MBOX are all held'"
ok "... for its RCPT and DATA too, never a 5xx" \
    sh -c "! sed -n 3,9p '$TESTS_TMP/s1' | grep -q '^5'"
ok "the refused connection was not reused (no conn=reused)" sh -c "! grep -q 'conn=reused' '$RELAY_LOG'"
ok "one session tried, not one per message" test "$(standin_stat smtp_connections)" = 1
ok "the log says what the pool does about it" \
    relay_log_has "Exchange refused a session for $MBOX .*using at most 0 for 5 s"

echo "# $(date +%T) the same with the 432 at AUTH: fewer sessions than messages"
limit_at AUTH
standin_ctl POST /reset >/dev/null
# the pool's first backoff (5 s) may have ended: then one new attempt
smtp_session "$PORT" >"$TESTS_TMP/s2" <<'EOF'
<
> EHLO client.test\r\n
<
> MAIL FROM:<no-reply@contoso.onmicrosoft.com>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n
<
<
<
> MAIL FROM:<no-reply@contoso.onmicrosoft.com>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n
<
<
<
> MAIL FROM:<no-reply@contoso.onmicrosoft.com>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n
<
<
<
> MAIL FROM:<no-reply@contoso.onmicrosoft.com>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n
<
<
<
> QUIT\r\n
<
EOF
sed 's/^/#   /' "$TESTS_TMP/s2"
ok "4 messages: every MAIL answered 4xx" \
    test "$(grep -c '^4[0-9][0-9] 4.3.2' "$TESTS_TMP/s2")" = 12
ok "at most one session tried for them" test "$(standin_stat auth_attempts)" -le 1

echo "# $(date +%T) sessions free again: mail flows"
hold 0
# send_one - one message through the relay; its final reply on stdout
send_one() {
    smtp_session "$PORT" <<'EOF' | sed -n 6p
<
> EHLO client.test\r\nMAIL FROM:<no-reply@contoso.onmicrosoft.com>\r\nRCPT TO:<d@example.com>\r\nDATA\r\n
<
<
<
<
> Subject: d\r\n\r\nbody\r\n.\r\n
<
> QUIT\r\n
<
EOF
}
sent_through_relay() { send_one | grep -q '^250'; }
ok "once the pool's backoff ends, the relay delivers (within 30 s)" \
    wait_long 30 sent_through_relay
ok "recorded" test "$(records_to d@example.com)" -ge 1
standin_ctl POST /faults "$SEQ503" >/dev/null
smtp_session "$PORT" >"$TESTS_TMP/s3" <<'EOF'
<
> EHLO client.test\r\n
<
> MAIL FROM:<no-reply@contoso.onmicrosoft.com>\r\nRCPT TO:<g@example.com>\r\nDATA\r\n
<
<
<
> QUIT\r\n
<
EOF
sed 's/^/#   /' "$TESTS_TMP/s3"
standin_ctl DELETE /faults >/dev/null
ok "upstream's 503 to a RCPT reaches the client as 451 4.5.1, not a 5xx" \
    sh -c "sed -n 4p '$TESTS_TMP/s3' | grep -q '^451 4.5.1 .*503 5.5.2'"

echo "# $(date +%T) the daemon's queue runner: deferred while held, sent when freed"
limit_at MAIL
hold 3
# the pool still holds its working session: drop it so the next needs a new one
relay_stop
relay_start "$CONF" || exit 1
printf 'Subject: held2\nMessage-ID: <held-2@test>\n\nbody\n' | "$SM" -C "$CONF" e@example.com
ok "the runner meets the 432 and defers" \
    wait_long 20 relay_log_has "[0-9A-F]{20}: to=<e@example.com>, .*status=deferred \(432 4\.3\.2"
ok "the message waits in the queue" test "$(spooled)" = 1
hold 0
ok "a session freed: the runner delivers it (within 60 s)" \
    wait_long 60 sh -c "[ \$(ls '$SPOOL/queue' '$SPOOL/maildrop' | grep -c '^[0-9A-F]\{20\}\$') = 0 ]"
ok "recorded once, no DSN, nothing failed" \
    sh -c "[ $(records_to e@example.com) = 1 ] && [ $(failed_count) = 0 ]"
echo "# $(date +%T) a replay on another account (X-Exorelay) meets the 432 there"
standin_ctl POST /hold "{\"mailbox\": \"$SECOND\", \"sessions\": 3}" >/dev/null
standin_ctl POST /reset >/dev/null
# tagged HELLO RCPT-LINES "R..." [SENDER] - one message from SENDER
# (default no-reply@), tagged for account second; every reply on stdout.
# The relay guesses account main at MAIL until it has seen SENDER's tag.
tagged() {
    { echo '<'
      printf '%s\n' "> $1 client.test\r\nMAIL FROM:<${4:-no-reply@contoso.onmicrosoft.com}>\r\n$2DATA\r\n"
      echo '<'; echo '<'; for _r in $3; do echo '<'; done; echo '<'
      printf '%s\n' '> X-Exorelay: class=x; account=second\r\nSubject: h\r\n\r\nbody\r\n.\r\n'
      for _r in $3; do echo '<'; done
      printf '%s\n' '> QUIT\r\n'; echo '<'; } | smtp_session "$PORT"
}
tagged EHLO 'RCPT TO:<h@example.com>\r\n' h >"$TESTS_TMP/r1"
tagged EHLO 'RCPT TO:<h@example.com>\r\n' h >"$TESTS_TMP/r2"
sed 's/^/#   /' "$TESTS_TMP/r1" "$TESTS_TMP/r2"
ok "the replay's MAIL meets the 432: a 4xx at the end of data" \
    sh -c "sed -n 6p '$TESTS_TMP/r1' | grep -q '^432 4.3.2'"
ok "the next message (MAIL now guessed right): a 4xx at once" \
    sh -c "sed -n 3p '$TESTS_TMP/r2' | grep -q '^451 4.3.2 exorelay: the sessions of $SECOND'"
ok "the second message does not try $SECOND again while it is held" \
    test "$(standin_stat concurrency_refused)" = 1
standin_ctl POST /hold "{\"mailbox\": \"$SECOND\", \"sessions\": 0}" >/dev/null
echo "# $(date +%T) a 503 in a replay is no verdict on a recipient"
relay_stop                      # a fresh pool: no backoff left for second
relay_start "$CONF" || exit 1
# RCPTs at the stand-in: the 1st on main (MAIL's guess), the 2nd replayed
# on second gets a 503
standin_ctl POST /faults '{"smtp_reply": {"at": "RCPT", "every": 2, "reply": "503 5.5.2 Need mail command"}}' >/dev/null
tagged EHLO 'RCPT TO:<i@example.com>\r\n' i alerts@contoso.onmicrosoft.com >"$TESTS_TMP/r3"
sed 's/^/#   /' "$TESTS_TMP/r3"
ok "the replayed RCPT answered 503: the client's final reply is 451 4.5.1" \
    sh -c "sed -n 6p '$TESTS_TMP/r3' | grep -q '^451 4.5.1 .*503 5.5.2'"
standin_ctl POST /faults '{"smtp_reply": {"at": "MAIL", "every": 2, "reply": "503 5.5.2 Sender already specified"}}' >/dev/null
tagged EHLO 'RCPT TO:<k@example.com>\r\n' k root@contoso.onmicrosoft.com >"$TESTS_TMP/r4"
sed 's/^/#   /' "$TESTS_TMP/r4"
ok "the replayed MAIL answered 503: 451 4.5.1, not a 5xx" \
    sh -c "sed -n 6p '$TESTS_TMP/r4' | grep -q '^451 4.5.1 .*503 5.5.2'"
standin_ctl DELETE /faults >/dev/null
relay_stop
echo "1..$_tap_n"
