#!/bin/sh
# t_milter_postfix.sh - exorelay-milter in a real Postfix (smtpd_milters and
# non_smtpd_milters, unix socket inside the queue directory, reached by the
# unprivileged postfix user through socket_group/socket_mode).
#   Part 1: relayhost = smtp-sink. "sendmail -t" as root arrives classified,
#   with the envelope and From rewritten and the display name kept; SMTP
#   mail with forged tags and a UTF-8 name; local-only mail untouched; the
#   early refusals as Postfix's smtpd answers them; milter down = tempfail.
#   Part 2: relayhost = exorelay run, upstream = the Exchange stand-in:
#   classified mail authenticates as the class's account and sends as
#   send_as (the stand-in enforces SendAs like Exchange).
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"
command -v postconf >/dev/null 2>&1 || skip_all "postfix is not installed (make deps)"
command -v smtp-sink >/dev/null 2>&1 || skip_all "smtp-sink (postfix) is not installed"
[ "$(id -u)" = 0 ] || skip_all "a private Postfix needs root"

T=$TESTS_TMP
PF=$T/pf
SINK=$T/sink
MCONF=$T/milter.conf
MLOG=$T/milter.log

# load MESSAGE [JSON] - read a stored message's header (and the stand-in's
# record of it) once, in one python run; then hdr NAME prints every value
# of header NAME, unfolded, and hdr json.FIELD a field of the record
load() {
    "$PYTHON" - "$@" >"$T/headers" <<'PY'
import json, sys
if len(sys.argv) > 2:
    for k, v in json.load(open(sys.argv[2])).items():
        print("json.%s\t%s" % (k, " ".join(map(str, v)) if isinstance(v, list) else v))
raw = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
head = raw.split(b"\n\n", 1)[0].replace(b"\n\t", b"\t").replace(b"\n ", b" ")
for line in head.split(b"\n"):
    name, _, value = line.partition(b":")
    sys.stdout.write(name.decode("ascii", "replace").lower() + "\t" + value.strip().decode("utf-8", "replace") + "\n")
PY
}
hdr() {
    _n=$(echo "$1" | tr 'A-Z' 'a-z')
    sed -n "s/^$_n\t//p" "$T/headers"
}

