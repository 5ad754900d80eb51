#!/bin/sh
# t_standin_token.sh - the Entra ID stand-in answers token requests from curl
# as Microsoft's documented token endpoint (tests/standin/README.md) says: success form, every error row with its
# status, error, AADSTS code and description format, 429 + Retry-After, and
# the faults and scenario changes of the control API. Tokens stay in files.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"

standin_start || { echo "not ok 1 - stand-in starts"; exit 1; }
SECRET="$TESTS_TMP/secret"
standin_secret main >"$SECRET"
CHECK="$PYTHON $TOP/tests/standin/check_token_reply.py"
OUT="$TESTS_TMP/reply"

# post TENANT [curl args...] - token request; body in $OUT, status in $STATUS
post() {
    _t=$1; shift
    STATUS=$(curl -sS --cacert "$STANDIN_CA" -o "$OUT" -w '%{http_code}' \
        "$@" "$STANDIN_AUTHORITY/$_t/oauth2/v2.0/token")
}

# form CLIENT_ID SECRET_FILE SCOPE - the usual secret form fields
form() {
    echo "-d grant_type=client_credentials -d client_id=$1 \
        --data-urlencode client_secret@$2 --data-urlencode scope=$3"
}

post "$STANDIN_TENANT" $(form "$STANDIN_CLIENT_ID" "$SECRET" "$STANDIN_SCOPE")
ok "secret in the form, tenant by GUID: 200, Bearer, integer expires_in, long token" \
    $CHECK "$OUT" "$STATUS" ok 3599
cp "$OUT.token" "$TESTS_TMP/token1"

post "$STANDIN_DOMAIN" $(form "$STANDIN_CLIENT_ID" "$SECRET" "$STANDIN_SCOPE")
ok "tenant by verified domain" $CHECK "$OUT" "$STATUS" ok
ok "each token is new" sh -c "! cmp -s '$OUT.token' '$TESTS_TMP/token1'"

post "$STANDIN_DOMAIN" -u "$STANDIN_CLIENT_ID:$(cat "$SECRET")" \
    -d grant_type=client_credentials --data-urlencode scope="$STANDIN_SCOPE"
ok "HTTP Basic client authentication" $CHECK "$OUT" "$STATUS" ok

post 11111111-2222-3333-4444-555555555555 $(form "$STANDIN_CLIENT_ID" "$SECRET" "$STANDIN_SCOPE")
ok "unknown tenant: 400 invalid_request AADSTS90002" \
    $CHECK "$OUT" "$STATUS" 400 invalid_request 90002
post "no_such~tenant" $(form "$STANDIN_CLIENT_ID" "$SECRET" "$STANDIN_SCOPE")
ok "malformed tenant: 400 invalid_request AADSTS900023" \
    $CHECK "$OUT" "$STATUS" 400 invalid_request 900023
post fabrikam.onmicrosoft.com $(form "$STANDIN_CLIENT_ID" "$SECRET" "$STANDIN_SCOPE")
ok "app registered in another tenant: 400 unauthorized_client AADSTS700016" \
    $CHECK "$OUT" "$STATUS" 400 unauthorized_client 700016

printf 'not-the-secret' >"$TESTS_TMP/wrong"
post "$STANDIN_TENANT" $(form "$STANDIN_CLIENT_ID" "$TESTS_TMP/wrong" "$STANDIN_SCOPE")
ok "wrong secret: 401 invalid_client AADSTS7000215" \
    $CHECK "$OUT" "$STATUS" 401 invalid_client 7000215
# The secret ID instead of its value is the classic mistake.
printf '1706d074-8131-4313-82d7-f7b648124265' >"$TESTS_TMP/secret-id"
post "$STANDIN_TENANT" $(form "$STANDIN_CLIENT_ID" "$TESTS_TMP/secret-id" "$STANDIN_SCOPE")
ok "secret ID instead of value: AADSTS7000215" \
    $CHECK "$OUT" "$STATUS" 401 invalid_client 7000215
ok "description of 7000215 says to use the value, not the ID" \
    grep -q 'client secret value, not the client secret ID' "$OUT"
printf 'Qx8~stand.in-Expired_Secret.Value012345678' >"$TESTS_TMP/expired"
post "$STANDIN_TENANT" $(form "$STANDIN_CLIENT_ID" "$TESTS_TMP/expired" "$STANDIN_SCOPE")
ok "expired secret: 401 invalid_client AADSTS7000222" \
    $CHECK "$OUT" "$STATUS" 401 invalid_client 7000222

