#!/bin/sh
# sendmail.sh - exorelay-sendmail and its spool, measured in one run against
# the Exchange Online stand-in:
#
#   submission latency of exorelay-sendmail (median, p99): the time a
#   program waits for "sendmail" to return, the message fsynced in the
#   spool; against the baseline of starting the same program (--version),
#   so the difference is the spool write
#   delivery throughput from the spool: the queue runner of "exorelay run"
#   (its workers over pooled connections) against "exorelay queue flush"
#   (one process, one message after the other) on the same messages, with
#   DELAY_MS (default 20) of emulated round trip per SMTP reply batch
#
# usage: sh bench/sendmail.sh [MESSAGES]     (default 200; BUILD=build)
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BUILD:=$TOP/build}"
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
BIN="$BUILD/bin"
export TOP BUILD BIN
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
N=${1:-200}
DELAY=${DELAY_MS:-20}
SM="$BIN/exorelay-sendmail"
[ -x "$SM" ] || { echo "build first: make all ($SM missing)" >&2; exit 1; }

standin_start --record none >/dev/null || exit 1
CONF="$TESTS_TMP/exorelay.conf"
standin_write_conf "$CONF" --log-level warning
SPOOL="$TESTS_TMP/spool"
MSG="$TESTS_TMP/msg.eml"
"$PYTHON" -c '
import sys
body = "".join("line %d of a typical alarm notification, plain text\n" % i for i in range(40))
sys.stdout.write("To: ops@example.com\nSubject: [Alarm] disk full\n\n" + body)' >"$MSG"

daemon_start() {
    rm -f "$SPOOL/pid"          # a killed daemon's: wait for the new one's
    "$BIN/exorelay" -c "$CONF" run -f >>"$TESTS_TMP/daemon.log" 2>&1 &
    DAEMON=$!
    cleanup_add "kill -9 $DAEMON 2>/dev/null"
    wait_for test -e "$SPOOL/pid" || { echo "exorelay run did not start" >&2; exit 1; }
}
spooled() { ls "$SPOOL/queue" "$SPOOL/maildrop" | grep -c '^[0-9A-F]\{20\}$'; }
delivered() { standin_stat messages; }

# time_runs LABEL N CMD... - run CMD N times (stdin: the message); print
# "LABEL: median X ms, p99 Y ms"
time_runs() {
    "$PYTHON" - "$@" "$MSG" <<'PY'
import subprocess, sys, time
label, n, cmd, msg = sys.argv[1], int(sys.argv[2]), sys.argv[3:-1], open(sys.argv[-1], "rb").read()
t = []
for _ in range(n):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, input=msg, stdout=subprocess.DEVNULL)
    t.append((time.perf_counter() - t0) * 1000)
    if p.returncode != 0:
        sys.exit("%s: exit %d" % (label, p.returncode))
t.sort()
print("  %-46s median %.1f ms, p99 %.1f ms" % (label + ":", t[len(t) // 2],
      t[min(len(t) - 1, int(len(t) * 0.99))]))
PY
}

# drain LABEL START - wait until N more messages reached the stand-in since
# START (a counter value); print the rate
drain() {
    "$PYTHON" - "$1" "$2" "$N" "$STANDIN_CTL" <<'PY'
import json, sys, time, urllib.request
label, start, n, ctl = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
t0 = time.perf_counter()
while True:
    got = json.load(urllib.request.urlopen(ctl + "/stats"))["messages"] - start
    if got >= n or time.perf_counter() - t0 > 120:
        break
    time.sleep(0.02)
dt = time.perf_counter() - t0
print("  %-46s %6.1f msg/s (%d in %.2f s)" % (label + ":", got / dt, got, dt))
PY
}

echo "exorelay-sendmail: $N submissions of $(wc -c <"$MSG") bytes (a daemon runs: no inline delivery)"
daemon_start
kill -STOP "$DAEMON"            # holds its lock, delivers nothing: the queue fills
time_runs "submission (spool write, 2 fsyncs)" "$N" "$SM" -C "$CONF" ops@example.com
time_runs "baseline: process start (--version)" "$N" "$SM" --version
echo "  queued: $(spooled)"

echo "delivery from the spool: $N messages, $DELAY ms emulated round trip"
standin_ctl POST /faults "{\"clear\": true, \"smtp_delay_ms\": $DELAY}" >/dev/null
# baseline: the daemon dies (SIGKILL, its lock goes), "queue flush" runs alone
kill -9 "$DAEMON"; kill -CONT "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null
START=$(delivered)
"$BIN/exorelay" -c "$CONF" queue flush >"$TESTS_TMP/flush.out" 2>&1 &
FLUSH=$!
drain "baseline: exorelay queue flush (sequential)" "$START"
wait $FLUSH
[ "$(spooled)" = 0 ] || echo "  (flush left $(spooled) queued)"

daemon_start
kill -STOP "$DAEMON"
i=0; while [ $i -lt "$N" ]; do "$SM" -C "$CONF" ops@example.com <"$MSG" || exit 1; i=$((i + 1)); done
START=$(delivered)
kill -CONT "$DAEMON"
drain "from the spool by exorelay run (pooled, parallel)" "$START"
echo "  upstream sessions at most: $(standin_stat "max_concurrent/$STANDIN_MAILBOX")"
kill "$DAEMON"; wait "$DAEMON" 2>/dev/null
