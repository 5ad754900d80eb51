#!/bin/sh
# t_milter.sh - exorelay-milter driven by miltertest (the MTA side of the
# milter protocol): the scripts in tests/milter/*.lua cover the rule kinds,
# the rewrite, forged tags, local-only mail, early refusals, malformed
# headers and a reload; this script also checks the command line, the
# socket handling and the envelope rewrite (miltertest cannot see
# smfi_chgfrom's address, the milter's log line can).
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/milter.sh"
command -v miltertest >/dev/null 2>&1 || skip_all "miltertest is not installed (make deps)"

T=$TESTS_TMP
MILTER=$BIN/exorelay-milter
SOCK=$T/spool/exorelay/milter.sock

# write_conf FILE [EXTRA-MILTER-KEYS] [CLASSES] - a config for the tests
write_conf() {
    milter_write_conf "$1" "$SOCK" "host.example, localhost" "max_recipients = 3
max_message_size = 10K"
    cat >>"$1" <<EOF
$2

[account portal]
tenant = contoso.example
client_id = 3e1f0c2a-5b7d-4e8f-9a6b-1c2d3e4f5a6b
client_secret_file = $T/milter-main.secret
mailbox = portal@contoso.example
$3
EOF
}

CLASSES='
[class alarm]
match_from = root@*, nagios@*
match_subject = ^\[Alarm\]
send_as = alerts@contoso.example

[class guest]
match_from = *@ise.example.com
send_as = "Guest Portal" <portal@contoso.example>
account = portal

[class sponsor]
match_header = X-Portal-Event: ^sponsor-
send_as = Sponsoring Gäste-WLAN <portal@contoso.example>
account = portal

[class bulk]
match_header = X-Bulk: ^yes
send_as = bulk@contoso.example
account = main, portal

[class default]
match_from = *
send_as = Notifications <no-reply@contoso.example>'

write_conf "$T/test.conf" "" "$CLASSES"
write_conf "$T/reload.conf" "refuse_too_many_recipients = no
refuse_oversize = no" '
[class alarm]
match_from = root@*
match_subject = ^\[Alarm\]
send_as = alerts@contoso.example
account = portal'
write_conf "$T/broken.conf" "no_such_key = 1" "$CLASSES"

# --- command line ----------------------------------------------------------
"$MILTER" --version | grep -q '^exorelay-milter [0-9]'
tap_ok $? "--version"
"$MILTER" --help | grep -q 'usage: exorelay-milter \[-c FILE\] \[-f\]'
tap_ok $? "--help"
"$MILTER" -x >/dev/null 2>&1
tap_ok $([ $? -eq 64 ]; echo $?) "an unknown option exits 64 (EX_USAGE)"
"$MILTER" -c "$T/broken.conf" -f 2>"$T/broken.err"
rc=$?
[ $rc -eq 78 ] && grep -q "broken.conf:[0-9]*: .*no_such_key" "$T/broken.err"
tap_ok $? "a bad config exits 78 with FILE:LINE: message (rc $rc)"
EXORELAY_CONF=$T/missing.conf "$MILTER" -f 2>"$T/missing.err"
rc=$?
[ $rc -eq 78 ] && grep -q "missing.conf" "$T/missing.err"
tap_ok $? "the config path comes from EXORELAY_CONF (rc $rc)"

# --- start: directory created, socket group and mode ----------------------
mkdir -p "$T/spool/exorelay"
"$PYTHON" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
"$MILTER" -c "$T/test.conf" -f 2>"$T/milter.log" &
pid=$!
cleanup_add "kill $pid 2>/dev/null"
ready() { test -S "$SOCK" && grep -q 'ready, pid' "$T/milter.log"; }
wait_for ready
tap_ok $? "the milter starts and listens"
grep -q "removed the stale socket" "$T/milter.log"
tap_ok $? "a stale socket is removed"
grep -q '^Max core file size  *0  *0 ' /proc/$pid/limits
tap_ok $? "no core dumps: core file size limit 0 (soft and hard)"
mode=$(stat -c '%a %G' "$SOCK")
want_group=$(getent group postfix >/dev/null && echo postfix || id -gn)
[ "$mode" = "660 $want_group" ]
tap_ok $? "socket mode 0660, group $want_group ($mode)"
"$MILTER" -c "$T/test.conf" -f 2>"$T/second.log"
rc=$?
[ $rc -eq 69 ] && grep -q "already listening" "$T/second.log" && kill -0 $pid
tap_ok $? "a second milter on the same socket refuses to start (rc $rc), the first keeps it"

