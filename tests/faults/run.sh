#!/bin/sh
# faults/run.sh - the no-loss proof: many messages through real Postfix, the
# milter and the relay to the Exchange stand-in while everything that can go
# wrong does.
#
#   sh tests/faults/run.sh [MESSAGES]          (default 2000: the long run)
#
# While the messages flow:
#   - the stand-in resets DROP_PCT% of connections in the middle of DATA
#     (default 10) and answers a 4xx at end of data to TEMP_PCT% (default 5),
#   - its token endpoint fails (503, then 429) for the first TOKEN_OUTAGE
#     seconds (default 120) while the relay has no token yet, so every
#     delivery in that window must be deferred, not lost,
#   - the relay is killed with SIGKILL KILLS times (default 2) at evenly
#     spread points and restarted (as systemd's Restart= would).
# The run ends as soon as all have arrived (or after DEADLINE seconds).
# At the end every message (numbered in its Subject) must have arrived at
# least once, Postfix's queue must be empty, and the duplicates are counted
# and explained. Prints TAP lines and a figures block; exit 0 when nothing
# was lost.
#
# Why duplicates can happen, and only this way: a message is duplicated when
# the upstream answered 250 and the relay died (SIGKILL) before passing that
# 250 on to Postfix; Postfix then retries a message Exchange already has.
# That window is inherent to SMTP relaying (RFC 1047); a drop inside DATA or
# a 4xx at end of data cannot duplicate, because the upstream did not accept.
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BUILD:=$TOP/build}"
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
export TOP BUILD
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/postfix.sh"

N=${1:-2000}
DROP_PCT=${DROP_PCT:-10}
TEMP_PCT=${TEMP_PCT:-5}
TOKEN_OUTAGE=${TOKEN_OUTAGE:-120}
KILLS=${KILLS:-2}
SENDERS=${SENDERS:-4}
DEADLINE=${DEADLINE:-$((TOKEN_OUTAGE + N / 5 + 600))}

[ "$(id -u)" = 0 ] || skip_all "a private Postfix needs root"
command -v postconf >/dev/null || skip_all "postfix not installed"

echo "# faults: $N messages, drop ${DROP_PCT}% in DATA, 4xx ${TEMP_PCT}% at end of data,"
echo "# token endpoint down ${TOKEN_OUTAGE}s, relay SIGKILLed $KILLS times"

standin_start || exit 1
CONF=$TESTS_TMP/exorelay.conf
RELAY_PORT=$(free_port)
standin_write_conf "$CONF" "127.0.0.1:$RELAY_PORT" --log-level notice
cat >>"$CONF" <<EOF

[milter]
socket = unix:$TESTS_TMP/milter.sock

[class alarm]
match_from = root@*
match_subject = ^\[Alarm\]
send_as = Fault Test <$STANDIN_MAILBOX>
account = main
EOF

# The token endpoint is down from the start: the relay begins with no token.
standin_ctl POST /faults "{\"token_error\": {\"row\": \"transient\"}}" >/dev/null

# The relay under a restart loop; SIGKILL hits the current child.
RELAY_LOG=$TESTS_TMP/relay.log
RELAY_CHILD=$TESTS_TMP/relay.pid
(
    while [ ! -e "$TESTS_TMP/stop-relay" ]; do
        "$BIN/exorelay" -c "$CONF" run -f 2>>"$RELAY_LOG" &
        echo $! >"$RELAY_CHILD"
        wait $!
        sleep 0.2
    done
) 2>/dev/null &
LOOP_PID=$!
cleanup_add "touch '$TESTS_TMP/stop-relay'; kill \$(cat '$RELAY_CHILD') 2>/dev/null; wait $LOOP_PID 2>/dev/null"
relay_up() { "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $RELAY_PORT), 1).close()"; }
relay_restarted() { [ "$(cat "$RELAY_CHILD")" != "$1" ] && relay_up; }
wait_for relay_up || { tail "$RELAY_LOG"; echo "not ok - the relay did not start"; exit 1; }

"$BIN/exorelay-milter" -c "$CONF" -f 2>"$TESTS_TMP/milter.log" &
MILTER_PID=$!
cleanup_add "kill $MILTER_PID 2>/dev/null; wait $MILTER_PID 2>/dev/null"
wait_for test -S "$TESTS_TMP/milter.sock" || { echo "not ok - the milter did not start"; exit 1; }

pf_setup "$TESTS_TMP/pf" "[127.0.0.1]:$RELAY_PORT"
pf_conf "$PF_DIR" "smtpd_milters = unix:$TESTS_TMP/milter.sock" \
    "non_smtpd_milters = unix:$TESTS_TMP/milter.sock" \
    "milter_default_action = tempfail" \
    "smtp_destination_concurrency_limit = 10" \
    "default_process_limit = 50"
pf_start "$PF_DIR" || exit 1

# Faults inside the SMTP sessions, reproducible (fixed seeds).
standin_ctl POST /faults "{\"drop_in_data\": {\"probability\": 0.$(printf %02d "$DROP_PCT"), \"seed\": 7},
  \"smtp_reply\": {\"at\": \"EOD\", \"probability\": 0.$(printf %02d "$TEMP_PCT"), \"seed\": 11,
                   \"reply\": \"451 4.3.0 Temporary server error. Please try again later.\"}}" >/dev/null

