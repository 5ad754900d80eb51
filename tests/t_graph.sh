#!/bin/sh
# t_graph.sh - transport = graph and auto against the stand-ins of Entra
# and Microsoft Graph, through "exorelay run" (SMTP in, Graph out) and
# through exorelay-sendmail's spool: the envelope is the truth (header-only
# recipients get nothing, envelope-only ones go as Bcc, originals kept in
# X-Exorelay-Original-*), dot-unstuffing, keep-alive (no TLS handshake per
# message), at most 4 requests in flight per mailbox, and every error:
# 401 (one new token and a retry), 403 ErrorAccessDenied, 404
# ErrorInvalidUser, 403 ErrorSendAsDenied, 429/503 with Retry-After (no
# request until it passed), 413 and messages over 4 MB (552 5.3.4, or SMTP
# with auto); auto switching on 535 5.7.139 (logged once, in status);
# exorelay test's Mail.Send check.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"

standin_start || exit 1
PORT=$(free_port)
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF" "127.0.0.1:$PORT" --transport graph
sed -i "/^\[relay\]/a max_message_size = 8M\nretry_min = 1\nretry_max = 2" "$CONF"
relay_add_account "$CONF" second second second@contoso.onmicrosoft.com
relay_add_account "$CONF" ghost main ghost@contoso.onmicrosoft.com
(umask 077; standin_secret fabrikam >"$TESTS_TMP/fab.secret")
cat >>"$CONF" <<EOF2
transport = graph
senders = *@ghost.example

[account fab]
tenant = fabrikam.onmicrosoft.com
client_id = 80ccf362-333e-4f4f-9875-bf452f770307
client_secret_file = $TESTS_TMP/fab.secret
mailbox = relay@fabrikam.onmicrosoft.com
authority = $STANDIN_AUTHORITY
transport = auto
senders = *@fabrikam.example, relay@fabrikam.onmicrosoft.com
EOF2
sed -i "/^\[account second\]/a transport = graph\nsenders = *@second.example, second@contoso.onmicrosoft.com" "$CONF"
"$BIN/exorelay" -c "$CONF" check >"$TESTS_TMP/check.out" 2>&1
ok "exorelay check takes transport, graph_url" test $? = 0
relay_start "$CONF" || exit 1
MB=$STANDIN_MAILBOX
MSGS=$STANDIN_MSGDIR

