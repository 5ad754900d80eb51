#!/bin/sh
# t_status.sh - "exorelay status" and the metrics file with a running relay
# (control socket: pools, counters, last error) and without one (what is on
# disk), "status --json" (the same report as JSON), "status --check" for
# Nagios (0 OK, 1 WARNING, 2 CRITICAL), and a certificate credential's
# expiry read from its notAfter.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
. "$TOP/tests/lib/relay.sh"

standin_start || exit 1
PORT=$(free_port)
C=$TESTS_TMP/exorelay.conf
M=$TESTS_TMP/metrics/exorelay.prom
mkdir -p "$TESTS_TMP/metrics"
standin_write_conf "$C" "127.0.0.1:$PORT"
sed -i "/^\[relay\]/a metrics_file = $M\nmetrics_interval = 1" "$C"
SECRET_FILE=$TESTS_TMP/main.secret

# send FROM - one message through the relay with curl; curl's status
send() {
    printf 'From: %s\r\nTo: rcpt@example.com\r\nSubject: status test\r\n\r\nhello\r\n' "$1" |
        curl -sS --max-time 30 --url "smtp://127.0.0.1:$PORT" --mail-from "$1" \
            --mail-rcpt rcpt@example.com --upload-file - >/dev/null 2>&1
}

# status [ARGS] - exorelay status; output in $TESTS_TMP/status.out, RC
status() {
    "$BIN/exorelay" -c "$C" status "$@" >"$TESTS_TMP/status.out" 2>&1
    RC=$?
    cat "$TESTS_TMP/status.out" >>"$TESTS_TMP/all.out"
}
has() {
    grep -Eq -- "$1" "$TESTS_TMP/status.out"
}

# systemd's notification socket (Type=notify), as a datagram listener.
NS=$TESTS_TMP/notify.sock
"$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    with open(sys.argv[2], "a") as out:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
' "$NS" "$TESTS_TMP/notify.log" &
cleanup_add "kill $! 2>/dev/null"
wait_for test -S "$NS"
NOTIFY_SOCKET=$NS relay_start "$C" || exit 1
wait_for grep -q '^READY=1' "$TESTS_TMP/notify.log"
tap_ok $? "the relay tells systemd READY=1 once it serves (Type=notify)"
wait_for test -S "$TESTS_TMP/state/control.sock"
[ "$(stat -c %a "$TESTS_TMP/state/control.sock")" = 600 ]
tap_ok $? "the control socket is mode 0600"

send "$STANDIN_MAILBOX"
tap_ok $? "a message is relayed"
standin_ctl POST /faults '{"eod_4xx": {"count": 1}}' >/dev/null
send "$STANDIN_MAILBOX"
[ $? != 0 ]
tap_ok $? "a message is deferred (upstream 451 after the data)"
standin_ctl POST /faults '{"eod_4xx": {"count": 1, "reply": "554 5.6.0 Corrupt message content"}}' >/dev/null
send "$STANDIN_MAILBOX"
[ $? != 0 ]
tap_ok $? "a message is refused (upstream 554 after the data)"

# The relay counts a message (and logs it) after its client has the reply:
# ask until the third one is counted.
counted() { status; has "^  messages    3 accepted"; }
wait_for counted
[ $RC = 0 ] && has "^exorelay [0-9.]+ running, pid $RELAY_PID, up " &&
    has "^account main \(no-reply@contoso\.onmicrosoft\.com\)$" &&
    has "^  credential  client secret expires in [0-9]+ days \(2030-06-30\)$" &&
    has "^  token       valid until [0-9-]+ [0-9:]+ UTC \(5[0-9]m left\)$" &&
    has "^  pool        [1-3] open, 0 busy$" &&
    has "^  messages    3 accepted, 1 relayed, 1 deferred, 1 refused$" &&
    has "^  last error  [0-9-]+ [0-9:]+ UTC: 554 5\.6\.0 Corrupt message content"
tap_ok $? "status from the relay: pid, credential, token, pool, counters, last error"
[ $? = 0 ] || sed 's/^/#   /' "$TESTS_TMP/status.out"

# jsonq EXPR - evaluate a Python expression on the JSON in status.out (d)
jsonq() {
    "$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
        "$TESTS_TMP/status.out" "$1"
}

status --json
[ $RC = 0 ] && jsonq "d['daemon']['pid'] == $RELAY_PID" &&
    jsonq "[a['name'] for a in d['accounts']][0] == 'main'" &&
    jsonq "d['accounts'][0]['counters']['relayed'] == 1 and d['accounts'][0]['counters']['deferred'] == 1" &&
    jsonq "d['accounts'][0]['credential']['days_left'] > 0"
