#!/bin/sh
# t_token.sh - the token engine and `exorelay token` against the Entra ID
# stand-in: secret and certificate credentials, one request for 100 runs
# in a row and for 20 at once, background refresh of a 2-minute token
# (time sped up x10 with libfaketime), every error case with its own
# diagnosis and exit code, and no secret or token in a debug log.
# Tokens and secrets stay in files; the test never prints them.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"

standin_start || { echo "not ok 1 - stand-in starts"; exit 1; }
BASE="$TESTS_TMP/base.conf"
standin_write_conf "$BASE" --cert
OUT="$TESTS_TMP/out"
ERR="$TESTS_TMP/err"
SECRET="$TESTS_TMP/main.secret"

# variant NAME [sed args] - $TESTS_TMP/NAME.conf: BASE edited, own state dir
variant() {
    _n=$1; shift
    mkdir -p "$TESTS_TMP/state-$_n"
    chmod 0700 "$TESTS_TMP/state-$_n"
    sed -e "s|^state_dir = .*|state_dir = $TESTS_TMP/state-$_n|" "$@" "$BASE" \
        >"$TESTS_TMP/$_n.conf"
    echo "$TESTS_TMP/$_n.conf"
}

# token CONF [args] - run exorelay token; stdout in $OUT, stderr in $ERR, $RC
token() {
    _c=$1; shift
    "$BIN/exorelay" -c "$_c" token "$@" >"$OUT" 2>"$ERR"
    RC=$?
}

requests() { standin_stat token_requests; }

# one_token_line FILE - exactly one line, a long token, nothing else
one_token_line() {
    [ "$(wc -l <"$1")" -eq 1 ] && [ "$(wc -c <"$1")" -gt 1000 ] &&
        ! grep -q '[[:space:]]' "$(printf '%s' "$1")" 2>/dev/null &&
        [ "$(tr -d '\n' <"$1" | tr -d 'A-Za-z0-9._~+/=-' | wc -c)" -eq 0 ]
}

# smtp_auth TOKENFILE - does Exchange (the stand-in) accept the token?
smtp_auth() {
    printf 'From: %s\r\nTo: rcpt@example.com\r\nSubject: t_token\r\n\r\nhello\r\n' \
        "$STANDIN_MAILBOX" >"$TESTS_TMP/msg"
    curl -sS --ssl-reqd --cacert "$STANDIN_CA" --login-options AUTH=XOAUTH2 \
        --user "$STANDIN_MAILBOX:" --oauth2-bearer "$(cat "$1")" \
        --mail-from "$STANDIN_MAILBOX" --mail-rcpt rcpt@example.com \
        -T "$TESTS_TMP/msg" "smtp://127.0.0.1:$STANDIN_SMTP_PORT" >/dev/null 2>&1
}

# --- background refresh of a 2-minute token, time x10 ------------------------
# Runs beside the later parts of the test (after the CPU-heavy 100 and 20
# runs: starving a sped-up clock would distort it), against its own
# stand-in (so that the request counts stay exact): 4 minutes of the engine's clock in
# about 24 s, a token_get() every second; the refresher keeps the token
# fresh, so only the first call fetches. Two 503s injected once that first
# fetch reached the stand-in (the refresher meets them) must not disturb
# the callers.
soak_fetched() { [ "$(standin_stat token_requests)" -ge 1 ]; }
soak() {
    trap '_run_cleanup' EXIT
    _cleanup=""
    STANDIN_DIR="$TESTS_TMP/standin-soak"
    standin_start --token-lifetime 120 || exit 1
    _c="$TESTS_TMP/soak.conf"
    sed -e "s|^authority = .*|authority = $STANDIN_AUTHORITY|" \
        -e "s|^ca_file = .*|ca_file = $STANDIN_CA|" -e '/^\[account cert\]/,$d' \
        -e "s|^state_dir = .*|state_dir = $TESTS_TMP/state-soak|" "$BASE" >"$_c"
    mkdir -p "$TESTS_TMP/state-soak"
    # libfaketime is an LD_PRELOAD library: under AddressSanitizer it
    # cannot load, and the sped-up run is skipped (bench/token_soak.sh is
    # the real-time version).
    if ! faketime -f '+0 x10' "$BUILD/tests/tools/tool_token_loop" 2>&1 |
        grep -q '^usage:'; then
        : >"$TESTS_TMP/soak.skip"
        exit 0
    fi
    faketime -f '+0 x10' "$BUILD/tests/tools/tool_token_loop" "$_c" main 240 1000 \
        >"$TESTS_TMP/soak" 2>"$TESTS_TMP/soak.err" &
    _loop=$!
    wait_for soak_fetched
    standin_ctl POST /faults '{"token_error": {"row": "transient", "count": 2}}' >/dev/null
    wait $_loop
    standin_stat token_requests >"$TESTS_TMP/soak.requests"
}

