#!/bin/sh
# t_lmtp.sh - LMTP in one flight against the Exchange stand-in: RCPT is
# accepted locally, and the message goes upstream as MAIL, RCPT... and
# BDAT <size> LAST in one write: one upstream round trip on a warm
# connection (counted by the stand-in), two for an SMTP client; each
# recipient gets its own reply after the data (a recipient Exchange
# refuses, the others 250); the content arrives byte-exact, small or
# large; a quota refusal sends the message through the next mailbox of
# its pool inside the same transaction, and when none is left every
# recipient gets a 452 that says when room comes back.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"

standin_start || exit 1
PORT=$(free_port)
SOCK=$TESTS_TMP/relay.sock
CONF=$TESTS_TMP/exorelay.conf
D=contoso.onmicrosoft.com
SENDAS=alerts@$D
standin_write_conf "$CONF" "127.0.0.1:$PORT, unix:$SOCK"
relay_add_account "$CONF" second second second@$D
standin_ctl POST /scenario "{\"mailboxes\": [{\"address\": \"second@$D\", \"send_as\": [\"$SENDAS\"]}]}" >/dev/null
relay_start "$CONF" || exit 1
MB=$STANDIN_MAILBOX

# lmtp TAG BODY RCPT... - one LMTP message; prints every reply
lmtp() {
    _tag=$1 _body=$2; shift 2
    {
        printf '<\n> LHLO c\\r\\n\n<\n> MAIL FROM:<%s>\\r\\n' "$SENDAS"
        for r in "$@"; do printf 'RCPT TO:<%s>\\r\\n' "$r"; done
        printf 'DATA\\r\\n\n<\n'
        for r in "$@"; do printf '<\n'; done
        printf '<\n> From: %s\\r\\n%sSubject: lmtp\\r\\n\\r\\n%s.\\r\\n\n' "$SENDAS" "$_tag" "$_body"
        for r in "$@"; do printf '<\n'; done
        printf '> QUIT\\r\\n\n<\n'
    } | smtp_session "unix:$SOCK"
}
last_json() { ls "$STANDIN_MSGDIR"/*.json | tail -1; }
field() { "$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$(last_json)" "$1"; }

# --- one round trip on a warm connection
out=$(lmtp "" 'first\r\n' a@example.net)
echo "$out" | grep -q '^250 2.1.5 Recipient OK' && echo "$out" | grep -q '^354 '
tap_ok $? "RCPT and DATA are answered locally"
# DSN parameters are not passed on by the one flight: LHLO must not
# announce DSN (the client then keeps the duty), EHLO still does
echo "$out" | grep -q '| 250-PIPELINING |' && ! echo "$out" | grep -q '| 250.DSN'
tap_ok $? "LHLO does not announce DSN"
printf '<\n> EHLO c\\r\\n\n<\n> QUIT\\r\\n\n<\n' | smtp_session "unix:$SOCK" | grep -q '| 250-DSN |'
tap_ok $? "... EHLO does"
out=$(lmtp "" 'second\r\n' a@example.net b@example.net)
[ "$(echo "$out" | grep -c '^250 2.0.0 OK <')" = 2 ]; tap_ok $? "a final reply for each recipient"
[ "$(standin_stat round_trips_last)" = 1 ]
tap_ok $? "warm connection: 1 upstream round trip for the message ($(standin_stat round_trips_last))"
[ "$(field via)" = BDAT ]; tap_ok $? "... sent with BDAT LAST"
cat <<EOF | smtp_session $PORT >/dev/null
<
> EHLO c\r\n
<
> MAIL FROM:<$SENDAS>\r\nRCPT TO:<a@example.net>\r\nDATA\r\n
<
<
<
> From: $SENDAS\r\nSubject: smtp\r\n\r\nx\r\n.\r\n
<
> QUIT\r\n
<
EOF
[ "$(standin_stat round_trips_last)" = 2 ]
tap_ok $? "the same through the SMTP listener: 2 round trips ($(standin_stat round_trips_last))"

# --- content byte-exact: dots, and a message larger than any buffer
out=$(lmtp "" '..one dot\r\n...two\r\n..\r\nend\r\n' a@example.net)
printf 'From: %s\r\nSubject: lmtp\r\n\r\n.one dot\r\n..two\r\n.\r\nend\r\n' "$SENDAS" |
    cmp -s - "$STANDIN_MSGDIR/$(basename "$(last_json)" .json).eml"
tap_ok $? "dot-stuffing undone: Exchange stores exactly the content"
big=$("$PYTHON" -c 'print("".join("line %06d of a large message\\r\\n" % i for i in range(7000)), end="")')
out=$(lmtp "" "$big" a@example.net)
echo "$out" | grep -q '^250 2.0.0 OK <' && [ "$(field size)" -gt 200000 ] &&
    [ "$(standin_stat round_trips_last)" = 1 ]
tap_ok $? "a $(field size)-byte message: one flight too"

# --- per-recipient replies: Exchange refuses one recipient
standin_ctl POST /faults '{"smtp_reply": {"at": "RCPT", "reply": "550 5.1.1 User unknown", "count": 1}}' >/dev/null
out=$(lmtp "" 'x\r\n' nobody@example.net b@example.net)
echo "$out" | sed -n 7p | grep -q '^550 5.1.1 User unknown' &&
    echo "$out" | sed -n 8p | grep -q '^250 2.0.0 OK <'
tap_ok $? "after the data: 550 for the refused recipient, 250 for the other"
[ "$(field rcpt_to)" = "['b@example.net']" ]; tap_ok $? "... and only the other got it"

# --- quota refusal: the next mailbox of the pool, same transaction
Q="554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"
standin_ctl POST /faults "{\"smtp_reply\": {\"at\": \"EOD\", \"reply\": \"$Q\", \"count\": 1}}" >/dev/null
out=$(lmtp 'X-Exorelay: account=main,second\r\n' 'x\r\n' a@example.net b@example.net)
[ "$(echo "$out" | grep -c '^250 2.0.0 OK <')" = 2 ]
tap_ok $? "quota refusal of the first mailbox: both recipients 250 in the same transaction"
[ "$(field auth_user)" = "second@$D" ]; tap_ok $? "... sent through second@"
relay_log_has "mailbox $MB is out of quota; trying the next mailbox"; tap_ok $? "... and logged"
standin_ctl POST /faults "{\"smtp_reply\": {\"at\": \"EOD\", \"reply\": \"$Q\", \"count\": 1}}" >/dev/null
n0=$(standin_count)
out=$(lmtp 'X-Exorelay: account=main,second\r\n' 'x\r\n' a@example.net b@example.net)
[ "$(echo "$out" | grep -c '^452 4.2.0 .*room again at 20[0-9-]* [0-9:]* UTC')" = 2 ]
tap_ok $? "second@ refused too, main out: each recipient 452 with the time room comes back"
[ "$(standin_count)" = "$n0" ]; tap_ok $? "... nothing was sent"
relay_stop
echo "1..$_tap_n"
