#!/bin/sh
# t_standin_smtp.sh - the Exchange Online stand-in as curl sees it: STARTTLS
# with the per-run CA, AUTH XOAUTH2 (334 step and initial response), token
# checks (535 5.7.3, 535 5.7.139), SendAs (554 5.2.252), size limit, the
# wrong-name certificate, byte-exact records, and the SMTP faults. Tokens
# and curl's transcripts (which contain them) stay in files.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"

standin_start || { echo "not ok 1 - stand-in starts"; exit 1; }
T=$TESTS_TMP

# token APP TENANT FILE - get a token for a scenario app into FILE
token() {
    standin_secret "$1" >"$T/secret.$1"
    _id=$("$PYTHON" -c 'import json,sys
print([a for a in json.load(open(sys.argv[1]))["apps"] if a["name"] == sys.argv[2]][0]["client_id"])' \
        "$STANDIN_SCENARIO" "$1")
    curl -sS --cacert "$STANDIN_CA" -o "$T/tokreply" -d grant_type=client_credentials \
        -d client_id="$_id" --data-urlencode client_secret@"$T/secret.$1" \
        --data-urlencode scope="$STANDIN_SCOPE" "$STANDIN_AUTHORITY/$2/oauth2/v2.0/token" &&
    "$PYTHON" -c 'import json,sys; open(sys.argv[2],"w").write(json.load(open(sys.argv[1]))["access_token"])' \
        "$T/tokreply" "$3"
}

# send TOKEN_FILE USER FROM MESSAGE [curl args] - submit with curl; the
# transcript goes to $T/trace (never shown), curl's status is returned.
send() {
    _tok=$1 _user=$2 _from=$3 _msg=$4; shift 4
    curl -sS -v --ssl-reqd --cacert "$STANDIN_CA" --login-options AUTH=XOAUTH2 \
        --user "$_user:" --oauth2-bearer "$(cat "$_tok")" --mail-from "$_from" \
        --mail-rcpt rcpt@example.com "$@" -T "$_msg" \
        "smtp://127.0.0.1:$STANDIN_SMTP_PORT" >"$T/trace" 2>&1
}

# replied PATTERN - the server sent a reply line matching PATTERN
replied() {
    grep -q "^< $1" "$T/trace"
}

msg() {   # msg FROM FILE - a small message with CRLF line ends
    printf 'From: %s\r\nTo: rcpt@example.com\r\nSubject: test\r\nMessage-ID: <t1@example.com>\r\n\r\nline one\r\n.starts with a dot\r\n..two dots\r\n' "$1" >"$2"
}

token main "$STANDIN_TENANT" "$T/tok.main"
ok "token for the main app" test -s "$T/tok.main"
msg "$STANDIN_MAILBOX" "$T/m1"

send "$T/tok.main" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1"
ok "curl submits through STARTTLS + AUTH XOAUTH2 (334 step)" test $? -eq 0
ok "334 challenge then 235 2.7.0 Authentication successful" \
    sh -c "grep -q '^< 334' '$T/trace' && grep -q '^< 235 2.7.0 Authentication successful' '$T/trace'"
ok "final reply 250 2.0.0 OK with the Message-ID" replied '250 2.0.0 OK <t1@example.com>'
ok "message recorded byte-exact (dot-unstuffed, CRLF kept)" cmp -s "$STANDIN_MSGDIR/000001.eml" "$T/m1"
ok "record has envelope and identity" "$PYTHON" -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert m["mail_from"] == sys.argv[2] and m["rcpt_to"] == ["rcpt@example.com"]
assert m["auth_user"] == sys.argv[2] and m["client_id"] == sys.argv[3]
assert m["tenant"] == sys.argv[4] and m["size"] > 100 and m["session"] and m["received"]
' "$STANDIN_MSGDIR/000001.json" "$STANDIN_MAILBOX" "$STANDIN_CLIENT_ID" "$STANDIN_TENANT"

# curl drops the initial response when the AUTH line would pass 512 bytes,
# as a 2 KB token does: t_standin_proto covers AUTH XOAUTH2 <payload>.
send "$T/tok.main" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1" --sasl-ir
ok "second message on a new connection" test $? -eq 0
ok "two messages recorded" test "$(standin_count)" -eq 2

curl -sS --ssl-reqd --cacert "$STANDIN_CA" --mail-from a@b.c --mail-rcpt r@example.com \
    -T "$T/m1" "smtp://127.0.0.1:$STANDIN_SMTP_WRONGNAME_PORT" >"$T/trace" 2>&1
ok "wrong-name port: curl refuses the certificate (exit 60)" test $? -eq 60
openssl s_client -starttls smtp -connect "127.0.0.1:$STANDIN_SMTP_WRONGNAME_PORT" \
    -CAfile "$STANDIN_CA" </dev/null >"$T/sclient" 2>&1
ok "wrong-name port: chain is valid, only the name is wrong" \
    sh -c "grep -q 'Verify return code: 0' '$T/sclient' && grep -q 'wrong.example.net' '$T/sclient'"

send "$T/tok.main" second@contoso.onmicrosoft.com "$STANDIN_MAILBOX" "$T/m1"
ok "user= a mailbox the app has no permission on: 535 5.7.3" replied '535 5.7.3 Authentication unsuccessful \['
token nosp contoso.onmicrosoft.com "$T/tok.nosp"
send "$T/tok.nosp" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1"
ok "service principal not registered: 535 5.7.3" replied '535 5.7.3 Authentication unsuccessful'
token noperm contoso.onmicrosoft.com "$T/tok.noperm"
send "$T/tok.noperm" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1"
ok "no FullAccess on the mailbox: 535 5.7.3" replied '535 5.7.3 Authentication unsuccessful'
send "$T/tok.main" disabled@contoso.onmicrosoft.com disabled@contoso.onmicrosoft.com "$T/m1"
ok "SMTP AUTH disabled for the mailbox: 535 5.7.139" \
    replied '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox'
token fabrikam fabrikam.onmicrosoft.com "$T/tok.fab"
send "$T/tok.fab" relay@fabrikam.onmicrosoft.com relay@fabrikam.onmicrosoft.com "$T/m1"
ok "SMTP AUTH disabled for the tenant: 535 5.7.139" \
    replied '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant'
printf 'EwBnot-a-token-issued-here' >"$T/tok.fake"
send "$T/tok.fake" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1"
ok "token never issued: 535 5.7.3" replied '535 5.7.3 Authentication unsuccessful'
token second contoso.onmicrosoft.com "$T/tok.second"
send "$T/tok.second" second@contoso.onmicrosoft.com second@contoso.onmicrosoft.com "$T/m1"
ok "second app and mailbox (From: is not the mailbox): 554 5.2.252" \
    replied '554 5.2.252 SendAsDenied; second@contoso.onmicrosoft.com not allowed to send as no-reply@contoso.onmicrosoft.com;'
msg second@contoso.onmicrosoft.com "$T/m2"
send "$T/tok.second" second@contoso.onmicrosoft.com second@contoso.onmicrosoft.com "$T/m2"
ok "second app and mailbox, own address: accepted" replied '250 2.0.0 OK'

send "$T/tok.main" "$STANDIN_MAILBOX" someone@contoso.onmicrosoft.com "$T/m1"
ok "envelope sender without SendAs: 554 5.2.252 after the data" \
    sh -c "grep -q '^< 354' '$T/trace' && grep -q '^< 554 5.2.252 SendAsDenied; $STANDIN_MAILBOX not allowed to send as someone@contoso.onmicrosoft.com;' '$T/trace'"
msg alerts@contoso.onmicrosoft.com "$T/m3"
send "$T/tok.main" "$STANDIN_MAILBOX" alerts@contoso.onmicrosoft.com "$T/m3"
ok "sender with SendAs right: accepted" replied '250 2.0.0 OK'
msg boss@contoso.onmicrosoft.com "$T/m4"
send "$T/tok.main" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m4"
ok "From: header without SendAs: 554 5.2.252" replied '554 5.2.252 SendAsDenied; .* not allowed to send as boss@contoso.onmicrosoft.com;'

standin_ctl POST /revoke >/dev/null
send "$T/tok.main" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1"
ok "revoked token: 535 5.7.3" replied '535 5.7.3 Authentication unsuccessful'
standin_ctl POST /scenario '{"token": {"expires_in": 1}}' >/dev/null
token main "$STANDIN_TENANT" "$T/tok.short"
sleep 1.2
send "$T/tok.short" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1"
ok "expired token: 535 5.7.3" replied '535 5.7.3 Authentication unsuccessful'
standin_ctl POST /scenario '{"token": {"expires_in": 3599}}' >/dev/null
token main "$STANDIN_TENANT" "$T/tok.main"

standin_ctl POST /scenario '{"smtp": {"max_size": 100}}' >/dev/null
send "$T/tok.main" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1"
ok "SIZE= over the limit: 552 5.3.4 at MAIL" \
    replied '552 5.3.4 Message size exceeds fixed maximum message size'
standin_ctl POST /scenario '{"smtp": {"max_size": 157286400}}' >/dev/null

# Faults.
n0=$(standin_count)
standin_ctl POST /faults '{"eod_4xx": {"count": 1}}' >/dev/null
send "$T/tok.main" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1"
ok "fault eod_4xx: 451 4.3.0 after the data" replied '451 4.3.0'
send "$T/tok.main" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1"
ok "fault eod_4xx consumed: next accepted" replied '250 2.0.0 OK'
standin_ctl POST /faults '{"drop_in_data": {"count": 1}}' >/dev/null
send "$T/tok.main" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1"
ok "fault drop_in_data: curl sees the connection cut after 354" \
    sh -c "[ $? -ne 0 ] && grep -q '^< 354' '$T/trace' && ! grep -q '^< 250 2.0.0 OK' '$T/trace'"
standin_ctl POST /faults '{"smtp_421": {"at": "RCPT", "count": 1}}' >/dev/null
send "$T/tok.main" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1"
ok "fault smtp_421 at RCPT" replied '421 4.3.2 Service not available'
ok "refused and dropped messages were not recorded" test "$(standin_count)" -eq $((n0 + 1))
standin_ctl POST /faults '{"smtp_delay_ms": 150}' >/dev/null
t0=$(date +%s%N)
send "$T/tok.main" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1"
t1=$(date +%s%N)
standin_ctl DELETE /faults >/dev/null
# curl waits for each of ~10 replies: greeting, EHLO, STARTTLS, EHLO, AUTH,
# 334, MAIL, RCPT, DATA, final.
ok "smtp_delay_ms: each reply delayed ($(( (t1 - t0) / 1000000 )) ms)" \
    sh -c "[ $(( (t1 - t0) / 1000000 )) -ge 1200 ] && grep -q '^< 250 2.0.0 OK' '$T/trace'"

ok "stats: messages, auth counters, TLS handshakes" "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
assert s["messages"] == int(sys.argv[1]), s
assert s["auth_ok"] >= 10 and s["auth_failed"] >= 7 and s["tls_handshakes"] >= s["auth_attempts"]
assert s["smtp_connections"] >= s["tls_handshakes"] and s["dropped_in_data"] == 1
assert s["round_trips_last"] == 4, s["round_trips_last"]
' "$(standin_count)" <<EOF
$(standin_ctl GET /stats)
EOF
ok "no token in the stand-in's log" sh -c "! grep -q EwB '$STANDIN_DIR/standin.log'"

# Restart: same ports and CA, tokens still valid, numbering continues.
port=$STANDIN_SMTP_PORT ca=$(cat "$STANDIN_CA") n=$(standin_count)
standin_restart
ok "restart: same SMTP port and CA" \
    sh -c "[ '$port' = '$STANDIN_SMTP_PORT' ] && [ \"\$(cat '$STANDIN_CA')\" = '$ca' ]"
send "$T/tok.main" "$STANDIN_MAILBOX" "$STANDIN_MAILBOX" "$T/m1"
ok "restart: a token issued before still authenticates" replied '250 2.0.0 OK'
ok "restart: records continue after the old ones" \
    sh -c "[ $(standin_count) -eq $((n + 1)) ] && cmp -s '$STANDIN_MSGDIR/$(printf %06d $((n + 1))).eml' '$T/m1'"