# wait_file DIR N - DIR holds at least N files (20 s)
wait_file() {
    _i=0
    while [ "$(ls "$1" 2>/dev/null | wc -l)" -lt "$2" ]; do
        [ $_i -ge 200 ] && return 1
        sleep 0.1; _i=$((_i + 1))
    done
}
# newest DIR - the file that arrived in DIR since the last call (names, not
# mtimes: several messages can arrive within one second)
newest() {
    for _f in "$1"/*; do
        grep -qxF "$_f" "$T/taken" 2>/dev/null && continue
        echo "$_f" >>"$T/taken"
        echo "$_f"
        return 0
    done
    return 1
}

# --- two smtp-sinks: classified mail is routed to $SINK on its rewritten
# sender (sender_dependent_relayhost_maps, as conf/postfix-sender-dependent.cf
# suggests), all other mail to the relayhost $OTHER
start_sink() {
    mkdir -p "$1" && chmod 0777 "$1"
    "smtp-sink" -u nobody -d "$1/%M%S." "127.0.0.1:$2" 20 &
    cleanup_add "kill $! 2>/dev/null"
}
OTHER=$T/other
SINK_PORT=$(free_port)
OTHER_PORT=$(free_port)
start_sink "$SINK" "$SINK_PORT"
start_sink "$OTHER" "$OTHER_PORT"

pf_setup "$PF" "[127.0.0.1]:$OTHER_PORT"
printf 'alerts@contoso.example [127.0.0.1]:%s\n' "$SINK_PORT" >"$PF/etc/exorelay_senders"
pf_conf "$PF" "sender_dependent_relayhost_maps = texthash:$PF/etc/exorelay_senders"
MSOCK=$PF/queue/exorelay/milter.sock
# A path relative to the queue directory works chrooted or not (Postfix
# daemons run in the queue directory); INSTALL recommends the same.
pf_conf "$PF" "smtpd_milters = unix:exorelay/milter.sock" \
    "non_smtpd_milters = unix:exorelay/milter.sock" \
    "milter_default_action = tempfail"
HOST=$(postconf -c "$PF/etc" -h myhostname)

printf 'not-a-real-secret\n' >"$T/main.secret" && chmod 600 "$T/main.secret"
cat >"$MCONF" <<EOF
[relay]
user =
state_dir = $T
spool_dir = $T
max_recipients = 3
max_message_size = 10K

[account main]
tenant = contoso.example
client_id = 3e1f0c2a-5b7d-4e8f-9a6b-1c2d3e4f5a6b
client_secret_file = $T/main.secret
mailbox = no-reply@contoso.example

[milter]
socket = unix:$MSOCK
local_domains = $HOST, localhost, example.org

[class alarm]
match_from = root@*, nagios@*
match_subject = ^\[Alarm\]
send_as = alerts@contoso.example
EOF

start_milter() {
    "$BIN/exorelay-milter" -c "$MCONF" -f 2>>"$MLOG" &
    MPID=$!
    cleanup_add "kill $MPID 2>/dev/null"
    wait_for test -S "$MSOCK"
}
start_milter
tap_ok $? "the milter listens inside Postfix's queue directory"
pf_start "$PF" || exit 1

# 1. sendmail -t as root
n=$(ls "$SINK" | wc -l)
printf 'From: Cron Daemon <root>\nTo: ops@example.com\nSubject: [Alarm] disk full on db1\n\nthe disk is full\n' |
    pf_send "$PF" -t
wait_file "$SINK" $((n + 1))
tap_ok $? "sendmail -t: delivered to the relayhost"
m=$(newest "$SINK")
load "$m"
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
n=$(ls "$SINK" | wc -l)
printf 'To: ops@example.com\nSubject: [Alarm] no From line\n\nx\n' | pf_send "$PF" -t
wait_file "$SINK" $((n + 1))
m=$(newest "$SINK")
load "$m"
hdr From | grep -q '<alerts@contoso.example>$' && [ "$(hdr From | wc -l)" = 1 ]
tap_ok $? "Postfix's own From: rewritten, one From ($(hdr From))"

# 3. SMTP into smtpd: forged tags, UTF-8 display name
n=$(ls "$SINK" | wc -l)
"$PYTHON" - "$PF_PORT" <<'PY'
import smtplib, sys
msg = ("From: J\u00f6rg M\u00fcller <nagios@mon.example>\r\nTo: ops@example.com\r\n"
       "Subject: [Alarm] load\r\nX-Exorelay: class=evil; account=other\r\n"
       "X-EXORELAY: class=evil2; account=other\r\n\r\nbody\r\n").encode()
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.sendmail("nagios@mon.example", ["ops@example.com"], msg, mail_options=["BODY=8BITMIME"])
s.quit()
PY
wait_file "$SINK" $((n + 1))
m=$(newest "$SINK")
load "$m"
[ "$(hdr X-Exorelay)" = "class=alarm; account=main" ]
tap_ok $? "SMTP: forged tags gone, exactly one real tag ($(hdr X-Exorelay | tr '\n' '|'))"
[ "$(hdr From)" = "Jörg Müller <alerts@contoso.example>" ]
tap_ok $? "SMTP: UTF-8 display name intact ($(hdr From))"
[ "$(hdr X-Mail-Args)" = "<alerts@contoso.example> BODY=8BITMIME" ] ||
    [ "$(hdr X-Mail-Args)" = "<alerts@contoso.example>" ]
tap_ok $? "SMTP: envelope sender rewritten ($(hdr X-Mail-Args))"

# 4. local-only mail (example.org is in local_domains) is untouched
printf 'From: root\nTo: someone@example.org\nSubject: [Alarm] local\nX-Exorelay: class=x; account=y\n\nx\n' |
    pf_send "$PF" -t
wait_file "$OTHER" 1
tap_ok $? "local-only mail keeps its sender, so it takes the default route"
m=$(newest "$OTHER")
load "$m"
[ "$(hdr X-Mail-Args)" = "<root@$HOST>" ] && [ "$(hdr From)" = "root@$HOST" ] &&
    [ "$(hdr X-Exorelay)" = "class=x; account=y" ] && [ -z "$(hdr Reply-To)" ]
tap_ok $? "local-only mail: sender, From and headers as sent"

# 5. early refusals, as Postfix's smtpd answers them
"$PYTHON" - "$PF_PORT" >"$T/refusals.out" <<'PY'
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
kill -KILL "$MPID"
wait "$MPID" 2>/dev/null
"$PYTHON" - "$PF_PORT" >"$T/down.out" 2>&1 <<'PY'
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
sleep 1
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
MCONF=$RCONF
start_milter
pf_conf "$PF" "relayhost = [127.0.0.1]:$RPORT"
postfix -c "$PF/etc" reload >/dev/null 2>&1

last_json() { ls "$STANDIN_MSGDIR"/*.json | tail -1; }
last_eml() { ls "$STANDIN_MSGDIR"/*.eml | tail -1; }
wait_count() {
    _i=0
    while [ "$(standin_count)" -lt "$1" ]; do
        [ $_i -ge 300 ] && return 1
        sleep 0.1; _i=$((_i + 1))
    done
}

# the mail that waited in the maildrop while the milter was down
n=$(standin_count)
postkick -c "$PF/etc" public pickup W
wait_count $((n + 1))
tap_ok $? "the waiting mail leaves once the milter is back"
load "$(last_eml)" "$(last_json)"
[ "$(hdr json.mail_from)" = "alerts@contoso.onmicrosoft.com" ] && [ "$(hdr X-Exorelay)" = "class=alarm; account=main" ] &&
    [ "$(hdr Subject)" = "[Alarm] while the milter was down" ]
tap_ok $? "... classified and rewritten ($(hdr json.mail_from))"
[ "$(delivered)" = "$n_sink" ]
tap_ok $? "... and it never left unclassified"

n=$(standin_count)
printf 'From: Cron Daemon <root>\nTo: ops@example.com\nSubject: [Alarm] through the relay\n\nx\n' |
    pf_send "$PF" -t
wait_count $((n + 1))
tap_ok $? "sendmail -t -> Postfix -> milter -> relay -> stand-in"
load "$(last_eml)" "$(last_json)"
[ "$(hdr json.auth_user)" = "$STANDIN_MAILBOX" ]
tap_ok $? "authenticated as the class's account mailbox ($(hdr json.auth_user))"
[ "$(hdr json.mail_from)" = "alerts@contoso.onmicrosoft.com" ]
tap_ok $? "envelope sender: send_as, which the mailbox may send as ($(hdr json.mail_from))"
[ "$(hdr From)" = "Cron Daemon <alerts@contoso.onmicrosoft.com>" ]
tap_ok $? "From: with the display name ($(hdr From))"
[ "$(hdr X-Exorelay)" = "class=alarm; account=main" ]
tap_ok $? "the tag arrives"

n=$(standin_count)
printf 'From: ISE <portal@ise.example.com>\nTo: guest@example.net\nSubject: Your guest account\n\nuser x\n' |
    pf_send "$PF" -t
wait_count $((n + 1))
load "$(last_eml)" "$(last_json)"
[ "$(hdr json.auth_user)" = "second@contoso.onmicrosoft.com" ] &&
    [ "$(hdr json.mail_from)" = "second@contoso.onmicrosoft.com" ]
tap_ok $? "the tag chooses the second account ($(hdr json.auth_user), $(hdr json.mail_from))"
[ "$(hdr From)" = "\"Guest Portal\" <second@contoso.onmicrosoft.com>" ] &&
    [ "$(hdr Reply-To)" = "ISE <portal@ise.example.com>" ]
tap_ok $? "send_as display name, Reply-To the portal ($(hdr From))"
ok "Postfix's queue is empty" pf_wait_queue "$PF" 0 10
kill -TERM "$MPID"
