#!/bin/sh
# t_sendmail_perms.sh - the setgid-submit design, installed by "make install"
# and used by an ordinary user (nobody): any user may submit; nobody can read
# or alter another user's queued mail, even with the drop group; a config
# chosen by the user (-C) does not carry the privilege; mailq works for
# every user; the daemon trusts the file owner as the submitting uid.
. "$(dirname "$0")/lib/common.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (to make a setgid program and switch users)"
command -v setpriv >/dev/null 2>&1 || skip_all "setpriv (util-linux) is missing"

# A group id nobody has, standing in for exorelay-drop.
G=64000
while getent group $G >/dev/null 2>&1; do G=$((G + 1)); done
USER1=65534                                 # nobody
USER2=64999                                 # another ordinary user
as_user1() { setpriv --reuid=$USER1 --regid=$USER1 --clear-groups "$@"; }
as_user2() { setpriv --reuid=$USER2 --regid=$USER2 --clear-groups "$@"; }
as_user2_in_group() { setpriv --reuid=$USER2 --regid=$USER2 --groups=$G "$@"; }

# --- make install sets the mode ------------------------------------------------
DEST=$TESTS_TMP/dest
make -s -C "$TOP" install DESTDIR="$DEST" PREFIX=/usr DROP_GROUP=$G \
    BUILD="$BUILD" >"$TESTS_TMP/install.out" 2>&1
tap_ok $? "make install DESTDIR=... DROP_GROUP=$G"
SM=$DEST/usr/sbin/exorelay-sendmail
ok "exorelay-sendmail is installed setgid $G, mode 2755" \
    test "$(stat -c '%a %g' "$SM")" = "2755 $G"
ok "exorelay is installed next to it (inline delivery runs it)" test -x "$DEST/usr/sbin/exorelay"

# --- the spool, as INSTALL says to make it -----------------------------------
SPOOL=$TESTS_TMP/spool
install -d -m 0755 "$SPOOL"
install -d -m 1770 -g $G "$SPOOL/maildrop"
install -d -m 0700 "$SPOOL/queue" "$SPOOL/failed"
install -d -m 2750 -g $G "$SPOOL/state"
CONF=$TESTS_TMP/exorelay.conf
DEAD=$(free_port)
cat >"$CONF" <<EOF
[relay]
listen = unix:$TESTS_TMP/relay.sock
spool_dir = $SPOOL
state_dir = $TESTS_TMP/state
user =
retry_min = 1
[upstream]
server = 127.0.0.1
port = $DEAD
connect_timeout = 2
[account main]
tenant = contoso.onmicrosoft.com
client_id = 3e1f0c2a-5b7d-4e8f-9a6b-1c2d3e4f5a6b
client_secret_file = $TESTS_TMP/main.secret
mailbox = no-reply@contoso.onmicrosoft.com
authority = https://127.0.0.1:$DEAD
EOF
chmod 0644 "$CONF"
mkdir -p "$TESTS_TMP/state"; chmod 0700 "$TESTS_TMP/state"
(umask 077; echo secret-only-root-reads >"$TESTS_TMP/main.secret")

# --- an ordinary user submits ----------------------------------------------------
printf 'Subject: from nobody\n\nprivate body text\n' |
    as_user1 "$SM" -C "$CONF" victim@example.com 2>"$TESTS_TMP/err"
tap_ok $? "nobody submits through the setgid exorelay-sendmail (exit 0)"
sed 's/^/# /' "$TESTS_TMP/err"
ID=$(ls "$SPOOL/maildrop" | grep '^[0-9A-F]\{20\}$' | head -n1)
ok "the message is in maildrop" test -n "$ID"
F=$SPOOL/maildrop/$ID
ok "owned by the submitter, group $G, mode 0604" test "$(stat -c '%u %g %a' "$F")" = "$USER1 $G 604"
ok "it records the submitting uid" grep -qx "uid $USER1" "$F"
ok "nobody could not deliver it (no access to the credentials): it waits" test -e "$F"

cp "$SM" "$TESTS_TMP/sendmail-not-setgid"
chmod 0755 "$TESTS_TMP/sendmail-not-setgid"
printf 'x\n' | as_user1 "$TESTS_TMP/sendmail-not-setgid" -C "$CONF" a@example.com 2>"$TESTS_TMP/err"
ok "without the setgid bit the same user cannot submit (exit 73)" test $? = 73
ok "and is told why" grep -q "maildrop" "$TESTS_TMP/err"

# --- nobody else can read or change it ---------------------------------------------
as_user2 cat "$F" >/dev/null 2>&1
ok "another user cannot read it" test $? != 0
as_user2 ls "$SPOOL/maildrop" >/dev/null 2>&1
ok "another user cannot list maildrop" test $? != 0
as_user2_in_group cat "$F" >/dev/null 2>&1
ok "even with the drop group (a subverted setgid program), it cannot be read" test $? != 0
as_user2_in_group sh -c "echo forged >>'$F'" 2>/dev/null
ok "nor appended to" test $? != 0
as_user2_in_group rm -f "$F" 2>/dev/null
ok "nor removed (sticky maildrop)" test -e "$F"
as_user2_in_group sh -c "echo x >'$SPOOL/maildrop/$ID.x' && mv '$SPOOL/maildrop/$ID.x' '$F'" 2>/dev/null
ok "nor replaced by a rename" grep -q "private body text" "$F"
as_user1 cat "$F" >/dev/null 2>&1
ok "the submitter cannot reach it either once submitted" test $? != 0

