#!/bin/sh
# pool.sh - account pools, one round trip per message, and memory, each
# against its baseline measured in the same run (Exchange stand-in,
# Postfix, smtp-source):
#
#   (a) pool     Postfix -> exorelay -> stand-in whose mailboxes take 10
#                messages per 5 s and 40 recipients a day each (scaled-down
#                Exchange limits): POOL_MSGS (default 120) messages over a
#                pool of 3 mailboxes against 40 over one mailbox: msg/s of
#                each, quota refusals Exchange answered, and deferrals that
#                reached Postfix (both must be 0)
#   (b) RTT      20 ms (DELAY_MS) emulated upstream round trip, one mailbox
#                and its 3 sessions, 3 clients sending RTT_MSGS (default 60)
#                messages each: LMTP (1 round trip a message) against SMTP
#                (2); the ceilings are 150 and 75 msg/s
#   (c) memory   relay RSS idle after start and after a 3,000-message burst
#                (each once the relay has been idle 12 s), and the peak
#                (VmHWM) with 50 concurrent 10 MB messages over SMTP and
#                over LMTP (targets: idle < 8 MB, peak < 32 MB)
#
# usage: sh bench/pool.sh     Needs root (a private Postfix), a build.
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BUILD:=$TOP/build}"
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
BIN=$BUILD/bin
export TOP BUILD BIN
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"
. "$TOP/tests/lib/postfix.sh"
POOL_MSGS=${POOL_MSGS:-120}
RTT_MSGS=${RTT_MSGS:-60}
DELAY=${DELAY_MS:-20}
BURST=${BURST_MSGS:-3000}
[ -x "$BIN/exorelay" ] || { echo "build first: make all" >&2; exit 1; }
now() { date +%s.%N; }
rate() { awk "BEGIN { printf \"%.1f\", $1 / ($3 - $2) }"; }

