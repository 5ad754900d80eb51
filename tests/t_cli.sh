#!/bin/bash
# t_cli.sh - the command lines of the three programs as an admin meets
# them: "COMMAND --help" of every exorelay command (and the milter's and
# sendmail's --help) works on a host without a config file, exit 0;
# getopt_long's forms (--opt=VALUE, --config) work and unknown options are
# usage errors (64); and the bash completion (contrib/bash-completion)
# completes commands, options and account names.
. "$(dirname "$0")/lib/common.sh"
X=$BIN/exorelay
T=$TESTS_TMP
NOCONF=$T/no-such-dir/exorelay.conf
export EXORELAY_CONF=$NOCONF

# --- --help without a config ------------------------------------------------
for cmd in check run test token status queue credential; do
    "$X" -c "$NOCONF" "$cmd" --help >"$T/help-$cmd" 2>&1
    rc=$?
    [ $rc = 0 ] && grep -q "^usage: exorelay \[-c FILE\] $cmd" "$T/help-$cmd" &&
        grep -q -- '--help' "$T/help-$cmd"
    tap_ok $? "exorelay $cmd --help without a config file: its usage, exit 0 (got $rc)"
done
grep -q -- '--json' "$T/help-status" && grep -q -- '--account NAME' "$T/help-test" &&
    grep -q -- '--bits' "$T/help-credential"
tap_ok $? "each command's --help lists its options"
"$X" -c "$NOCONF" test -h >/dev/null 2>&1
tap_ok $? "-h is --help"
"$BIN/exorelay-milter" -c "$NOCONF" --help | grep -q -- '--config FILE'
tap_ok $? "exorelay-milter --help without a config file, exit 0, long options listed"
"$BIN/exorelay-sendmail" --help | grep -q '^usage: exorelay-sendmail'
tap_ok $? "exorelay-sendmail --help without a config file, exit 0"

# --- getopt_long forms and usage errors ---------------------------------------
printf 'not-a-real-secret\n' >"$T/main.secret"
chmod 600 "$T/main.secret"
cat >"$T/good.conf" <<CONF
[relay]
state_dir = $T/state
spool_dir = $T/spool
[account main]
tenant = contoso.onmicrosoft.com
client_id = 11111111-2222-3333-4444-555555555555
client_secret_file = $T/main.secret
mailbox = no-reply@contoso.onmicrosoft.com
[account second]
tenant = contoso.onmicrosoft.com
client_id = 11111111-2222-3333-4444-555555555556
client_secret_file = $T/main.secret
mailbox = alerts@contoso.onmicrosoft.com
CONF
"$X" --config="$T/good.conf" check >"$T/check.out" 2>&1
tap_ok $? "--config=FILE check"
for args in "test --bogus" "test --to" "status --bogus" "status extra" "token --account" \
    "run -x" "queue --bogus" "queue delete" "credential new --bits" "check extra"; do
    # shellcheck disable=SC2086
    "$X" -c "$T/good.conf" $args >"$T/usage.out" 2>&1
    rc=$?
    [ $rc = 64 ] && grep -q "^usage: exorelay \[-c FILE\] ${args%% *}" "$T/usage.out"
    tap_ok $? "exorelay $args: usage error, exit 64, the command's usage line (got $rc)"
done

# --- bash completion ----------------------------------------------------------
. "$TOP/contrib/bash-completion/exorelay"

# complete FUNCTION WORD... - COMPREPLY for the last word, space-separated
complete_words() {
    local fn=$1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMPREPLY=()
    "$fn"
    echo "${COMPREPLY[*]}"
}

check_completion() {
    local want=$1 got
    shift
    got=$(complete_words "$@")
    [ "$got" = "$want" ]
    tap_ok $? "completion of '${*:2}': '$want' (got '$got')"
}
check_completion "test token" _exorelay exorelay t
check_completion "status" _exorelay exorelay -c "$T/good.conf" st
check_completion "--check" _exorelay exorelay status --c
check_completion "--json" _exorelay exorelay status --j
check_completion "main" _exorelay exorelay -c "$T/good.conf" test --account m
check_completion "main second" _exorelay exorelay --config="$T/good.conf" token --account ""
check_completion "--to" _exorelay exorelay test --account main --t
check_completion "list flush delete deliver --help" _exorelay exorelay queue ""
check_completion "--foreground" _exorelay_milter exorelay-milter --f
check_completion "full" _exorelay_sendmail exorelay-sendmail -R f
check_completion "-bm -bp -bs -bi" _exorelay_sendmail exorelay-sendmail -b
complete -p exorelay exorelay-milter exorelay-sendmail >/dev/null
tap_ok $? "the file registers completions for the three programs"

# --- make install puts it where bash-completion looks ---------------------------
DEST=$T/dest
make -s -C "$TOP" install DESTDIR="$DEST" PREFIX=/usr BUILD="$BUILD" >"$T/install.out" 2>&1
C=$DEST/usr/share/bash-completion/completions
cmp -s "$C/exorelay" "$TOP/contrib/bash-completion/exorelay" &&
    [ "$(readlink "$C/exorelay-milter")" = exorelay ] &&
    [ "$(readlink "$C/exorelay-sendmail")" = exorelay ]
tap_ok $? "make install: the completion in /usr/share/bash-completion/completions, for the three names"
