#!/bin/sh
# t_token_msmtp.sh - "exorelay token" as a password command: msmtp with
# "auth xoauth2" and "passwordeval" sends through the Exchange stand-in,
# and nothing reaches stderr, neither on a fresh fetch from Entra nor from
# the cache (cron mails any output; msmtp shows it). A broken credential
# still says why on stderr and msmtp fails without sending.
. "$(dirname "$0")/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
command -v msmtp >/dev/null || skip_all "msmtp not installed (tests/deps.sh)"
msmtp --version | grep -q xoauth2 || skip_all "this msmtp has no xoauth2"

standin_start || exit 1
CONF=$TESTS_TMP/exorelay.conf
standin_write_conf "$CONF"
MB=$STANDIN_MAILBOX

# rc FILE CONF - an msmtp configuration using "exorelay -c CONF token"
rc() {
    cat >"$1" <<EOF2
account default
host 127.0.0.1
port $STANDIN_SMTP_PORT
tls on
tls_starttls on
tls_trust_file $STANDIN_CA
auth xoauth2
user $MB
passwordeval "$BIN/exorelay -c $2 token"
from $MB
EOF2
    chmod 600 "$1"
}
# send RC TAG - one message with msmtp; stdout+stderr in $TESTS_TMP/TAG.err
send() {
    printf 'Subject: %s\nMessage-ID: <%s@test>\n\nfrom msmtp\n' "$2" "$2" |
        msmtp -C "$1" rcpt@example.net >"$TESTS_TMP/$2.err" 2>&1
}
arrived() { cat "$STANDIN_MSGDIR"/*.eml 2>/dev/null | tr -d '\r' | grep -c "^Message-ID: <$1@test>"; }

rc "$TESTS_TMP/msmtprc" "$CONF"
tap_ok $(ls "$TESTS_TMP"/state/*token* >/dev/null 2>&1; [ $? != 0 ]; echo $?) "no cached token yet"
send "$TESTS_TMP/msmtprc" fresh
tap_ok $? "msmtp, auth xoauth2, passwordeval \"exorelay token\": sent (fresh token from Entra)"
tap_ok $([ "$(arrived fresh)" = 1 ]; echo $?) "... and it arrived"
tap_ok $([ ! -s "$TESTS_TMP/fresh.err" ]; echo $?) "... with nothing on stderr or stdout"
sed 's/^/#   /' "$TESTS_TMP/fresh.err" | head -5
tap_ok $([ "$(standin_stat tokens_issued)" -ge 1 ]; echo $?) "the token came from the token endpoint"

send "$TESTS_TMP/msmtprc" cached
tap_ok $? "again, from the cache: sent"
tap_ok $([ "$(arrived cached)" = 1 ] && [ ! -s "$TESTS_TMP/cached.err" ]; echo $?) \
    "... arrived, nothing on stderr"

# the command alone, as cron runs it, with an empty cache: only the token
rm -f "$TESTS_TMP"/state/*
"$BIN/exorelay" -c "$CONF" token >"$TESTS_TMP/tok.out" 2>"$TESTS_TMP/tok.err"
tap_ok $([ $? = 0 ] && [ "$(wc -l <"$TESTS_TMP/tok.out")" = 1 ] && [ ! -s "$TESTS_TMP/tok.err" ]; echo $?) \
    "exorelay token, fresh fetch: one line on stdout, stderr empty"

# a wrong secret: the cause on stderr, exit 77, msmtp sends nothing
sed "s|^client_secret_file = .*|client_secret_file = $TESTS_TMP/wrong.secret|" "$CONF" >"$TESTS_TMP/bad.conf"
(umask 077; printf 'not-the-secret\n' >"$TESTS_TMP/wrong.secret")
rm -f "$TESTS_TMP"/state/*
"$BIN/exorelay" -c "$TESTS_TMP/bad.conf" token >"$TESTS_TMP/bad.out" 2>"$TESTS_TMP/bad.err"
rc_bad=$?
tap_ok $([ $rc_bad = 77 ] && [ ! -s "$TESTS_TMP/bad.out" ] && grep -q "AADSTS7000215" "$TESTS_TMP/bad.err"; echo $?) \
    "wrong secret: exit 77 (got $rc_bad), the Entra error on stderr, nothing on stdout"
rc "$TESTS_TMP/badrc" "$TESTS_TMP/bad.conf"
send "$TESTS_TMP/badrc" broken
tap_ok $([ $? != 0 ] && [ "$(arrived broken)" = 0 ]; echo $?) "msmtp with it fails and sends nothing"
grep -q "AADSTS7000215" "$TESTS_TMP/broken.err"
tap_ok $? "... and shows exorelay's reason"
