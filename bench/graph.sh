#!/bin/sh
# graph.sh - the Microsoft Graph transport against the SMTP transport, in
# one run, through the same Postfix and the same relay:
#
#   Postfix -> exorelay -> stand-in SMTP   (account main, transport = smtp)
#   Postfix -> exorelay -> stand-in Graph  (account g, transport = graph)
#
# N messages of 2 KB (default 500) are queued in a held Postfix queue and
# released at once, for each transport in turn; printed: msg/s, and TLS
# handshakes per 1,000 messages (stand-in counters: STARTTLS sessions for
# SMTP, new HTTPS connections for Graph), and the most Graph requests in
# flight for the mailbox (Graph allows 4). Postfix delivers with up to 20
# parallel SMTP sessions to the relay.
#
# usage: sh bench/graph.sh [MESSAGES]
# Needs root (a private Postfix), the postfix package, a build. Run it
# under nice on a shared machine.
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
[ -x "$BIN/exorelay" ] || { echo "build first: make all" >&2; exit 1; }

standin_start --record none >/dev/null || exit 1
RPORT=$(free_port)
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF" "127.0.0.1:$RPORT" --log-level warning
relay_add_account "$CONF" g second second@contoso.onmicrosoft.com
printf 'transport = graph\nsenders = second@contoso.onmicrosoft.com\n' >>"$CONF"
relay_start "$CONF" || exit 1
per1000() { awk "BEGIN { printf \"%.1f\", $1 * 1000 / $2 }"; }

PF=$TESTS_TMP/pf
pf_setup "$PF" "[127.0.0.1]:$RPORT"
pf_start "$PF" || exit 1

# drain SENDER - queue N held messages from SENDER, release them, print msg/s
drain() {
    pf_conf "$PF" "defer_transports = smtp"
    postfix -c "$PF/etc" reload >/dev/null 2>&1
    sleep 1
    smtp-source -s 10 -m "$N" -l 2000 -f "$1" -t bench@example.net 127.0.0.1:$PF_PORT
    pf_wait_queue "$PF" "$N" 120 || { echo "queueing failed" >&2; exit 1; }
    pf_release "$PF" "$N" || exit 1
}

standin_ctl POST /reset >/dev/null
smtp_rate=$(drain "$STANDIN_MAILBOX")
smtp_tls=$(standin_stat tls_handshakes)
smtp_msgs=$(standin_stat messages)
standin_ctl POST /reset >/dev/null
graph_rate=$(drain second@contoso.onmicrosoft.com)
graph_tls=$(standin_stat graph_connections)
graph_msgs=$(standin_stat graph_sent)
inflight=$(standin_stat graph_max_inflight)

echo "Postfix -> exorelay -> stand-in, $N messages of 2 KB from a held queue:"
printf '  %-30s %8s %22s\n' "transport" "msg/s" "TLS handshakes/1000"
printf '  %-30s %8s %22s\n' "smtp (SMTP AUTH, baseline)" "$smtp_rate" "$(per1000 "$smtp_tls" "$smtp_msgs")"
printf '  %-30s %8s %22s\n' "graph (Graph sendMail)" "$graph_rate" "$(per1000 "$graph_tls" "$graph_msgs")"
echo "delivered: smtp $smtp_msgs, graph $graph_msgs; Graph requests in flight for the mailbox: at most $inflight (limit 4)"
