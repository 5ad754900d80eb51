#!/bin/sh
# t_maillog.sh - the delivery log (relay/support/maillog.c) in syslog, as
# Postfix admins read it: a detached relay (no -f) logs with facility mail
# to a syslog socket (a stand-in /dev/log, EXORELAY_SYSLOG_SOCKET) under
# the tags exorelay/relay, exorelay/smtpd and exorelay/smtp; the lines of
# a run with sent, deferred (stand-in fault: 451 at end of data), bounced
# (554 at end of data), rejected (550 at RCPT) and spooled
# (exorelay-sendmail) mail are counted by
# pflogsumm --syslog-name=exorelay as exactly that.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"
. "$TOP/tests/lib/syslog.sh"
command -v pflogsumm >/dev/null || skip_all "pflogsumm not installed (tests/deps.sh)"

standin_start || exit 1
MB=$STANDIN_MAILBOX
PORT=$(free_port)
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF" "127.0.0.1:$PORT"

syslog_start || { echo "not ok - syslog sink did not start"; exit 1; }

# log_has REGEX - the syslog file has a matching line (waits up to 10 s)
log_has() {
    wait_for grep -Eq "$1" "$LOG"
}

EXORELAY_SYSLOG_SOCKET=$SOCK "$BIN/exorelay" -c "$CONF" run 2>"$TESTS_TMP/run.err"
tap_ok $? "run without -f: the parent exits 0"
log_has 'exorelay/relay\[[0-9]+\]: exorelay .* serving'
tap_ok $? "the daemon's start is in syslog, tag exorelay/relay"
DPID=$(fuser -n tcp "$PORT" 2>/dev/null | tr -d ' ')
cleanup_add "kill $DPID 2>/dev/null"
grep -q "exorelay/relay\[$DPID\]: exorelay .* serving" "$LOG"
tap_ok $? "... with the daemon's PID ($DPID)"
tap_ok $([ ! -s "$TESTS_TMP/run.err" ]; echo $?) "nothing on the terminal once detached"

# send RCPT... - one message to the given recipients; prints the last reply
send() {
    _s="<
> EHLO c\\r\\n
<
> MAIL FROM:<$MB>\\r\\n
<"
    for _r in "$@"; do
        _s="$_s
> RCPT TO:<$_r>\\r\\n
<"
    done
    _s="$_s
> DATA\\r\\n
<
> Subject: log\\r\\n\\r\\nx\\r\\n.\\r\\n
<
> QUIT\\r\\n
<"
    printf "%s\n" "$_s" | smtp_session "$PORT" | tail -2 | head -1
}

send a@example.net b@example.net | grep -q '^250 '
tap_ok $? "message 1 (2 recipients) relayed"
standin_ctl POST /faults '{"eod_4xx": {"count": 1}}' >/dev/null
send c@example.net | grep -q '^451 '
tap_ok $? "message 2: upstream 451 at end of data, the client gets 451"
standin_ctl POST /faults '{"smtp_reply": {"at": "EOD", "count": 1, "reply": "554 5.6.0 Corrupt message content"}}' >/dev/null
send d@example.net | grep -q '^554 '
tap_ok $? "message 3: upstream 554 at end of data, the client gets 554"
standin_ctl POST /faults '{"smtp_reply": {"at": "RCPT", "count": 1, "reply": "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"}}' >/dev/null
send nobody@example.net e@example.net | grep -q '^250 '
tap_ok $? "message 4: first recipient refused at RCPT, the other relayed"

printf 'Subject: spooled\n\nx\n' | EXORELAY_SYSLOG_SOCKET=$SOCK "$BIN/exorelay-sendmail" -C "$CONF" f@example.net
tap_ok $? "message 5: exorelay-sendmail spools it, the daemon delivers it"