# --- credentials -----------------------------------------------------------
C=$(variant secret)
n0=$(requests)
token "$C"
ok "secret: exit 0" test "$RC" -eq 0
ok "secret: stdout is the token and a newline, nothing else" one_token_line "$OUT"
cp "$OUT" "$TESTS_TMP/tok-secret"
ok "secret: Exchange accepts the token (XOAUTH2)" smtp_auth "$TESTS_TMP/tok-secret"
ok "secret: one request" test "$(requests)" -eq $((n0 + 1))
ok "state file is mode 0600" sh -c "ls -l '$TESTS_TMP/state-secret'/token-main-*.json | grep -q '^-rw-------'"

token "$C" --account cert
ok "certificate (PS256, x5t#S256): exit 0" test "$RC" -eq 0
ok "certificate: one token line" one_token_line "$OUT"
cp "$OUT" "$TESTS_TMP/tok-cert"
ok "certificate: Exchange accepts the token" smtp_auth "$TESTS_TMP/tok-cert"
ok "certificate: its own state file" sh -c "ls '$TESTS_TMP/state-secret'/token-cert-*.json >/dev/null"

C=$(variant rs256 -e 's/^jwt_alg = .*/jwt_alg = RS256/')
token "$C" --account cert
ok "certificate (RS256, x5t): exit 0" test "$RC" -eq 0
ok "certificate RS256: one token line" one_token_line "$OUT"

token "$C" --account nosuch
ok "unknown account: usage error 64, nothing on stdout" sh -c "[ $RC -eq 64 ] && [ ! -s '$OUT' ]"

# --- one request for 100 in a row, and for 20 at once ------------------------
C=$(variant seq)
n0=$(requests)
i=0; bad=0
while [ $i -lt 100 ]; do
    "$BIN/exorelay" -c "$C" token >"$TESTS_TMP/out-seq.$i" 2>/dev/null || bad=$((bad + 1))
    i=$((i + 1))
done
ok "100 runs in a row all succeed" test "$bad" -eq 0
ok "100 runs in a row make one request ($(( $(requests) - n0 )))" test "$(requests)" -eq $((n0 + 1))
same=$(cat "$TESTS_TMP"/out-seq.* | sort -u | wc -l)
ok "and print the same token" test "$same" -eq 1

C=$(variant par)
standin_ctl POST /faults '{"token_delay_ms": 500}' >/dev/null
n0=$(requests)
i=0; pids=""
while [ $i -lt 20 ]; do
    ( "$BIN/exorelay" -c "$C" token >"$TESTS_TMP/out-par.$i" 2>/dev/null
      echo $? >"$TESTS_TMP/rc-par.$i" ) &
    pids="$pids $!"
    i=$((i + 1))
done
wait $pids
standin_ctl DELETE /faults >/dev/null
ok "20 at once with an empty cache all succeed" \
    test "$(cat "$TESTS_TMP"/rc-par.* | sort -u)" = 0
