#!/bin/sh
# t_expiry.sh - credential-expiry warnings with the clock moved by
# libfaketime: the relay runs at dates across each threshold of [alarms]
# days (30, 14, 7, 3, 1, 0) of a client secret's credential_expiry and
# must log one warning and send exactly one alarm mail (through itself, to
# the stand-in) per threshold, remember that across restarts, catch up with
# a single alarm for a credential first seen late, and make
# "exorelay status --check" say OK / WARNING / CRITICAL with exit 0 / 1 / 2.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
# libfaketime itself (what faketime(1) preloads), so that the relay's own
# PID can be signalled; the MT variant, as the relay has threads.
FAKELIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1 \
    2>/dev/null | head -n 1)
[ -n "$FAKELIB" ] || skip_all "libfaketime is not installed (make deps)"
# Under AddressSanitizer (make check-asan) its runtime must be loaded first.
ASANLIB=$(ldd "$BIN/exorelay" 2>/dev/null | awk '/libasan/ { print $3 }')
PRELOAD=${ASANLIB:+$ASANLIB }$FAKELIB

# Server certificates that outlive the moved clock.
standin_start --cert-days 120 || exit 1
C=$TESTS_TMP/exorelay.conf
LOG=$TESTS_TMP/relay.log
standin_write_conf "$C"
TZ=UTC
export TZ
E=$(date -u -d '+40 days' +%F)                  # the secret expires at its end
sed -i "s/^credential_expiry = .*/credential_expiry = $E/" "$C"
printf '\n[alarms]\nnotify = alarms@example.com\n' >>"$C"

# day T - noon of the day T days before the expiry day
day() {
    date -u -d "$E $((-$1)) days" '+%F 12:00:00'
}

# at DATE CMD... - run CMD with the clock starting at DATE
at() {
    _d=$1
    shift
    LD_PRELOAD=$PRELOAD FAKETIME="@$_d" "$@"
}

# relay_at DATE - the relay with the clock at DATE; returns once its control
# socket answers, which is after its first expiry check (and alarm mail)
relay_at() {
    LD_PRELOAD=$PRELOAD FAKETIME="@$1" "$BIN/exorelay" -c "$C" run -f 2>>"$LOG" &
    RELAY_PID=$!
    cleanup_add "kill $RELAY_PID 2>/dev/null"
    wait_for sh -c "'$BIN/exorelay' -c '$C' status | grep -q 'running, pid $RELAY_PID'" ||
        wait_for sh -c "'$BIN/exorelay' -c '$C' status | grep -q 'running, pid $RELAY_PID'"
}

BAD_EXITS=0
relay_stop() {
    kill -TERM "$RELAY_PID"
    wait "$RELAY_PID" || BAD_EXITS=$((BAD_EXITS + 1))
}