start=$(date +%s)
# Submit in the background: SENDERS SMTP clients into Postfix, numbered.
"$PYTHON" - "$PF_PORT" "$N" "$SENDERS" >"$TESTS_TMP/submit.out" 2>&1 <<'EOF' &
import smtplib, sys, threading
port, n, senders = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
failed = []
def worker(k):
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    for i in range(k, n, senders):
        msg = ("From: root@faults.example.net\r\nTo: oncall@example.com\r\n"
               "Subject: [Alarm] fault run message %06d\r\n\r\n"
               "Message number %06d of the fault run.\r\n.leading dot line\r\n" % (i, i))
        try:
            s.sendmail("root@faults.example.net", ["oncall@example.com"], msg)
        except Exception as e:
            failed.append((i, str(e)))
    s.quit()
threads = [threading.Thread(target=worker, args=(k,)) for k in range(senders)]
for t in threads: t.start()
for t in threads: t.join()
print("submitted", n - len(failed), "refused", len(failed))
for i, e in failed[:10]: print("refused", i, e)
EOF
SUBMIT_PID=$!

# uniq_arrived - how many distinct message numbers the stand-in recorded
# (a record is complete once its .json is there: the .eml is written first)
uniq_arrived() {
    "$PYTHON" - "$STANDIN_MSGDIR" <<'EOF'
import json, os, re, sys
d = sys.argv[1]; seen = {}
for f in os.listdir(d):
    if f.endswith(".json"):
        head = open(os.path.join(d, f[:-5] + ".eml"), "rb").read(4096).split(b"\r\n\r\n")[0]
        m = re.search(rb"Subject: \[Alarm\] fault run message (\d{6})", head)
        if m: seen[m.group(1)] = seen.get(m.group(1), 0) + 1
print(len(seen), sum(seen.values()) - len(seen))
EOF
}

# The token endpoint recovers after TOKEN_OUTAGE seconds (throttled at the
# end of the outage, to see Retry-After honoured); the relay is killed KILLS
# times while messages flow.
kills_done=0
outage_over=0
while :; do
    now=$(($(date +%s) - start))
    set -- $(uniq_arrived)
    arrived=$1
    if [ $outage_over = 0 ] && [ $now -ge "$TOKEN_OUTAGE" ]; then
        standin_ctl POST /faults '{"token_error": {"row": "throttled", "retry_after": 2, "count": 1}}' >/dev/null
        outage_over=1
        echo "# ${now}s: token endpoint back (one 429 first); $arrived arrived so far"
    fi
    if [ $outage_over = 1 ] && [ $kills_done -lt "$KILLS" ] &&
        [ "$arrived" -ge $(( (kills_done + 1) * N / (KILLS + 2) )) ]; then
        killed=$(cat "$RELAY_CHILD")
        kill -KILL "$killed" 2>/dev/null
        kills_done=$((kills_done + 1))
        echo "# ${now}s: relay killed with SIGKILL ($kills_done/$KILLS) at $arrived arrived"
        # the next kill hits the restarted relay, never the dead one
        wait_for relay_restarted "$killed"
    fi
    # (on a fast machine the last messages may arrive before the last kill
    # point is seen: the kills still happen, the run ends after them)
    if [ "$arrived" -ge "$N" ] && [ "$(pf_queue_count "$PF_DIR")" -eq 0 ] &&
        [ $kills_done -ge "$KILLS" ]; then
        break
    fi
    [ $now -ge "$DEADLINE" ] && break
    sleep 0.5
done
wait $SUBMIT_PID
elapsed=$(($(date +%s) - start))
set -- $(uniq_arrived)
arrived=$1; dups=$2

sed 's/^/# /' "$TESTS_TMP/submit.out"
if [ "$arrived" -lt "$N" ] || [ "$(pf_queue_count "$PF_DIR")" -ne 0 ]; then
    echo "# after ${elapsed}s, still in Postfix's queue:"
    pf_mailq "$PF_DIR" | tail -n 20 | sed 's/^/#   /'
    echo "# the relay's last log lines:"
    tail -n 20 "$RELAY_LOG" | sed 's/^/#   /'
fi
ok "Postfix accepted all $N submissions" grep -q "^submitted $N refused 0$" "$TESTS_TMP/submit.out"
ok "every message arrived at least once ($arrived of $N)" [ "$arrived" -eq "$N" ]
ok "Postfix's queue is empty (nothing stuck)" [ "$(pf_queue_count "$PF_DIR")" -eq 0 ]
ok "the relay was SIGKILLed $kills_done times" [ "$kills_done" -eq "$KILLS" ]
dropped=$(standin_stat dropped_in_data)
fired=$(standin_stat faults_fired)
ok "connections were dropped inside DATA ($dropped)" [ "$dropped" -gt 0 ]
ok "other faults fired too ($fired in all)" [ "$fired" -gt "$dropped" ]
deferred=$(grep -c 'status=deferred' "$PF_LOG")
ok "Postfix deferred and retried ($deferred deferrals)" [ "$deferred" -gt 0 ]
ok "no message bounced" sh -c "! grep -q 'status=bounced' '$PF_LOG'"
ok "no sanitizer report in the relay or milter logs" \
    sh -c "! grep -Eq 'ERROR: AddressSanitizer|runtime error:' '$RELAY_LOG' '$TESTS_TMP/milter.log'"
echo "# figures: messages=$N arrived=$arrived duplicates=$dups elapsed=${elapsed}s"
echo "#   deferrals=$deferred dropped_in_data=$dropped faults_fired=$fired kills=$kills_done"
echo "#   token_requests=$(standin_stat token_requests) smtp_connections=$(standin_stat smtp_connections)"
echo "# duplicates ($dups) can come only from a SIGKILL between the upstream's 250"
echo "# and the relay's own 250 to Postfix: at most one message in flight per"
echo "# upstream connection (3 per mailbox) at each of the $kills_done kills."
ok "duplicates ($dups) within what $kills_done kills can explain (<= $((kills_done * 3)))" \
    [ "$dups" -le $((kills_done * 3)) ]