standin_start --record none >/dev/null || exit 1
D=contoso.onmicrosoft.com
RPORT=$(free_port)
SOCK=$TESTS_TMP/relay.sock
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF" "127.0.0.1:$RPORT, unix:$SOCK" --log-level warning
standin_ctl POST /scenario "{\"apps\": [{\"client_id\": \"$STANDIN_CLIENT_ID\", \"mailbox_access\": [\"*\"]}],
  \"mailboxes\": [{\"address\": \"b0@$D\", \"send_as\": [\"bench-one@example.org\"]},
    $(for i in 1 2 3; do printf '{"address": "b%s@%s", "send_as": ["bench-pool@example.org"]},' $i $D; done)
    {\"address\": \"b4@$D\"}]}" >/dev/null
# account A MAILBOX SENDERS - an account paced and budgeted like the stand-in
account() {
    relay_add_account "$CONF" "$1" main "$2"
    printf 'senders = %s\nmessages_per_minute = 120\ndaily_recipients = 40\n' "$3" >>"$CONF"
}
account one "b0@$D" bench-one@example.org
for i in 1 2 3; do account p$i "b$i@$D" bench-pool@example.org; done
relay_start "$CONF" || exit 1

# --- (a) a pool of 3 mailboxes against one, through Postfix
standin_ctl POST /scenario '{"smtp": {"messages_per_minute": 10, "rate_window": 5, "recipients_per_day": 40}}' >/dev/null
pf_setup "$TESTS_TMP/pf" "[127.0.0.1]:$RPORT"
pf_conf "$TESTS_TMP/pf" "defer_transports = smtp"
pf_start "$TESTS_TMP/pf" || exit 1
# drain N SENDER - queue N held messages, release them; prints msg/s
drain() {
    smtp-source -s 10 -m "$1" -l 1000 -f "$2" -t bench@example.net 127.0.0.1:$PF_PORT
    pf_wait_queue "$TESTS_TMP/pf" "$1" 120 || { echo "queueing failed" >&2; exit 1; }
    pf_conf "$TESTS_TMP/pf" "defer_transports ="
    postfix -c "$TESTS_TMP/pf/etc" reload >/dev/null 2>&1
    sleep 1
    _t0=$(now)
    pf_flush "$TESTS_TMP/pf"
    pf_wait_queue "$TESTS_TMP/pf" 0 600 || { echo "drain failed:" >&2; pf_mailq "$TESTS_TMP/pf" | tail -5 >&2; exit 1; }
    rate "$1" "$_t0" "$(now)"
    pf_conf "$TESTS_TMP/pf" "defer_transports = smtp"
    postfix -c "$TESTS_TMP/pf/etc" reload >/dev/null 2>&1
}
deferred() { grep -c 'status=deferred (host' "$TESTS_TMP/pf/postfix.log"; }
one=$(drain 40 bench-one@example.org)
pool=$(drain "$POOL_MSGS" bench-pool@example.org)
echo "(a) pool: Exchange stand-in limits per mailbox 10 messages / 5 s, 40 recipients a day;"
echo "    Postfix -> exorelay, 1 recipient a message (msg/s):"
printf '  %-52s %6s\n' "one mailbox, 40 messages (baseline)" "$one" \
    "pool of 3 mailboxes, $POOL_MSGS messages" "$pool"
echo "  pool / one mailbox: $(awk "BEGIN { printf \"%.2f\", $pool / $one }")x;" \
     "quota refusals from Exchange: $(standin_stat quota_refused);" \
     "deferrals reaching Postfix: $(deferred);" \
     "messages accepted upstream: $(standin_stat messages)"
pf_stop "$TESTS_TMP/pf"
standin_ctl POST /scenario '{"smtp": {"messages_per_minute": 0, "recipients_per_day": 0}}' >/dev/null

# --- (b) 1 round trip (LMTP) against 2 (SMTP), 20 ms each, one mailbox
relay_stop
sed -i '/^\[account one\]/,$d' "$CONF"
relay_add_account "$CONF" rtt main "b4@$D"
relay_start "$CONF" || exit 1
# client PROTO K - one session sending K messages, MAIL/RCPT/DATA pipelined
client() {
    printf '<\n> %s bench\\r\\n\n<\n' "$1"
    _k=0
    while [ $_k -lt "$2" ]; do
        printf '> MAIL FROM:<%s>\\r\\nRCPT TO:<bench@example.net>\\r\\nDATA\\r\\n\n<\n<\n<\n' "$STANDIN_MAILBOX"
        printf '> From: %s\\r\\nSubject: bench\\r\\n\\r\\nbody\\r\\n.\\r\\n\n<\n' "$STANDIN_MAILBOX"
        _k=$((_k + 1))
    done
    printf '> QUIT\\r\\n\n<\n'
}
# three PROTO TARGET - 3 sessions at once, RTT_MSGS messages each; msg/s
three() {
    client "$1" 1 | smtp_session "$2" >/dev/null        # token, connections
    standin_ctl POST /reset >/dev/null
    _t0=$(now)
    for s in 1 2 3; do
        client "$1" "$RTT_MSGS" | smtp_session "$2" >"$TESTS_TMP/three.$s" &
    done
    wait
    _t1=$(now)
    _ok=$(cat "$TESTS_TMP"/three.? | grep -c '^250 2.0.0 OK')
    [ "$_ok" -eq $((3 * RTT_MSGS)) ] || echo "(only $_ok accepted) "
    rate $((3 * RTT_MSGS)) "$_t0" "$_t1"
}
standin_ctl POST /faults "{\"clear\": true, \"smtp_delay_ms\": $DELAY}" >/dev/null
smtp=$(three EHLO "$RPORT")
smtp_rt=$(standin_stat round_trips_avg)
lmtp=$(three LHLO "unix:$SOCK")
lmtp_rt=$(standin_stat round_trips_avg)
standin_ctl DELETE /faults >/dev/null
echo "(b) one mailbox, its 3 sessions, ${DELAY} ms emulated round trip, 3 clients x $RTT_MSGS messages:"
printf '  %-52s %6s msg/s  (%s round trips a message; ceiling 75)\n' \
    "SMTP client, MAIL/RCPT/DATA pipelined (baseline)" "$smtp" "$smtp_rt"
printf '  %-52s %6s msg/s  (%s round trips a message; ceiling 150)\n' \
    "LMTP client, one flight" "$lmtp" "$lmtp_rt"

# --- (c) memory
rss() { awk -v k="$1" '$1 == k":" { print $2 }' /proc/$RELAY_PID/status; }
idle_rss() {
    sleep 12                                # the relay trims after 10 s idle
    echo "$(rss VmRSS) KB (anonymous $(rss RssAnon) KB, file $(rss RssFile) KB)"
}
# fresh_relay - a new process on a new port (the old one's may linger)
fresh_relay() {
    relay_stop
    _p=$(free_port)
    sed -i "s/127.0.0.1:$RPORT/127.0.0.1:$_p/" "$CONF"
    RPORT=$_p
    relay_start "$CONF" || exit 1
}
fresh_relay
smtp-source -s 1 -m 1 -l 1000 -f "$STANDIN_MAILBOX" -t bench@example.net 127.0.0.1:$RPORT
start_idle=$(idle_rss)
smtp-source -s 10 -m "$BURST" -l 1000 -f "$STANDIN_MAILBOX" -t bench@example.net 127.0.0.1:$RPORT
burst_hwm=$(rss VmHWM)
burst_idle=$(idle_rss)
peak() {
    smtp-source $1 -s 50 -m 50 -l 10485760 -f "$STANDIN_MAILBOX" -t bench@example.net "$2"
    echo "$(rss VmHWM) KB"
}
fresh_relay
peak_smtp=$(peak "" 127.0.0.1:$RPORT)
fresh_relay
peak_lmtp=$(peak -L "unix:$SOCK")
echo "(c) relay memory (targets: idle < 8 MB = 8192 KB, peak < 32 MB = 32768 KB):"
printf '  %-52s %s\n' "idle after start (one message sent)" "$start_idle" \
    "peak during a $BURST-message burst (VmHWM)" "$burst_hwm KB" \
    "idle after that burst" "$burst_idle" \
    "peak, 50 concurrent 10 MB messages over SMTP" "$peak_smtp" \
    "peak, 50 concurrent 10 MB messages over LMTP" "$peak_lmtp"
relay_stop
