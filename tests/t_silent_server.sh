#!/bin/sh
# t_silent_server.sh - an upstream that accepts the connection and never
# says a word: connect_timeout bounds the TCP connection and the greeting
# together (exorelay.conf(5)), not command_timeout. For "exorelay test" and
# for the relay serving a client, the failure comes after connect_timeout
# (2 s here) with a 4xx naming the cause, while command_timeout is 300 s:
# a run still waiting after 100 s is the bug, whatever the machine's speed.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"

standin_start || exit 1            # for the tokens
"$PYTHON" "$TOP/tests/lib/blackhole.py" --silent --count "$TESTS_TMP/accepted" \
    >"$TESTS_TMP/silent.port" &
SILENT_PID=$!
cleanup_add "kill $SILENT_PID 2>/dev/null"
wait_for test -s "$TESTS_TMP/silent.port" || exit 1
SILENT=$(cat "$TESTS_TMP/silent.port")
PORT=$(free_port)
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF" "127.0.0.1:$PORT"
sed -i "s/^port = .*/port = $SILENT/; s/^\[upstream\]/[upstream]\nconnect_timeout = 2\ncommand_timeout = 300/" "$CONF"
accepted() { cat "$TESTS_TMP/accepted" 2>/dev/null || echo 0; }

echo "# exorelay test"
timeout 100 "$BIN/exorelay" -c "$CONF" test >"$TESTS_TMP/test.out" 2>&1
RC=$?
sed 's/^/#   /' "$TESTS_TMP/test.out"
ok "exorelay test ends (exit 69, unreachable), not after command_timeout" test "$RC" = 69
ok "the TCP connection succeeded" grep -Eq '^  connect +ok' "$TESTS_TMP/test.out"
ok "the step that fails is the greeting" grep -Eq '^  greeting +FAILED' "$TESTS_TMP/test.out"
tr '\n' ' ' <"$TESTS_TMP/test.out" | tr -s ' ' >"$TESTS_TMP/test.line"
ok "the diagnosis names the cause and connect_timeout" grep -q \
    "accepted the connection but sent no greeting within 2 s (connect_timeout in \[upstream\])" \
    "$TESTS_TMP/test.line"
ok "the silent server saw the connection" test "$(accepted)" -ge 1

echo "# the relay serving a client"
relay_start "$CONF" || exit 1
N0=$(accepted)
# smtp_script waits 30 s for each reply: with the greeting under
# command_timeout (300 s) the MAIL reply would never come in time.
smtp_session "$PORT" >"$TESTS_TMP/s1" <<'EOF'
<
> EHLO client.test\r\n
<
> MAIL FROM:<no-reply@contoso.onmicrosoft.com>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n
<
<
<
> QUIT\r\n
<
EOF
sed 's/^/#   /' "$TESTS_TMP/s1"
ok "the client's MAIL gets a 4xx" grep -q '^451 4.4.2 ' "$TESTS_TMP/s1"
ok "which names the cause and connect_timeout" \
    sh -c "sed -n 3p '$TESTS_TMP/s1' | grep -q 'sent no greeting within 2 s (connect_timeout in \[upstream\])'"
ok "RCPT and DATA get it too, never a 5xx" sh -c "[ \$(sed -n 3,5p '$TESTS_TMP/s1' | grep -c '^451 4.4.2 ') = 3 ]"
ok "the relay had connected to the silent server" test "$(accepted)" -gt "$N0"
ok "and logs the cause" relay_log_has "no greeting within 2 s"
relay_stop
echo "1..$_tap_n"
