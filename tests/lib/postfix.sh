# postfix.sh - a private Postfix instance per test (source after common.sh).
#
# Each instance has its own config_directory, queue_directory and
# data_directory under DIR, its own SMTP port on 127.0.0.1, no chroot, and
# logs to DIR/postfix.log; it never touches the host's Postfix. Needs root
# (Postfix's master runs as root) and the postfix package (tests/deps.sh).
#
#   pf_setup DIR [RELAYHOST]
#       Write DIR/etc/main.cf and master.cf from the system ones plus the
#       settings a test needs (relay/default transport smtp, loopback only,
#       no DNS, mydestination = localhost, fast retries, concurrency 20 from
#       the start) and RELAYHOST (e.g. "[127.0.0.1]:10587"; default none).
#       Sets PF_DIR=DIR, PF_CONF=DIR/etc, PF_PORT (Postfix's own smtpd port
#       on 127.0.0.1), PF_LOG=DIR/postfix.log. Does not start it.
#   pf_conf DIR "name = value" ...   more main.cf settings (postconf -e)
#   pf_reload DIR       postfix reload, and wait until the master logged it
#                       (it rereads main.cf then, not when the command returns)
#   pf_start DIR        start it, wait until its smtpd answers; stopped at
#                       exit (cleanup_add)
#   pf_stop DIR         stop it (postfix stop), wait for the master to go
#   pf_send DIR [sendmail args]      submit the message on stdin with
#                       Postfix's sendmail (-C DIR/etc -i); args: recipients
#                       and options, e.g. pf_send "$D" -f a@b c@d <msg
#   pf_queue_count DIR  number of messages in its queue (any state)
#   pf_wait_queue DIR N wait until the queue holds N; returns 1 after
#                       $WAIT_SECONDS (a hang, not a slow machine)
#   pf_flush DIR        retry deferred mail now (postqueue -f)
#   pf_mailq DIR        the queue listing (postqueue -p), reasons included
#   pf_log_has DIR REGEX            grep -E the log quietly
#   pf_release DIR N    a queue of N messages held by "defer_transports =
#                       smtp": release it, wait until it is empty, print
#                       the msg/s of the drain (benchmarks)
#
# Messages sent with pf_send get Postfix's Received:, Message-ID:, Date:
# and From: additions (when absent); tests that compare bytes compare what
# the relay received with what Postfix handed over, not with the input.
: "${PF_SENDMAIL:=/usr/sbin/sendmail}"

pf_setup() {
    PF_DIR=$1
    _relay=${2:-}
    PF_CONF=$PF_DIR/etc
    PF_LOG=$PF_DIR/postfix.log
    mkdir -p "$PF_CONF" "$PF_DIR/queue" "$PF_DIR/data"
    chown postfix "$PF_DIR/data"
    cp /etc/postfix/main.cf /etc/postfix/master.cf "$PF_CONF/"
    [ -d /etc/postfix/dynamicmaps.cf.d ] && cp -r /etc/postfix/dynamicmaps.cf.d "$PF_CONF/"
    cp /etc/postfix/dynamicmaps.cf "$PF_CONF/" 2>/dev/null
    PF_PORT=$(free_port)
    # Our own smtpd port instead of 25; no chroot (the private queue
    # directory has no etc/ copies in it).
    sed -i "s/^smtp \\{1,\\}inet /127.0.0.1:$PF_PORT inet /" "$PF_CONF/master.cf"
    postconf -c "$PF_CONF" -F '*/*/chroot = n'
    _name=pf$(echo "$PF_DIR" | cksum | cut -c1-6)
    postconf -c "$PF_CONF" -e \
        "queue_directory = $PF_DIR/queue" \
        "data_directory = $PF_DIR/data" \
        "maillog_file_prefixes = /var, /dev/stdout, $PF_DIR" \
        "maillog_file = $PF_LOG" \
        "syslog_name = postfix-$_name" \
        "myhostname = $_name.example.net" \
        "myorigin = \$myhostname" \
        "mydestination = localhost" \
        "mynetworks = 127.0.0.0/8 [::1]/128" \
        "inet_interfaces = loopback-only" \
        "inet_protocols = ipv4" \
        "alias_maps =" "alias_database =" \
        "default_transport = smtp" "relay_transport = smtp" \
        "relayhost = $_relay" \
        "smtp_dns_support_level = disabled" \
        "smtp_tls_security_level = none" \
        "smtpd_tls_security_level = none" \
        "queue_run_delay = 1s" "minimal_backoff_time = 1s" \
        "maximal_backoff_time = 2s" \
        "initial_destination_concurrency = 20" \
        "default_destination_concurrency_limit = 20" \
        "smtp_connection_cache_on_demand = yes" \
        "delay_warning_time = 0" \
        "authorized_submit_users = static:anyone" \
        "import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C"
    export PF_DIR PF_CONF PF_PORT PF_LOG
}

