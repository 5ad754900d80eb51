#!/bin/sh
# t_cron_quiet.sh - quiet where cron listens: "exorelay-sendmail -q" and
# "exorelay queue flush" print nothing unless something fails (as
# Postfix's "sendmail -q" does): not when they deliver, not when the mail
# is deferred (it waits, the log says why), with or without a daemon; a
# message that failed for good with nobody to tell is printed; -v tells
# all. And "exorelay-milter -n": the config check of its unit
# (ExecStartPre), silent and 0 when fine, else FILE:LINE lines and 78.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
[ "$(id -u)" = 0 ] || skip_all "delivering without a daemon needs root (the credentials)"

standin_start || exit 1
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF"
SM="$BIN/exorelay-sendmail"
MB=$STANDIN_MAILBOX
SPOOL=$TESTS_TMP/spool
faults() { standin_ctl POST /faults "$1" >/dev/null; }
queued() { ls "$SPOOL/queue" "$SPOOL/maildrop" 2>/dev/null | grep -c '^[0-9A-F]\{20\}$'; }
arrived() { cat "$STANDIN_MSGDIR"/*.eml 2>/dev/null | tr -d '\r' | grep -c "^Message-ID: <$1@test>"; }
# submit TAG [args] - a message, queued while upstream is down (421 at MAIL)
submit() {
    _t=$1; shift
    faults '{"smtp_421": {"at": "MAIL"}}'
    printf 'Subject: %s\nMessage-ID: <%s@test>\n\nx\n' "$_t" "$_t" | "$SM" -C "$CONF" "$@"
    standin_ctl DELETE /faults >/dev/null
}
# q TAG CMD... - run CMD, its stdout+stderr in $TESTS_TMP/TAG.out, $RC
q() { _t=$1; shift; "$@" >"$TESTS_TMP/$_t.out" 2>&1; RC=$?; }
silent() { [ "$RC" = 0 ] && [ ! -s "$TESTS_TMP/$1.out" ]; }
show() { sed 's/^/#   /' "$TESTS_TMP/$1.out" | head -5; }

echo "# no daemon: the flush delivers from the calling process"
submit m1 rcpt@example.net >"$TESTS_TMP/submit.out" 2>&1
tap_ok $([ $? = 0 ] && [ ! -s "$TESTS_TMP/submit.out" ] && [ "$(queued)" = 1 ]; echo $?) \
    "upstream down: the message is queued, the submission says nothing"
q q1 "$SM" -C "$CONF" -q
silent q1; tap_ok $? "sendmail -q delivers it: exit 0, no output"; show q1
tap_ok $([ "$(arrived m1)" = 1 ] && [ "$(queued)" = 0 ]; echo $?) "... it arrived, the queue is empty"

submit m2 rcpt@example.net >/dev/null 2>&1
faults '{"eod_4xx": {}}'
q q2 "$SM" -C "$CONF" -q
silent q2; tap_ok $? "sendmail -q, upstream answers 451: exit 0, no output (deferral is no failure)"; show q2
tap_ok $([ "$(queued)" = 1 ]; echo $?) "... the message stays queued"
q q3 "$BIN/exorelay" -c "$CONF" queue flush
silent q3; tap_ok $? "exorelay queue flush: the same, silent"; show q3
q q4 "$BIN/exorelay" -c "$CONF" queue flush -v
tap_ok $([ $RC = 0 ] && grep -q ': deferred: .*451' "$TESTS_TMP/q4.out" &&
    grep -q '^0 sent, 1 deferred, 0 failed$' "$TESTS_TMP/q4.out"; echo $?) \
    "queue flush -v: a line per message and the total"
standin_ctl DELETE /faults >/dev/null
q q5 "$SM" -C "$CONF" -q
tap_ok $([ "$(arrived m2)" = 1 ] && [ "$(queued)" = 0 ] && silent q5; echo $?) "upstream back: delivered, silently"

submit m3 -f '<>' rcpt@example.net >/dev/null 2>&1
faults '{"smtp_reply": {"at": "RCPT", "reply": "550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found"}}'
q q6 "$SM" -C "$CONF" -q
standin_ctl DELETE /faults >/dev/null
tap_ok $([ $RC = 0 ] && grep -q '^[0-9A-F]\{20\}: failed: .*550 5\.1\.10' "$TESTS_TMP/q6.out"; echo $?) \
    "a message refused for good with nobody to tell (sender <>): -q prints it"; show q6

echo "# with a daemon: -q asks it to run the queue"
"$BIN/exorelay" -c "$CONF" run -f >>"$TESTS_TMP/daemon.log" 2>&1 &
DAEMON=$!
cleanup_add "kill $DAEMON 2>/dev/null"
wait_for test -e "$SPOOL/pid" || echo "# the daemon did not start"
submit m4 rcpt@example.net >/dev/null 2>&1
# the daemon may try it at once and defer it; -q makes it try again now
q q7 "$SM" -C "$CONF" -q
silent q7; tap_ok $? "sendmail -q with a daemon: exit 0, no output"; show q7
wait_for sh -c "[ \$(cat '$STANDIN_MSGDIR'/*.eml | tr -d '\r' | grep -c '^Message-ID: <m4@test>') = 1 ]"
tap_ok $? "... and the daemon delivered it"
q q8 "$SM" -C "$CONF" -q -v
tap_ok $([ $RC = 0 ] && grep -q "queue run requested from the exorelay daemon (pid $DAEMON)" "$TESTS_TMP/q8.out"; echo $?) \
    "sendmail -q -v says what it did"
kill "$DAEMON"; wait "$DAEMON" 2>/dev/null

echo "# exorelay-milter -n"
printf '\n[milter]\nsocket = unix:%s/m.sock\n' "$TESTS_TMP" >>"$CONF"
q n1 "$BIN/exorelay-milter" -c "$CONF" -n
silent n1; tap_ok $? "a good config: exit 0, no output"; show n1
printf '[relay]\nlisten = nowhere\n[milter]\nbogus_key = 1\n' >"$TESTS_TMP/bad.conf"
q n2 "$BIN/exorelay-milter" -c "$TESTS_TMP/bad.conf" -n
tap_ok $([ $RC = 78 ] && grep -q "^$TESTS_TMP/bad.conf:2: " "$TESTS_TMP/n2.out" &&
    grep -q "^$TESTS_TMP/bad.conf:4: " "$TESTS_TMP/n2.out"; echo $?) \
    "a broken config: exit 78 (got $RC), one FILE:LINE: message per problem"; show n2
q n3 "$BIN/exorelay-milter" -c "$TESTS_TMP/none.conf" -n
tap_ok $([ $RC = 78 ] && grep -q "none.conf" "$TESTS_TMP/n3.out"; echo $?) "a missing config: exit 78, named"
tap_ok $([ ! -e "$TESTS_TMP/m.sock" ] && ! pgrep -f "exorelay-milter -c $CONF" >/dev/null; echo $?) \
    "-n opens no socket and leaves no process"