ok "20 at once make one request ($(( $(requests) - n0 )))" test "$(requests)" -eq $((n0 + 1))
ok "and print the same token" test "$(cat "$TESTS_TMP"/out-par.* | sort -u | wc -l)" -eq 1

soak &
soak_pid=$!
cleanup_add "kill $soak_pid 2>/dev/null"

# --- state file trouble is never fatal ---------------------------------------
f=$(ls "$TESTS_TMP"/state-par/token-main-*.json)
printf '{"version": 1, "tenant": "x", "access_tok' >"$f"
n0=$(requests)
token "$C"
ok "a corrupt state file is ignored: exit 0" test "$RC" -eq 0
ok "... one new request" test "$(requests)" -eq $((n0 + 1))
ok "... and the file is replaced by a good one" \
    "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not d["access_token"])' "$f"
cp "$SECRET" "$TESTS_TMP/rotated.secret"
printf 'x' >>"$TESTS_TMP/rotated.secret"
C2=$(variant par2 -e "s|^state_dir = .*|state_dir = $TESTS_TMP/state-par|" \
    -e "s|^client_secret_file = .*|client_secret_file = $TESTS_TMP/rotated.secret|")
token "$C2"
ok "a state file of another credential is not used (wrong secret now: exit 77)" \
    test "$RC" -eq 77

# --- invalidate: a refused token is replaced ---------------------------------
C=$(variant inval)
"$BUILD/tests/tools/tool_token_loop" "$C" main 0 0 invalidate >"$TESTS_TMP/inval" 2>/dev/null
ok "token_invalidate: the next token_get fetches a new token" \
    grep -q 'changed=1 requests=2' "$TESTS_TMP/inval"

# --- each error: its own diagnosis and exit code -------------------------------
# expect NAME CONF EXIT "cause words" "fix words" [token args]
expect() {
    _name=$1 _conf=$2 _exit=$3 _cause=$4 _fix=$5; shift 5
    token "$_conf" "$@"
    if [ "$RC" -eq "$_exit" ] && [ ! -s "$OUT" ] && grep -qF -- "$_cause" "$ERR" &&
        grep -qF -- "$_fix" "$ERR"; then
        tap_ok 0 "$_name: exit $_exit, diagnosis and fix on stderr"
    else
        tap_ok 1 "$_name: exit $_exit, diagnosis and fix on stderr (got $RC)"
        sed 's/^/#   /' "$ERR"
    fi
}

expect "unknown tenant (AADSTS90002)" \
    "$(variant e1 -e 's/^tenant = 6714.*/tenant = 11111111-2222-3333-4444-555555555555/')" \
    77 "Directory (tenant) ID was not found" "tenant ="
C=$(variant e2)
standin_ctl POST /faults '{"token_error": {"row": "tenant_malformed", "count": 1}}' >/dev/null
expect "malformed tenant (AADSTS900023)" "$C" 77 "Directory (tenant) ID is malformed" "tenant ="
expect "app not in tenant (AADSTS700016)" \
    "$(variant e3 -e 's/^tenant = 6714.*/tenant = fabrikam.onmicrosoft.com/')" \
    77 "Application (client) ID is not known" "client_id ="
printf '1706d074-8131-4313-82d7-f7b648124265' >"$TESTS_TMP/secret-id"
chmod 0600 "$TESTS_TMP/secret-id"
expect "secret ID instead of value (AADSTS7000215)" \
    "$(variant e4 -e "s|^client_secret_file = .*|client_secret_file = $TESTS_TMP/secret-id|")" \
    77 "client secret is wrong" "not its Secret ID"
printf 'Qx8~stand.in-Expired_Secret.Value012345678' >"$TESTS_TMP/expired"
chmod 0600 "$TESTS_TMP/expired"
expect "expired secret (AADSTS7000222)" \
    "$(variant e5 -e "s|^client_secret_file = .*|client_secret_file = $TESTS_TMP/expired|")" \
    77 "client secret has expired" "create a new client secret"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=unregistered -days 2 \
    -keyout "$TESTS_TMP/other.key" -out "$TESTS_TMP/other.pem" >/dev/null 2>&1