pf_conf() {
    _d=$1; shift
    postconf -c "$_d/etc" -e "$@"
}

_pf_master_pid() {
    cat "$1/queue/pid/master.pid" 2>/dev/null | tr -d ' '
}

_pf_answers() {
    "$PYTHON" - "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
sys.exit(0 if s.recv(100).startswith(b"220") else 1)
EOF
}

# _pf_queue_dirs - what "postfix post-install create-missing" would make,
# in 0.01 s instead of 4 s.
_pf_queue_dirs() {
    _q=$1/queue
    for _sub in active bounce corrupt defer deferred flush hold incoming \
        private saved trace; do
        mkdir -p "$_q/$_sub" && chown postfix "$_q/$_sub" && chmod 0700 "$_q/$_sub"
    done
    mkdir -p "$_q/maildrop" "$_q/public" "$_q/pid"
    chown postfix:postdrop "$_q/maildrop" "$_q/public"
    chmod 0730 "$_q/maildrop"
    chmod 0710 "$_q/public"
}

pf_start() {
    _d=$1
    _port=$(postconf -c "$_d/etc" -M 2>/dev/null | sed -n 's/^127\.0\.0\.1:\([0-9]*\) .*/\1/p' | head -1)
    _pf_queue_dirs "$_d"
    # master -w returns once it runs (postfix start would spend 4 s in
    # postfix-script's checks of a system installation).
    /usr/lib/postfix/sbin/master -c "$_d/etc" -w >>"$_d/postfix.log" 2>&1 || {
        echo "# pf_start: postfix did not start:" >&2
        tail -n 20 "$_d/postfix.log" | sed 's/^/#   /' >&2
        return 1
    }
    cleanup_add "pf_stop '$_d'"
    wait_for _pf_answers "$_port"
}

pf_stop() {
    _d=$1
    _pid=$(_pf_master_pid "$_d")
    [ -n "$_pid" ] || return 0
    postfix -c "$_d/etc" stop >>"$_d/postfix.log" 2>&1
    _i=0
    while kill -0 "$_pid" 2>/dev/null && [ $_i -lt $((WAIT_SECONDS * 20)) ]; do
        sleep 0.05
        _i=$((_i + 1))
    done
}

pf_reload() {
    _n0=$(grep -c '/master\[[0-9]*\]: reload -- ' "$1/postfix.log")
    postfix -c "$1/etc" reload >/dev/null 2>&1
    wait_for _pf_reloaded "$1" "$_n0"
}
_pf_reloaded() {
    [ "$(grep -c '/master\[[0-9]*\]: reload -- ' "$1/postfix.log")" -gt "$2" ]
}

pf_send() {
    _d=$1; shift
    "$PF_SENDMAIL" -C "$_d/etc" -i "$@"
}

pf_queue_count() {
    find "$1/queue/incoming" "$1/queue/active" "$1/queue/deferred" \
        "$1/queue/maildrop" "$1/queue/hold" -type f 2>/dev/null | wc -l
}

pf_wait_queue() {
    wait_for _pf_queue_holds "$1" "$2"
}
_pf_queue_holds() {
    [ "$(pf_queue_count "$1")" -eq "$2" ]
}

pf_flush() {
    postqueue -c "$1/etc" -f
}

pf_mailq() {
    postqueue -c "$1/etc" -p
}

pf_release() {
    _t0=$(date +%s.%N)                  # from the release on: nothing leaves before
    pf_conf "$1" "defer_transports ="
    postfix -c "$1/etc" reload >/dev/null 2>&1
    pf_flush "$1"
    pf_wait_queue "$1" 0 600 || { echo "drain failed:" >&2; pf_mailq "$1" | tail -5 >&2; return 1; }
    awk "BEGIN { printf \"%.0f\", $2 / ($(date +%s.%N) - $_t0) }"
}

pf_log_has() {
    grep -Eq "$2" "$1/postfix.log" 2>/dev/null
}
