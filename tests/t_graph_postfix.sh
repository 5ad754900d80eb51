#!/bin/sh
# t_graph_postfix.sh - real Postfix -> exorelay run (transport = graph) ->
# the Microsoft Graph stand-in: the envelope is the truth. The cron case
# (To: root, aliased by Postfix to admin@corp) reaches admin@corp only and
# never makes Graph try root@host; a Bcc recipient gets it without a
# header naming it; a recipient only in the headers gets nothing; Graph's
# refusals end up in Postfix's queue (403 ErrorAccessDenied deferred with
# its fix in mailq, then delivered once access is granted) or bounce
# (403 ErrorSendAsDenied).
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"
. "$TOP/tests/lib/postfix.sh"
command -v postconf >/dev/null || skip_all "postfix not installed"
[ "$(id -u)" = 0 ] || skip_all "a private Postfix needs root"

standin_start || exit 1
PORT=$(free_port)
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF" "127.0.0.1:$PORT" --transport graph
relay_start "$CONF" || exit 1
MB=$STANDIN_MAILBOX
MSGS=$STANDIN_MSGDIR

PF=$TESTS_TMP/pf
pf_setup "$PF" "[127.0.0.1]:$PORT"
printf 'root: admin@corp.example\n' >"$PF_CONF/aliases"
postalias "$PF_CONF/aliases"
pf_conf "$PF" "mydestination = \$myhostname, localhost" \
    "alias_maps = hash:$PF_CONF/aliases" "alias_database = hash:$PF_CONF/aliases"
pf_start "$PF" || exit 1

count_reached() { [ "$(standin_count)" -ge "$1" ]; }
wait_count() { wait_for count_reached "$1"; }
in_mailq() { pf_mailq "$PF" | grep -Eq "$1"; }
mailq_has() { wait_for in_mailq "$1"; }
last_json() { ls "$MSGS"/*.json | tail -1; }
field() { "$PYTHON" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[sys.argv[2]]))' "$(last_json)" "$1"; }

# --- cron: To: root, Postfix aliases root to admin@corp.example
n=$(standin_count)
printf 'Subject: Cron <root@host> run-parts\nTo: root\n\noutput of the job\n' |
    pf_send "$PF" -f "$MB" root
ok "cron mail arrives through Graph" wait_count $((n + 1))
ok "it went via Graph" test "$(field via)" = '"graph"'
ok "Graph delivered it to admin@corp.example only" test "$(field rcpt_to)" = '["admin@corp.example"]'
ok "Graph never saw root@ as a recipient" sh -c "! grep -q '\"root@' '$(last_json)'"
ok "the reader still sees the original To" grep -q '^X-Exorelay-Original-To: root@' "$MSGS/$(basename "$(last_json)" .json).eml"

# --- Bcc: Postfix strips the header, the envelope keeps the recipient
n=$(standin_count)
printf 'From: %s\nTo: a@example.net\nBcc: b@example.net\nSubject: bcc\n\nx\n' "$MB" |
    pf_send "$PF" -f "$MB" -t
ok "Bcc message arrives" wait_count $((n + 1))
ok "To lists a@" test "$(field to)" = '["a@example.net"]'
ok "b@ gets it as Bcc (no header names it)" test "$(field bcc)" = '["b@example.net"]'

# --- a recipient only in the headers gets nothing
n=$(standin_count)
printf 'From: %s\nTo: a@example.net, h@example.net\nSubject: header only\n\nx\n' "$MB" |
    pf_send "$PF" -f "$MB" a@example.net
ok "header-only message arrives" wait_count $((n + 1))
ok "only the envelope recipient a@ gets it" test "$(field rcpt_to)" = '["a@example.net"]'

# --- 403 ErrorAccessDenied: deferred with the fix in mailq, then delivered
standin_ctl POST /scenario '{"apps": [{"client_id": "5d4be59c-2ee2-4131-87c5-4ed854c19cef", "graph_access": []}]}' >/dev/null
n=$(standin_count)
printf 'From: %s\nTo: d@example.net\nSubject: denied\n\nx\n' "$MB" | pf_send "$PF" -f "$MB" d@example.net
ok "403 ErrorAccessDenied: Postfix keeps it, mailq names Mail.Send" mailq_has 'Graph denied access'
ok "nothing reached a mailbox" test "$(standin_count)" = "$n"
standin_ctl POST /scenario '{"apps": [{"client_id": "5d4be59c-2ee2-4131-87c5-4ed854c19cef", "graph_access": null}]}' >/dev/null
pf_flush "$PF"
ok "once access is granted it is delivered" wait_count $((n + 1))
ok "Postfix's queue is empty" pf_wait_queue "$PF" 0

# --- 403 ErrorSendAsDenied: bounced like 5.2.252
printf 'From: boss@example.org\nTo: e@example.net\nSubject: sendas\n\nx\n' |
    pf_send "$PF" -f "$MB" e@example.net
wait_for pf_log_has "$PF" 'status=bounced .*5\.2\.252'
ok "403 ErrorSendAsDenied: Postfix bounces with 5.2.252" test $? = 0

echo "1..$_tap_n"
