#!/bin/sh
# t_check.sh - "exorelay -c FILE check" as an admin runs it: exit 0 and
# "FILE: ok" on a good file; exit 78 and FILE:LINE messages on stderr on a
# broken one; the shipped example needs only its secret file; no network
# and no root needed. Also --version and --help.
. "$(dirname "$0")/lib/common.sh"
X=$BIN/exorelay
T=$TESTS_TMP

printf 'not-a-real-secret\n' >"$T/main.secret"
chmod 600 "$T/main.secret"
account="[account main]
tenant = contoso.onmicrosoft.com
client_id = 11111111-2222-3333-4444-555555555555
client_secret_file = $T/main.secret
mailbox = no-reply@contoso.onmicrosoft.com"

# check_fails NAME LINE PHRASE - $T/NAME.conf exits 78, a FILE:LINE: message has PHRASE
check_fails() {
    "$X" -c "$T/$1.conf" check >"$T/$1.out" 2>"$T/$1.err"
    rc=$?
    grep -F "$T/$1.conf:$2: " "$T/$1.err" | grep -F -q "$3"
    found=$?
    [ $rc -eq 78 ] && [ $found -eq 0 ] && [ ! -s "$T/$1.out" ]
    tap_ok $? "$1: exit 78 (got $rc), stderr has '$1.conf:$2: ...$3'"
    [ $rc -eq 78 ] && [ $found -eq 0 ] || sed 's/^/#   /' "$T/$1.err"
}

printf '%s\n' "$account" >"$T/good.conf"
out=$("$X" -c "$T/good.conf" check 2>"$T/good.err"); rc=$?
[ $rc -eq 0 ] && [ "$out" = "$T/good.conf: ok" ] && [ ! -s "$T/good.err" ]
tap_ok $? "a good file: exit 0 (got $rc) and 'FILE: ok'"

out=$(EXORELAY_CONF="$T/good.conf" "$X" check 2>/dev/null); rc=$?
[ $rc -eq 0 ] && [ "$out" = "$T/good.conf: ok" ]
tap_ok $? "EXORELAY_CONF names the file when there is no -c"

printf '%s\n[relya]\nlisten = 127.0.0.1:25\n' "$account" >"$T/section.conf"
check_fails section 6 "unknown section [relya]; did you mean [relay]?"

printf '%s\nclient_secret = x\n' "$account" >"$T/key.conf"
check_fails key 6 "did you mean 'client_secret_file'?"

printf '[account main]\ntenant = contoso.onmicrosoft.com\nclient_id = 1234\n' >"$T/guid.conf"
printf 'client_secret_file = %s\nmailbox = a@b.example\n' "$T/main.secret" >>"$T/guid.conf"
check_fails guid 3 "client_id: '1234' is not a GUID"

printf '%s\n[relay]\nlisten = ::1:10587\n' "$account" >"$T/listen.conf"
check_fails listen 7 "write an IPv6 address in brackets"

printf '%s\n[relay]\nallow = 10.1.2.3/8\n' "$account" >"$T/cidr.conf"
check_fails cidr 7 "did you mean 10.0.0.0/8?"

printf '%s\n[class alarm]\nmatch_subject = ([Alarm]\n' "$account" >"$T/regex.conf"
check_fails regex 7 "is not a valid POSIX extended regex: "

printf '%s\n[class alarm]\nmatch_from = root@*\naccount = mian\n' "$account" >"$T/class.conf"
check_fails class 8 "there is no [account mian]; did you mean 'main'?"

printf '%s\n[class alarm]\nmatch_from = root@*\naccount = main, mian\nsend_as = a@b.example\n' "$account" >"$T/pool.conf"
check_fails pool 8 "there is no [account mian]; did you mean 'main'?"

printf '%s\n[class alarm]\nmatch_from = root@*\naccount = main, main\n' "$account" >"$T/poolsendas.conf"
check_fails poolsendas 8 "an account pool (2 accounts) needs send_as"

printf '%s\ndaily_recipients = -1\n' "$account" >"$T/budget.conf"
check_fails budget 6 "daily_recipients"

printf '%s\ncredential_expiry = 31.12.2027\n' "$account" >"$T/date.conf"
check_fails date 6 "credential_expiry: '31.12.2027' is not a date"

printf '[relay]\nlisten = 127.0.0.1:10587\n' >"$T/noaccount.conf"
check_fails noaccount 2 "no [account NAME] section"

printf 'loose\n' >"$T/loose.secret"
chmod 644 "$T/loose.secret"
sed "s#$T/main.secret#$T/loose.secret#" "$T/good.conf" >"$T/loose.conf"
check_fails loose 4 "run chmod 600 $T/loose.secret"

printf '%s\nmailbox = x@y.example\n[relay]\nmax_message_size = 10Q\n' "$account" >"$T/two.conf"
"$X" -c "$T/two.conf" check 2>"$T/two.err"; rc=$?
[ $rc -eq 78 ] && grep -q "two.conf:6: duplicate key 'mailbox'" "$T/two.err" &&
    grep -q "two.conf:8: max_message_size" "$T/two.err" &&
    grep -q "2 errors" "$T/two.err"
tap_ok $? "two problems: both reported, and counted"

