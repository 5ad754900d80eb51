# milter.sh - run exorelay-milter in a test or benchmark, and read the
# messages that come out at the other end (source after common.sh).
#
#   milter_write_conf FILE SOCKET LOCAL_DOMAINS [RELAY_KEYS]
#       an exorelay.conf with [relay] (no user switch, state in TESTS_TMP,
#       plus RELAY_KEYS lines), one [account main] (a dummy secret) and
#       [milter]; append the [class] sections yourself
#   milter_start CONF SOCKET   start "exorelay-milter -c CONF -f" (log:
#       $MILTER_LOG, default $TESTS_TMP/milter.log, appended), wait for
#       SOCKET; killed at exit; sets MILTER_PID
#   msg_load FILE [JSON]       read a stored message's header (and a
#       stand-in record) once; then
#   hdr NAME                   prints every value of header NAME, unfolded
#       (hdr json.FIELD: a field of the record)
#   take_new DIR               the file in DIR not taken before (by name:
#       several messages can arrive within one mtime second)
#   wait_files DIR N           until DIR holds N complete files: smtp-sink
#       creates a file at MAIL FROM and writes it as the message comes in
#       (buffered: it may stay empty until the end), so a file counts once
#       no process holds it open any more (up to $WAIT_SECONDS)
#   start_sink DIR PORT        smtp-sink dumping every message into DIR
: "${MILTER_LOG:=$TESTS_TMP/milter.log}"

milter_write_conf() {
    printf 'not-a-real-secret\n' >"$TESTS_TMP/milter-main.secret"
    chmod 600 "$TESTS_TMP/milter-main.secret"
    cat >"$1" <<EOF
[relay]
user =
state_dir = $TESTS_TMP
spool_dir = $TESTS_TMP
${4:-}

[account main]
tenant = contoso.example
client_id = 3e1f0c2a-5b7d-4e8f-9a6b-1c2d3e4f5a6b
client_secret_file = $TESTS_TMP/milter-main.secret
mailbox = no-reply@contoso.example

[milter]
socket = unix:$2
local_domains = $3
EOF
}

milter_start() {
    "$BIN/exorelay-milter" -c "$1" -f 2>>"$MILTER_LOG" &
    MILTER_PID=$!
    cleanup_add "kill $MILTER_PID 2>/dev/null"
    wait_for test -S "$2"
}

msg_load() {
    "$PYTHON" - "$@" >"$TESTS_TMP/msg.headers" <<'PY'
import json, sys
if len(sys.argv) > 2:
    for k, v in json.load(open(sys.argv[2])).items():
        print("json.%s\t%s" % (k, " ".join(map(str, v)) if isinstance(v, list) else v))
raw = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
head = raw.split(b"\n\n", 1)[0].replace(b"\n\t", b"\t").replace(b"\n ", b" ")
for line in head.split(b"\n"):
    name, _, value = line.partition(b":")
    sys.stdout.write(name.decode("ascii", "replace").lower() + "\t"
                     + value.strip().decode("utf-8", "replace") + "\n")
PY
}

hdr() {
    sed -n "s/^$(echo "$1" | tr 'A-Z' 'a-z')\t//p" "$TESTS_TMP/msg.headers"
}

take_new() {
    for _f in "$1"/*; do
        [ -f "$_f" ] || continue
        grep -qxF "$_f" "$TESTS_TMP/taken" 2>/dev/null && continue
        echo "$_f" >>"$TESTS_TMP/taken"
        echo "$_f"
        return 0
    done
    return 1
}

wait_files() {
    wait_for files_complete "$1" "$2"
}
files_complete() {
    [ "$(find "$1" -type f | wc -l)" -ge "$2" ] || return 1
    for _f in "$1"/*; do
        [ -f "$_f" ] || continue
        file_closed "$_f" || return 1
    done
}

start_sink() {
    mkdir -p "$1" && chmod 0777 "$1"
    smtp-sink -u nobody -d "$1/%M%S." "127.0.0.1:$2" 20 &
    cleanup_add "kill $! 2>/dev/null"
}
