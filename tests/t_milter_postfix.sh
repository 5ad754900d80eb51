#!/bin/sh
# t_milter_postfix.sh - exorelay-milter in a real Postfix (smtpd_milters and
# non_smtpd_milters, unix socket inside the queue directory, reached by the
# unprivileged postfix user through socket_group/socket_mode).
#   Part 1: smtp-sinks behind Postfix. "sendmail -t" as root arrives
#   classified, envelope and From rewritten, display name kept, routed by
#   sender_dependent_relayhost_maps on the rewritten sender; SMTP mail with
#   forged tags and a UTF-8 name; local-only mail untouched; the early
#   refusals as Postfix's smtpd answers them; milter down = tempfail, and
#   sendmail-command mail waits in the maildrop.
#   Part 2: relayhost = exorelay run, upstream = the Exchange stand-in:
#   classified mail authenticates as the class's account and sends as
#   send_as (the stand-in enforces SendAs like Exchange); the mail that
#   waited leaves classified.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"
. "$TOP/tests/lib/milter.sh"
command -v postconf >/dev/null 2>&1 || skip_all "postfix is not installed (make deps)"
command -v smtp-sink >/dev/null 2>&1 || skip_all "smtp-sink (postfix) is not installed"
[ "$(id -u)" = 0 ] || skip_all "a private Postfix needs root"

T=$TESTS_TMP
PF=$T/pf
SINK=$T/sink
OTHER=$T/other
MCONF=$T/milter.conf

# smtp_script - run python on stdin with Postfix's smtpd port as argv[1]
smtp_script() { "$PYTHON" - "$PF_PORT"; }

# --- classified mail goes to $SINK, routed on its rewritten sender
# (sender_dependent_relayhost_maps, conf/postfix-sender-dependent.cf), all
# other mail to the relayhost $OTHER
SINK_PORT=$(free_port)
OTHER_PORT=$(free_port)
start_sink "$SINK" "$SINK_PORT"
start_sink "$OTHER" "$OTHER_PORT"
pf_setup "$PF" "[127.0.0.1]:$OTHER_PORT"
printf 'alerts@contoso.example [127.0.0.1]:%s\n' "$SINK_PORT" >"$PF/etc/exorelay_senders"
MSOCK=$PF/queue/exorelay/milter.sock
# A path relative to the queue directory works chrooted or not (Postfix
# daemons run in the queue directory), as conf/postfix-milter.cf says.
pf_conf "$PF" "sender_dependent_relayhost_maps = texthash:$PF/etc/exorelay_senders" \
    "smtpd_milters = unix:exorelay/milter.sock" \
    "non_smtpd_milters = unix:exorelay/milter.sock" \
    "milter_default_action = tempfail"
HOST=$(postconf -c "$PF/etc" -h myhostname)

milter_write_conf "$MCONF" "$MSOCK" "$HOST, localhost, example.org" \
    "max_recipients = 3
max_message_size = 10K"
cat >>"$MCONF" <<'EOF'

[class alarm]
match_from = root@*, nagios@*
match_subject = ^\[Alarm\]
send_as = alerts@contoso.example
EOF
milter_start "$MCONF" "$MSOCK"
tap_ok $? "the milter listens inside Postfix's queue directory"
pf_start "$PF" || exit 1

# 1. sendmail -t as root
printf 'From: Cron Daemon <root>\nTo: ops@example.com\nSubject: [Alarm] disk full on db1\n\nthe disk is full\n' |
    pf_send "$PF" -t
wait_files "$SINK" 1
tap_ok $? "sendmail -t: delivered, routed on the rewritten sender"
msg_load "$(take_new "$SINK")"
[ "$(hdr X-Mail-Args)" = "<alerts@contoso.example>" ]
tap_ok $? "sendmail -t: envelope sender is send_as ($(hdr X-Mail-Args))"
[ "$(hdr From)" = "Cron Daemon <alerts@contoso.example>" ]
tap_ok $? "sendmail -t: From has send_as and the display name ($(hdr From))"
[ "$(hdr Reply-To)" = "Cron Daemon <root@$HOST>" ]
tap_ok $? "sendmail -t: Reply-To is root@host ($(hdr Reply-To))"
[ "$(hdr X-Exorelay)" = "class=alarm; account=main" ]
tap_ok $? "sendmail -t: tagged ($(hdr X-Exorelay))"
[ "$(hdr X-Exorelay-Original-Sender)" = "<root@$HOST>" ]
tap_ok $? "sendmail -t: original envelope sender recorded"