# --- a config of the user's choosing does not carry the privilege ----------------
HOME1=$TESTS_TMP/home1
mkdir -p "$HOME1"; chown $USER1 "$HOME1"
cp "$CONF" "$HOME1/my.conf"; chown $USER1 "$HOME1/my.conf"
printf 'x\n' | as_user1 "$SM" -C "$HOME1/my.conf" a@example.com 2>"$TESTS_TMP/err"
ok "-C with a user-owned config: the group is dropped, nothing written (73)" test $? = 73
printf 'x\n' | EXORELAY_CONF="$HOME1/my.conf" as_user1 "$SM" a@example.com 2>/dev/null
ok "the same with EXORELAY_CONF" test $? = 73

# The owner check is made on the descriptor the config is then read from:
# the file is opened once, never looked up again by name (no window to
# swap it between the check and the read). strace shows every system call
# that names the file.
if command -v strace >/dev/null 2>&1; then
    printf 'x\n' | strace -f -qq -e trace=%file,%fstat -o "$TESTS_TMP/strace.out" \
        setpriv --reuid=$USER1 --regid=$USER1 --clear-groups "$SM" -C "$CONF" \
        traced@example.com 2>"$TESTS_TMP/err"
    tap_ok $? "-C with the admin's config, traced: submitted (exit 0)"
    named=$(grep -F "\"$CONF\"" "$TESTS_TMP/strace.out")
    echo "$named" | sed 's/^/# /'
    test "$(echo "$named" | grep -c .)" = 1 && echo "$named" | grep -q 'openat('
    tap_ok $? "the config is named in exactly one system call, its open (then fstat on the descriptor)"
    # the descriptor the open returned, then a stat of that descriptor
    # after it (glibc's fstat is fstat, newfstatat or statx with "")
    fd=$(echo "$named" | sed -n 's/.*= \([0-9]*\)$/\1/p')
    test -n "$fd" && sed -n "\|\"$CONF\"|,\$p" "$TESTS_TMP/strace.out" |
        grep -q "fstat($fd,\|newfstatat($fd, \"\", .*AT_EMPTY_PATH\|statx($fd, \"\", AT_EMPTY_PATH"
    tap_ok $? "... and checked with fstat on that descriptor ($fd)"
fi
# A config only the drop group could read is not read through the group.
install -m 0640 -g $G "$CONF" "$TESTS_TMP/group-only.conf"
printf 'x\n' | as_user1 "$SM" -C "$TESTS_TMP/group-only.conf" a@example.com 2>"$TESTS_TMP/err"
ok "-C naming a file only the drop group may read: not opened (exit 78)" test $? = 78

# --- the daemon takes it over; mailq works for everybody ---------------------------
"$BIN/exorelay" -c "$CONF" run -f >"$TESTS_TMP/daemon.log" 2>&1 &
DAEMON=$!
cleanup_add "kill $DAEMON 2>/dev/null"
ok "the daemon picks the message up into queue/" wait_for test -e "$SPOOL/queue/$ID"
ok "and records it in a state file of group $G, mode 0640" \
    wait_for sh -c "test \"\$(stat -c '%g %a' '$SPOOL/state/$ID')\" = '$G 640'"
ok "the submitting uid it logs is the file owner's" \
    grep -q "$ID: uid=$USER1 " "$TESTS_TMP/daemon.log"
wait_for grep -q "^attempts [1-9]" "$SPOOL/state/$ID"
as_user2 "$SM" -C "$CONF" -bp >"$TESTS_TMP/mailq" 2>&1
tap_ok $? "another user's mailq works (setgid, state/ is group-readable)"
sed "s/^/# /" "$TESTS_TMP/mailq"
ok "it shows the ID, sender and recipient" sh -c "grep -q '^$ID .*no-reply@' '$TESTS_TMP/mailq' &&
    grep -q ' victim@example.com\$' '$TESTS_TMP/mailq'"
ok "and why it waits (nothing listens where the config points)" \
    grep -q "(4[0-9][0-9] 4\.[0-9.]* .*\(refused the connection\|connect\)" "$TESTS_TMP/mailq"
ok "but never the message" sh -c "! grep -q 'private body text' '$TESTS_TMP/mailq'"
as_user2_in_group cat "$SPOOL/queue/$ID" >/dev/null 2>&1
ok "queue/ is closed even to the drop group" test $? != 0
as_user2 "$BIN/exorelay" -c "$CONF" queue delete "$ID" >/dev/null 2>&1
ok "exorelay queue delete by another user fails" test -e "$SPOOL/queue/$ID"
"$BIN/exorelay" -c "$CONF" queue delete "$ID" >/dev/null
ok "root deletes it" test ! -e "$SPOOL/queue/$ID"
kill "$DAEMON"; wait "$DAEMON" 2>/dev/null
echo "1..$_tap_n"