"$X" -c "$T/nonexistent.conf" check 2>"$T/missing.err"; rc=$?
[ $rc -eq 78 ] && grep -q "nonexistent.conf:0: cannot open: No such file" "$T/missing.err"
tap_ok $? "a missing config file: exit 78 (got $rc) and says so"

# The shipped example: only the secret file is missing.
ex=$TOP/conf/exorelay.conf.example
line=$(grep -n '^client_secret_file' "$ex" | cut -d: -f1)
"$X" -c "$ex" check >/dev/null 2>"$T/example.err"; rc=$?
[ $rc -eq 78 ] && [ "$(grep -c "^$ex:" "$T/example.err")" -eq 1 ] &&
    grep -q "^$ex:$line: client_secret_file: /etc/exorelay/main.secret: No such file" \
        "$T/example.err"
tap_ok $? "the example reports only the missing secret file (line $line)"
[ $rc -eq 78 ] || sed 's/^/#   /' "$T/example.err"

sed "s#^client_secret_file = .*#client_secret_file = $T/main.secret#" "$ex" >"$T/example.conf"
out=$("$X" -c "$T/example.conf" check 2>"$T/example2.err"); rc=$?
[ $rc -eq 0 ] && [ "$out" = "$T/example.conf: ok" ]
tap_ok $? "the example passes once its secret exists with mode 0600 (got $rc)"
[ $rc -eq 0 ] || sed 's/^/#   /' "$T/example2.err"

# The config "make install" and the Debian package install: nothing starts
# before each CHANGE-ME is filled in; check names each line.
inst=$TOP/conf/exorelay.conf
"$X" -c "$inst" check >/dev/null 2>"$T/inst.err"; rc=$?
ok_lines=0
for key in tenant client_id credential_expiry mailbox; do
    line=$(grep -n "^$key = CHANGE-ME" "$inst" | cut -d: -f1)
    grep -q "^$inst:$line: $key is not filled in yet (still 'CHANGE-ME'): give " "$T/inst.err" ||
        ok_lines=1
done
[ $rc -eq 78 ] && [ $ok_lines -eq 0 ] && [ "$(grep -c "^$inst:" "$T/inst.err")" -eq 5 ]
tap_ok $? "the installed config: exit 78 (got $rc), FILE:LINE for each CHANGE-ME and the missing secret"
[ $rc -eq 78 ] && [ $ok_lines -eq 0 ] || sed 's/^/#   /' "$T/inst.err"
sed -e "s#^client_secret_file = .*#client_secret_file = $T/main.secret#" \
    -e 's/^tenant = CHANGE-ME/tenant = contoso.onmicrosoft.com/' \
    -e 's/^client_id = CHANGE-ME/client_id = 3e1f0c2a-5b7d-4e8f-9a6b-1c2d3e4f5a6b/' \
    -e 's/^credential_expiry = CHANGE-ME/credential_expiry = 2027-06-30/' \
    -e 's/^mailbox = CHANGE-ME/mailbox = no-reply@contoso.onmicrosoft.com/' "$inst" >"$T/inst.conf"
"$X" -c "$T/inst.conf" check >/dev/null 2>"$T/inst2.err"
tap_ok $? "the installed config passes once filled in"
sed 's/^/#   /' "$T/inst2.err"
printf '%s\n' "$account" | sed 's/^mailbox = .*/mailbox = CHANGE-ME@example.com/' >"$T/ph.conf"
"$X" -c "$T/ph.conf" check 2>&1 | grep -q "ph.conf:5: mailbox is not filled in yet"
tap_ok $? "a value beginning with CHANGE-ME is a placeholder too"

# No root, no network: as nobody, in a network namespace without routes.
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
    cp "$T/main.secret" "$T/nobody.secret"
    chown nobody "$T/nobody.secret"
    chmod 755 "$T"
    sed "s#^client_secret_file = .*#client_secret_file = $T/nobody.secret#" "$ex" \
        >"$T/nobody.conf"
    chmod 644 "$T/nobody.conf"
    unshare -n setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$X" -c "$T/nobody.conf" check >"$T/nobody.out" 2>&1
    rc=$?
    [ $rc -eq 0 ]
    tap_ok $? "check runs as nobody without a network (got $rc)"
    [ $rc -eq 0 ] || sed 's/^/#   /' "$T/nobody.out"
else
    # Not root: this run itself is the proof of "no root needed".
    [ "$(id -u)" != 0 ]
    tap_ok $? "check runs without root (this test runs as uid $(id -u))"
fi

# --version, --help, usage errors
v=$("$X" --version); rc=$?
[ $rc -eq 0 ] && [ "$v" = "exorelay $(cat "$TOP/VERSION")" ]
tap_ok $? "--version prints 'exorelay $(cat "$TOP/VERSION")' and exits 0 (got '$v', $rc)"
"$X" --help >"$T/help.out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "check" "$T/help.out" && grep -q -- "-c FILE" "$T/help.out"
tap_ok $? "--help lists check and -c FILE, exit 0"
"$X" -c "$T/good.conf" frobnicate >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ]
tap_ok $? "an unknown command exits 64 (EX_USAGE), got $rc"
"$X" >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ]
tap_ok $? "no command exits 64 (EX_USAGE), got $rc"