# 2. sendmail -t without From: Postfix makes one, the milter rewrites it
printf 'To: ops@example.com\nSubject: [Alarm] no From line\n\nx\n' | pf_send "$PF" -t
wait_files "$SINK" 2
msg_load "$(take_new "$SINK")"
hdr From | grep -q '<alerts@contoso.example>$' && [ "$(hdr From | wc -l)" = 1 ]
tap_ok $? "Postfix's own From: rewritten, one From ($(hdr From))"

# 2b. sendmail -t to more recipients than max_recipients: Postfix cannot
# take a recipient refusal for sendmail-command mail (it would defer the
# message for good), so the milter lets it through; Postfix splits it when
# the relay answers 452
printf 'To: a@example.com, b@example.com, c@example.com, d@example.com, e@example.com\nSubject: [Alarm] many\n\nx\n' |
    pf_send "$PF" -t
wait_files "$SINK" 3
tap_ok $? "sendmail -t, 5 recipients (max_recipients 3): not refused, delivered"
msg_load "$(take_new "$SINK")"
[ "$(hdr X-Rcpt-Args | wc -l)" = 5 ] && [ "$(hdr X-Exorelay)" = "class=alarm; account=main" ]
tap_ok $? "... to all 5, classified ($(hdr X-Rcpt-Args | wc -l) recipients)"

# 3. SMTP into smtpd: forged tags, UTF-8 display name
smtp_script <<'PY'
import smtplib, sys
msg = ("From: J\u00f6rg M\u00fcller <nagios@mon.example>\r\nTo: ops@example.com\r\n"
       "Subject: [Alarm] load\r\nX-Exorelay: class=evil; account=other\r\n"
       "X-EXORELAY: class=evil2; account=other\r\n\r\nbody\r\n").encode()
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.sendmail("nagios@mon.example", ["ops@example.com"], msg, mail_options=["BODY=8BITMIME"])
s.quit()
PY
wait_files "$SINK" 4
msg_load "$(take_new "$SINK")"
[ "$(hdr X-Exorelay)" = "class=alarm; account=main" ]
tap_ok $? "SMTP: forged tags gone, exactly one real tag ($(hdr X-Exorelay | tr '\n' '|'))"
[ "$(hdr From)" = "Jörg Müller <alerts@contoso.example>" ]
tap_ok $? "SMTP: UTF-8 display name intact ($(hdr From))"
hdr X-Mail-Args | grep -Eq '^<alerts@contoso.example>( BODY=8BITMIME)?$'
tap_ok $? "SMTP: envelope sender rewritten ($(hdr X-Mail-Args))"

# 4. local-only mail (example.org is in local_domains) is untouched
printf 'From: root\nTo: someone@example.org\nSubject: [Alarm] local\nX-Exorelay: class=x; account=y\n\nx\n' |
    pf_send "$PF" -t
wait_files "$OTHER" 1
tap_ok $? "local-only mail keeps its sender, so it takes the default route"
msg_load "$(take_new "$OTHER")"
[ "$(hdr X-Mail-Args)" = "<root@$HOST>" ] && [ "$(hdr From)" = "root@$HOST" ] &&
    [ "$(hdr X-Exorelay)" = "class=x; account=y" ] && [ -z "$(hdr Reply-To)" ]
tap_ok $? "local-only mail: sender, From and headers as sent"

# 5. early refusals, as Postfix's smtpd answers them
smtp_script >"$T/refusals.out" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo()
s.mail("root@host.example")
for r in ["a@example.com", "b@example.com", "c@example.com", "d@example.com", "x@example.org"]:
    code, text = s.rcpt(r)
    print(r, code, text.decode())
s.rset()
s.mail("root@host.example", ["SIZE=20000"])
for r in ["x@example.org", "a@example.com"]:
    code, text = s.rcpt(r)
    print("big", r, code, text.decode())
s.quit()
PY
grep -q '^d@example.com 452 4.5.3 Too many recipients' "$T/refusals.out" &&
    grep -q '^c@example.com 250' "$T/refusals.out" && grep -q '^x@example.org 250' "$T/refusals.out"
tap_ok $? "4th outbound recipient: 452 4.5.3, local ones still accepted"
grep -q '^big a@example.com 552 5.3.4 Message too big for Exchange Online' "$T/refusals.out" &&
    grep -q '^big x@example.org 250' "$T/refusals.out"
tap_ok $? "SIZE over max_message_size: 552 5.3.4 for outbound recipients"
sed 's/^/# /' "$T/refusals.out"

# 6. milter down: Postfix applies milter_default_action = tempfail
kill -KILL "$MILTER_PID"
wait "$MILTER_PID" 2>/dev/null
smtp_script >"$T/down.out" 2>&1 <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo()
code, text = s.mail("root@host.example")
if code == 250:
    code, text = s.rcpt("ops@example.com")
