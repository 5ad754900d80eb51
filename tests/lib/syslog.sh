# syslog.sh - a stand-in syslog daemon for a test (source after common.sh).
#
#   syslog_start   start tests/lib/syslog_sink.py on $TESTS_TMP/log.sock,
#                  writing $TESTS_TMP/mail.log (and mail.log.pri, the PRI
#                  of each line); killed at exit. Exports SOCK (give it to
#                  the programs as EXORELAY_SYSLOG_SOCKET) and LOG.
#   syslog_facility_mail   every line so far had facility mail
SOCK=$TESTS_TMP/log.sock
LOG=$TESTS_TMP/mail.log

syslog_start() {
    "$PYTHON" "$TOP/tests/lib/syslog_sink.py" "$SOCK" "$LOG" &
    _sink_pid=$!
    cleanup_add "kill $_sink_pid 2>/dev/null"
    wait_for test -S "$SOCK" || { echo "# syslog_start: the sink did not start" >&2; return 1; }
}

syslog_facility_mail() {
    [ -s "$LOG.pri" ] && sort -u "$LOG.pri" | awk '{ if (int($1 / 8) != 2) bad = 1 } END { exit bad }'
}