tap_ok $? "status --json from the relay: the daemon's pid, the accounts, their counters and credential"
[ $? = 0 ] || sed 's/^/#   /' "$TESTS_TMP/status.out"

status --check --json
[ $RC = 2 ]
tap_ok $? "status --check --json is a usage error, CRITICAL for a monitor (exit $RC)"

status --check
[ $RC = 0 ] && has "^EXORELAY OK - 1 account, credentials and tokens fine \| 'main_credential_days'=[0-9]+;30;7 'main_relayed'=1c 'main_deferred'=1c 'main_refused'=1c$"
tap_ok $? "status --check: OK, exit 0, with perfdata ($(cat "$TESTS_TMP/status.out"))"

# The metrics file: rewritten every second, Prometheus text format.
wait_for grep -q 'outcome="refused"} 1' "$M"
tap_ok $? "metrics_file is written with the counters"
cp "$M" "$TESTS_TMP/metrics.copy"
bad=$(grep -v '^#' "$TESTS_TMP/metrics.copy" | grep -Evc '^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9]+$')
[ "$bad" = 0 ] && [ "$(stat -c %a "$M")" = 644 ]
tap_ok $? "metrics_file: every sample line is well-formed ($bad bad), mode 0644"
good=0
for line in 'exorelay_up 1' \
    'exorelay_messages_total{account="main",outcome="accepted"} 3' \
    'exorelay_messages_total{account="main",outcome="relayed"} 1' \
    'exorelay_messages_total{account="main",outcome="deferred"} 1' \
    'exorelay_messages_total{account="main",outcome="refused"} 1' \
    'exorelay_credential_expiry_timestamp_seconds{account="main"} 1909094399' \
    'exorelay_token_failing{account="main"} 0' \
    '# TYPE exorelay_messages_total counter' \
    '# TYPE exorelay_credential_days_left gauge' \
    'exorelay_client_sessions 0'; do
    grep -qxF "$line" "$TESTS_TMP/metrics.copy" || { echo "# missing: $line"; good=1; }
done
grep -Eq '^exorelay_pool_connections\{account="main",state="open"\} [1-3]$' "$TESTS_TMP/metrics.copy" &&
    grep -Eq '^exorelay_token_expiry_timestamp_seconds\{account="main"\} [0-9]{10}$' "$TESTS_TMP/metrics.copy" ||
    good=1
tap_ok $good "metrics_file: messages, credential expiry, token, pool"

# "credential new" makes a certificate credential; then a certificate
# account and an account whose secret is wrong are added by a reload.
"$BIN/exorelay" -c "$C" credential new --account main --days 20 --bits 2048 \
    --dir "$TESTS_TMP" >"$TESTS_TMP/credential.out" 2>&1