post "$STANDIN_TENANT" $(form "$STANDIN_CLIENT_ID" "$SECRET" https://outlook.office365.com/SMTP.Send)
ok "scope without /.default: 400 invalid_scope AADSTS1002012" \
    $CHECK "$OUT" "$STATUS" 400 invalid_scope 1002012
post "$STANDIN_TENANT" $(form "$STANDIN_CLIENT_ID" "$SECRET" https://nothing.example.invalid/.default)
ok "other resource's /.default: 400 invalid_scope AADSTS70011" \
    $CHECK "$OUT" "$STATUS" 400 invalid_scope 70011
post "$STANDIN_TENANT" -d grant_type=client_credentials -d client_id="$STANDIN_CLIENT_ID" \
    --data-urlencode scope="$STANDIN_SCOPE"
ok "no credential: 401 invalid_client AADSTS7000218" \
    $CHECK "$OUT" "$STATUS" 401 invalid_client 7000218
post "$STANDIN_TENANT" -d grant_type=password -d client_id="$STANDIN_CLIENT_ID" \
    --data-urlencode scope="$STANDIN_SCOPE" --data-urlencode client_secret@"$SECRET"
ok "other grant type: 400 unsupported_grant_type AADSTS70003" \
    $CHECK "$OUT" "$STATUS" 400 unsupported_grant_type 70003

# Faults: 429 for the next 2 requests, then normal again.
standin_ctl POST /faults '{"token_error": {"row": "throttled", "count": 2, "retry_after": 7}}' >/dev/null
HDRS="$TESTS_TMP/headers"
post "$STANDIN_TENANT" -D "$HDRS" $(form "$STANDIN_CLIENT_ID" "$SECRET" "$STANDIN_SCOPE")
ok "throttled: 429" test "$STATUS" = 429
ok "throttled: Retry-After: 7" grep -qi '^Retry-After: 7' "$HDRS"
ok "throttled: plain text Too Many Requests" \
    sh -c "grep -qi '^Content-Type: text/plain' '$HDRS' && grep -q 'Too Many Requests' '$OUT'"
post "$STANDIN_TENANT" $(form "$STANDIN_CLIENT_ID" "$SECRET" "$STANDIN_SCOPE")
ok "throttled again for the 2nd request" test "$STATUS" = 429
post "$STANDIN_TENANT" $(form "$STANDIN_CLIENT_ID" "$SECRET" "$STANDIN_SCOPE")
ok "then served again" $CHECK "$OUT" "$STATUS" ok

standin_ctl POST /faults '{"token_error": {"row": "wrong_secret"}}' >/dev/null
post "$STANDIN_TENANT" $(form "$STANDIN_CLIENT_ID" "$SECRET" "$STANDIN_SCOPE")
ok "fault row wrong_secret until cleared" $CHECK "$OUT" "$STATUS" 401 invalid_client 7000215
standin_ctl POST /faults '{"token_error": null}' >/dev/null
post "$STANDIN_TENANT" $(form "$STANDIN_CLIENT_ID" "$SECRET" "$STANDIN_SCOPE")
ok "fault cleared" $CHECK "$OUT" "$STATUS" ok

standin_ctl POST /faults '{"token_delay_ms": 600}' >/dev/null
t0=$(date +%s%N)
post "$STANDIN_TENANT" $(form "$STANDIN_CLIENT_ID" "$SECRET" "$STANDIN_SCOPE")
t1=$(date +%s%N)
standin_ctl DELETE /faults >/dev/null
ok "slow token endpoint: answer after the delay" \
    sh -c "[ $(( (t1 - t0) / 1000000 )) -ge 600 ] && $CHECK '$OUT' '$STATUS' ok"

standin_ctl POST /scenario '{"token": {"expires_in": 120, "ext_expires_in": 120}}' >/dev/null
post "$STANDIN_TENANT" $(form "$STANDIN_CLIENT_ID" "$SECRET" "$STANDIN_SCOPE")
ok "token lifetime changed while running: expires_in 120" $CHECK "$OUT" "$STATUS" ok 120

n=$(standin_stat token_requests)
ok "token_requests counted ($n)" test "$n" -eq 20
n=$(standin_stat tokens_issued)
ok "tokens_issued counted ($n)" test "$n" -eq 7
ok "no token or secret in the stand-in's log" \
    sh -c "! grep -q -e EwB -e 'Qx8~' '$STANDIN_DIR/standin.log'"

# standin_write_conf: a config exorelay accepts, for the secret and the
# certificate account (exorelay token runs the real token engine).
standin_write_conf "$TESTS_TMP/exorelay.conf" --cert
ok "standin_write_conf: secret file is 0600" \
    sh -c "[ \"\$(stat -c %a '$TESTS_TMP/main.secret')\" = 600 ]"
if [ -x "$BIN/exorelay" ]; then
    ok "standin_write_conf: exorelay check accepts it" \
        "$BIN/exorelay" -c "$TESTS_TMP/exorelay.conf" check
    n0=$(standin_stat tokens_issued)
    "$BIN/exorelay" -c "$TESTS_TMP/exorelay.conf" token >"$TESTS_TMP/t.main" 2>"$TESTS_TMP/t.err"
    ok "exorelay token, secret account: a token from the stand-in" \
        sh -c "[ \$(wc -c <'$TESTS_TMP/t.main') -gt 1000 ]"
    "$BIN/exorelay" -c "$TESTS_TMP/exorelay.conf" token --account cert \
        >"$TESTS_TMP/t.cert" 2>"$TESTS_TMP/t.err"
    ok "exorelay token, certificate account (client assertion verified)" \
        sh -c "[ \$(wc -c <'$TESTS_TMP/t.cert') -gt 1000 ]"
    ok "both were issued by the stand-in" test "$(standin_stat tokens_issued)" -eq $((n0 + 2))
fi
