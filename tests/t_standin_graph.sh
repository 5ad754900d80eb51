#!/bin/sh
# t_standin_graph.sh - the Microsoft Graph stand-in against curl: Entra
# issues Graph-scope tokens (a JWT with aud and roles), sendMail 202 with
# recipients from the MIME headers and Bcc removed, the draft flow (201,
# 200, 202, 204, and only with Mail.ReadWrite), and each error of
# EXCHANGE-FACTS.md section 5: 401 empty / expired / wrong audience (an
# Exchange token), 403 ErrorAccessDenied (no Mail.Send, outside the access
# policy), 404 ErrorInvalidUser, 403 ErrorSendAsDenied, 400 base64 and no
# recipient, 413 over 4 MB, 429 + Retry-After; and that SMTP AUTH refuses
# a Graph token.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"

standin_start || exit 1
SEC=$TESTS_TMP/sec
(umask 077; standin_secret >"$SEC")
G=$STANDIN_GRAPH_URL/v1.0/users/$STANDIN_MAILBOX
APP=5d4be59c-2ee2-4131-87c5-4ed854c19cef

token() { # token SCOPE - an access token (never printed by the tests)
    curl -s --cacert "$STANDIN_CA" --data-urlencode "client_id=$STANDIN_CLIENT_ID" \
        --data-urlencode "scope=$1" --data-urlencode "grant_type=client_credentials" \
        --data-urlencode "client_secret@$SEC" \
        "$STANDIN_AUTHORITY/$STANDIN_TENANT/oauth2/v2.0/token" |
        "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
b64() { printf "$1" | base64 -w0; }
# call METHOD URL TOKEN BODY [CTYPE] - prints "STATUS CODE" (Graph's error code)
call() {
    printf '%s' "$4" >"$TESTS_TMP/body"
    curl -s --cacert "$STANDIN_CA" -X "$1" -o "$TESTS_TMP/out" -D "$TESTS_TMP/hdr" \
        -w '%{http_code}' ${3:+-H "Authorization: Bearer $3"} \
        -H "Content-Type: ${5:-text/plain}" --data-binary @"$TESTS_TMP/body" "$2" >"$TESTS_TMP/st"
    printf '%s %s\n' "$(cat "$TESTS_TMP/st")" "$("$PYTHON" -c 'import json,sys
try: print(json.load(open(sys.argv[1]))["error"]["code"])
except Exception: print("-")' "$TESTS_TMP/out")"
}
last_json() { ls "$STANDIN_MSGDIR"/*.json | tail -1; }
ctl_scenario() { standin_ctl POST /scenario "$1" >/dev/null; }

GT=$(token https://graph.microsoft.com/.default)
XT=$(token https://outlook.office365.com/.default)
ok "Entra issues a Graph-scope token" test -n "$GT"
claims=$(echo "$GT" | cut -d. -f2 | tr '_-' '/+' | "$PYTHON" -c 'import base64,sys; s=sys.stdin.read().strip(); print(base64.b64decode(s + "=" * (-len(s) % 4)).decode())')
ok "its aud is https://graph.microsoft.com" sh -c "echo '$claims' | grep -q '\"aud\": \"https://graph.microsoft.com\"'"
ok "its roles hold Mail.Send" sh -c "echo '$claims' | grep -q '\"roles\": \\[\"Mail.Send\"\\]'"

MIME="From: $STANDIN_MAILBOX\r\nTo: a@example.net\r\nCc: c@example.net\r\nBcc: b@example.net\r\nSubject: g\r\n\r\nhello\r\n"
ok "sendMail: 202" test "$(call POST "$G/sendMail" "$GT" "$(b64 "$MIME")")" = "202 -"
ok "... empty body" test ! -s "$TESTS_TMP/out"
ok "recipients from To, Cc, Bcc" grep -q '"rcpt_to": \["a@example.net", "c@example.net", "b@example.net"\]' "$(last_json)"
ok "the delivered copy has no Bcc" sh -c "! grep -q '^Bcc' '$STANDIN_MSGDIR/$(basename "$(last_json)" .json).eml'"

ok "no bearer: 401 InvalidAuthenticationToken" test "$(call POST "$G/sendMail" "" "$(b64 "$MIME")")" = "401 InvalidAuthenticationToken"
ok "... Access token is empty." grep -q 'Access token is empty' "$TESTS_TMP/out"
ok "an Exchange token: 401 Invalid audience" test "$(call POST "$G/sendMail" "$XT" "$(b64 "$MIME")")" = "401 InvalidAuthenticationToken"
ok "... Invalid audience." grep -q 'Invalid audience' "$TESTS_TMP/out"
standin_ctl POST /revoke >/dev/null
ok "a revoked token: 401 has expired or is not yet valid" test "$(call POST "$G/sendMail" "$GT" "$(b64 "$MIME")")" = "401 InvalidAuthenticationToken"
ok "... its message" grep -q 'has expired or is not yet valid' "$TESTS_TMP/out"
GT=$(token https://graph.microsoft.com/.default)

ok "unknown mailbox: 404 ErrorInvalidUser" test "$(call POST "$STANDIN_GRAPH_URL/v1.0/users/nobody@contoso.onmicrosoft.com/sendMail" "$GT" "$(b64 "$MIME")")" = "404 ErrorInvalidUser"
ok "not base64: 400 ErrorMimeContentInvalidBase64String" test "$(call POST "$G/sendMail" "$GT" "not base64!")" = "400 ErrorMimeContentInvalidBase64String"
ok "no recipient: 400 ErrorInvalidRecipients" test "$(call POST "$G/sendMail" "$GT" "$(b64 "From: $STANDIN_MAILBOX\r\nSubject: x\r\n\r\nx\r\n")")" = "400 ErrorInvalidRecipients"
ok "From not allowed: 403 ErrorSendAsDenied" test "$(call POST "$G/sendMail" "$GT" "$(b64 "From: boss@example.org\r\nTo: a@example.net\r\n\r\nx\r\n")")" = "403 ErrorSendAsDenied"
ok "SendAs granted (alerts@): 202" test "$(call POST "$G/sendMail" "$GT" "$(b64 "From: alerts@contoso.onmicrosoft.com\r\nTo: a@example.net\r\n\r\nx\r\n")")" = "202 -"
"$PYTHON" -c 'import sys; sys.stdout.write("A" * 4194308)' >"$TESTS_TMP/big"
st=$(curl -s --cacert "$STANDIN_CA" -o "$TESTS_TMP/out" -w '%{http_code}' -H "Authorization: Bearer $GT" -H "Content-Type: text/plain" --data-binary @"$TESTS_TMP/big" "$G/sendMail")
ok "over 4 MB: 413 RequestEntityTooLarge" sh -c "test '$st' = 413 && grep -q 'maximum request length supported is 4MB' '$TESTS_TMP/out'"

ctl_scenario '{"apps": [{"client_id": "'$APP'", "graph_access": ["alerts@contoso.onmicrosoft.com"]}]}'
ok "mailbox outside the access policy: 403 ErrorAccessDenied" test "$(call POST "$G/sendMail" "$GT" "$(b64 "$MIME")")" = "403 ErrorAccessDenied"
ctl_scenario '{"apps": [{"client_id": "'$APP'", "graph_access": null, "graph_roles": []}]}'
NT=$(token https://graph.microsoft.com/.default)
ok "no Mail.Send in roles: 403 ErrorAccessDenied" test "$(call POST "$G/sendMail" "$NT" "$(b64 "$MIME")")" = "403 ErrorAccessDenied"
ok "... Access is denied." grep -q 'Access is denied. Check credentials and try again.' "$TESTS_TMP/out"

# drafts: need Mail.ReadWrite as well
ok "drafts with Mail.Send only: 403 ErrorAccessDenied" test "$(call POST "$G/messages" "$GT" "$(b64 "$MIME")")" = "403 ErrorAccessDenied"
ctl_scenario '{"apps": [{"client_id": "'$APP'", "graph_roles": ["Mail.Send", "Mail.ReadWrite"]}]}'
RT=$(token https://graph.microsoft.com/.default)
ok "create draft: 201" test "$(call POST "$G/messages" "$RT" "$(b64 "$MIME")")" = "201 -"
ID=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TESTS_TMP/out")
ok "set recipients: 200" test "$(call PATCH "$G/messages/$ID" "$RT" '{"toRecipients": [{"emailAddress": {"address": "x@example.net"}}], "bccRecipients": [{"emailAddress": {"address": "y@example.net"}}]}' application/json)" = "200 -"
ok "send: 202" test "$(call POST "$G/messages/$ID/send" "$RT" "")" = "202 -"
ok "the draft went to its set recipients" grep -q '"rcpt_to": \["x@example.net", "y@example.net"\]' "$(last_json)"
call POST "$G/messages" "$RT" "$(b64 "$MIME")" >/dev/null
ID=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TESTS_TMP/out")
ok "delete draft: 204" test "$(call DELETE "$G/messages/$ID" "$RT" "")" = "204 -"

standin_ctl POST /faults '{"graph_error": {"status": 429, "code": "ApplicationThrottled", "message": "Application is over its MailBox concurrency limit.", "retry_after": 7, "count": 1}}' >/dev/null
ok "fault: 429 ApplicationThrottled" test "$(call POST "$G/sendMail" "$RT" "$(b64 "$MIME")")" = "429 ApplicationThrottled"
ok "... with Retry-After: 7" grep -qi '^Retry-After: 7' "$TESTS_TMP/hdr"
ok "counters: graph_sent" test "$(standin_stat graph_sent)" -ge 3
ok "counters: graph_connections" test "$(standin_stat graph_connections)" -ge 1

# SMTP AUTH refuses a Graph token
curl -s --url "smtp://127.0.0.1:$STANDIN_SMTP_PORT" --ssl-reqd --cacert "$STANDIN_CA" \
    --login-options AUTH=XOAUTH2 --user "$STANDIN_MAILBOX:" --oauth2-bearer "$RT" \
    --mail-from "$STANDIN_MAILBOX" --mail-rcpt a@example.net -T /dev/null -v \
    >"$TESTS_TMP/smtp.out" 2>&1
ok "SMTP AUTH refuses a Graph token: 535 5.7.3" grep -q '< 535 5.7.3' "$TESTS_TMP/smtp.out"

echo "1..$_tap_n"
