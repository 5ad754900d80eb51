#!/bin/sh
# t_relay_postfix.sh - real Postfix -> exorelay run -> Exchange stand-in.
# Byte-identical content and the right mailbox; upstream 5xx bounces and
# per-recipient 4xx defers in Postfix; a 4xx at end of data, a connection
# dropped inside DATA and a failing token endpoint leave the mail queued
# with the reason in mailq and it is delivered once the fault clears;
# 20 parallel deliveries never open more than 3 sessions per mailbox;
# LMTP over a unix socket (socket_group/socket_mode) with Postfix's lmtp.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"
. "$TOP/tests/lib/postfix.sh"
command -v postconf >/dev/null || skip_all "postfix not installed"
[ "$(id -u)" = 0 ] || skip_all "a private Postfix needs root"

standin_start || exit 1
PORT=$(free_port)
SOCK=$TESTS_TMP/lmtp/relay.sock
mkdir -p "$TESTS_TMP/lmtp"
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF" "127.0.0.1:$PORT, unix:$SOCK"
sed -i "/^\[relay\]/a socket_group = postfix\nsocket_mode = 0660" "$CONF"
relay_start "$CONF" || exit 1
MB=$STANDIN_MAILBOX

PF=$TESTS_TMP/pf
pf_setup "$PF" "[127.0.0.1]:$PORT"
pf_start "$PF" || exit 1

