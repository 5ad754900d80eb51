#!/bin/sh
# t_relay_slow.sh - slow clients cannot starve the others (issue 13, 3).
# Three clients trickling their message a byte every 2 s hold the account's
# three upstream sessions (Exchange's limit); a fourth gets a 451 naming
# pool_wait_timeout instead of waiting for ever; one that hangs up while it
# waits frees its thread at once; when the trickling clients go, the
# sessions return to none. data_total_timeout cuts off a trickle inside
# DATA, idle_timeout a command trickled byte by byte; nothing is submitted.
# Every wait is for a condition ("exorelay status", a helper's output).
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"

standin_start || exit 1
MB=$STANDIN_MAILBOX
PORT=$(free_port)
BASE=$TESTS_TMP/base.conf
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$BASE" "127.0.0.1:$PORT"

# with_keys KEY=VALUE... - CONF is BASE plus these [relay] keys
with_keys() {
    cp "$BASE" "$CONF"
    for kv in "$@"; do
        sed -i "/^\[relay\]/a ${kv%%=*} = ${kv#*=}" "$CONF"
    done
}
# wait_long CMD... - wait_for with 60 s (three TLS + AUTH sessions on a
# loaded machine can take longer than wait_for's 10 s)
wait_long() {
    _w=0
    while [ $_w -lt 6 ]; do
        wait_for "$@" && return 0
        _w=$((_w + 1))
    done
    return 1
}
status_has() { "$BIN/exorelay" -c "$CONF" status 2>/dev/null | grep -Eq "$1"; }
sessions() { status_has "running, pid [0-9]+, up .*, $1 client sessions?\$"; }
holding() { test "$(grep -l '^holding' "$TESTS_TMP"/trickle.*.out 2>/dev/null | wc -l)" = "$1"; }
TRICKLERS=""
# trickle N ARGS... - start trickling client N (output trickle.N.out)
trickle() {
    _n=$1; shift
    "$PYTHON" "$TOP/tests/lib/trickle.py" "$PORT" "$MB" "$@" >"$TESTS_TMP/trickle.$_n.out" &
    TRICKLERS="$TRICKLERS $!"
    cleanup_add "kill $! 2>/dev/null"
}
stop_tricklers() {
    for p in $TRICKLERS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    TRICKLERS=""
    rm -f "$TESTS_TMP"/trickle.*.out
}
session() {     # a plain client: EHLO, MAIL, QUIT
    printf '%s\n' "<" "> EHLO c\\r\\n" "<" "> MAIL FROM:<$MB>\\r\\n" "<" \
        "> QUIT\\r\\n" "<" | smtp_session "$PORT"
}

# --- 1. a fourth client gets an answer within pool_wait_timeout ------------
with_keys pool_wait_timeout=2 data_timeout=60 data_total_timeout=1h
relay_start "$CONF" || exit 1
for n in 1 2 3; do trickle $n "t$n@example.net" 2; done
wait_long holding 3
tap_ok $? "three trickling clients each hold an upstream session (354 seen)"
status_has "pool +3 open, 3 busy"
tap_ok $? "status: the pool's 3 connections are busy"
sessions 3; tap_ok $? "status: 3 client sessions"
out=$(session)
echo "$out" | sed -n 3p | grep -q '^451 4\.4\.5 .*all 3 upstream sessions of account main are busy.*pool_wait_timeout'
tap_ok $? "a fourth client's MAIL gets 451 4.4.5 naming pool_wait_timeout"
echo "# $(echo "$out" | sed -n 3p)"
echo "$out" | tail -1 | grep -q '^221'
tap_ok $? "... and the session goes on (QUIT answered)"
relay_log_has 'no upstream connection: 451 4\.4\.5'
tap_ok $? "the refusal is logged"
stop_tricklers
wait_long sessions 0
tap_ok $? "the trickling clients gone: no session is left (threads back to idle)"
wait_long status_has "pool +[0-9]+ open, 0 busy"
tap_ok $? "no upstream connection stays busy"
relay_stop

# --- 2. a client that hangs up while it waits frees its thread at once -----
with_keys pool_wait_timeout=10m data_timeout=60 data_total_timeout=1h
relay_start "$CONF" || exit 1
for n in 1 2 3; do trickle $n "t$n@example.net" 2; done
wait_long holding 3
tap_ok $? "three trickling clients hold the sessions again"
"$PYTHON" - "$PORT" "$MB" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
f.readline()
s.sendall(b"EHLO gone\r\n")
while f.readline()[3:4] == b"-":
    pass
s.sendall(b"MAIL FROM:<%s>\r\n" % sys.argv[2].encode())
s.close()                       # hangs up while the relay waits for a session
PY
# pool_wait_timeout is 10 minutes: only noticing the hang-up ends the wait
wait_long relay_log_has 'no upstream connection: 421 4\.4\.2 .*client connection lost while waiting'
tap_ok $? "the wait for a session ends when the client hangs up (logged)"
wait_long sessions 3
tap_ok $? "its thread is freed: the 3 trickling sessions are all that is left"
stop_tricklers
wait_long sessions 0
tap_ok $? "the trickling clients gone: no session is left"
relay_stop

# --- 3. a trickle cannot hold a session for long ----------------------------
with_keys data_total_timeout=3 data_timeout=60 idle_timeout=3
n0=$(standin_count)
relay_start "$CONF" || exit 1
trickle 1 "t1@example.net" 1 data 60
trickle 2 "t2@example.net" 1 command 60
wait_long sh -c "grep -q '^closed' '$TESTS_TMP/trickle.1.out' && grep -q '^closed' '$TESTS_TMP/trickle.2.out'"
tap_ok $? "both trickling clients are cut off"
grep -q '^closed 421 4\.4\.2 message data not complete within 3 s (data_total_timeout)' \
    "$TESTS_TMP/trickle.1.out"
tap_ok $? "inside DATA: 421 4.4.2 naming data_total_timeout (one byte a second never trips data_timeout = 60)"
grep -q '^closed 421 4\.4\.2 .*timeout' "$TESTS_TMP/trickle.2.out"
tap_ok $? "a command trickled byte by byte: 421 4.4.2 after idle_timeout"
sed 's/^/# /' "$TESTS_TMP"/trickle.*.out | grep -v '^# reply 250-'
relay_log_has 'status=deferred \(421 4\.4\.2 message data not complete'
tap_ok $? "the cut message is logged as deferred"
tap_ok $([ "$(standin_count)" = "$n0" ]; echo $?) "nothing was submitted upstream"
wait_long sessions 0
tap_ok $? "no session is left"
stop_tricklers
relay_stop
tap_ok $? "the relay stops cleanly (exit 0)"
