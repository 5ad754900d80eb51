#!/bin/sh
# t_log_dest.sh - where the log lines go (common/log.c): under systemd
# (JOURNAL_STREAM names stderr) "<N>text" with the syslog priority and no
# timestamp; with -f, stderr as "RFC3339 host exorelay/relay[pid]: text";
# JOURNAL_STREAM naming another file is ignored (a redirected stderr);
# detached, syslog with facility mail and the tag exorelay/milter (the
# relay's syslog lines: t_maillog.sh).
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/relay.sh"
. "$TOP/tests/lib/syslog.sh"
. "$TOP/tests/lib/milter.sh"

PORT=$(free_port)
CONF=$TESTS_TMP/exorelay.conf
milter_write_conf "$CONF" "$TESTS_TMP/milter.sock" "localhost" "listen = 127.0.0.1:$PORT
allow = 10.0.0.0/8"

# stream_id FILE - what systemd puts in JOURNAL_STREAM for a stream FILE
stream_id() { stat -L -c '%d:%i' "$1"; }

# run_relay LOG [JOURNAL_STREAM] - relay in the foreground, stderr to LOG;
# a client from outside "allow" (127.0.0.1) makes it warn; then SIGTERM
run_relay() {
    : >"$1"
    JOURNAL_STREAM=${2:-} "$BIN/exorelay" -c "$CONF" run -f 2>>"$1" &
    _pid=$!
    cleanup_add "kill $_pid 2>/dev/null"
    wait_for grep -q 'serving' "$1" || return 1
    printf '<*\n' | smtp_session "$PORT" >/dev/null
    wait_for grep -q 'not in allow' "$1"
    kill -TERM $_pid
    wait $_pid
}

J=$TESTS_TMP/journal.log
: >"$J"
run_relay "$J" "$(stream_id "$J")"
tap_ok $? "relay under JOURNAL_STREAM: starts, warns, stops"
grep -q '^<5>exorelay [0-9.]* serving 1 listener$' "$J"
tap_ok $? "a notice: <5>, the text, no timestamp, no tag"
grep -q '^<4>warning: reject: connect from 127\.0\.0\.1: client address is not in allow' "$J"
tap_ok $? "a warning: <4>warning: ..."
tap_ok $(grep -vq '^<[0-7]>' "$J"; [ $? = 1 ]; echo $?) "every line starts with its priority"

F=$TESTS_TMP/stderr.log
run_relay "$F" "$(stream_id "$J")"
tap_ok $? "relay with -f and a JOURNAL_STREAM that is not its stderr"
host=$(hostname | cut -d. -f1)
grep -Eq "^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z $host exorelay/relay\[[0-9]+\]: exorelay [0-9.]+ serving" "$F"
tap_ok $? "stderr: RFC 3339 time, host, exorelay/relay[pid]: text"
grep -Eq " exorelay/relay\[[0-9]+\]: warning: reject: connect from 127\.0\.0\.1" "$F"
tap_ok $? "stderr: warnings say so"
tap_ok $(grep -q '^<' "$F"; [ $? = 1 ]; echo $?) "no priority prefixes there"

# the milter: the same three destinations through the same module
MJ=$TESTS_TMP/milter-journal.log
: >"$MJ"
JOURNAL_STREAM=$(stream_id "$MJ") "$BIN/exorelay-milter" -c "$CONF" -f 2>>"$MJ" &
MPID=$!
cleanup_add "kill $MPID 2>/dev/null"
wait_for grep -q 'ready' "$MJ"
kill -TERM $MPID; wait $MPID
grep -q '^<6>listening on unix:' "$MJ"
tap_ok $? "milter under JOURNAL_STREAM: <6>listening on ..."

syslog_start || { echo "not ok - syslog sink did not start"; exit 1; }
EXORELAY_SYSLOG_SOCKET=$SOCK "$BIN/exorelay-milter" -c "$CONF" 2>"$TESTS_TMP/milter.err"
tap_ok $? "milter without -f: detaches, exit 0"
wait_for grep -q 'exorelay/milter\[[0-9]*\]: ready, pid' "$LOG"
tap_ok $? "its lines reach syslog, tag exorelay/milter"
# its PID: from the log, else (a milter that logged elsewhere) by its command line
DPID=$(sed -n 's/.*exorelay\/milter\[\([0-9]*\)\]: ready, pid.*/\1/p' "$LOG" | head -1)
[ -n "$DPID" ] || DPID=$(pgrep -f "exorelay-milter -c $CONF\$")
cleanup_add "kill $DPID 2>/dev/null"
tap_ok $(syslog_facility_mail; echo $?) \
    "facility mail (PRI $(sort -u "$LOG.pri" | tr '\n' ' '))"
grep -q 'exorelay/milter\[[0-9]*\]: listening on' "$TESTS_TMP/milter.err" &&
    ! grep -q 'ready' "$TESTS_TMP/milter.err"
tap_ok $? "the terminal gets the start-up lines (problems show there), nothing after detaching"
kill -TERM "$DPID"
wait_for sh -c "! kill -0 $DPID"; tap_ok $? "the detached milter stops on SIGTERM"
wait_for grep -q 'exorelay/milter\[[0-9]*\]: stopping' "$LOG"
tap_ok $? "... and says so in syslog"
grep -q '^MALFORMED' "$LOG"; tap_ok $((! $?)) "every datagram in syslog(3)'s form"
