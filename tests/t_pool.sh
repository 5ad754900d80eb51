#!/bin/sh
# t_pool.sh - account pools against the Exchange stand-in with a tiny daily
# recipient quota: a class's "account = p1, p2, p3" spreads messages over
# its mailboxes within each one's daily_recipients budget (no quota
# refusal reaches Exchange); when every mailbox is spent the client gets a
# 452 that says when room comes back; the budget survives a restart; a
# mailbox that answers Exchange's quota refusal is taken out and the
# message goes through another one inside the same client transaction.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"

standin_start || exit 1
PORT=$(free_port)
CONF=$TESTS_TMP/exorelay.conf
D=contoso.onmicrosoft.com
SENDAS=alerts@$D
standin_write_conf "$CONF" "127.0.0.1:$PORT"
M=$TESTS_TMP/exorelay.prom
sed -i "/^\[relay\]/a metrics_file = $M\nmetrics_interval = 1" "$CONF"
standin_ctl POST /scenario "{\"smtp\": {\"recipients_per_day\": 2},
  \"apps\": [{\"client_id\": \"$STANDIN_CLIENT_ID\", \"mailbox_access\": [\"*\"]}],
  \"mailboxes\": [$(for i in 1 2 3 4 5; do printf '{"address": "pool%s@%s", "send_as": ["%s"]},' $i $D $SENDAS; done)
                  {\"address\": \"pool6@$D\", \"send_as\": [\"spool@example.org\"]},
                  {\"address\": \"pool7@$D\", \"send_as\": [\"spool@example.org\"]}]}" >/dev/null
for i in 1 2 3; do
    relay_add_account "$CONF" p$i main pool$i@$D
    echo "daily_recipients = 2" >>"$CONF"
done
for i in 4 5; do                        # the relay believes in more than Exchange allows
    relay_add_account "$CONF" q$i main pool$i@$D
    echo "daily_recipients = 10" >>"$CONF"
done
for i in 6 7; do                        # a pool by senders, for the spool
    relay_add_account "$CONF" s$i main pool$i@$D
    printf 'daily_recipients = 10\nsenders = spool@example.org\n' >>"$CONF"
done
cat >>"$CONF" <<EOF
[class bulk]
match_from = nobody@*
account = p1, p2, p3
send_as = $SENDAS
[class over]
match_from = nobody@*
account = q4, q5
send_as = $SENDAS
EOF
"$BIN/exorelay" -c "$CONF" check >/dev/null; tap_ok $? "a config with account pools is valid"
out=$("$BIN/exorelay" -c "$CONF" status)
echo "$out" | grep -q "^  budget      0 recipients in 24 h of 2, 2 left; 0 messages this minute$"
tap_ok $? "status before any mail: the whole budget left"
relay_start "$CONF" || exit 1

# send CLASS N - one message tagged for CLASS; prints the final reply, or
# the first refusal before it (MAIL, RCPT, DATA)
send() {
    cat <<EOF | smtp_session $PORT | sed -n '3,6p' | awk '!/^(2|354)/ {print; exit} NR == 4 {print}'
<
> EHLO c\r\n
<
> MAIL FROM:<$SENDAS>\r\nRCPT TO:<r$2@example.net>\r\nDATA\r\n
<
<
<
> From: $SENDAS\r\nX-Exorelay: class=$1\r\nSubject: pool $2\r\n\r\nbody\r\n.\r\n
<
> QUIT\r\n
<
EOF
}
# by_mailbox - "pool1=N pool2=N ..." of the messages recorded
by_mailbox() {
    standin_ctl GET /messages | "$PYTHON" -c '
import json, sys, collections
c = collections.Counter(m["auth_user"].split("@")[0] for m in json.load(sys.stdin)["messages"])
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))'
}

# control - the daemon's status document, one value by a Python expression
control() {
    "$PYTHON" -c 'import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"status\n")
d = b""
while True:
    b = s.recv(65536)
    if not b: break
    d += b
st = json.loads(d)
a = {x["name"]: x for x in st["accounts"]}
print(eval(sys.argv[2]))' "$TESTS_TMP/state/control.sock" "$1"
}

# --- six messages over a pool of three mailboxes with 2 recipients a day each
fails=0
for n in 1 2 3 4 5; do
    r=$(send bulk $n)
    case "$r" in 250*) ;; *) fails=$((fails + 1)); echo "# message $n: $r" ;; esac
done
out=$("$BIN/exorelay" -c "$CONF" status --check); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "^EXORELAY WARNING - pool of class bulk: 5 of 6 daily recipients used (83%)"
tap_ok $? "status --check: WARNING at 80% of the pool's budget (exit $rc: $out)"
got=$(control 'a["p1"]["budget"]["recipients_24h"], a["p1"]["budget"]["left"], a["p3"]["budget"]["left"], a["p1"]["budget"]["messages_minute"] >= 0, a["p1"]["budget"]["out_of_quota"]')
[ "$got" = "(2, 0, 1, True, False)" ]; tap_ok $? "control socket JSON: per mailbox recipients in 24 h, left, messages this minute, out of quota ($got)"
for n in 6; do
    r=$(send bulk $n)
    case "$r" in 250*) ;; *) fails=$((fails + 1)); echo "# message $n: $r" ;; esac