print(code, text.decode())
PY
grep -q '^4' "$T/down.out"
tap_ok $? "milter down: 4xx from Postfix ($(cat "$T/down.out"))"
delivered() { find "$SINK" "$OTHER" -type f | wc -l; }
n_sink=$(delivered)
printf 'From: Cron Daemon <root>\nTo: ops@example.com\nSubject: [Alarm] while the milter was down\n\nx\n' |
    pf_send "$PF" -t
# pickup handed it to cleanup, which met the dead milter
wait_for pf_log_has "$PF" 'cleanup\[[0-9]+\]: [0-9A-F]+: milter-reject: CONNECT .*from=<root@'
[ "$(pf_queue_count "$PF")" = 1 ] && [ "$(delivered)" = "$n_sink" ]
tap_ok $? "milter down: sendmail -t mail stays queued ($(ls "$PF/queue/maildrop" | wc -l) in maildrop), nothing leaves"
rm -f "$MSOCK"

# --- part 2: through the relay to the Exchange stand-in ---------------------
standin_start || exit 1
RPORT=$(free_port)
RCONF=$T/exorelay.conf
standin_write_conf "$RCONF" "127.0.0.1:$RPORT"
relay_add_account "$RCONF" second second second@contoso.onmicrosoft.com
cat >>"$RCONF" <<EOF

[milter]
socket = unix:$MSOCK
local_domains = $HOST, localhost

[class alarm]
match_from = root@*
match_subject = ^\[Alarm\]
send_as = alerts@contoso.onmicrosoft.com
account = main

[class guest]
match_from = *@ise.example.com
send_as = "Guest Portal" <second@contoso.onmicrosoft.com>
account = second
EOF
relay_start "$RCONF" || exit 1
milter_start "$RCONF" "$MSOCK"
pf_conf "$PF" "relayhost = [127.0.0.1]:$RPORT"
pf_reload "$PF"

# arrived N - wait for the stand-in's Nth record, then load it
count_reached() { [ "$(standin_count)" -ge "$1" ]; }
arrived() {
    wait_for count_reached "$1" || return 1
    msg_load "$(ls "$STANDIN_MSGDIR"/*.eml | tail -1)" "$(ls "$STANDIN_MSGDIR"/*.json | tail -1)"
}
# to_standin MESSAGE - sendmail -t, and wait until the stand-in has it
to_standin() {
    _n=$(standin_count)
    printf '%b' "$1" | pf_send "$PF" -t
    arrived $((_n + 1))
}

# the mail that waited in the maildrop while the milter was down
postkick -c "$PF/etc" public pickup W
arrived 1
tap_ok $? "the waiting mail leaves once the milter is back"
[ "$(hdr json.mail_from)" = "alerts@contoso.onmicrosoft.com" ] && [ "$(hdr X-Exorelay)" = "class=alarm; account=main" ] &&
    [ "$(hdr Subject)" = "[Alarm] while the milter was down" ]
tap_ok $? "... classified and rewritten ($(hdr json.mail_from))"
[ "$(delivered)" = "$n_sink" ]
tap_ok $? "... and it never left unclassified"

to_standin 'From: Cron Daemon <root>\nTo: ops@example.com\nSubject: [Alarm] through the relay\n\nx\n'
tap_ok $? "sendmail -t -> Postfix -> milter -> relay -> stand-in"
[ "$(hdr json.auth_user)" = "$STANDIN_MAILBOX" ]
tap_ok $? "authenticated as the class's account mailbox ($(hdr json.auth_user))"
[ "$(hdr json.mail_from)" = "alerts@contoso.onmicrosoft.com" ]
tap_ok $? "envelope sender: send_as, which the mailbox may send as ($(hdr json.mail_from))"
[ "$(hdr From)" = "Cron Daemon <alerts@contoso.onmicrosoft.com>" ]
tap_ok $? "From: with the display name ($(hdr From))"
[ "$(hdr X-Exorelay)" = "class=alarm; account=main" ]
tap_ok $? "the tag arrives"

to_standin 'From: ISE <portal@ise.example.com>\nTo: guest@example.net\nSubject: Your guest account\n\nuser x\n'
[ "$(hdr json.auth_user)" = "second@contoso.onmicrosoft.com" ] &&
    [ "$(hdr json.mail_from)" = "second@contoso.onmicrosoft.com" ]
tap_ok $? "the tag chooses the second account ($(hdr json.auth_user), $(hdr json.mail_from))"
[ "$(hdr From)" = "\"Guest Portal\" <second@contoso.onmicrosoft.com>" ] &&
    [ "$(hdr Reply-To)" = "ISE <portal@ise.example.com>" ]
tap_ok $? "send_as display name, Reply-To the portal ($(hdr From))"
ok "Postfix's queue is empty" pf_wait_queue "$PF" 0
