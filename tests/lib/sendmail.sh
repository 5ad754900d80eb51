# sendmail.sh - a private Sendmail daemon per test (source after common.sh).
#
# Debian's sendmail-bin conflicts with postfix as a package, so its .debs
# (fetched by tests/deps.sh into $SM_CACHE) are unpacked into a private
# root, and the daemon runs from there with its own .cf, queue and port.
# It needs root (Sendmail refuses to run as a daemon otherwise) and a host
# name with a dot (else every start sleeps 60 s): it runs in its own UTS
# namespace (unshare -u) as sm-test.localdomain. Sendmail logs only to
# syslog, which tests do not have: check its effects, not its log.
#
#   sm_available            the unpacked Sendmail is usable (unpacks the
#                           cached .debs once, under a lock); 1 if not
#   sm_setup DIR MC_LINES   write DIR/test.mc (a loopback-only daemon on
#                           $SM_PORT, no DNS, promiscuous relay, plus
#                           MC_LINES: milter, smart host...) and build
#                           DIR/test.cf; sets SM_DIR, SM_PORT
#   sm_start DIR            start "sendmail -bD" and wait until it answers;
#                           stopped at exit (cleanup_add)
#   sm_stop DIR             stop it
: "${SM_CACHE:=${EXORELAY_TEST_CACHE:-/var/cache/exorelay-tests}}"
SM_ROOT=$SM_CACHE/sendmail-root
SM_HOST=sm-test.localdomain

sm_available() {
    command -v unshare >/dev/null 2>&1 || return 1
    [ -x "$SM_ROOT/usr/libexec/sendmail/sendmail" ] && return 0
    ls "$SM_CACHE"/sendmail-bin_*.deb "$SM_CACHE"/sendmail-cf_*.deb \
        "$SM_CACHE"/m4_*.deb "$SM_CACHE"/libwrap0_*.deb >/dev/null 2>&1 || return 1
    (
        flock 9
        [ -x "$SM_ROOT/usr/libexec/sendmail/sendmail" ] && exit 0
        rm -rf "$SM_ROOT.new" && mkdir -p "$SM_ROOT.new" || exit 1
        for deb in "$SM_CACHE"/sendmail-bin_*.deb "$SM_CACHE"/sendmail-cf_*.deb \
            "$SM_CACHE"/m4_*.deb "$SM_CACHE"/libwrap0_*.deb; do
            dpkg -x "$deb" "$SM_ROOT.new" || exit 1
        done
        # setgid makes the loader ignore LD_LIBRARY_PATH (libwrap.so.0)
        chmod g-s "$SM_ROOT.new/usr/libexec/sendmail/sendmail"
        rm -rf "$SM_ROOT" && mv "$SM_ROOT.new" "$SM_ROOT"
    ) 9>"$SM_CACHE/.unpack.lock"
}

_sm_run() {
    LD_LIBRARY_PATH=$SM_ROOT/usr/lib/x86_64-linux-gnu unshare -u \
        sh -c 'hostname '"$SM_HOST"'; exec "$0" "$@"' \
        "$SM_ROOT/usr/libexec/sendmail/sendmail" "$@"
}

sm_setup() {
    SM_DIR=$1
    SM_PORT=$(free_port)
    mkdir -p "$SM_DIR/mqueue" "$SM_DIR/clientmqueue"
    chmod 0700 "$SM_DIR/mqueue"
    printf 'hosts\tfiles\naliases\tfiles\n' >"$SM_DIR/service.switch"
    cat >"$SM_DIR/test.mc" <<EOF
divert(-1)
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`QUEUE_DIR', \`$SM_DIR/mqueue')dnl
define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')dnl
define(\`STATUS_FILE', \`$SM_DIR/statistics')dnl
define(\`confDEAD_LETTER_DROP', \`$SM_DIR/dead.letter')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/service.switch')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`HELP_FILE', \`')dnl
define(\`confCONTROL_SOCKET_NAME', \`')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_QUEUERETURN', \`1h')dnl
FEATURE(\`promiscuous_relay')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA, Addr=127.0.0.1, Port=$SM_PORT')dnl
$2
MAILER(\`smtp')dnl
EOF
    "$SM_ROOT/usr/bin/m4" -D_CF_DIR_="$SM_ROOT/usr/share/sendmail/cf/" \
        "$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4" "$SM_DIR/test.mc" >"$SM_DIR/test.cf" \
        2>"$SM_DIR/m4.err" && [ -s "$SM_DIR/test.cf" ]
}

_sm_answers() {
    "$PYTHON" - "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
sys.exit(0 if s.recv(100).startswith(b"220") else 1)
EOF
}

sm_start() {
    _sm_run -C "$1/test.cf" -bD -q1m >>"$1/sendmail.out" 2>&1 &
    SM_PID=$!
    cleanup_add "sm_stop '$1'"
    wait_for _sm_answers "$SM_PORT"
}

sm_stop() {
    [ -n "${SM_PID:-}" ] || return 0
    kill -TERM "$SM_PID" 2>/dev/null
    _i=0
    while kill -0 "$SM_PID" 2>/dev/null && [ $_i -lt $((WAIT_SECONDS * 20)) ]; do
        sleep 0.05
        _i=$((_i + 1))
    done
    SM_PID=
}