# wait_count N - the stand-in has recorded N messages
count_reached() { [ "$(standin_count)" -ge "$1" ]; }
wait_count() { wait_for count_reached "$1"; }
# mailq_has REGEX - the reason shows in Postfix's queue listing
in_mailq() { pf_mailq "$PF" | grep -Eq "$1"; }
mailq_has() { wait_for in_mailq "$1"; }
last_json() { ls "$STANDIN_MSGDIR"/*.json | tail -1; }

# --- byte-identical: the upstream gets what Postfix handed over
cat >"$TESTS_TMP/in.msg" <<EOF2
From: $MB
To: a@example.net
Subject: byte test =?utf-8?q?=C3=BC?=
Date: Sun, 29 Nov 2026 12:00:00 +0000
Message-ID: <bytetest-1@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

line one
.
..two dots
.leading dot
trailing spaces   
	tab line
ünïcödé 8-bit
X-Exorelay: class=none (in the body, not a header)

last line
EOF2
n0=$(standin_count)
pf_send "$PF" -f "$MB" a@example.net <"$TESTS_TMP/in.msg"
ok "Postfix relays through exorelay to the upstream" wait_count $((n0 + 1))
eml=$(ls "$STANDIN_MSGDIR"/*.eml | tail -1)
"$PYTHON" - "$eml" "$TESTS_TMP/in.msg" <<'PY'
import sys
got = open(sys.argv[1], "rb").read()
want = open(sys.argv[2], "rb").read().replace(b"\n", b"\r\n")
# Postfix prepends exactly one Received: header (with folded lines).
lines = got.split(b"\r\n")
assert lines[0].startswith(b"Received: "), lines[0]
i = 1
while lines[i][:1] in (b" ", b"\t"):
    i += 1
rest = b"\r\n".join(lines[i:])
sys.exit(0 if rest == want else 1)
PY
tap_ok $? "content byte-identical after Postfix's Received: header"
grep -q "\"auth_user\": \"$MB\"" "$(last_json)"; tap_ok $? "authenticated as the account's mailbox"
grep -q '"round_trips": 2' "$(last_json)"; tap_ok $? "Postfix's pipelined message cost 2 upstream round trips"
ok "queue empty after delivery" pf_wait_queue "$PF" 0

# --- upstream 5xx (SendAs denied after the data) bounces in Postfix
printf 'From: intruder@example.org\nSubject: sendas\n\nx\n' |
    pf_send "$PF" -f intruder@example.org a@example.net
wait_for pf_log_has "$PF" 'status=bounced.*554 5.2.252 SendAsDenied'
pf_log_has "$PF" 'to=<a@example.net>.*status=bounced.*554 5.2.252 SendAsDenied'
tap_ok $? "upstream 554 after data: Postfix bounces with the upstream's text"

# --- per-recipient 4xx: upstream takes one recipient per message
standin_ctl POST /scenario '{"smtp": {"max_recipients": 1}}' >/dev/null
n0=$(standin_count)
printf 'From: %s\nSubject: two rcpts\n\nx\n' "$MB" | pf_send "$PF" -f "$MB" r1@example.net r2@example.net
wait_count $((n0 + 1))
wait_for pf_log_has "$PF" '452 4.5.3'
pf_log_has "$PF" '452 4.5.3 Too many recipients'; tap_ok $? "per-recipient 452 reaches Postfix"
standin_ctl POST /scenario '{"smtp": {"max_recipients": 500}}' >/dev/null
pf_flush "$PF"
ok "the refused recipient is delivered later" wait_count $((n0 + 2))
ok "queue drains" pf_wait_queue "$PF" 0
got=$(cat $(ls "$STANDIN_MSGDIR"/*.json | tail -2) | grep -o '"rcpt_to": \[[^]]*\]' | sort | tr '\n' ' ')
[ "$got" = '"rcpt_to": ["r1@example.net"] "rcpt_to": ["r2@example.net"] ' ]
tap_ok $? "each recipient exactly once ($got)"

# fault_cycle NAME FAULT_JSON MAILQ_REGEX - queued with the reason, then
# delivered exactly once when the fault is removed
fault_cycle() {
    n0=$(standin_count)
    standin_ctl POST /faults "$2" >/dev/null
    printf 'From: %s\nSubject: fault %s\n\nx\n' "$MB" "$1" | pf_send "$PF" -f "$MB" f@example.net
    mailq_has "$3"; tap_ok $? "$1: mail stays queued, mailq says: $3"
    tap_ok $([ "$(standin_count)" -eq "$n0" ]; echo $?) "$1: nothing recorded upstream meanwhile"
    standin_ctl DELETE /faults >/dev/null
    pf_flush "$PF"
    pf_wait_queue "$PF" 0; tap_ok $? "$1: delivered once the fault clears"
    tap_ok $([ "$(standin_count)" -eq $((n0 + 1)) ]; echo $?) "$1: exactly one copy upstream"
}
fault_cycle "upstream 451 at end of data" '{"eod_4xx": {}}' '451 4.3.0'
fault_cycle "connection dropped in DATA" '{"drop_in_data": {}}' '4[0-9][0-9] 4\.[0-9]\.[0-9]'

# token endpoint failing: restart the relay (no warm connection), revoke
# the tokens (the cached one is refused at AUTH, a new one is needed)
relay_stop; tap_ok $? "relay exits 0 on SIGTERM"
relay_start "$CONF" || exit 1
standin_ctl POST /revoke >/dev/null
fault_cycle "token endpoint failing" '{"token_error": {"row": "transient"}}' '4[0-9][0-9] .*(token|Entra|temporar)'

# --- 20 parallel deliveries, at most 3 upstream sessions per mailbox
standin_ctl POST /reset >/dev/null
standin_ctl POST /faults '{"smtp_delay_ms": 50}' >/dev/null
# queue 40 messages without delivering them (defer_transports), then
# release them at once: qmgr starts up to 20 smtp processes
pf_conf "$PF" "smtp_connection_cache_on_demand = no" "defer_transports = smtp"
pf_reload "$PF"
n0=$(standin_count)
smtp-source -s 4 -m 40 -f "$MB" -t p@example.net 127.0.0.1:$PF_PORT
pf_wait_queue "$PF" 40; tap_ok $? "40 messages queued in Postfix"
pf_conf "$PF" "defer_transports ="
pf_reload "$PF"
pf_flush "$PF"
ok "40 messages delivered" wait_count $((n0 + 40))
standin_ctl DELETE /faults >/dev/null
maxc=$(standin_stat "max_concurrent/$MB")
tap_ok $([ "$maxc" -ge 1 ] && [ "$maxc" -le 3 ]; echo $?) "at most 3 upstream sessions for the mailbox (saw $maxc)"
pids=$(grep 'to=<p@example.net>' "$PF/postfix.log" | sed -n 's/.*smtp\[\([0-9]*\)\].*status=sent.*/\1/p' | sort -u | wc -l)
echo "# Postfix used $pids smtp delivery processes"
tap_ok $([ "$(standin_stat concurrency_refused)" -eq 0 ]; echo $?) "no 432 concurrency refusal"
# Postfix decides itself how many deliveries run at once; smtp-source
# (Postfix's load generator) makes sure 20 sessions really overlap.
standin_ctl POST /reset >/dev/null
standin_ctl POST /faults '{"smtp_delay_ms": 20}' >/dev/null
n0=$(standin_count)
smtp-source -s 20 -m 60 -f "$MB" -t p@example.net 127.0.0.1:$PORT
tap_ok $? "smtp-source: 20 parallel sessions into the relay, 60 messages accepted"
tap_ok $([ "$(standin_count)" -eq $((n0 + 60)) ]; echo $?) "smtp-source: all 60 submitted upstream"
maxc=$(standin_stat "max_concurrent/$MB")
tap_ok $([ "$maxc" -ge 1 ] && [ "$maxc" -le 3 ]; echo $?) "20 parallel client sessions: at most 3 upstream sessions (saw $maxc)"
tap_ok $([ "$(standin_stat concurrency_refused)" -eq 0 ]; echo $?) "... and no 432 concurrency refusal"
standin_ctl DELETE /faults >/dev/null

# --- LMTP over the unix socket with Postfix's lmtp client
ls -l "$SOCK" | grep -q '^srw-rw---- .* root postfix'; tap_ok $? "unix socket has socket_mode 0660 and socket_group postfix"
pf_conf "$PF" "default_transport = lmtp:unix:$SOCK" "relayhost ="
pf_reload "$PF"
n0=$(standin_count)
printf 'From: %s\nSubject: via lmtp\n\nx\n' "$MB" | pf_send "$PF" -f "$MB" l1@example.net l2@example.net
ok "LMTP: delivered upstream" wait_count $((n0 + 1))
lmtp_sent() { [ "$(grep -c 'lmtp.*status=sent' "$PF/postfix.log")" -ge 2 ]; }
wait_for lmtp_sent
tap_ok $([ "$(grep -c 'to=<l[12]@example.net>.*lmtp.*status=sent' "$PF/postfix.log")" -eq 2 ]; echo $?) \
    "LMTP: Postfix got a final reply for each recipient"
grep -q '"rcpt_to": \["l1@example.net", "l2@example.net"\]' "$(last_json)"; tap_ok $? "LMTP: one upstream message for both"