chmod 0600 "$TESTS_TMP/other.key"
expect "certificate not uploaded (AADSTS700027)" \
    "$(variant e6 -e "s|^certificate_file = .*|certificate_file = $TESTS_TMP/other.pem|" \
        -e "s|^private_key_file = .*|private_key_file = $TESTS_TMP/other.key|")" \
    77 "did not accept the certificate assertion" "upload the certificate" --account cert
expect "scope without /.default (AADSTS1002012)" \
    "$(variant e7 -e '/^authority = /a scope = https://outlook.office365.com/SMTP.Send')" \
    77 "lacks /.default" "scope = https://outlook.office365.com/.default"
expect "other scope (AADSTS70011)" \
    "$(variant e8 -e '/^authority = /a scope = https://nothing.example.invalid/.default')" \
    77 "scope is invalid" "scope = https://outlook.office365.com/.default"
C=$(variant e9)
standin_ctl POST /faults '{"token_error": {"row": "throttled", "count": 1, "retry_after": 7}}' >/dev/null
expect "throttled (429, Retry-After)" "$C" 75 "throttling token requests (HTTP 429)" "waits 7 seconds"
C=$(variant e10)
standin_ctl POST /faults '{"token_error": {"row": "transient", "count": 1}}' >/dev/null
n0=$(requests)
expect "HTTP 503" "$C" 75 "server error (HTTP 503)" "retries"
expect "right after a 503: the recorded diagnosis, no new request" "$C" 75 \
    "server error (HTTP 503)" "retries"
ok "... only one request was made ($(( $(requests) - n0 )))" test "$(requests)" -eq $((n0 + 1))
ok "Entra's trace and correlation IDs are in the detail" \
    sh -c "grep -q 'trace_id=[0-9a-f-]* correlation_id=' '$ERR'"
# authority with a path the endpoint does not serve: a 404 text page
expect "unparsable answer (404 page)" \
    "$(variant e11 -e "s|^authority = .*|authority = $STANDIN_AUTHORITY/common|")" \
    75 "not an Entra ID token reply" "authority ="
expect "authority not https (refused by the config check: 78)" \
    "$(variant e11b -e "s|^authority = .*|authority = $STANDIN_CTL|")" \
    78 "is not an https:// URL" "tokens travel only over TLS"
expect "TLS not verifiable (no ca_file)" "$(variant e12 -e '/^ca_file = /d')" 75 \
    "could not be verified: unable to get local issuer certificate (issuer:" "ca_file ="
# ca_file ADDS trust anchors: in a private mount namespace whose system CA
# bundle is the stand-in's CA, an unrelated ca_file must not stop the
# system store from working.
BUNDLE=$(curl-config --ca 2>/dev/null)
C=$(variant ca -e "s|^ca_file = .*|ca_file = $TESTS_TMP/other.pem|")
if [ -f "$BUNDLE" ] && unshare -m true 2>/dev/null; then
    unshare -m sh -c "mount --bind '$STANDIN_CA' '$BUNDLE' &&
        '$BIN/exorelay' -c '$C' token >'$OUT' 2>'$ERR'"
    ok "ca_file adds to the system store (system: the stand-in's CA, ca_file: another)" \
        one_token_line "$OUT"
else
    echo "ok $((_tap_n + 1)) # SKIP no private mount namespace (unshare -m) here"
    _tap_n=$((_tap_n + 1))
fi
token "$(variant ca2 -e "s|^ca_file = .*|ca_file = $TESTS_TMP/other.pem|")"
ok "... while that ca_file alone does not make the stand-in trusted (exit $RC)" test "$RC" -eq 75
dead=$(free_port)
expect "connection refused" \
    "$(variant e13 -e "s|^authority = .*|authority = https://127.0.0.1:$dead|")" \
    75 "cannot connect to Entra ID (127.0.0.1 port $dead)" "firewall"
