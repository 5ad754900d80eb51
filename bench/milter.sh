#!/bin/sh
# milter.sh - what exorelay-milter costs Postfix, measured in one run.
#
# One private Postfix (tests/lib/postfix.sh) relays to smtp-sink; smtp-source
# submits N messages of 2,000 bytes over SMTP (4 sessions, a new connection
# per message, as local programs do), all of them classified and rewritten
# by the milter (Subject "[Alarm] ..." from root@...). A run lasts from the
# first connection until Postfix's queue is empty again. Runs alternate
# without and with the milter (smtpd_milters on a unix socket), ROUNDS times
# each (default 5; the order flips every round). Printed: the median rates
# and their ratio (target >= 0.95), and the milter's own CPU time per
# message (from /proc), which other load on the machine blurs less than it
# blurs the rates.
#
# usage: sh bench/milter.sh [MESSAGES] [ROUNDS]      (BUILD=build by default)
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BUILD:=$TOP/build}"
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
export TOP BUILD
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/milter.sh"
N=${1:-500}
ROUNDS=${2:-5}
[ -x "$BIN/exorelay-milter" ] || { echo "build first: make all" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench/milter.sh: a private Postfix needs root" >&2; exit 1; }
command -v smtp-source >/dev/null || { echo "smtp-source missing: make deps" >&2; exit 1; }
chmod 0755 "$TESTS_TMP"

T=$TESTS_TMP
SINK_PORT=$(free_port)
smtp-sink -u nobody "127.0.0.1:$SINK_PORT" 100 &
cleanup_add "kill $! 2>/dev/null"
PF=$T/pf
pf_setup "$PF" "[127.0.0.1]:$SINK_PORT"
pf_conf "$PF" "milter_default_action = tempfail" "smtpd_milters =" \
    "default_process_limit = 100" "smtpd_client_connection_rate_limit = 0"
HOST=$(postconf -c "$PF/etc" -h myhostname)

MSOCK=$PF/queue/exorelay/milter.sock
milter_write_conf "$T/exorelay.conf" "$MSOCK" "$HOST, localhost"
cat >>"$T/exorelay.conf" <<'EOF'
[class alarm]
match_from = root@*
match_subject = ^\[Alarm\]
send_as = Alarms <alerts@contoso.example>
EOF
milter_start "$T/exorelay.conf" "$MSOCK" || { echo "the milter did not start" >&2; exit 1; }
MPID=$MILTER_PID
pf_start "$PF" || exit 1

# now_ms - wall clock in milliseconds
now_ms() { date +%s%3N; }

# one_run - submit N messages, wait for an empty queue; prints msg/s
one_run() {
    _t0=$(now_ms)
    smtp-source -s 4 -m "$N" -l 2000 -f "root@$HOST" -t ops@example.com \
        -S "[Alarm] bench" "127.0.0.1:$PF_PORT" || return 1
    pf_wait_queue "$PF" 0 300 || return 1
    _t1=$(now_ms)
    "$PYTHON" -c "print('%.1f' % ($N * 1000.0 / max(1, $_t1 - $_t0)))"
}

# set_milter on|off - smtpd_milters, then wait until the reload took
set_milter() {
    if [ "$1" = on ]; then
        pf_conf "$PF" "smtpd_milters = unix:exorelay/milter.sock"
    else
        pf_conf "$PF" "smtpd_milters ="
    fi
    postfix -c "$PF/etc" reload >/dev/null 2>&1
    sleep 1
}

# cpu_ticks - user + system CPU the milter used so far (clock ticks)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$MPID/stat"; }
user_ticks() { awk '{print $14}' "/proc/$MPID/stat"; }

median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

echo "exorelay-milter bench: $N messages x $ROUNDS rounds, Postfix -> smtp-sink, 4 sessions"
without=""; with=""
tagged0=$(grep -c 'class=alarm' "$MILTER_LOG")
cpu0=$(cpu_ticks)
user0=$(user_ticks)
# measure on|off - one run with or without the milter; prints msg/s
measure() {
    set_milter "$1"
    one_run || { echo "run failed (milter $1)" >&2; exit 1; }
}
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then         # alternate the order: no bias to either
        a=$(measure off) && b=$(measure on) || exit 1
    else
        b=$(measure on) && a=$(measure off) || exit 1
    fi
    echo "round $r: without milter $a msg/s, with milter $b msg/s"
    without="$without $a"; with="$with $b"
done
tagged=$(( $(grep -c 'class=alarm' "$MILTER_LOG") - tagged0 ))
cpu=$(( $(cpu_ticks) - cpu0 ))
usr=$(( $(user_ticks) - user0 ))
mw=$(echo "$without" | median)
mm=$(echo "$with" | median)
echo "classified by the milter: $tagged of $((N * ROUNDS)) messages"
"$PYTHON" -c "t = 1e6 / $(getconf CLK_TCK) / max(1, $tagged); print('milter CPU: %.0f us per message (%.0f user, %.0f system)' % ($cpu * t, $usr * t, ($cpu - $usr) * t))"
echo "median: without milter $mw msg/s, with milter $mm msg/s"
"$PYTHON" -c "r = $mm / $mw; print('ratio with/without: %.3f (target >= 0.95) %s' % (r, 'ok' if r >= 0.95 else 'BELOW TARGET'))"
[ "$tagged" -eq $((N * ROUNDS)) ] || { echo "not every message was classified" >&2; exit 1; }
