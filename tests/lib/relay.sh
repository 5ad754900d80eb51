# relay.sh - run "exorelay run" in a test (source after common.sh and
# standin.sh).
#
#   relay_start CONF     start "exorelay -c CONF run -f" (log: $RELAY_LOG,
#                        default $TESTS_TMP/relay.log, appended), wait until
#                        it serves; killed at exit. Sets RELAY_PID.
#                        RELAY_AS="setpriv ..." starts it through that
#                        command (as systemd's User= does: no root at all)
#   relay_stop           SIGTERM and wait; returns its exit status
#   relay_reload         SIGHUP, wait for the "reloaded" log line
#   relay_add_account CONF NAME APP MAILBOX
#                        append [account NAME] for stand-in app APP (its
#                        first secret, written 0600) sending as MAILBOX
#   relay_log_has REGEX  grep -E the relay's log quietly
#   smtp_session PORT|unix:PATH <script   run a scripted SMTP dialogue
#                        (tests/lib/smtp_script.py): lines "> text" are sent
#                        (\r, \n, \xNN escapes; no CRLF added), "<" reads one
#                        whole reply and prints it, "sleep S" pauses,
#                        "until FILE" waits for FILE; prints replies only
: "${RELAY_LOG:=$TESTS_TMP/relay.log}"

# _count_lines REGEX FILE - matching lines, 0 when none or no file
_count_lines() {
    _c=$(grep -c "$1" "$2" 2>/dev/null)
    echo "${_c:-0}"
}

# _relay_ready CONF - does the first listen address of CONF answer?
_relay_ready() {
    _l=$(sed -n 's/^listen *= *//p' "$1" | head -1 | cut -d, -f1 | tr -d ' ')
    case "$_l" in
    unix:*) "$PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(1); s.connect(sys.argv[1])' "${_l#unix:}" 2>/dev/null ;;
    *) "$PYTHON" -c 'import socket, sys
h, _, p = sys.argv[1].rpartition(":")
socket.create_connection((h.strip("[]"), int(p)), timeout=1).close()' "$_l" 2>/dev/null ;;
    esac
}

relay_start() {
    ${RELAY_AS:-} "$BIN/exorelay" -c "$1" run -f 2>>"$RELAY_LOG" &
    RELAY_PID=$!
    cleanup_add "kill $RELAY_PID 2>/dev/null"
    _i=0
    until _relay_ready "$1"; do
        if ! kill -0 "$RELAY_PID" 2>/dev/null || [ $_i -ge $((WAIT_SECONDS * 10)) ]; then
            echo "# relay_start: exorelay did not start:" >&2
            tail -n 20 "$RELAY_LOG" | sed 's/^/#   /' >&2
            return 1
        fi
        sleep 0.1
        _i=$((_i + 1))
    done
}

relay_stop() {
    kill -TERM "$RELAY_PID" 2>/dev/null
    wait "$RELAY_PID"
}

relay_reload() {
    _n0=$(_count_lines reloaded "$RELAY_LOG")
    kill -HUP "$RELAY_PID"
    _i=0
    while [ "$(_count_lines reloaded "$RELAY_LOG")" -le "$_n0" ]; do
        [ $_i -ge $((WAIT_SECONDS * 10)) ] && return 1
        sleep 0.1
        _i=$((_i + 1))
    done
}

relay_add_account() {
    (umask 077; standin_secret "$3" >"$TESTS_TMP/$2.secret")
    _cid=$("$PYTHON" -c '
import json, sys
sc = json.load(open(sys.argv[1]))
print([a for a in sc["apps"] if a.get("name") == sys.argv[2]][0]["client_id"])
' "${STANDIN_SCENARIO:-$TOP/tests/standin/scenario-default.json}" "$3")
    cat >>"$1" <<EOF2

[account $2]
tenant = $STANDIN_TENANT
client_id = $_cid
client_secret_file = $TESTS_TMP/$2.secret
mailbox = $4
authority = $STANDIN_AUTHORITY
EOF2
}

relay_log_has() {
    grep -Eq "$1" "$RELAY_LOG" 2>/dev/null
}

smtp_session() {
    "$PYTHON" "$TOP/tests/lib/smtp_script.py" "$1"
}
