#!/bin/sh
# relay.sh - figures of "exorelay run", measured in one run against the
# Exchange/Entra stand-ins and Postfix's own tools:
#
#   throughput  Postfix -> exorelay -> stand-in  against the baseline
#               Postfix -> smtp-sink (same machine, same run, same
#               messages: 2 KB, released from a held queue at once)
#   round trips per message on a warm upstream connection (stand-in
#               counter), for Postfix's pipelined deliveries
#   token requests for TOKEN_MSGS (default 5000) messages sent through the
#               relay (smtp-source, 10 sessions), starting with no cached
#               token
#   peak RSS of the relay with 50 concurrent 10 MB messages (target < 32
#               MB), against its RSS when idle
#   time per message with DELAY_MS (default 20) of emulated round trip:
#               warm pool against a fresh upstream connection per message
#               (pool_idle = 0)
#
# usage: sh bench/relay.sh [MESSAGES]   (default 500 for throughput)
# Needs root (private Postfix instances), the postfix package, a build.
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BUILD:=$TOP/build}"
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
BIN=$BUILD/bin
export TOP BUILD BIN
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"
. "$TOP/tests/lib/postfix.sh"
N=${1:-500}
TOKEN_MSGS=${TOKEN_MSGS:-5000}
DELAY=${DELAY_MS:-20}
[ -x "$BIN/exorelay" ] || { echo "build first: make all" >&2; exit 1; }

standin_start --record none >/dev/null || exit 1
RPORT=$(free_port)
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF" "127.0.0.1:$RPORT" --log-level warning
relay_start "$CONF" || exit 1
MB=$STANDIN_MAILBOX
now() { date +%s.%N; }
rate() { awk "BEGIN { printf \"%.0f\", $1 / ($3 - $2) }"; }

# --- throughput: Postfix -> relay -> stand-in vs Postfix -> smtp-sink
SINKP=$(free_port)
smtp-sink -u nobody 127.0.0.1:$SINKP 256 &
cleanup_add "kill $! 2>/dev/null"
pf_setup "$TESTS_TMP/pfr" "[127.0.0.1]:$RPORT"; PR=$PF_PORT
pf_conf "$TESTS_TMP/pfr" "defer_transports = smtp"
pf_start "$TESTS_TMP/pfr" || exit 1
pf_setup "$TESTS_TMP/pfs" "[127.0.0.1]:$SINKP"; PS=$PF_PORT
pf_conf "$TESTS_TMP/pfs" "defer_transports = smtp"
pf_start "$TESTS_TMP/pfs" || exit 1

# drain DIR PORT - queue N held messages, release them, print msg/s
drain() {
    smtp-source -s 10 -m "$N" -l 2000 -f "$MB" -t bench@example.net 127.0.0.1:$2
    pf_wait_queue "$1" "$N" 120 || { echo "queueing failed" >&2; exit 1; }
    pf_release "$1" "$N" || exit 1
}
standin_ctl POST /reset >/dev/null
via_relay=$(drain "$TESTS_TMP/pfr" "$PR")
rt=$(awk "BEGIN { printf \"%.2f\", $(standin_stat round_trips) / $(standin_stat messages) }")
conns=$(standin_stat smtp_connections)
direct=$(drain "$TESTS_TMP/pfs" "$PS")
echo "throughput, $N messages of 2 KB from a held Postfix queue (msg/s):"
printf '  %-44s %6s\n' "Postfix -> smtp-sink (baseline)" "$direct"
printf '  %-44s %6s\n' "Postfix -> exorelay -> Exchange stand-in" "$via_relay"
echo "round trips per message, Postfix's pipelined deliveries: $rt" \
     "($conns upstream connection(s) for $N messages)"
pf_stop "$TESTS_TMP/pfr"; pf_stop "$TESTS_TMP/pfs"

# restart_relay [extra [relay] lines] - fresh process, empty token cache
restart_relay() {
    relay_stop
    rm -rf "$TESTS_TMP/state"/*
    standin_ctl POST /reset >/dev/null      # counts from the first token
    cp "$CONF" "$CONF.run"
    [ -n "${1:-}" ] && sed -i "/^\[upstream\]/a $1" "$CONF.run"
    relay_start "$CONF.run" || exit 1
}

# --- token requests for TOKEN_MSGS messages
restart_relay
t0=$(now)
smtp-source -s 10 -m "$TOKEN_MSGS" -l 1000 -f "$MB" -t bench@example.net 127.0.0.1:$RPORT
t1=$(now)
echo "token requests for $(standin_stat messages) messages sent through the relay:" \
     "$(standin_stat token_requests) (token cache emptied first; smtp-source, 10 sessions, $(rate "$TOKEN_MSGS" "$t0" "$t1") msg/s)"

# --- peak RSS with 50 concurrent 10 MB messages
restart_relay
idle=$(awk '/VmHWM/ { print $2 }' /proc/$RELAY_PID/status)
smtp-source -s 50 -m 50 -l 10485760 -f "$MB" -t bench@example.net 127.0.0.1:$RPORT
peak=$(awk '/VmHWM/ { print $2 }' /proc/$RELAY_PID/status)
echo "relay peak RSS (VmHWM): idle $((idle / 1024)) MB; with 50 concurrent 10 MB" \
     "messages $((peak / 1024)) MB (target < 32 MB); $(standin_stat messages) messages upstream"

# --- time per message with emulated delay: warm pool vs fresh connection
# pipelined K - a client session sending K messages, MAIL/RCPT/DATA
# pipelined as Postfix does (smtp_script.py)
pipelined() {
    printf '<\n> EHLO bench\\r\\n\n<\n'
    _k=0
    while [ $_k -lt "$1" ]; do
        printf '> MAIL FROM:<%s>\\r\\nRCPT TO:<bench@example.net>\\r\\nDATA\\r\\n\n<\n<\n<\n' "$MB"
        printf '> Subject: bench\\r\\n\\r\\nbody\\r\\n.\\r\\n\n<\n'
        _k=$((_k + 1))
    done
}
# permsg - ms per message over 20 sequential pipelined messages
permsg() {
    standin_ctl POST /faults "{\"clear\": true, \"smtp_delay_ms\": $DELAY}" >/dev/null
    pipelined 1 | smtp_session $RPORT >/dev/null        # token, first connection
    _t0=$(now)
    pipelined 20 | smtp_session $RPORT >"$TESTS_TMP/permsg.out"
    _t1=$(now)
    standin_ctl DELETE /faults >/dev/null
    [ "$(grep -c '^250 2.0.0 OK' "$TESTS_TMP/permsg.out")" -eq 20 ] || echo "(failed)"
    awk "BEGIN { printf \"%.0f\", ($_t1 - $_t0) * 1000 / 20 }"
}
restart_relay
warm=$(permsg warm)
restart_relay "pool_idle = 0"
fresh=$(permsg fresh)
echo "time per message with ${DELAY} ms emulated round trip (20 sequential pipelined messages):"
printf '  %-44s %6s ms\n' "warm pool (one connection reused)" "$warm" \
    "fresh connection per message (pool_idle = 0)" "$fresh"
echo "  (the stand-in delays SMTP replies, not TCP/TLS handshakes: fresh is a lower bound)"
relay_stop