log_has 'to=<e@example.net>.*status=sent' && log_has 'to=<f@example.net>.*status=sent'
tap_ok $? "the last deliveries are logged"
grep -Eq 'exorelay/smtp\[[0-9]+\]: [0-9A-F]{20}: to=<f@example.net>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:[0-9]+, delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=2\.0\.0, status=sent \(250 2\.0\.0 OK' "$LOG"
tap_ok $? "the spooled message: the same line, under its spool ID"
grep -Eq 'exorelay/pickup\[[0-9]+\]: [0-9A-F]{20}: uid=[0-9]+ from=<'"$MB"'>' "$LOG"
tap_ok $? "its pickup into the queue: uid= from=<>, as Postfix's pickup writes it"
grep -Eq 'exorelay/sendmail\[[0-9]+\]: [0-9A-F]{20}: uid=[0-9]+ from=<'"$MB"'>.*submitted' "$LOG"
tap_ok $? "exorelay-sendmail logs to syslog, tag exorelay/sendmail"
grep -Eq 'exorelay/smtp\[[0-9]+\]: [0-9A-F]+: to=<a@example.net>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:[0-9]+, delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=2\.0\.0, status=sent \(250 2\.0\.0 OK' "$LOG"
tap_ok $? "a sent line in Postfix's shape: to=, relay=host[IP]:port, delay=, delays=a/b/c/d, dsn=, status=sent (reply)"
grep -Eq 'exorelay/smtp\[[0-9]+\]: [0-9A-F]+: from=<'"$MB"'>, size=[0-9]+, nrcpt=2' "$LOG"
tap_ok $? "one from=<>, size=, nrcpt= line per message"
grep -Eq ': to=<c@example.net>, .*dsn=4\.3\.0, status=deferred \(451 4\.3\.0 ' "$LOG"
tap_ok $? "the deferred recipient: dsn=4.3.0, status=deferred (451 ...)"
grep -Eq ': to=<d@example.net>, .*dsn=5\.6\.0, status=bounced \(554 5\.6\.0 Corrupt' "$LOG"
tap_ok $? "the bounced recipient: dsn=5.6.0, status=bounced (554 ...)"
grep -Eq 'exorelay/smtpd\[[0-9]+\]: [0-9A-F]+: reject: RCPT from unknown\[127\.0\.0\.1\]: 550 5\.1\.10 .*; from=<'"$MB"'> to=<nobody@example.net>' "$LOG"
tap_ok $? "the recipient refused at RCPT: a reject line, as Postfix's smtpd writes it"
tap_ok $(grep -c ': to=<' "$LOG" | grep -qx 6; echo $?) "one line per recipient that got past RCPT (6)"
tap_ok $(syslog_facility_mail; echo $?) \
    "every line has facility mail"
grep -q '^MALFORMED' "$LOG"; tap_ok $((! $?)) "every datagram in syslog(3)'s form"

pflogsumm --syslog-name=exorelay --detail 0 "$LOG" >"$TESTS_TMP/summary" 2>"$TESTS_TMP/summary.err"
tap_ok $? "pflogsumm reads the log"
tap_ok $([ ! -s "$TESTS_TMP/summary.err" ]; echo $?) "... without a complaint"
sed 's/^/#   /' "$TESTS_TMP/summary.err" | head -5
count() {   # count WORD - pflogsumm's Grand Totals figure for WORD
    sed -n "s/^ *\([0-9]*\) *$1\b.*/\1/p" "$TESTS_TMP/summary" | head -1
}
for want in "received 5" "delivered 4" "deferred 1" "bounced 1" "rejected 1"; do
    set -- $want
    got=$(count "$1")
    tap_ok $([ "$got" = "$2" ]; echo $?) "pflogsumm: $2 $1 (got ${got:-nothing})"
done
[ "$(count delivered)" = 4 ] || sed 's/^/#   /' "$TESTS_TMP/summary" | head -30

kill -TERM "$DPID"
wait_for sh -c "! kill -0 $DPID"; tap_ok $? "the daemon stops on SIGTERM"
log_has 'exorelay/relay\[[0-9]+\]: .*(stopp|exit|shut)'
tap_ok $? "its goodbye is in syslog too"
