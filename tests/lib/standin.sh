# standin.sh - start and drive the Entra ID + Exchange Online stand-ins from a
# shell test. Source it after tests/lib/common.sh. Full reference:
# tests/standin/README.md.
#
#   standin_start [SCENARIO_JSON] [standin.py args...]
#       start one stand-in process in ${STANDIN_DIR:-$TESTS_TMP/standin},
#       wait until it listens, kill it at exit; exports STANDIN_DIR,
#       STANDIN_PID, STANDIN_CA, STANDIN_AUTHORITY, STANDIN_SMTP_PORT,
#       STANDIN_SMTP_WRONGNAME_PORT, STANDIN_CTL, STANDIN_MSGDIR,
#       STANDIN_CLIENTS
#   standin_stop                      stop it (and wait)
#   standin_restart [standin.py args...]
#       stop and start again: same ports, CA, scenario file; tokens stay valid
#   standin_ctl METHOD PATH [JSON]    call the control API, print its JSON
#   standin_stat NAME                 print one counter (NAME/KEY for a map)
#   standin_count                     number of messages recorded
#   standin_write_conf FILE [RELAY_LISTEN] [--cert] [--rs256] [--log-level L]
#                      [--transport smtp|graph|auto]
#       write an exorelay.conf for the default scenario (see README.md)
#
# Default scenario identities (tests/standin/scenario-default.json):
STANDIN_TENANT=6714cd82-bac5-41be-94b0-9e4101ad0e72
STANDIN_DOMAIN=contoso.onmicrosoft.com
STANDIN_CLIENT_ID=5d4be59c-2ee2-4131-87c5-4ed854c19cef
STANDIN_MAILBOX=no-reply@contoso.onmicrosoft.com
STANDIN_SECRET_EXPIRY=2030-06-30
STANDIN_SCOPE=https://outlook.office365.com/.default
STANDIN_GRAPH_SCOPE=https://graph.microsoft.com/.default
export STANDIN_TENANT STANDIN_DOMAIN STANDIN_CLIENT_ID STANDIN_MAILBOX \
    STANDIN_SECRET_EXPIRY STANDIN_SCOPE STANDIN_GRAPH_SCOPE

# standin_secret [APP] - print an app's first secret value (default: main).
# Tests write it to a file; never echo it into test output.
standin_secret() {
    "$PYTHON" -c '
import json, sys
sc = json.load(open(sys.argv[1]))
sys.stdout.write([a for a in sc["apps"] if a.get("name") == sys.argv[2]][0]["secrets"][0]["value"])
' "${STANDIN_SCENARIO:-$TOP/tests/standin/scenario-default.json}" "${1:-main}"
}

standin_start() {
    STANDIN_SCENARIO="$TOP/tests/standin/scenario-default.json"
    case "${1:-}" in
    ""|-*) ;;
    *) STANDIN_SCENARIO=$1; shift ;;
    esac
    export STANDIN_SCENARIO
    STANDIN_DIR=${STANDIN_DIR:-$TESTS_TMP/standin}
    mkdir -p "$STANDIN_DIR"
    rm -f "$STANDIN_DIR/ready.env"
    "$PYTHON" "$TOP/tests/standin/standin.py" --dir "$STANDIN_DIR" \
        --scenario "$STANDIN_SCENARIO" "$@" >>"$STANDIN_DIR/standin.log" 2>&1 &
    STANDIN_PID=$!
    cleanup_add "kill $STANDIN_PID 2>/dev/null"
    _i=0
    while [ ! -s "$STANDIN_DIR/ready.env" ]; do
        if ! kill -0 "$STANDIN_PID" 2>/dev/null || [ $_i -ge $((WAIT_SECONDS * 20)) ]; then
            echo "# standin_start: stand-in did not start; its log:" >&2
            sed 's/^/#   /' "$STANDIN_DIR/standin.log" >&2
            return 1
        fi
        sleep 0.05
        _i=$((_i + 1))
    done
    . "$STANDIN_DIR/ready.env"
    export STANDIN_DIR STANDIN_PID STANDIN_CA STANDIN_AUTHORITY STANDIN_SMTP_PORT \
        STANDIN_SMTP_WRONGNAME_PORT STANDIN_CTL STANDIN_MSGDIR STANDIN_CLIENTS \
        STANDIN_GRAPH_URL
}