# --- the miltertest scripts -----------------------------------------------
# run_script NAME [OUT] - run tests/milter/NAME.lua into OUT (default
# $T/NAME.out); its exit status
run_script() {
    miltertest -D socket="unix:$SOCK" -D top="$TOP" -D tmp="$T" -D conf="$T/test.conf" \
        -D pid="$pid" -D n=100 -s "$TOP/tests/milter/$1.lua" >"${2:-$T/$1.out}" 2>&1
}
# report NAME OUT RC - its checks as TAP lines, and whether it ran through
report() {
    while IFS= read -r line; do
        case "$line" in
        "ok - "*) tap_ok 0 "$1: ${line#ok - }" ;;
        "not ok - "*) tap_ok 1 "$1: ${line#not ok - }" ;;
        *) echo "# $line" ;;
        esac
    done <"$2"
    tap_ok "$3" "$1.lua ran to its end (miltertest exit $3)"
}
for script in classify rewrite tags refusals malformed; do
    run_script $script
    report $script "$T/$script.out" $?
done

# Four scripts at once (libmilter gives each connection its own thread)
# while SIGHUP reloads the same config ten times.
reloads0=$(grep -c 'SIGHUP: reloading' "$T/milter.log")
jobs=""
for i in 1 2 3 4; do
    (run_script concurrent "$T/concurrent$i.out"; echo $? >"$T/concurrent$i.rc") &
    jobs="$jobs $!"
done
# Each SIGHUP once the previous one was handled (its log line): signals
# sent faster than a loaded machine runs the milter would merge into one.
reloaded() { [ "$(grep -c 'SIGHUP: reloading' "$T/milter.log")" -ge "$1" ]; }
for i in 1 2 3 4 5 6 7 8 9 10; do
    kill -HUP $pid
    wait_for reloaded $((reloads0 + i)) || break
done
wait $jobs
for i in 1 2 3 4; do
    report "concurrent $i" "$T/concurrent$i.out" "$(cat "$T/concurrent$i.rc" 2>/dev/null || echo 1)"
done
reloads=$(( $(grep -c 'SIGHUP: reloading' "$T/milter.log") - reloads0 ))
[ "$reloads" -eq 10 ]
tap_ok $? "$reloads reloads of 10 happened meanwhile"

run_script reload
report reload "$T/reload.out" $?

# --- an inet socket (inet:PORT@HOST, as smfi_setconn takes it) -----------
IPORT=$(free_port)
write_conf "$T/inet.conf" "" "$CLASSES"       # (test.conf was left broken by reload.lua)
sed -i "s|^socket = .*|socket = inet:$IPORT@127.0.0.1|" "$T/inet.conf"
"$MILTER" -c "$T/inet.conf" -f 2>"$T/inet.log" &
ipid=$!
cleanup_add "kill $ipid 2>/dev/null"
miltertest -D socket="inet:$IPORT@127.0.0.1" -D top="$TOP" -D tmp="$T" -D conf="$T/inet.conf" \
    -D pid="$ipid" -s "$TOP/tests/milter/rewrite.lua" >"$T/inet.out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '^ok - ' "$T/inet.out" && ! grep -q '^not ok' "$T/inet.out"
tap_ok $? "on inet:$IPORT@127.0.0.1 too (rewrite.lua: $(grep -c '^ok' "$T/inet.out") checks)"
kill -TERM $ipid

# --- what miltertest cannot see: the envelope sender, in the log -----------
grep -q 'class=alarm account=main from=<root@host.example> sender=<alerts@contoso.example>' "$T/milter.log"
tap_ok $? "envelope sender rewritten to send_as (log)"
grep -q 'class=guest account=portal from=<portal@ise.example.com> sender=<portal@contoso.example>' "$T/milter.log"
tap_ok $? "envelope sender rewritten to the class's send_as (log)"
grep -q 'from=<bounce-123@mta.example> sender=<portal@contoso.example>' "$T/milter.log"
tap_ok $? "envelope sender rewritten when only From matched (log)"
grep -q 'SIGHUP: reloading' "$T/milter.log" && grep -q 'the previous config stays' "$T/milter.log"
tap_ok $? "reload logged; the bad config refused, the previous one kept"

# --- stop -----------------------------------------------------------------
kill -0 $pid
tap_ok $? "still running after every script"
kill -TERM $pid
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
wait $pid
rc=$?
[ $rc -eq 0 ] && [ ! -e "$SOCK" ]
tap_ok $? "SIGTERM: clean exit (status $rc), socket removed"
grep -Eq 'ERROR|AddressSanitizer|runtime error' "$T/milter.log"
tap_ok $([ $? -ne 0 ]; echo $?) "no sanitizer report in the milter's log"
