#!/bin/sh
# t_exorelay_test.sh - "exorelay test" against the stand-ins, for every
# failure an admin meets: for each, the step that fails, the diagnosis
# (cause and fix) and the exit status (69 unreachable, 77 credentials or
# permission, 78 configuration); and the passing runs, with and without a
# real test message (--to). No secret or token may show in any output.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"

standin_start || exit 1
C=$TESTS_TMP/exorelay.conf
standin_write_conf "$C" --cert
OUT=$TESTS_TMP/out
mkdir -p "$OUT"

# variant NAME SED-SCRIPT - $TESTS_TMP/NAME.conf: the base config, edited
variant() {
    sed "$2" "$C" >"$TESTS_TMP/$1.conf"
}

# run NAME CONF [ARGS] - exorelay test; output in $OUT/NAME, status in RC
run() {
    _n=$1 _c=$2
    shift 2
    "$BIN/exorelay" -c "$_c" test "$@" >"$OUT/$_n" 2>&1
    RC=$?
}

# show NAME - the output, as TAP comments (it holds no secret: checked below)
show() {
    sed 's/^/#   /' "$OUT/$1"
}

# diagnosis NAME - everything after the step lines, on one line
diagnosis() {
    sed -n '/^[a-z]*:/,$p' "$OUT/$1" | tr '\n' ' ' | tr -s ' '
}

# expect_fail NAME STEP EXIT REGEX... - STEP is the one failed step and the
# last step shown, the exit status is EXIT, each REGEX is in the diagnosis
expect_fail() {
    _n=$1 _step=$2 _exit=$3
    shift 3
    _good=0
    [ "$RC" = "$_exit" ] || { echo "# exit $RC, want $_exit"; _good=1; }
    { [ "$(grep -c '^  [^ ].* FAILED ' "$OUT/$_n")" = 1 ] &&
        grep '^  [^ ]' "$OUT/$_n" | tail -n 1 | grep -Eq "^  $_step +FAILED " &&
        grep -q "^FAILED at step $_step: .*(exit $_exit)\$" "$OUT/$_n"; } ||
        { echo "# step $_step is not the (last, only) failed step"; _good=1; }
    for _re in "$@"; do
        diagnosis "$_n" | grep -Eq -- "$_re" || { echo "# diagnosis lacks: $_re"; _good=1; }
    done
    [ $_good = 0 ] || show "$_n"
    tap_ok $_good "$_n: fails at $_step, exit $_exit, the diagnosis names cause and fix"
}