expect "DNS failure" \
    "$(variant e14 -e "s|^authority = .*|authority = https://login.nonexistent.invalid|")" \
    75 "cannot resolve Entra ID's host login.nonexistent.invalid (DNS)" "DNS"
# A listener whose accept queue is full drops SYNs: a real connect timeout.
"$PYTHON" -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
cs = []
for i in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(s.getsockname())
    except BlockingIOError: pass
    cs.append(c)
print(s.getsockname()[1], flush=True)
time.sleep(60)
' >"$TESTS_TMP/blackhole.port" &
bh=$!
cleanup_add "kill $bh 2>/dev/null"
wait_for test -s "$TESTS_TMP/blackhole.port"
sleep 0.2
expect "connect timeout (suggests a proxy)" \
    "$(variant e15 -e "s|^authority = .*|authority = https://127.0.0.1:$(cat "$TESTS_TMP/blackhole.port")|" \
        -e '/^\[upstream\]/a connect_timeout = 1')" \
    75 "no answer from Entra ID (127.0.0.1 port $(cat "$TESTS_TMP/blackhole.port")) in time" "set proxy ="
# proxy = set and the proxy down or silent: the proxy is named, not Entra ID
expect "proxy down: the proxy is the culprit" \
    "$(variant e17 -e "s|^authority = \(.*\)|authority = \1\nproxy = http://127.0.0.1:$dead|")" \
    75 "cannot connect to the proxy http://127.0.0.1:$dead" \
    "start the proxy, or correct proxy = in the account"
expect "proxy silent: the proxy is the culprit" \
    "$(variant e18 -e "s|^authority = \(.*\)|authority = \1\nproxy = http://127.0.0.1:$(cat "$TESTS_TMP/blackhole.port")|" \
        -e '/^\[upstream\]/a connect_timeout = 1')" \
    75 "no answer from the proxy http://127.0.0.1:$(cat "$TESTS_TMP/blackhole.port") in time; Entra ID was not reached" \
    "check that the proxy runs"
kill $bh 2>/dev/null
# a proxy that runs but refuses to tunnel to the token endpoint
"$PYTHON" "$TOP/tests/lib/refusing_proxy.py" >"$TESTS_TMP/proxy403.port" &
p403=$!
cleanup_add "kill $p403 2>/dev/null"
wait_for test -s "$TESTS_TMP/proxy403.port"
PORT403=$(cat "$TESTS_TMP/proxy403.port")
AUTH_PORT=$(echo "$STANDIN_AUTHORITY" | sed 's/.*://')
expect "proxy refuses CONNECT: the proxy named, with its answer" \
    "$(variant e19 -e "s|^authority = \(.*\)|authority = \1\nproxy = http://127.0.0.1:$PORT403|")" \
    75 "the proxy http://127.0.0.1:$PORT403 refused to connect to Entra ID (127.0.0.1 port $AUTH_PORT): HTTP 403" \
    "allow 127.0.0.1 port $AUTH_PORT on the proxy"
kill $p403 2>/dev/null
# (the stand-in's handler sleeps on after the client left; it chose its
# fate when the request came, so faults set meanwhile are not its)
# Had it waited for the answer (10 s), it would have got a token (exit 0).
standin_ctl POST /faults '{"token_delay_ms": 10000}' >/dev/null
t0=$(date +%s)
expect "hung endpoint: the request gives up" \
    "$(variant e16 -e '/^\[upstream\]/a connect_timeout = 1')" 75 "in time" "proxy"