tap_ok $? "credential new: exit 0"
CERT=$(ls "$TESTS_TMP"/main-*.pem | head -n 1)
[ "$(stat -c %a "${CERT%.pem}.key")" = 600 ] && [ "$(stat -c %a "$CERT")" = 644 ]
tap_ok $? "credential new: the key is 0600, the certificate 0644"
sha1=$(openssl x509 -in "$CERT" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
sha256=$(openssl x509 -in "$CERT" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
grep -q "SHA-1   $sha1 " "$TESTS_TMP/credential.out" &&
    grep -q "SHA-256 $sha256\$" "$TESTS_TMP/credential.out" &&
    grep -q -- '-----BEGIN CERTIFICATE-----' "$TESTS_TMP/credential.out" &&
    grep -q "certificate_file = $CERT" "$TESTS_TMP/credential.out"
tap_ok $? "credential new: prints both thumbprints (as openssl computes them), the PEM and the config lines"
openssl x509 -in "$CERT" -noout -checkend $((19 * 86400)) >/dev/null &&
    ! openssl x509 -in "$CERT" -noout -checkend $((21 * 86400)) >/dev/null &&
    openssl x509 -in "$CERT" -noout -subject | grep -q 'CN *= *exorelay main '
tap_ok $? "credential new: self-signed, CN names the account, valid 20 days"
"$BIN/exorelay" -c "$C" credential new --account main --days 20 --bits 2048 \
    --dir "$TESTS_TMP" >/dev/null 2>&1 && [ "$(ls "$TESTS_TMP"/main-*.pem | wc -l)" = 2 ]
tap_ok $? "credential new: a second run the same day gets new file names, never overwrites"

# The certificate account's expiry: one valid 19.5 days, so that "19 days"
# holds for 12 hours whatever second the status is asked in (one made with
# --days 20 has 20 days left within its first second, 19 after).
CERT=$("$PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); import pki
print(pki.make_client_cert(sys.argv[2], "status-cert", days=19.5)[0])' \
    "$TOP/tests/standin" "$TESTS_TMP")
standin_ctl POST /scenario "{\"apps\": [{\"client_id\": \"$STANDIN_CLIENT_ID\",
    \"certificates\": [{\"generate\": \"main\"}, {\"file\": \"$CERT\"}]}]}" >/dev/null
(umask 077; printf '%s' 1706d074-8131-4313-82d7-f7b648124265 >"$TESTS_TMP/bad.secret")
cat >>"$C" <<CONF

[account cert]
tenant = $STANDIN_TENANT
client_id = $STANDIN_CLIENT_ID
certificate_file = $CERT
private_key_file = ${CERT%.pem}.key
mailbox = $STANDIN_MAILBOX
authority = $STANDIN_AUTHORITY

[account bad]
tenant = $STANDIN_TENANT
client_id = $STANDIN_CLIENT_ID
client_secret_file = $TESTS_TMP/bad.secret
mailbox = $STANDIN_MAILBOX
authority = $STANDIN_AUTHORITY
CONF
relay_reload
"$BIN/exorelay" -c "$C" token --account bad >"$TESTS_TMP/token.out" 2>&1
[ $? = 77 ]
tap_ok $? "a token request of the bad account fails (exit 77)"

status
has "^account cert " && has "^  credential  certificate expires in 19 days \([0-9-]+\)$" &&
    has "^  token error Entra ID \(127\.0\.0\.1:[0-9]+\): the client secret is wrong \(AADSTS7000215\)$" &&
    has "^              fix: put the secret's Value"
tap_ok $? "status after a reload: the certificate's days from its notAfter, the bad account's token error (naming Entra ID) and fix"
status --check
[ $RC = 2 ] && has "^EXORELAY CRITICAL - cert: certificate expires in 19 days \([0-9-]+\); bad: token request fails: Entra ID \(127\.0\.0\.1:[0-9]+\): the client secret is wrong \(AADSTS7000215\) \|" &&
    has "'cert_credential_days'=19;30;7"
tap_ok $? "status --check: CRITICAL for the failing credential, WARNING text for the certificate (exit $RC)"
sed -i '/^\[account bad\]/,$d' "$C"
relay_reload
status --check
[ $RC = 1 ] && has "^EXORELAY WARNING - cert: certificate expires in 19 days"
tap_ok $? "status --check: WARNING, exit 1, for a certificate past 30 days left ($(cat "$TESTS_TMP/status.out"))"

# The relay stopped: what the disk says.
relay_stop
[ $? = 0 ] && [ ! -e "$TESTS_TMP/state/control.sock" ]
tap_ok $? "the relay exits 0 on SIGTERM and removes its control socket"
wait_for grep -q '^STOPPING=1' "$TESTS_TMP/notify.log"
tap_ok $? "the relay tells systemd STOPPING=1 on SIGTERM"
grep -qx 'exorelay_up 0' "$M" && ! grep -qx 'exorelay_up 1' "$M"
tap_ok $? "a clean stop leaves exorelay_up 0 in metrics_file"
status
[ $RC = 0 ] && has "^exorelay is not running \(.*control\.sock: No such file or directory\); what is on disk:$" &&
    has "^  token       valid until [0-9-]+ [0-9:]+ UTC" && ! has "^  pool " && ! has "^  messages "
tap_ok $? "status without the relay: says so; the token from the state file; no pool or counters"
status --json
[ $RC = 0 ] && jsonq "d['daemon'] is None and d['unanswered'] is False" &&
    jsonq "'control.sock' in d['why']" && jsonq "d['accounts'][0]['token']['cached']"
tap_ok $? "status --json without the relay: JSON of the disk (no daemon, why, the cached token)"
[ $? = 0 ] || sed 's/^/#   /' "$TESTS_TMP/status.out"
status --check
[ $RC = 2 ] && has "^EXORELAY CRITICAL - relay not running; cert: certificate expires in 19 days"
tap_ok $? "status --check without the relay: CRITICAL, exit 2"

grep -qF -f "$SECRET_FILE" "$TESTS_TMP/all.out" "$M" "$TESTS_TMP/credential.out"
tap_ok $((! $?)) "no output shows the secret"
