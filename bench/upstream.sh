#!/bin/sh
# upstream.sh - what connection reuse buys, measured in one run against the
# Exchange Online stand-in, through deliver_message() (tool_deliver):
#
#   round trips per message on a warm connection (the stand-in's counter),
#   for a message from a file (BDAT LAST) and from a pipe (DATA)
#   time per message with DELAY_MS (default 20) of emulated round-trip
#   delay: warm pool (one connection reused) against a fresh connection
#   per message (connect, TLS, EHLO, AUTH each time: the baseline)
#   the same without delay (loopback)
#
# The stand-in delays each batch of SMTP replies by DELAY_MS; TCP connect
# and the TLS handshake are not delayed, so the fresh-connection figure is
# a lower bound (on a real network it costs 2-3 round trips more).
#
# usage: sh bench/upstream.sh [MESSAGES]     (BUILD=build by default)
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BUILD:=$TOP/build}"
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
export TOP BUILD
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
N=${1:-30}
DELAY=${DELAY_MS:-20}
TOOL="$BUILD/tests/tools/tool_deliver"
[ -x "$TOOL" ] || { echo "build first: make all ($TOOL missing)" >&2; exit 1; }

standin_start --record none >/dev/null || exit 1
CONF="$TESTS_TMP/exorelay.conf"
standin_write_conf "$CONF" --log-level warning
MSG="$TESTS_TMP/msg.eml"
"$PYTHON" -c '
import sys
body = "".join("line %d of a typical alarm notification, plain text\n" % i for i in range(40))
sys.stdout.write("From: no-reply@contoso.onmicrosoft.com\nTo: ops@example.com\n"
                 "Subject: [Alarm] disk full\n\n" + body)' >"$MSG"

# run LABEL [tool args] - deliver N messages; prints avg ms of messages 2..N
run() {
    _label=$1; shift
    "$TOOL" -c "$CONF" -n "$N" "$@" "$MSG" >"$TESTS_TMP/$_label.out" 2>"$TESTS_TMP/$_label.err" ||
        { echo "$_label: delivery failed:" >&2; tail -n 5 "$TESTS_TMP/$_label.out" >&2; exit 1; }
    # message 0 pays for the token and the first connection in both modes
    sed -n 's/^msg \([0-9]*\) .* ms=\([0-9.]*\) .*/\1 \2/p' "$TESTS_TMP/$_label.out" |
        awk '$1 > 0 { s += $2; n++ } END { printf "%.1f", n ? s / n : 0 }'
}
delay() { standin_ctl POST /faults "{\"clear\": true, \"smtp_delay_ms\": $1}" >/dev/null; }
counter() { standin_stat "$1"; }

echo "upstream delivery: $N messages of $(wc -c <"$MSG") bytes, one thread"
# round_trips LABEL [tool args] - stand-in round trips per message of a run
round_trips() {
    standin_ctl POST /reset >/dev/null
    run "$@" >/dev/null
    echo "$(counter round_trips) $(counter messages) $(counter smtp_connections)" |
        awk '{ printf "%.2f (%d for %d messages over %d connection(s))", $1 / $2, $1, $2, $3 }'
}
ratio() { awk "BEGIN { printf \"%.1fx\", $2 / ($1 > 0 ? $1 : 1) }"; }

delay 0
echo "round trips per message, warm connection (stand-in counter):"
echo "  from a file (BDAT LAST): $(round_trips rt_file)"
echo "  from a pipe (DATA):      $(round_trips rt_pipe -P)"
w0=$(run warm0); p0=$(run pipe0 -P); f0=$(run fresh0 -F)
delay "$DELAY"
w20=$(run warm20); p20=$(run pipe20 -P); f20=$(run fresh20 -F)
delay 0
printf '%-30s %10s %10s %10s %8s\n' "time per message (ms)" "warm BDAT" "warm DATA" "fresh" "ratio"
printf '%-30s %10s %10s %10s %8s\n' "loopback, no delay" "$w0" "$p0" "$f0" "$(ratio "$w0" "$f0")"
printf '%-30s %10s %10s %10s %8s\n' "${DELAY} ms emulated round trip" "$w20" "$p20" "$f20" \
    "$(ratio "$w20" "$f20")"
echo "(ratio = fresh / warm BDAT; fresh = a new connection per message, from a file)"
echo "(fresh = new TCP + TLS + EHLO + AUTH per message, token from memory;" \
     "TCP/TLS handshakes are not delayed by the stand-in, so fresh is a lower bound)"
