#!/bin/sh
# demo.sh - "make demo": the whole path on this machine, end to end.
#
#   app (sendmail -t as root) -> Postfix (private instance) -> exorelay-milter
#   (classify, tag, rewrite the sender) -> exorelay run (relayhost) ->
#   STARTTLS + AUTH XOAUTH2 -> local stand-in of Exchange Online, with the
#   token from a local stand-in of Entra ID (real TLS, fresh CA).
#
# Prints what arrived (headers, the identity that authenticated, timings)
# and the output of "exorelay test", then stops everything it started.
# Needs root (Postfix's master). Leaves nothing behind but the build.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
BIN="$BUILD/bin"
TESTS_TMP=$(mktemp -d /tmp/exorelay-demo.XXXXXX)
chmod 0755 "$TESTS_TMP"
export TOP BUILD BIN TESTS_TMP
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/postfix.sh"
cleanup_add "rm -rf '$TESTS_TMP'"

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\ndemo FAILED: %s\n' "$*" >&2; exit 1; }
ms_now() { date +%s%3N; }

[ "$(id -u)" = 0 ] || die "run make demo as root (Postfix's master needs it)"

say "Starting the stand-ins of Entra ID and Exchange Online (fresh CA, real TLS)"
standin_start || die "the stand-ins did not start"
echo "    Entra token endpoint: $STANDIN_AUTHORITY/$STANDIN_TENANT/oauth2/v2.0/token"
echo "    Exchange submission:  127.0.0.1:$STANDIN_SMTP_PORT (STARTTLS, AUTH XOAUTH2)"

say "Writing exorelay.conf (one no-reply mailbox, an alarm class)"
CONF=$TESTS_TMP/exorelay.conf
RELAY_PORT=$(free_port)
standin_write_conf "$CONF" "127.0.0.1:$RELAY_PORT" || die "cannot write the config"
cat >>"$CONF" <<EOF

[milter]
socket = unix:$TESTS_TMP/milter.sock

[class alarm]
match_from = root@*
match_subject = ^\[Alarm\]
send_as = Monitoring Alarms <$STANDIN_MAILBOX>
account = main
EOF
sed 's/^/    /' "$CONF" | grep -v '^    #'
"$BIN/exorelay" -c "$CONF" check || die "exorelay check refused the config"

say "Starting exorelay run (relay on 127.0.0.1:$RELAY_PORT) and exorelay-milter"
"$BIN/exorelay" -c "$CONF" run -f >"$TESTS_TMP/relay.log" 2>&1 &
RELAY_PID=$!
cleanup_add "kill $RELAY_PID 2>/dev/null; wait $RELAY_PID 2>/dev/null"
"$BIN/exorelay-milter" -c "$CONF" -f >"$TESTS_TMP/milter.log" 2>&1 &
MILTER_PID=$!
cleanup_add "kill $MILTER_PID 2>/dev/null; wait $MILTER_PID 2>/dev/null"
relay_up() { "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $RELAY_PORT), 1).close()"; }
wait_for relay_up || { cat "$TESTS_TMP/relay.log"; die "the relay did not start"; }
wait_for test -S "$TESTS_TMP/milter.sock" || { cat "$TESTS_TMP/milter.log"; die "the milter did not start"; }

say "Starting a private Postfix: relayhost = [127.0.0.1]:$RELAY_PORT, milter on a unix socket"
pf_setup "$TESTS_TMP/postfix" "[127.0.0.1]:$RELAY_PORT"
pf_conf "$PF_DIR" "smtpd_milters = unix:$TESTS_TMP/milter.sock" \
    "non_smtpd_milters = unix:$TESTS_TMP/milter.sock" \
    "milter_default_action = tempfail"
pf_start "$PF_DIR" || die "Postfix did not start"

say "A monitoring system sends an alarm with 'sendmail -t' as root"
MSG=$TESTS_TMP/alarm.eml
cat >"$MSG" <<EOF
From: root@$(hostname)
To: oncall@example.com
Subject: [Alarm] disk /var is 95% full on db1

The disk /var on db1 is 95% full (threshold 90%).
-- 
monitoring
EOF
sed 's/^/    /' "$MSG"
t0=$(ms_now)
pf_send "$PF_DIR" -t <"$MSG" || die "Postfix's sendmail refused the message"
arrived() { [ "$(standin_count)" -ge 1 ]; }
i=0
while ! arrived; do
    i=$((i + 1))
    if [ $i -gt 1200 ]; then
        echo "--- postfix queue:"; pf_mailq "$PF_DIR"
        echo "--- relay log:"; tail -n 20 "$TESTS_TMP/relay.log"
        die "the message did not arrive at the Exchange stand-in within 120 s"
    fi
    sleep 0.1
done
t1=$(ms_now)

REC=$(ls "$STANDIN_MSGDIR"/*.json | head -n 1)
EML=${REC%.json}.eml
say "Arrived at the Exchange Online stand-in after $((t1 - t0)) ms: the headers"
sed -n '1,/^\r\{0,1\}$/p' "$EML" | tr -d '\r' | sed 's/^/    /'
say "Who authenticated, and the envelope Exchange saw"
"$PYTHON" - "$REC" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("auth_user", "client_id", "tenant", "mail_from", "rcpt_to", "size"):
    print("    %-10s %s" % (k + ":", r.get(k)))
EOF
say "The relay's log line for it, and the stand-in's counters"
grep -E 'relayed|status=|delivered' "$TESTS_TMP/relay.log" | tail -n 3 | sed 's/^/    /'
for c in token_requests smtp_connections tls_handshakes auth_ok messages; do
    printf '    %-18s %s\n' "$c" "$(standin_stat $c)"
done

say "exorelay test (config, DNS, TCP, TLS, token, EHLO, STARTTLS, AUTH)"
"$BIN/exorelay" -c "$CONF" test 2>&1 | sed 's/^/    /'

say "Stopping everything the demo started"
_run_cleanup
trap - EXIT
_cleanup=""
echo
echo "demo: ok - the alarm went Postfix -> milter -> relay -> Exchange stand-in as $STANDIN_MAILBOX"
exit 0
