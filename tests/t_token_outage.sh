#!/bin/sh
# t_token_outage.sh - an Entra outage (the token stand-in answers 503) with
# real Postfix in front: while no account can get a token the relay greets
# with 421 4.7.0 and the diagnosis, Postfix suspends the destination and
# keeps the mail; the relay logs one line per token request, not per
# message Postfix retries; after Entra's return the mail flows (the relay's
# next token request is at most 60 s away) and arrives exactly once.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"
. "$TOP/tests/lib/postfix.sh"
command -v postconf >/dev/null || skip_all "postfix not installed"
[ "$(id -u)" = 0 ] || skip_all "a private Postfix needs root"

N=20
standin_start || exit 1
standin_ctl POST /faults '{"token_error": {"row": "transient"}}' >/dev/null
PORT=$(free_port)
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF" "127.0.0.1:$PORT"
MB=$STANDIN_MAILBOX
relay_start "$CONF" || exit 1
wait_long() {
    _n=$(( $1 * 10 )); shift
    while [ "$_n" -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; _n=$((_n - 1)); done
    return 1
}
ok "the relay's first token request fails (503)" \
    wait_long 30 relay_log_has "token: account main: .*next attempt in"

smtp_session "$PORT" >"$TESTS_TMP/greet" <<'EOF'
<
EOF
sed 's/^/#   /' "$TESTS_TMP/greet"
ok "no token for any account: the greeting is 421 4.7.0" grep -q '^421 4.7.0 ' "$TESTS_TMP/greet"
ok "with the diagnosis" grep -q 'no access token for \[account main\]' "$TESTS_TMP/greet"

PF=$TESTS_TMP/pf
pf_setup "$PF" "[127.0.0.1]:$PORT"
# Retries 5-10 s apart: with the library's 1-2 s, qmgr can pick a message
# up again while the smtp process that deferred it still holds its lock
# ("skipped, still being delivered"), and then leaves it in the active
# queue for minutes: Postfix's race, not the relay's.
pf_conf "$PF" "queue_run_delay = 5s" "minimal_backoff_time = 5s" "maximal_backoff_time = 10s"
pf_start "$PF" || exit 1
# From here on: relay log lines, and token requests the stand-in counts.
MARK=$(wc -l <"$RELAY_LOG")
standin_ctl POST /reset >/dev/null
i=0
while [ $i -lt $N ]; do
    printf 'From: %s\nSubject: outage %d\nMessage-ID: <outage-%d@test>\n\nx\n' "$MB" $i $i |
        pf_send "$PF" -f "$MB" "r$i@example.net"
    i=$((i + 1))
done
# Let Postfix try each message three times on average.
deferred() { grep -c 'status=deferred' "$PF/postfix.log" 2>/dev/null || echo 0; }
ok "Postfix keeps trying and deferring ($((3 * N)) deferrals)" \
    wait_long 120 sh -c "[ \$(grep -c 'status=deferred' '$PF/postfix.log') -ge $((3 * N)) ]"
ok "Postfix saw the 421 4.7.0 with the diagnosis" \
    pf_log_has "$PF" "421 4.7.0 .*no access token for \[account main\]"
ok "and suspended the destination" pf_log_has "$PF" "delivery temporarily suspended"
ok "the mail waits in Postfix's queue" test "$(pf_queue_count "$PF")" = $N
pf_mailq "$PF" | grep -q "421 4.7.0"; tap_ok $? "mailq shows the 421 4.7.0"
LINES=$(tail -n +$((MARK + 1)) "$RELAY_LOG" | wc -l)
REQS=$(standin_stat token_requests)
echo "# $(deferred) deferrals in Postfix; relay log: $LINES lines; token requests: $REQS"
tail -n +$((MARK + 1)) "$RELAY_LOG" | head -n 10 | sed 's/^/#   /'
ok "the relay logs about one line per token request, not per message" \
    test "$LINES" -le $((REQS + 3))
ok "nothing reached Exchange" test "$(standin_count)" = 0
# the relay's next request is never more than a minute away
ok "every retry of the token request is at most 60 s away" sh -c \
    "! grep -o 'next attempt in [0-9]* s' '$RELAY_LOG' | awk '\$4 > 60 {bad=1} END {exit !bad}'"

echo "# $(date +%T) Entra is back"
standin_ctl DELETE /faults >/dev/null
T0=$(date +%s)
ok "all $N messages are delivered (bound: the relay's next token request <= 60 s, then Postfix's retry)" \
    wait_long 150 sh -c "[ \$(ls '$STANDIN_MSGDIR' | grep -c '\.json\$') -ge $N ]"
echo "# delivered $(( $(date +%s) - T0 )) s after Entra's return"
ok "Postfix's queue drains" pf_wait_queue "$PF" 0 30
ok "each exactly once" test "$(standin_count)" = $N
ok "the relay says when tokens are back" relay_log_has "an access token is available again"
smtp_session "$PORT" >"$TESTS_TMP/greet2" <<'EOF'
<
> QUIT\r\n
<
EOF
ok "and greets with 220 again" grep -q '^220 ' "$TESTS_TMP/greet2"
relay_stop
echo "1..$_tap_n"