standin_restart() {
    standin_stop
    standin_start "$STANDIN_SCENARIO" --restart "$@"
}

standin_stop() {
    [ -n "${STANDIN_PID:-}" ] || return 0
    kill "$STANDIN_PID" 2>/dev/null
    wait "$STANDIN_PID" 2>/dev/null
    STANDIN_PID=
}

standin_ctl() {
    if [ $# -ge 3 ]; then
        curl -sS -X "$1" -H 'Content-Type: application/json' --data-binary "$3" \
            "$STANDIN_CTL$2"
    else
        curl -sS -X "$1" "$STANDIN_CTL$2"
    fi
}

standin_stat() {
    standin_ctl GET /stats | "$PYTHON" -c '
import json, sys
v = json.load(sys.stdin)
name = sys.argv[1]
for part in ([name] if name in v else name.split("/", 1)):
    v = v.get(part, 0) if isinstance(v, dict) else 0
print(json.dumps(v) if isinstance(v, (dict, list)) else v)
' "$1"
}

standin_count() {
    ls "$STANDIN_MSGDIR" 2>/dev/null | grep -c '\.json$'
}

# standin_write_conf FILE [RELAY_LISTEN] [options] - see README.md.
standin_write_conf() {
    _conf=$1; shift
    _listen="unix:$TESTS_TMP/exorelay.sock"
    case "${1:-}" in ""|--*) ;; *) _listen=$1; shift ;; esac
    _cert=0; _alg=PS256; _level=${EXORELAY_LOG_LEVEL:-info}; _transport=smtp
    while [ $# -gt 0 ]; do
        case "$1" in
        --cert) _cert=1 ;;
        --rs256) _alg=RS256 ;;
        --log-level) _level=$2; shift ;;
        --transport) _transport=$2; shift ;;
        *) echo "standin_write_conf: unknown option $1" >&2; return 2 ;;
        esac
        shift
    done
    mkdir -p "$TESTS_TMP/state" "$TESTS_TMP/spool"
    chmod 0700 "$TESTS_TMP/state" "$TESTS_TMP/spool"
    (umask 077; standin_secret main >"$TESTS_TMP/main.secret")
    cat >"$_conf" <<EOF
# written by standin_write_conf for the stand-in at $STANDIN_AUTHORITY
[relay]
listen = $_listen
state_dir = $TESTS_TMP/state
spool_dir = $TESTS_TMP/spool
user =
log_level = $_level

[upstream]
server = 127.0.0.1
port = $STANDIN_SMTP_PORT
ca_file = $STANDIN_CA
graph_url = $STANDIN_GRAPH_URL

[account main]
tenant = $STANDIN_TENANT
client_id = $STANDIN_CLIENT_ID
client_secret_file = $TESTS_TMP/main.secret
credential_expiry = $STANDIN_SECRET_EXPIRY
mailbox = $STANDIN_MAILBOX
authority = $STANDIN_AUTHORITY
transport = $_transport
EOF
    [ "$_cert" = 1 ] && cat >>"$_conf" <<EOF

[account cert]
tenant = $STANDIN_DOMAIN
client_id = $STANDIN_CLIENT_ID
certificate_file = $STANDIN_CLIENTS/main.pem
private_key_file = $STANDIN_CLIENTS/main.key
jwt_alg = $_alg
mailbox = $STANDIN_MAILBOX
authority = $STANDIN_AUTHORITY
EOF
    return 0
}