# The scenario's secret values (no output may show one), and one secret
# file per app: $TESTS_TMP/APP-N.secret for its Nth secret, mode 0600.
SECRETS=$TESTS_TMP/secrets
(umask 077; "$PYTHON" -c '
import json, sys
for app in json.load(open(sys.argv[1]))["apps"]:
    for n, s in enumerate(app.get("secrets", []), 1):
        print(s["value"])
        with open("%s/%s-%d.secret" % (sys.argv[2], app["name"], n), "w") as f:
            f.write(s["value"])
' "$STANDIN_SCENARIO" "$TESTS_TMP" >"$SECRETS")

# add_account NAME CLIENT_ID SECRET_FILE MAILBOX [TENANT] - append a section
add_account() {
    printf '\n[account %s]\ntenant = %s\nclient_id = %s\nclient_secret_file = %s\nmailbox = %s\nauthority = %s\n' \
        "$1" "${5:-$STANDIN_TENANT}" "$2" "$3" "$4" "$STANDIN_AUTHORITY" >>"$C"
}

# --- the chain works --------------------------------------------------------
run ok "$C"
good=0
for step in config DNS connect greeting EHLO STARTTLS TLS "EHLO after TLS" token AUTH; do
    grep -Eq "^  $step +ok +[0-9]+ ms" "$OUT/ok" || { echo "# no ok line for $step"; good=1; }
done
{ [ $RC = 0 ] && grep -q '^all steps ok' "$OUT/ok"; } || good=1
[ $good = 0 ] || show ok
tap_ok $good "ok: every step from config to AUTH is ok, with its time; exit 0"
grep -Eq '^  TLS +ok .*certificate CN=localhost, issued by CN=exorelay stand-in CA, valid until [0-9-]+; chain and name verified' "$OUT/ok"
tap_ok $? "ok: the TLS step names the certificate, its issuer, its expiry, and the verification"
grep -Eq '^  token +ok .*new access token from https://127\.0\.0\.1:[0-9]+, valid [0-9]+ min' "$OUT/ok"
tap_ok $? "ok: the token step asked Entra ID for a new token and says how long it lives"
grep -Eq '^  config +ok .*account main \(no-reply@contoso\.onmicrosoft\.com\): client secret expires in [0-9]+ days \(2030-06-30\)' "$OUT/ok"
tap_ok $? "ok: the config step names the account, its mailbox and credential expiry"
[ -z "$(ls "$TESTS_TMP/state")" ]
tap_ok $? "ok: the relay's token cache (state_dir) is left alone"

run cert "$C" --account cert
[ $RC = 0 ] && grep -Eq '^  config +ok .*certificate expires in' "$OUT/cert"
tap_ok $? "cert: a certificate credential passes every step (exit $RC)"

n0=$(standin_count)
run to "$C" --to rcpt@example.com
[ $RC = 0 ] && grep -Eq '^  message +ok +[0-9]+ ms  250 2\.0\.0 OK <exorelay-test\.' "$OUT/to"
tap_ok $? "--to: the message step shows upstream's 250 reply (exit $RC)"
[ "$(standin_count)" = $((n0 + 1)) ] &&
    standin_ctl GET /messages | tr -d ' \n' | grep -q '"rcpt_to":\["rcpt@example.com"\]'
tap_ok $? "--to: exactly one test message arrived, for rcpt@example.com"

# --- network ----------------------------------------------------------------
"$PYTHON" "$TOP/tests/lib/blackhole.py" >"$TESTS_TMP/blackhole.port" &
BH_PID=$!
cleanup_add "kill $BH_PID 2>/dev/null"
wait_for test -s "$TESTS_TMP/blackhole.port" || wait_for test -s "$TESTS_TMP/blackhole.port"
BH=$(cat "$TESTS_TMP/blackhole.port")

variant timeout "s/^port = .*/port = $BH/; s/^\[upstream\]/[upstream]\nconnect_timeout = 2/"
run timeout "$TESTS_TMP/timeout.conf"
expect_fail timeout connect 69 "no answer from 127\.0\.0\.1 port $BH" "within 2 s" \
    "unreachable" "firewall or proxy blocks outgoing TCP port $BH" "connect_timeout"

# Progress: each step's name shows as it starts. Against the blackhole with
# the default connect_timeout (60 s), "connect" must show while the test
# still waits on it (the test is stopped once it does).
variant slow "s/^port = .*/port = $BH/"
"$BIN/exorelay" -c "$TESTS_TMP/slow.conf" test >"$OUT/slow" 2>&1 &
SLOW_PID=$!
cleanup_add "kill $SLOW_PID 2>/dev/null"
wait_for grep -q '^  connect *$' "$OUT/slow"
good=$?
kill -0 $SLOW_PID 2>/dev/null || good=1
grep -Eq '^  DNS +ok ' "$OUT/slow" || good=1
kill $SLOW_PID 2>/dev/null
wait $SLOW_PID 2>/dev/null
[ $good = 0 ] || show slow
tap_ok $good "progress: the connect step's name shows while it still waits (steps before it done)"

variant refused "s/^port = .*/port = $(free_port)/"
run refused "$TESTS_TMP/refused.conf"
expect_fail refused connect 69 "refused the connection" "server and port in \[upstream\]"

variant dns "s/^server = .*/server = no-such-host.invalid/"
RES_OPTIONS="timeout:1 attempts:1" run dns "$TESTS_TMP/dns.conf"
expect_fail dns DNS 69 "cannot resolve upstream server no-such-host\.invalid" "resolv\.conf"

variant untrusted "/^ca_file/d"
run untrusted "$TESTS_TMP/untrusted.conf"
expect_fail untrusted TLS 69 "could not be verified" "issued by CN=exorelay stand-in CA" \
    "nothing was sent" "ca_file in \[upstream\]" "system store"

variant wrongname "s/^port = .*/port = $STANDIN_SMTP_WRONGNAME_PORT/"
run wrongname "$TESTS_TMP/wrongname.conf"
expect_fail wrongname TLS 69 "is for DNS:wrong\.example\.net" "not for 127\.0\.0\.1"

variant proxy "s|^authority = .*|authority = https://127.0.0.1:$BH|; s/^\[upstream\]/[upstream]\nconnect_timeout = 2/"
run proxy "$TESTS_TMP/proxy.conf"
expect_fail proxy token 69 "no answer from Entra ID \(127\.0\.0\.1 port $BH\) in time" \
    "through a proxy, set proxy ="

# proxy = set, the proxy down or silent: the proxy is the culprit, named as
# such on the token line and in the diagnosis; Entra ID was not reached.
DEADPROXY=$(free_port)
variant proxydown "s|^authority = \(.*\)|authority = \1\nproxy = http://127.0.0.1:$DEADPROXY|"
run proxydown "$TESTS_TMP/proxydown.conf"
expect_fail proxydown token 69 "cannot connect to the proxy http://127\.0\.0\.1:$DEADPROXY" \
    "Entra ID was not reached" "start the proxy, or correct proxy = in the account"
grep -Eq "^  token +FAILED +[0-9]+ ms  cannot connect to the proxy http://127\.0\.0\.1:$DEADPROXY" "$OUT/proxydown"
tap_ok $? "proxydown: the token line names the proxy"
variant proxysilent "s|^authority = \(.*\)|authority = \1\nproxy = http://127.0.0.1:$BH|; s/^\[upstream\]/[upstream]\nconnect_timeout = 2/"
run proxysilent "$TESTS_TMP/proxysilent.conf"
expect_fail proxysilent token 69 "no answer from the proxy http://127\.0\.0\.1:$BH in time" \
    "Entra ID was not reached" "check that the proxy runs"

# --- Entra ID (AADSTS) ------------------------------------------------------
variant t90002 "s/^tenant = $STANDIN_TENANT/tenant = 0badc0de-0000-4000-8000-000000000000/"
run t90002 "$TESTS_TMP/t90002.conf"
expect_fail t90002 token 78 "AADSTS90002" "Directory \(tenant\) ID was not found" "set tenant ="

variant t700016 "s/^client_id = $STANDIN_CLIENT_ID/client_id = 0badc0de-0000-4000-8000-000000000001/"
run t700016 "$TESTS_TMP/t700016.conf"
expect_fail t700016 token 78 "AADSTS700016" "Application \(client\) ID is not known" "check client_id ="

variant t1002012 "s|^authority = \(.*\)|authority = \1\nscope = https://outlook.office365.com|"
run t1002012 "$TESTS_TMP/t1002012.conf"
expect_fail t1002012 token 78 "AADSTS1002012" "lacks /\.default" \
    "scope = https://outlook\.office365\.com/\.default"

variant t70011 "s|^authority = \(.*\)|authority = \1\nscope = https://graph.example.com/.default|"
run t70011 "$TESTS_TMP/t70011.conf"
expect_fail t70011 token 78 "AADSTS70011" "scope is invalid"

(umask 077; printf '%s' 1706d074-8131-4313-82d7-f7b648124265 >"$TESTS_TMP/secret-id")
variant t7000215 "s|^client_secret_file = .*|client_secret_file = $TESTS_TMP/secret-id|"
run t7000215 "$TESTS_TMP/t7000215.conf"
expect_fail t7000215 token 77 "AADSTS7000215" "client secret is wrong" "Value" "not its Secret ID"
grep -Eq '^  token +FAILED +[0-9]+ ms  Entra ID \(127\.0\.0\.1:[0-9]+\): the client secret is wrong \(AADSTS7000215\)$' "$OUT/t7000215"
tap_ok $? "t7000215: the token line says Entra ID (its host) refused, and why; no SMTP code"

variant t7000222 "s|^client_secret_file = .*|client_secret_file = $TESTS_TMP/main-2.secret|"
run t7000222 "$TESTS_TMP/t7000222.conf"
expect_fail t7000222 token 77 "AADSTS7000222" "client secret has expired" \
    "create a new client secret" "credential_expiry"

# A certificate never uploaded to the app: made with "exorelay credential new".
"$BIN/exorelay" -c "$C" credential new --account cert --dir "$TESTS_TMP" --bits 2048 \
    >"$OUT/credential" 2>&1
NEWCERT=$(ls "$TESTS_TMP"/cert-*.pem | head -n 1)
NEWKEY=${NEWCERT%.pem}.key
cat >>"$C" <<CONF

[account certnew]
tenant = $STANDIN_TENANT
client_id = $STANDIN_CLIENT_ID
certificate_file = $NEWCERT
private_key_file = $NEWKEY
mailbox = $STANDIN_MAILBOX
authority = $STANDIN_AUTHORITY
CONF
run t700027 "$C" --account certnew
expect_fail t700027 token 77 "AADSTS700027" "did not accept the certificate assertion" \
    "upload the certificate"

standin_ctl POST /faults '{"token_error": {"row": "tenant_malformed", "count": 1}}' >/dev/null
run t900023 "$C"
expect_fail t900023 token 78 "AADSTS900023" "Directory \(tenant\) ID is malformed"

standin_ctl POST /faults '{"token_error": {"row": "throttled", "retry_after": 7, "count": 1}}' >/dev/null
run throttled "$C"
expect_fail throttled token 69 "throttling token requests \(HTTP 429\)" "waits 7 seconds"

standin_ctl POST /faults '{"token_error": {"row": "transient", "count": 1}}' >/dev/null
run transient "$C"
expect_fail transient token 69 "server error \(HTTP 503\)" "retries"
standin_ctl DELETE /faults >/dev/null

# --- Exchange (AUTH, message) -----------------------------------------------
add_account nosp cf3f03be-ba49-45fc-94ef-a5ad25ed801c "$TESTS_TMP/nosp-1.secret" "$STANDIN_MAILBOX"
run nosp "$C" --account nosp
expect_fail nosp AUTH 77 "535 5\.7\.3" "New-ServicePrincipal" \
    "Enterprise application's Object ID \(not the App registration's\)" \
    "FullAccess on the mailbox \(Add-MailboxPermission\)" "RBAC" "hours"
grep -Eq '^  AUTH +retry .*535 5\.7\.3' "$OUT/nosp"
tap_ok $? "nosp: a refused token is retried once with a fresh one, and the line says so"

add_account noperm 3533a98b-1a65-48a0-bc89-9e9019202e9c "$TESTS_TMP/noperm-1.secret" "$STANDIN_MAILBOX"
run noperm "$C" --account noperm
expect_fail noperm AUTH 77 "535 5\.7\.3" "Add-MailboxPermission"

add_account disabled "$STANDIN_CLIENT_ID" "$TESTS_TMP/main-1.secret" disabled@contoso.onmicrosoft.com
run disabled "$C" --account disabled
expect_fail disabled AUTH 77 "SMTP AUTH is disabled for disabled@contoso" "535 5\.7\.139" \
    'Set-CASMailbox disabled@contoso\.onmicrosoft\.com -SmtpClientAuthenticationDisabled \$false'

add_account fabrikam 80ccf362-333e-4f4f-9875-bf452f770307 "$TESTS_TMP/fabrikam-1.secret" \
    relay@fabrikam.onmicrosoft.com fabrikam.onmicrosoft.com
run fabrikam "$C" --account fabrikam
expect_fail fabrikam AUTH 77 "535 5\.7\.139" "Set-TransportConfig -SmtpClientAuthenticationDisabled"

standin_ctl POST /scenario '{"smtp": {"max_sessions_per_mailbox": 0}}' >/dev/null
run busy "$C"
standin_ctl POST /scenario '{"smtp": {"max_sessions_per_mailbox": 3}}' >/dev/null
expect_fail busy AUTH 69 "432 4\.3\.2" "3 at a time per mailbox" "max_connections"
grep -Eq '^  AUTH +FAILED .*432 4\.3\.2 Concurrent connections limit exceeded' "$OUT/busy"
tap_ok $? "busy: the AUTH line shows Exchange's own 432 reply"

run sendas "$C" --to rcpt@example.com --from boss@contoso.onmicrosoft.com
expect_fail sendas message 77 "may not send as boss@contoso\.onmicrosoft\.com" \
    "554 5\.2\.252" "rewrite the sender to the mailbox" \
    "Add-RecipientPermission -Identity boss@contoso\.onmicrosoft\.com -Trustee no-reply@contoso\.onmicrosoft\.com -AccessRights SendAs"
grep -Eq '^  message +FAILED .*554 5\.2\.252 SendAsDenied' "$OUT/sendas"
tap_ok $? "sendas: the message line shows Exchange's own reply"

# --- configuration ----------------------------------------------------------
run noaccount "$C" --account nosuch
expect_fail noaccount config 78 "--account"

variant broken '$a bogus line'
run broken "$TESTS_TMP/broken.conf"
expect_fail broken config 78 "exorelay check"
grep -q "broken.conf:[0-9]*: expected" "$OUT/broken"
tap_ok $? "broken: the config's own FILE:LINE error is shown"

run usage "$C" --to
[ $RC = 64 ]
tap_ok $? "usage: --to without an address is a usage error (exit $RC)"

# --- rotation: two certificates uploaded, both work -------------------------
standin_ctl POST /scenario "{\"apps\": [{\"client_id\": \"$STANDIN_CLIENT_ID\",
    \"certificates\": [{\"generate\": \"main\"}, {\"file\": \"$NEWCERT\"}]}]}" >/dev/null
run rot_new "$C" --account certnew
RC_NEW=$RC
run rot_old "$C" --account cert
[ $RC = 0 ] && [ $RC_NEW = 0 ]
tap_ok $? "rotation: with both certificates uploaded, the old and the new one pass"

# --- no secret, no token in any output --------------------------------------
leak=0
for f in "$OUT"/*; do
    if grep -qF -f "$SECRETS" "$f" || grep -Eq '[A-Za-z0-9._~+/=-]{200,}' "$f"; then
        echo "# $(basename "$f"): shows a secret or a token-like string"
        leak=1
    fi
done
tap_ok $leak "no output shows a secret or a token ($(ls "$OUT" | wc -l) outputs)"