echo "# it gave up after $(( $(date +%s) - t0 )) s (connect_timeout = 1)"
standin_ctl DELETE /faults >/dev/null
chmod 0644 "$TESTS_TMP/other.key"
expect "group/other-readable private key is refused (by the config check: 78)" \
    "$(variant e17 -e "s|^certificate_file = .*|certificate_file = $TESTS_TMP/other.pem|" \
        -e "s|^private_key_file = .*|private_key_file = $TESTS_TMP/other.key|")" \
    78 "accessible by others" "chmod 600" --account cert

# --- debug log: neither the secret nor any token --------------------------------
C=$(variant debug -e 's/^log_level = .*/log_level = debug/')
: >"$TESTS_TMP/debug.log"
for args in "" "" "--account cert" "--account cert"; do
    "$BIN/exorelay" -c "$C" token $args >>"$TESTS_TMP/debug.tokens" 2>>"$TESTS_TMP/debug.log"
done
"$BIN/exorelay" -c "$(variant debug2 -e 's/^log_level = .*/log_level = debug/' \
    -e "s|^client_secret_file = .*|client_secret_file = $TESTS_TMP/secret-id|")" token \
    >/dev/null 2>>"$TESTS_TMP/debug.log"
ok "the debug run logged something (requests, cache hits, a failure)" \
    sh -c "grep -q 'debug: token:' '$TESTS_TMP/debug.log' && grep -q 'AADSTS7000215' '$TESTS_TMP/debug.log'"
ok "the debug log does not contain the client secret" \
    sh -c "! grep -qF -f '$SECRET' '$TESTS_TMP/debug.log'"
ok "the debug log does not contain any token" \
    sh -c "! grep -qF -f '$TESTS_TMP/debug.tokens' '$TESTS_TMP/debug.log'"
ok "the debug log has no JWT or token fragment (eyJ / EwB)" \
    sh -c "! grep -q -e 'eyJ' -e 'EwB' '$TESTS_TMP/debug.log'"
ok "no stderr of any run contains a token" \
    sh -c "! cat '$TESTS_TMP'/*.err '$ERR' 2>/dev/null | grep -qF -f '$TESTS_TMP/debug.tokens'"

# --- the background refresh, checked -----------------------------------------
wait $soak_pid
if [ -e "$TESTS_TMP/soak.skip" ]; then
    echo "ok $((_tap_n + 1)) # SKIP libfaketime cannot run this build (sanitizers?)"
    exit 0
fi
sed 's/^/# /' "$TESTS_TMP/soak"
kv() { tr ' ' '\n' <"$TESTS_TMP/soak" | sed -n "s/^$1=//p"; }
# (240 calls on an idle machine; the sped-up clock runs on while a loaded
# machine keeps the process waiting, so fewer there: the count only shows
# that the loop ran)
ok "refresh: the calls ran ($(kv calls))" test "$(kv calls)" -ge 24
ok "refresh: every call got a token" test "$(kv failures)" -eq 0
ok "refresh: never a token with under 60 s left (min $(kv min_left) s)" test "$(kv min_left)" -ge 60
ok "refresh: only the first call fetched (inline_fetches $(kv inline_fetches))" \
    test "$(kv inline_fetches)" -le 1
ok "refresh: no call waited for another's fetch after the start" test "$(kv waited)" -le 1
ok "refresh: the refresher renewed the token ($(kv distinct) distinct tokens)" \
    test "$(kv distinct)" -ge 6
ok "refresh: the injected 503s were seen and retried ($(kv fetch_failures) failed fetches)" \
    sh -c "[ $(kv fetch_failures) -ge 1 ] && grep -q 'server error (HTTP 503)' '$TESTS_TMP/soak.err'"
ok "refresh: the stand-in counted the engine's requests ($(cat "$TESTS_TMP/soak.requests"))" \
    test "$(cat "$TESTS_TMP/soak.requests")" -ge "$(kv requests)"
ok "refresh: no token in its log" \
    sh -c "! grep -qF -f '$TESTS_TMP/debug.tokens' '$TESTS_TMP/soak.err'"
