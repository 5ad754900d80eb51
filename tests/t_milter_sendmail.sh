#!/bin/sh
# t_milter_sendmail.sh - exorelay-milter in a real Sendmail (Debian's
# sendmail-bin 8.17, unpacked privately: tests/lib/sendmail.sh), wired with
# the lines of conf/sendmail-milter.mc (INPUT_MAIL_FILTER on a unix socket)
# and conf/sendmail.mc (the relay mailer with an explicit port as smart
# host), smtp-sink standing in for the relay. Mail submitted over SMTP arrives classified and rewritten;
# forged tags go; local-only mail is untouched; the early refusal reaches
# the client; with the milter down Sendmail answers 4xx (F=T).
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/sendmail.sh"
. "$TOP/tests/lib/milter.sh"
[ "$(id -u)" = 0 ] || skip_all "Sendmail's daemon needs root"
command -v smtp-sink >/dev/null 2>&1 || skip_all "smtp-sink (postfix) is not installed"
sm_available || skip_all "no Sendmail .debs in $SM_CACHE (run make deps)"

T=$TESTS_TMP
SINK=$T/sink
# Sendmail refuses a milter socket below a world-writable directory (/tmp):
# this one lives under /run.
RUN=$(mktemp -d /run/exorelay-t.XXXXXX) || exit 1
cleanup_add "rm -rf '$RUN'"
MSOCK=$RUN/milter.sock

SINK_PORT=$(free_port)
start_sink "$SINK" "$SINK_PORT"

milter_write_conf "$T/exorelay.conf" "$MSOCK" "$SM_HOST, localhost, example.org" \
    "max_recipients = 3"
cat >>"$T/exorelay.conf" <<'EOF'

[class alarm]
match_from = root@*
match_subject = ^\[Alarm\]
send_as = Alarms <alerts@contoso.example>
EOF
milter_start "$T/exorelay.conf" "$MSOCK"
tap_ok $? "the milter listens on $MSOCK"

# The shipped .mc lines (smart host, milter), with this test's socket and
# smart host port.
MC=$(cat "$TOP/conf/sendmail.mc" "$TOP/conf/sendmail-milter.mc" |
    sed -e "s|unix:/run/exorelay/milter.sock|unix:$MSOCK|" -e "s|10587|$SINK_PORT|g")
sm_setup "$T/sm" "$MC"
tap_ok $? "sendmail.cf built from conf/sendmail.mc + conf/sendmail-milter.mc with the unpacked m4 and cf"
sm_start "$T/sm" || { sed "s/^/# /" "$T/sm/sendmail.out"; exit 1; }
tap_ok $? "Sendmail ($(basename "$(ls "$SM_CACHE"/sendmail-bin_*.deb)")) answers on port $SM_PORT"

# send - submit over SMTP (milters see only SMTP input); prints the replies
send() {
    "$PYTHON" - "$SM_PORT" "$@" <<'PY'
import smtplib, sys
port, sender, rcpts, msg = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(","), sys.argv[4]
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example")
s.ehlo()
print("MAIL", s.mail(sender)[0])
good = []
for r in rcpts:
    code, text = s.rcpt(r)
    print("RCPT", r, code, text.decode())
    if code == 250:
        good.append(r)
if good:
    code, text = s.data(msg.replace("\n", "\r\n").encode())
    print("DATA", code, text.decode())
s.quit()
PY
}
# 1. a classified message, with forged tags
send "root@$SM_HOST" ops@example.com "From: Cron Daemon <root@$SM_HOST>
To: ops@example.com
Subject: [Alarm] disk full
X-Exorelay: class=evil; account=other

the disk is full
" >"$T/send1.out"
grep -q '^DATA 250' "$T/send1.out"
tap_ok $? "Sendmail accepts the message ($(grep DATA "$T/send1.out"))"
wait_files "$SINK" 1
tap_ok $? "it reaches the smart host (relay mailer, explicit port)"
msg_load "$(take_new "$SINK")"
[ "$(hdr X-Mail-Args)" = "<alerts@contoso.example>" ] || hdr X-Mail-Args | grep -q '^<alerts@contoso.example> '
tap_ok $? "envelope sender rewritten by smfi_chgfrom ($(hdr X-Mail-Args))"
[ "$(hdr From)" = "Alarms <alerts@contoso.example>" ]
tap_ok $? "From: send_as with its display name ($(hdr From))"
[ "$(hdr Reply-To)" = "Cron Daemon <root@$SM_HOST>" ]
tap_ok $? "Reply-To: the original ($(hdr Reply-To))"
[ "$(hdr X-Exorelay)" = "class=alarm; account=main" ]
tap_ok $? "forged tag removed, one real tag ($(hdr X-Exorelay | tr '\n' '|'))"

# 2. local-only (example.org is in local_domains): untouched
send "root@$SM_HOST" someone@example.org "From: root@$SM_HOST
To: someone@example.org
Subject: [Alarm] local
X-Exorelay: class=x; account=y

x
" >/dev/null
wait_files "$SINK" 2
msg_load "$(take_new "$SINK")"
hdr X-Mail-Args | grep -q "^<root@$SM_HOST>" && [ "$(hdr From)" = "root@$SM_HOST" ] &&
    [ "$(hdr X-Exorelay)" = "class=x; account=y" ]
tap_ok $? "local-only mail: untouched"

# 3. early refusal of the 4th outbound recipient
send "root@$SM_HOST" a@example.com,b@example.com,c@example.com,d@example.com "Subject: [Alarm] many

x
" >"$T/send3.out"
grep -q '^RCPT d@example.com 452 4.5.3 Too many recipients' "$T/send3.out" &&
    grep -q '^RCPT c@example.com 250' "$T/send3.out"
tap_ok $? "4th outbound recipient: 452 4.5.3 through Sendmail"
sed 's/^/# /' "$T/send3.out"

# 4. milter down: F=T makes Sendmail answer 4xx
kill -KILL "$MILTER_PID"
wait "$MILTER_PID" 2>/dev/null
send "root@$SM_HOST" ops@example.com "Subject: [Alarm] down

x
" >"$T/send4.out" 2>&1
grep -Eq '^(MAIL|RCPT|DATA).* 4[0-9][0-9]' "$T/send4.out" && ! grep -q '^DATA 250' "$T/send4.out"
tap_ok $? "milter down: Sendmail answers 4xx ($(grep -E ' 4[0-9][0-9]' "$T/send4.out" | head -1))"