match() { expr "$1" : "$2" >/dev/null; }
send() { # send FROM RCPTS < message: the final reply
    "$PYTHON" "$TOP/tests/lib/smtp_send.py" "$PORT" "$@"
}
last_json() { ls "$MSGS"/*.json | tail -1; }
last_eml() { ls "$MSGS"/*.eml | tail -1; }
field() { "$PYTHON" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[sys.argv[2]]))' "$(last_json)" "$1"; }
stat() { standin_stat "$1"; }
faults() { standin_ctl POST /faults "$1" >/dev/null; }

# --- the cron case: To: root@host, the envelope (Postfix's alias) admin@corp
n0=$(standin_count)
r=$(printf 'From: %s\nTo: root@host.example\nSubject: cron\n\n.dot line\nend\n' "$MB" |
    send "$MB" admin@corp.example)
ok "cron case: 250 after Graph's 202 ($r)" match "$r" '250 2.0.0 OK: Microsoft Graph accepted'
ok "one message recorded, via Graph" test "$(standin_count)" = $((n0 + 1)) -a "$(field via)" = '"graph"'
ok "Graph delivered to the envelope recipient only" test "$(field rcpt_to)" = '["admin@corp.example"]'
ok "... as Bcc (no header named it)" test "$(field bcc)" = '["admin@corp.example"]' -a "$(field to)" = '[]'
ok "root@host was not tried" sh -c "! grep -q root@host '$(last_json)'"
ok "the original To is kept as X-Exorelay-Original-To" grep -q '^X-Exorelay-Original-To: root@host.example' "$(last_eml)"
ok "dot-stuffing undone: the line reads .dot line (smtplib sent ..dot line)" grep -q '^\.dot line' "$(last_eml)"
ok "the delivered copy has no Bcc header" sh -c "! grep -qi '^Bcc:' '$(last_eml)'"

# --- To, Cc and Bcc kept where the envelope agrees; header-only dropped
r=$(printf 'From: %s\nTo: a@example.net, "Only, Header" <h@example.net>\nCc: C <c@example.net>\nBcc: b@example.net\nSubject: lists\n\nx\n' "$MB" |
    send "$MB" A@example.net,c@example.net,b@example.net)
ok "lists: 250" match "$r" '250 '
ok "To keeps the envelope's a@ (case-insensitive match)" test "$(field to)" = '["A@example.net"]'
ok "Cc keeps c@" test "$(field cc)" = '["c@example.net"]'
ok "Bcc b@ goes as Bcc" test "$(field bcc)" = '["b@example.net"]'
ok "the header-only recipient h@ gets nothing" sh -c "! grep -q h@example.net '$(last_json)'"

# --- keep-alive: ten messages, no new TLS handshake
c0=$(stat graph_connections)
i=0; while [ $i -lt 10 ]; do
    printf 'From: %s\nTo: k@example.net\nSubject: k%s\n\nx\n' "$MB" $i | send "$MB" k@example.net >/dev/null
    i=$((i + 1))
done
ok "10 messages over kept connections: $(( $(stat graph_connections) - c0 )) new TLS connections" \
    test $(( $(stat graph_connections) - c0 )) -le 1

# --- at most 4 requests in flight per mailbox (8 clients, each request
# held 2 s by the stand-in so that they overlap)
faults '{"graph_delay_ms": 2000}'
standin_ctl POST /reset >/dev/null
n0=$(standin_count)
pids=""
i=0; while [ $i -lt 8 ]; do
    (printf 'From: %s\nTo: p@example.net\nSubject: p\n\nx\n' "$MB" | send "$MB" p@example.net >"$TESTS_TMP/par.$i") &
    pids="$pids $!"
    i=$((i + 1))
done
wait $pids
faults '{"graph_delay_ms": null}'
ok "8 parallel: all delivered" test "$(cat "$TESTS_TMP"/par.* | grep -c '^250 ')" = 8
ok "never more than 4 in flight for the mailbox (max $(stat graph_max_inflight))" test "$(stat graph_max_inflight)" -le 4

# --- 401: a revoked token costs one new token and a retry
standin_ctl POST /revoke >/dev/null
t0=$(stat tokens_issued)
r=$(printf 'From: %s\nTo: r@example.net\nSubject: 401\n\nx\n' "$MB" | send "$MB" r@example.net)
ok "401: delivered after one fresh token ($r)" match "$r" '250 '
ok "... exactly one new token" test $(( $(stat tokens_issued) - t0 )) = 1
ok "... the log says the token was refused" relay_log_has 'graph: account main: token .* refused \(401'

# --- 503 without Retry-After: 451, nothing sent; the next one goes
faults '{"graph_error": {"status": 503, "code": "ServiceUnavailable", "message": "Service unavailable.", "count": 1}}'
n0=$(standin_count)
r=$(printf 'From: %s\nTo: u@example.net\nSubject: 503\n\nx\n' "$MB" | send "$MB" u@example.net)
ok "503 -> 451 4.3.0 ($r)" match "$r" '451 4.3.0 exorelay: Graph unavailable'
ok "... nothing recorded" test "$(standin_count)" = "$n0"
r=$(printf 'From: %s\nTo: u@example.net\nSubject: 503b\n\nx\n' "$MB" | send "$MB" u@example.net)
ok "the next message goes" match "$r" '250 '

# --- 429 with Retry-After: 451, and no request before it passed (account second)
faults '{"graph_error": {"status": 429, "code": "ApplicationThrottled", "message": "Application is over its MailBox concurrency limit.", "retry_after": 3600, "count": 1}}'
r=$(printf 'From: second@contoso.onmicrosoft.com\nTo: t@example.net\nSubject: 429\n\nx\n' | send s@second.example t@example.net)
ok "429 -> 451 4.7.0 naming Retry-After ($r)" match "$r" '451 4.7.0 exorelay: Graph throttled sending for second@.*3600 s (Retry-After)'
q0=$(stat graph_requests)
r=$(printf 'From: second@contoso.onmicrosoft.com\nTo: t@example.net\nSubject: 429b\n\nx\n' | send s@second.example t@example.net)
ok "during Retry-After: 451 at once ($r)" match "$r" '451 4.7.0 exorelay: Graph asked to wait'
ok "... without a request to Graph" test "$(stat graph_requests)" = "$q0"
r=$(printf 'From: %s\nTo: o@example.net\nSubject: other mailbox\n\nx\n' "$MB" | send "$MB" o@example.net)
ok "another mailbox is not held back" match "$r" '250 '

# --- 404 ErrorInvalidUser: 4xx naming mailbox
r=$(printf 'From: g@ghost.example\nTo: t@example.net\nSubject: 404\n\nx\n' | send g@ghost.example t@example.net)
ok "404 ErrorInvalidUser -> 451 naming mailbox ($r)" match "$r" '451 4.3.0 exorelay: Graph does not know the mailbox ghost@.*fix mailbox in \[account ghost\]'

# --- 403 ErrorSendAsDenied: 554 5.2.252 with the fix
r=$(printf 'From: boss@example.org\nTo: t@example.net\nSubject: sendas\n\nx\n' | send "$MB" t@example.net)
ok "403 ErrorSendAsDenied -> 554 5.2.252 ($r)" match "$r" '554 5.2.252 exorelay: SendAsDenied.*Add-RecipientPermission'

# --- 403 ErrorAccessDenied: mailbox outside the application access policy
standin_ctl POST /scenario '{"apps": [{"client_id": "5d4be59c-2ee2-4131-87c5-4ed854c19cef", "graph_access": ["alerts@contoso.onmicrosoft.com"]}]}' >/dev/null
r=$(printf 'From: %s\nTo: t@example.net\nSubject: 403\n\nx\n' "$MB" | send "$MB" t@example.net)
ok "403 ErrorAccessDenied -> 454 4.7.0 ($r)" match "$r" '454 4.7.0 exorelay: Graph denied access'
ok "... naming Mail.Send and admin consent" match "$r" '.*Mail.Send \*application\* permission and admin consent'
ok "... and the policy / RBAC commands" match "$r" '.*New-ApplicationAccessPolicy.*New-ManagementRoleAssignment'
standin_ctl POST /scenario '{"apps": [{"client_id": "5d4be59c-2ee2-4131-87c5-4ed854c19cef", "graph_access": null}]}' >/dev/null

# --- too big for Graph: 552 5.3.4 without a request; Graph's own 413 too
big=$TESTS_TMP/big.msg
"$PYTHON" -c 'import sys; sys.stdout.write("From: %s\nTo: big@example.net\nSubject: big\n\n" % sys.argv[1] + ("x" * 76 + "\n") * 45000)' "$MB" >"$big"
q0=$(stat graph_requests)
r=$(send "$MB" big@example.net <"$big")
ok "3.4 MB (4.6 MB in base64) -> 552 5.3.4 naming Graph's 4 MB ($r)" match "$r" '552 5.3.4 exorelay: .*Microsoft Graph (at most 4 MB'
ok "... without a request to Graph" test "$(stat graph_requests)" = "$q0"
faults '{"graph_error": {"status": 413, "code": "RequestEntityTooLarge", "message": "The maximum request length supported is 4MB.", "count": 1}}'
r=$(printf 'From: %s\nTo: t@example.net\nSubject: 413\n\nx\n' "$MB" | send "$MB" t@example.net)
ok "Graph's 413 -> 552 5.3.4" match "$r" '552 5.3.4 '

# --- auto: SMTP until 535 5.7.139, then Graph, logged once, in status
n0=$(standin_count)
r=$(printf 'From: relay@fabrikam.onmicrosoft.com\nTo: t@example.net\nSubject: auto1\n\nx\n' | send f@fabrikam.example t@example.net)
ok "auto: the first message after 535 5.7.139 goes through Graph ($r)" match "$r" '250 2.0.0 OK: Microsoft Graph'
ok "... recorded via Graph for relay@fabrikam" test "$(field via)" = '"graph"' -a "$(field auth_user)" = '"relay@fabrikam.onmicrosoft.com"'
r=$(printf 'From: relay@fabrikam.onmicrosoft.com\nTo: t@example.net\nSubject: auto2\n\nx\n' | send f@fabrikam.example t@example.net)
ok "auto: the second one too" match "$r" '250 2.0.0 OK: Microsoft Graph'
ok "the switch is logged once" test "$(grep -c 'account fab (transport = auto).*now sends through Microsoft Graph' "$RELAY_LOG")" = 1
ok "it is kept in state_dir" test -e "$TESTS_TMP/state/graph-switch-fab"
"$BIN/exorelay" -c "$CONF" status >"$TESTS_TMP/status.out" 2>&1
ok "status shows it" grep -q 'transport   graph (auto: switched to Microsoft Graph .* after 535 5.7.139)' "$TESTS_TMP/status.out"
ok "status shows transport graph for main" grep -q '^  transport   graph$' "$TESTS_TMP/status.out"
r=$(sed 's/^From: .*/From: relay@fabrikam.onmicrosoft.com/' "$big" | send f@fabrikam.example big@example.net)
ok "auto, too big, SMTP AUTH off: 552 5.3.4 naming Graph's limit ($r)" match "$r" '552 5.3.4 exorelay: .*Microsoft Graph'
standin_ctl POST /scenario '{"tenants": [{"id": "2ae78b9a-383d-47ae-8957-d4e437fee48d", "smtp_auth_disabled": false}]}' >/dev/null
n0=$(standin_count)
r=$(sed 's/^From: .*/From: relay@fabrikam.onmicrosoft.com/' "$big" | send relay@fabrikam.onmicrosoft.com big@example.net)
ok "auto, too big, SMTP available: sent over SMTP ($r)" match "$r" '250 '
ok "... recorded via SMTP" test "$(field via)" != '"graph"' -a "$(standin_count)" = $((n0 + 1))

# --- spool path: exorelay-sendmail with the daemon's queue runner
SPOOL=$TESTS_TMP/spool
n0=$(standin_count)
printf 'From: %s\nTo: root\nSubject: spooled\nMessage-ID: <spool-1@test>\n\nfrom cron\n' "$MB" |
    "$BIN/exorelay-sendmail" -C "$CONF" admin@corp.example
ok "exorelay-sendmail accepts (exit 0)" test $? = 0
wait_for test "$(standin_count)" -gt "$n0"
ok "the spooled message went through Graph" test "$(field via)" = '"graph"'
ok "to the envelope only (root is no recipient)" test "$(field rcpt_to)" = '["admin@corp.example"]'
standin_ctl POST /scenario '{"apps": [{"client_id": "5d4be59c-2ee2-4131-87c5-4ed854c19cef", "graph_access": []}]}' >/dev/null
printf 'From: %s\nTo: q@example.net\nSubject: denied\nMessage-ID: <spool-2@test>\n\nx\n' "$MB" |
    "$BIN/exorelay-sendmail" -C "$CONF" q@example.net
wait_for sh -c "'$BIN/exorelay' -c '$CONF' queue list 2>&1 | grep -q 'Graph denied access'"
ok "403 in the spool: stays queued, the reason in queue list" test $? = 0
standin_ctl POST /scenario '{"apps": [{"client_id": "5d4be59c-2ee2-4131-87c5-4ed854c19cef", "graph_access": null}]}' >/dev/null
wait_for sh -c "grep -q 'spool-2@test' '$MSGS'/*.eml"
ok "once access is granted it is delivered" test $? = 0

# --- exorelay test: the Graph token's roles
"$BIN/exorelay" -c "$CONF" test >"$TESTS_TMP/test.out" 2>&1
rc=$?
ok "exorelay test, transport = graph: exit 0" test $rc = 0
ok "... checks Mail.Send in the token's roles" grep -q 'Mail.Send *ok .*roles claim holds Mail.Send' "$TESTS_TMP/test.out"
ok "... and makes no SMTP session" sh -c "! grep -q AUTH '$TESTS_TMP/test.out'"
standin_ctl POST /scenario '{"apps": [{"client_id": "5d4be59c-2ee2-4131-87c5-4ed854c19cef", "graph_roles": []}]}' >/dev/null
"$BIN/exorelay" -c "$CONF" test >"$TESTS_TMP/test.out" 2>&1
rc=$?
ok "without Mail.Send: exit 77" test $rc = 77
ok "... FAILED at Mail.Send" grep -q 'Mail.Send *FAILED' "$TESTS_TMP/test.out"
ok "... saying how to grant it" grep -q 'Grant admin consent' "$TESTS_TMP/test.out"
sed 's/^\[account main\]/[account unused]/; s/^\[account fab\]/[account main0]/' "$CONF" >/dev/null
"$BIN/exorelay" -c "$CONF" test --account fab >"$TESTS_TMP/test.out" 2>&1
ok "auto with SMTP AUTH on: exorelay test passes the SMTP and Graph steps" grep -q 'all steps ok' "$TESTS_TMP/test.out"

echo "1..$_tap_n"