done
tap_ok $fails "6 messages through the pool: all 250"
got=$(by_mailbox)
[ "$got" = "pool1=2 pool2=2 pool3=2" ]; tap_ok $? "2 per mailbox, each within its budget ($got)"
[ "$(standin_stat quota_refused)" = 0 ]; tap_ok $? "no quota refusal from Exchange"

# --- every mailbox spent: a 452 that says when room comes back
r=$(send bulk 7)
echo "$r" | grep -Eq '^452 4\.2\.0 .*every mailbox of the pool \(p1,p2,p3\).*room again at 20[0-9-]+ [0-9:]+ UTC'
tap_ok $? "7th message: 452 with the time room comes back ($r)"
[ "$(standin_count)" = 6 ]; tap_ok $? "... and nothing went upstream"
"$BIN/exorelay" -c "$CONF" status >"$TESTS_TMP/status.out"
grep -q "^  budget      2 recipients in 24 h of 2, 0 left; [0-9]* messages this minute$" "$TESTS_TMP/status.out" &&
    grep -q "^  quota       budget spent; room again at 20" "$TESTS_TMP/status.out"
tap_ok $? "status shows each mailbox's budget and when room comes back"
out=$("$BIN/exorelay" -c "$CONF" status --check); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q "pool of class bulk: 6 of 6 daily recipients used (100%)"
tap_ok $? "status --check: CRITICAL when the pool is spent (exit $rc)"
metrics_ok() {
    grep -q '^exorelay_mailbox_recipients_left{account="p2"} 0$' "$M" &&
    grep -q '^exorelay_mailbox_recipients_last_day{account="p3"} 2$' "$M" &&
    grep -q '^exorelay_mailbox_out_of_quota{account="p1"} 0$' "$M" &&
    grep -q '^exorelay_mailbox_messages_this_minute{account="p1"} [0-9]*$' "$M"
}
wait_for metrics_ok
tap_ok $? "metrics file: per mailbox recipients, budget left, messages this minute, out of quota"

# --- the budget survives a restart
relay_stop
ls "$TESTS_TMP"/state/budget.pool1@$D >/dev/null 2>&1 || ls "$TESTS_TMP"/*/budget.pool1@$D >/dev/null 2>&1
tap_ok $? "the counts are kept in state_dir"
out=$("$BIN/exorelay" -c "$CONF" status)
echo "$out" | grep -q "^  budget      2 recipients in 24 h of 2, 0 left"
tap_ok $? "status without a daemon reads the budget from state_dir"
relay_start "$CONF" || exit 1
r=$(send bulk 8)
echo "$r" | grep -q '^452 4\.2\.0 .*room again at'; tap_ok $? "after a restart the pool is still spent ($r)"

# --- Exchange's quota refusal: the mailbox goes out, the message through another
r=$(send over 9)
r=$(send over 10)
r=$(send over 11)
echo "$r" | grep -q '^250 '; tap_ok $? "quota refusal at pool4: the same transaction ends 250 ($r)"
[ "$(standin_stat quota_refused)" = 1 ]; tap_ok $? "... Exchange did refuse once"
got=$(by_mailbox)
[ "$got" = "pool1=2 pool2=2 pool3=2 pool4=2 pool5=1" ]; tap_ok $? "... and pool5 sent it ($got)"
relay_log_has 'mailbox pool4@[^ ]* is out of quota; sending through pool5@'
tap_ok $? "the log says which mailbox took over"
r=$(send over 12)
echo "$r" | grep -q '^250 '; tap_ok $? "pool4 stays out: the next goes to pool5 ($r)"
[ "$(standin_stat quota_refused)" = 1 ]; tap_ok $? "... without asking pool4 again"
r=$(send over 13)
echo "$r" | grep -Eq '^452 4\.2\.0 .*room again at'
tap_ok $? "pool5 refused too, none left: 452 with the time ($r)"
[ "$(standin_stat quota_refused)" = 2 ]; tap_ok $? "... after Exchange refused pool5 once"
got=$(control 'a["q4"]["budget"]["out_of_quota"], a["q5"]["budget"]["out_of_quota"], a["q4"]["budget"]["out_until"] > st["now"]')
[ "$got" = "(True, True, True)" ]; tap_ok $? "control socket JSON: both out of quota, until a later time ($got)"
out=$("$BIN/exorelay" -c "$CONF" status --check)
echo "$out" | grep -q "q4: out of Exchange's daily quota"; tap_ok $? "status --check names the mailbox out of quota"
# --- the spool of exorelay-sendmail: a pool by senders, failover from a file
standin_ctl POST /faults '{"smtp_reply": {"at": "EOD", "reply": "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException", "count": 1}}' >/dev/null
printf 'From: spool@example.org\nSubject: spool\n\nbody\n' |
    "$BIN/exorelay-sendmail" -C "$CONF" -f spool@example.org spool-rcpt@example.net
spool_sent() { by_mailbox | grep -q 'pool7=1'; }
wait_for spool_sent; tap_ok $? "spool: quota refusal at pool6, delivered through pool7 ($(by_mailbox))"
relay_log_has 'mailbox pool6@[^ ]* is out of quota; trying the next mailbox'
tap_ok $? "... by the queue runner, in the same attempt"
relay_stop
echo "1..$_tap_n"
