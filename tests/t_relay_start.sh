#!/bin/sh
# t_relay_start.sh - "exorelay run" start-up: dropping root to user after
# binding (unix socket owner/group/mode applied), detaching without -f,
# a listen address in use, and a wrong upstream certificate (the client
# gets a 4xx naming the cause; the stand-in never sees AUTH).
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"
[ "$(id -u)" = 0 ] || skip_all "dropping privileges needs root"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"

standin_start || exit 1
MB=$STANDIN_MAILBOX
PORT=$(free_port)
SOCK=$TESTS_TMP/sock/relay.sock
mkdir -p "$TESTS_TMP/sock"
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF" "127.0.0.1:$PORT, unix:$SOCK"
sed -i "s/^user =.*/user = nobody/" "$CONF"
sed -i "/^\[relay\]/a socket_owner = nobody\nsocket_group = nogroup\nsocket_mode = 0600" "$CONF"
chown nobody "$TESTS_TMP/state" "$TESTS_TMP/spool" "$TESTS_TMP/main.secret" "$TESTS_TMP/sock"
chmod 0755 "$TESTS_TMP"
relay_start "$CONF" || exit 1
uid=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' /proc/$RELAY_PID/status)
n=$(id -u nobody)
tap_ok $([ "$uid" = "$n$n$n$n" ]; echo $?) "started as root, runs as user nobody (uid $uid)"
# No core dumps (memory holds the secret and the token): the core limit is
# 0 (soft and hard; the hard limit here is unlimited).
grep -q '^Max core file size  *0  *0 ' /proc/$RELAY_PID/limits
tap_ok $? "core file size limit 0 (soft and hard) in /proc/PID/limits"
for unit in exorelay.service exorelay-milter.service; do
    grep -qx 'LimitCORE=0' "$TOP/conf/$unit"
    tap_ok $? "conf/$unit sets LimitCORE=0"
done
ls -l "$SOCK" | grep -q '^srw------- .* nobody nogroup'
tap_ok $? "unix socket: socket_owner, socket_group, socket_mode applied"
msg="<
> EHLO c\\r\\n
<
> MAIL FROM:<$MB>\\r\\nRCPT TO:<a@example.net>\\r\\nDATA\\r\\n
<
<
<
> Subject: start\\r\\n\\r\\nx\\r\\n.\\r\\n
<"
printf "%s\n" "$msg" | smtp_session "unix:$SOCK" | tail -1 | grep -q '^250 2.0.0 OK'
tap_ok $? "as nobody: token fetched and message submitted"

# a second relay on the same addresses cannot bind: says why, exit 71
"$BIN/exorelay" -c "$CONF" run -f 2>"$TESTS_TMP/second.err"
rc=$?
tap_ok $([ $rc -eq 71 ]; echo $?) "listen address in use: exit 71 (got $rc)"
grep -q "listen" "$TESTS_TMP/second.err"; tap_ok $? "... with the address in the message"
relay_stop; tap_ok $? "SIGTERM: exit 0"

# without -f: detaches, the parent exits 0, the daemon serves
sed -i "s/^user =.*/user =/" "$CONF"
"$BIN/exorelay" -c "$CONF" run
tap_ok $? "run without -f: the parent exits 0"
wait_for _relay_ready "$CONF"; tap_ok $? "the detached daemon listens"
dpid=$(fuser -n tcp "$PORT" 2>/dev/null | tr -d ' ')
cleanup_add "kill $dpid 2>/dev/null"
printf "%s\n" "$msg" | smtp_session $PORT | tail -1 | grep -q '^250 2.0.0 OK'
tap_ok $? "the detached daemon relays"
kill -TERM "$dpid"
wait_for sh -c "! kill -0 $dpid"; tap_ok $? "the daemon stops on SIGTERM"

