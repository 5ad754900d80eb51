# common.sh - shell helpers shared by the tests (source it; POSIX sh).
#
#   tap_ok COND_STATUS "description"   print ok/not ok from a status ($?)
#   ok "description" CMD...            run CMD, print ok/not ok
#   free_port                          print a free TCP port on 127.0.0.1
#   wait_for CMD...                    retry CMD until it succeeds (every
#                                      0.1 s, up to $WAIT_SECONDS, default
#                                      60: a bound for a hung peer, never
#                                      a measure of speed)
#   file_closed FILE                   FILE exists and no process holds it
#                                      open (its writer is done with it)
#   cleanup_add "shell code"           run at exit (LIFO), e.g. kill a PID
#   skip_all "reason"                  nothing testable here: say why, exit 0
#
# Every test gets $TESTS_TMP (scratch), $BIN (built programs), $TOP (tree),
# $PYTHON (/usr/bin/python3) from tests/run.
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BUILD:=$TOP/build}"
: "${BIN:=$BUILD/bin}"
: "${PYTHON:=/usr/bin/python3}"
if [ -z "${TESTS_TMP:-}" ]; then
    # Alone (not under tests/run): a scratch dir that Postfix's users can enter.
    TESTS_TMP=$(mktemp -d /tmp/exorelay-t.XXXXXX) && chmod 0755 "$TESTS_TMP"
    _own_tmp=1
fi
export TOP BUILD BIN PYTHON TESTS_TMP
_tap_n=0
_cleanup=""

tap_ok() {
    _tap_n=$((_tap_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $_tap_n - $2"
    else
        echo "not ok $_tap_n - $2"
    fi
}

ok() {
    _desc=$1; shift
    "$@"
    tap_ok $? "$_desc"
}

free_port() {
    "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

: "${WAIT_SECONDS:=60}"
wait_for() {
    _i=0
    while [ $_i -lt $((WAIT_SECONDS * 10)) ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}

file_closed() {
    [ -e "$1" ] && ! fuser -s "$1" 2>/dev/null
}

cleanup_add() {
    _cleanup="$1
$_cleanup"
}

_run_cleanup() {
    eval "$_cleanup"
}
trap '_run_cleanup' EXIT
[ "${_own_tmp:-0}" = 1 ] && [ "${KEEP_TMP:-0}" != 1 ] && cleanup_add "rm -rf '$TESTS_TMP'"
trap 'exit 143' INT TERM

skip_all() {
    echo "1..0 # SKIP $1"
    exit 0
}
