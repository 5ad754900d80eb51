#!/bin/sh
# t_graph_sendmail.sh - real Sendmail (smart host: exorelay, conf/sendmail.mc)
# -> exorelay run (transport = graph) -> the Microsoft Graph stand-in: the
# envelope is the truth on Sendmail's path too (a header-only recipient
# gets nothing, an envelope-only one gets it as Bcc).
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"
. "$TOP/tests/lib/sendmail.sh"
[ "$(id -u)" = 0 ] || skip_all "Sendmail's daemon needs root"
sm_available || skip_all "no Sendmail .debs in $SM_CACHE (run make deps)"

standin_start || exit 1
PORT=$(free_port)
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF" "127.0.0.1:$PORT" --transport graph
relay_start "$CONF" || exit 1
MB=$STANDIN_MAILBOX
sm_setup "$TESTS_TMP/sm" "$(sed "s|10587|$PORT|g" "$TOP/conf/sendmail.mc")"
sm_start "$TESTS_TMP/sm" || { sed "s/^/# /" "$TESTS_TMP/sm/sendmail.out"; exit 1; }
tap_ok $? "Sendmail relays to exorelay on port $PORT"

count_reached() { [ "$(standin_count)" -ge "$1" ]; }
last_json() { ls "$STANDIN_MSGDIR"/*.json | tail -1; }
field() { "$PYTHON" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[sys.argv[2]]))' "$(last_json)" "$1"; }

n=$(standin_count)
r=$(printf 'From: %s\nTo: a@example.net, h@example.net\nSubject: via sendmail\n\nx\n' "$MB" |
    "$PYTHON" "$TOP/tests/lib/smtp_send.py" "$SM_PORT" "$MB" a@example.net,b@example.net)
ok "Sendmail takes the message ($r)" expr "$r" : '250 ' >/dev/null
ok "it reaches Graph" wait_for count_reached $((n + 1))
ok "... via Graph" test "$(field via)" = '"graph"'
ok "to the envelope recipients a@ and b@ only" test "$(field rcpt_to)" = '["a@example.net", "b@example.net"]'
ok "b@ (envelope only) as Bcc" test "$(field bcc)" = '["b@example.net"]'
ok "h@ (header only) gets nothing" sh -c "! grep -q h@example.net '$(last_json)'"

echo "1..$_tap_n"