# Started directly as an unprivileged user, as the systemd unit does
# (User=exorelay, no setuid that would clear the dumpable flag): the relay
# makes itself non-dumpable, which shows as /proc/PID owned by root
# although the process runs as nobody (proc(5)).
RELAY_AS="setpriv --reuid=nobody --regid=nogroup --clear-groups" relay_start "$CONF" || exit 1
awk '/^Uid:/ { exit !($2 == '"$(id -u nobody)"') }' /proc/$RELAY_PID/status
tap_ok $? "started as nobody (setpriv)"
tap_ok $([ "$(stat -c %u /proc/$RELAY_PID/status)" = 0 ]; echo $?) \
    "not dumpable: /proc/PID/status owned by root, not by nobody"
grep -q '^Max core file size  *0  *0 ' /proc/$RELAY_PID/limits
tap_ok $? "core file size limit 0 there too"
relay_stop

# wrong upstream certificate (valid chain, wrong name)
sed -i "s/^port = .*/port = $STANDIN_SMTP_WRONGNAME_PORT/" "$CONF"
standin_ctl POST /reset >/dev/null
relay_start "$CONF" || exit 1
out=$(printf "%s\n" "$msg" | smtp_session $PORT)
echo "$out" | sed -n 3p | grep -Eq '^4[0-9][0-9] 4\.[0-9.]+ .*(certificate|name)'
tap_ok $? "wrong certificate: MAIL gets a 4xx naming the certificate problem"
echo "# $(echo "$out" | sed -n 3p)"
tap_ok $([ "$(standin_stat auth_attempts)" -eq 0 ]; echo $?) "wrong certificate: the stand-in never sees AUTH"
relay_stop

# limits of the listener: max_clients, idle_timeout, data_timeout
sed -i "s/^port = .*/port = $STANDIN_SMTP_PORT/" "$CONF"
sed -i "/^\[relay\]/a max_clients = 2\nidle_timeout = 3\ndata_timeout = 1" "$CONF"
relay_start "$CONF" || exit 1
"$PYTHON" - "$PORT" >"$TESTS_TMP/limits.out" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return s, s.makefile("rb")
t0 = time.time()
a, fa = conn(); b, fb = conn()
print("a", fa.readline().decode().strip()); print("b", fb.readline().decode().strip())
c, fc = conn()
print("third", fc.readline().decode().strip())
# b: a message whose data stops half-way
b.sendall(b"EHLO x\r\nMAIL FROM:<no-reply@contoso.onmicrosoft.com>\r\n"
          b"RCPT TO:<a@example.net>\r\nDATA\r\n")
line = fb.readline()
while not line.startswith(b"354"):
    line = fb.readline()
b.sendall(b"Subject: slow\r\n\r\nhalf")
t = time.time()
print("data", fb.readline().decode().strip(), round(time.time() - t))
# a: silent since its greeting
print("idle", fa.readline().decode().strip(), round(time.time() - t0))
PY
grep -q '^third 421 4.3.2' "$TESTS_TMP/limits.out"; tap_ok $? "beyond max_clients: 421 4.3.2"
# The seconds are only bounded below: a loaded machine answers late, and
# the client's own timeout (20 s) catches a relay that never answers.
grep -Eq '^idle 421 4.4.2 .* ([3-9]|1[0-9])$' "$TESTS_TMP/limits.out"; tap_ok $? "idle_timeout: 421 4.4.2, not before it"
grep -Eq '^data 421 4.4.2 .* ([1-9]|1[0-9])$' "$TESTS_TMP/limits.out"; tap_ok $? "data_timeout inside a message: 421 4.4.2"
wait_for relay_log_has 'too many clients'; tap_ok $? "the max_clients refusal is logged"
wait_for relay_log_has 'status=deferred \(421 4.4.2 timeout while reading the message\)'
tap_ok $? "the message cut by the timeout is logged as deferred, not submitted"
sed 's/^/# /' "$TESTS_TMP/limits.out"
relay_stop
