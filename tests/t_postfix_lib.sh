#!/bin/sh
# t_postfix_lib.sh - tests/lib/postfix.sh against smtp-sink: a private
# Postfix instance starts, relays to its relayhost, keeps mail queued with
# a reason while the relayhost is down, delivers it on pf_flush, and stops.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/postfix.sh"
command -v smtp-sink >/dev/null && command -v postconf >/dev/null ||
    skip_all "postfix (smtp-sink, postconf) not installed"
[ "$(id -u)" = 0 ] || skip_all "a private Postfix needs root"

SINK=$TESTS_TMP/sink
mkdir -p "$SINK" && chmod 0777 "$SINK"
SINK_PORT=$(free_port)
sink_start() {
    smtp-sink -u nobody -d "$SINK/%M." 127.0.0.1:$SINK_PORT 10 &
    SINK_PID=$!
    cleanup_add "kill $SINK_PID 2>/dev/null"
    wait_for "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $SINK_PORT))"
}
sink_start

PF=$TESTS_TMP/pf
pf_setup "$PF" "[127.0.0.1]:$SINK_PORT"
ok "pf_setup writes a private main.cf" grep -q "^queue_directory = $PF/queue" "$PF/etc/main.cf"
ok "pf_start starts the instance" pf_start "$PF"

printf 'Subject: lib test\n\nbody line\n' | pf_send "$PF" -f a@example.org b@example.net
ok "pf_send + pf_wait_queue: the queue drains" pf_wait_queue "$PF" 0
ok "the relayhost received the message" sh -c "cat '$SINK'/* | grep -q '^Subject: lib test'"
# (Postfix logs through postlogd: the line may follow the queue file's removal)
ok "pf_log_has finds the delivery line" wait_for pf_log_has "$PF" 'status=sent'

kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null
printf 'Subject: second\n\nagain\n' | pf_send "$PF" -f a@example.org b@example.net
mailq_refused() { pf_mailq "$PF" | grep -q 'Connection refused'; }
wait_for mailq_refused
tap_ok $? "relayhost down: pf_mailq shows the deferral reason"
tap_ok $([ "$(pf_queue_count "$PF")" -eq 1 ]; echo $?) "pf_queue_count counts the deferred message"
sink_start
pf_flush "$PF"
ok "pf_flush delivers it once the relayhost is back" pf_wait_queue "$PF" 0
ok "the second message arrived" sh -c "cat '$SINK'/* | grep -q '^Subject: second'"
pid=$(cat "$PF/queue/pid/master.pid" | tr -d ' ')
pf_stop "$PF"
! kill -0 "$pid" 2>/dev/null
tap_ok $? "pf_stop stops the master"