# alarms - subjects of the alarm mails the stand-in received, one a line
alarms() {
    grep -h '^Subject: \[exorelay\]' "$STANDIN_MSGDIR"/*.eml 2>/dev/null | tr -d '\r'
}

# warnings - the relay's credential-expiry log lines
warnings() {
    grep 'credential expiry: the ' "$LOG" 2>/dev/null
}

# check_at DATE WANT_EXIT REGEX - status --check at DATE
check_at() {
    _out=$(at "$1" "$BIN/exorelay" -c "$C" status --check)
    _rc=$?
    [ "$_rc" = "$2" ] && echo "$_out" | grep -Eq "$3"
    tap_ok $? "status --check at $1: exit $_rc ($_out)"
}

# stage T WANT_NEW_ALARMS CHECK_EXIT CHECK_REGEX [DATE] - one run of the relay
stage() {
    _date=${5:-$(day "$1")}
    _a0=$(alarms | wc -l) _w0=$(warnings | wc -l)
    relay_at "$_date"
    _a1=$(alarms | wc -l) _w1=$(warnings | wc -l)
    [ $((_a1 - _a0)) = "$2" ] && [ $((_w1 - _w0)) = "$2" ]
    tap_ok $? "$1 days left ($_date): $2 new alarm mail(s) and warning(s) (got $((_a1 - _a0)), $((_w1 - _w0)))"
    check_at "$_date" "$3" "$4"
    relay_stop
}

stage 35 0 0 "^EXORELAY OK - 1 account, credentials and tokens fine \| 'main_credential_days'=35;30;7"
stage 30 1 1 "^EXORELAY WARNING - main: client secret expires in 30 days \($E\)"
alarms | tail -n 1 | grep -q "^Subject: \[exorelay\] client secret of account main expires in 30 days ($E)\$"
tap_ok $? "the alarm mail's subject names the credential, account and days"
warnings | tail -n 1 | grep -q "warning: credential expiry: the client secret of account main (no-reply@contoso.onmicrosoft.com) expires in 30 days ($E): renew it"
tap_ok $? "the log's warning names the credential, account, mailbox, days and date"
eml=$(grep -l '^Subject: \[exorelay\]' "$STANDIN_MSGDIR"/*.eml | head -n 1)
tr -d '\r' <"$eml" >"$TESTS_TMP/alarm.eml"
grep -q '^From: exorelay on .* <no-reply@contoso.onmicrosoft.com>$' "$TESTS_TMP/alarm.eml" &&
    grep -q '^To: alarms@example.com$' "$TESTS_TMP/alarm.eml" &&
    grep -q '^X-Exorelay-Alarm: credential-expiry; account=main; days=30$' "$TESTS_TMP/alarm.eml" &&
    grep -q 'New client secret' "$TESTS_TMP/alarm.eml" &&
    grep -q "credential_expiry in \[account main\]" "$TESTS_TMP/alarm.eml"
tap_ok $? "the alarm mail comes from the mailbox, to [alarms] notify, and says how to renew"

# Restarted later the same day, and between thresholds: nothing new.
stage 30 0 1 "WARNING - main: client secret expires in 30 days" "$(date -u -d "$E -30 days" '+%F 18:00:00')"
stage 20 0 1 "WARNING - main: client secret expires in 20 days"
stage 14 1 1 "^EXORELAY WARNING - main: client secret expires in 14 days \($E\)"
stage 7 1 2 "^EXORELAY CRITICAL - main: client secret expires in 7 days \($E\) \| 'main_credential_days'=7;30;7"
stage 3 1 2 "^EXORELAY CRITICAL - main: client secret expires in 3 days"
stage 1 1 2 "^EXORELAY CRITICAL - main: client secret expires in 1 day \($E\)"
stage 0 1 2 "^EXORELAY CRITICAL - main: client secret expires today \($E\)"
grep -q "error: credential expiry: the client secret of account main (no-reply@contoso.onmicrosoft.com) expires today ($E)" "$LOG"
tap_ok $? "on the last day the log line is an error"
stage -2 0 2 "^EXORELAY CRITICAL - main: client secret EXPIRED 2 days ago \($E\)"

good=0
for t in 30 14 7 3 1; do
    [ "$(alarms | grep -c "account main expires in $t days\? ($E)\$")" = 1 ] || good=1
done
[ "$(alarms | grep -c "account main expires today ($E)\$")" = 1 ] || good=1
[ "$(alarms | wc -l)" = 6 ] || good=1
[ $good = 0 ] || alarms | sed 's/^/#   /'
tap_ok $good "exactly one alarm mail per threshold: 30, 14, 7, 3, 1, 0 (6 in all)"

# A credential first seen with 5 days left: one alarm (7 days' one), not
# three (30, 14, 7); and none again after a restart.
E2=$(date -u -d "$E +7 days" +%F)
(umask 077; standin_secret second >"$TESTS_TMP/second.secret")
cat >>"$C" <<CONF

[account second]
tenant = $STANDIN_TENANT
client_id = 2a826780-08fd-4594-b31f-0a8198389f08
client_secret_file = $TESTS_TMP/second.secret
credential_expiry = $E2
mailbox = second@contoso.onmicrosoft.com
authority = $STANDIN_AUTHORITY
CONF
stage -2 1 2 "main: client secret EXPIRED 2 days ago \($E\); second: client secret expires in 5 days \($E2\)"
alarms | tail -n 1 | grep -q "^Subject: \[exorelay\] client secret of account second expires in 5 days ($E2)\$"
tap_ok $? "the late credential's one alarm names it and its 5 days"
stage -2 0 2 "second: client secret expires in 5 days" "$(date -u -d "$E +2 days" '+%F 20:00:00')"

# The relay down: status reads the disk, --check says so.
out=$(at "$(day -2)" "$BIN/exorelay" -c "$C" status)
echo "$out" | grep -q '^exorelay is not running (.*control.sock: .*); what is on disk:$' &&
    echo "$out" | grep -q "credential  client secret EXPIRED 2 days ago ($E)" &&
    echo "$out" | grep -q "credential  client secret expires in 5 days ($E2)"
tap_ok $? "status without the relay: says so, and shows each credential from the config"
check_at "$(day -2)" 2 "^EXORELAY CRITICAL - relay not running; main: client secret EXPIRED"

# A credential changed by SIGHUP is checked at the reload, not at the next
# tick of the checks (5 minutes away): real clock here, the relay running
# with main's expiry 60 days away, then the config says 5 days.
E3=$(date -u -d '+60 days' +%F)
E4=$(date -u -d '+5 days' +%F)
sed -i "0,/^credential_expiry = .*/s//credential_expiry = $E3/" "$C"
"$BIN/exorelay" -c "$C" run -f 2>>"$LOG" &
RELAY_PID=$!
cleanup_add "kill $RELAY_PID 2>/dev/null"
wait_for sh -c "'$BIN/exorelay' -c '$C' status | grep -q 'running, pid $RELAY_PID'" ||
    wait_for sh -c "'$BIN/exorelay' -c '$C' status | grep -q 'running, pid $RELAY_PID'"
tap_ok $? "the relay runs on the real clock, main's credential 60 days from expiry"
sed -i "0,/^credential_expiry = .*/s//credential_expiry = $E4/" "$C"
r0=$(grep -c 'reloaded' "$LOG")
kill -HUP "$RELAY_PID"
wait_for sh -c "test \$(grep -c reloaded '$LOG') -gt $r0"
tap_ok $? "SIGHUP: reloaded"
wait_for sh -c "grep -q 'credential expiry: the client secret of account main .* expires in 5 days ($E4)' '$LOG'"
tap_ok $? "the changed credential is checked at the reload: its warning comes at once"
relay_stop

[ $BAD_EXITS = 0 ] && ! grep -Eq 'Sanitizer|runtime error' "$LOG"
tap_ok $? "the relay exited 0 after each SIGTERM ($BAD_EXITS did not), no sanitizer report"
