#!/bin/bash
# t_deb.sh - the Debian packages, for real, on Debian 12 and 13: "make deb"
# from this tree inside a clean build root of each release, lintian (no
# errors), hardening-check on the installed programs; then in a second,
# clean root (debootstrap minbase): install version N, fill in the config,
# queue a message as an ordinary user, upgrade to N+1 built from the same
# tree with a bumped version (the admin's config and secret untouched, the
# message still queued), purge (the package's files gone, the secret and the
# waiting message kept).
#
# Slow (two package builds per release, roots made by debootstrap once and
# kept in /var/tmp): it runs only when asked, as root:
#     EXORELAY_DEB_TEST=1 bash tests/run t_deb
# EXORELAY_DEB_RELEASES chooses the releases (default "bookworm trixie").
# Otherwise, or without root or debootstrap, it skips ("ok 1 # skip ...").
. "$(dirname "$0")/lib/common.sh"

skip() { echo "ok 1 # skip $1"; exit 0; }
[ "${EXORELAY_DEB_TEST:-0}" = 1 ] ||
    skip "set EXORELAY_DEB_TEST=1 to build and install the packages in debootstrap roots (slow)"
[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null 2>&1 || skip "debootstrap is missing (apt-get install debootstrap)"
. "$TOP/tests/lib/debroot.sh"
for rel in ${EXORELAY_DEB_RELEASES:-bookworm trixie}; do
    debroot_base "$rel" >/dev/null || skip "no $rel root could be prepared (see above)"
done

LOGS=$TESTS_TMP/logs
mkdir -p "$LOGS"
# show_log FILE - the end of a log, as TAP comments
show_log() { tail -n 25 "$1" | sed 's/^/#   /'; }
# tap_log STATUS "description" LOG - tap_ok, and the log's end when it failed
tap_log() {
    tap_ok "$1" "$2"
    [ "$1" -eq 0 ] || show_log "$3"
}
# step REL NAME DIR "command line" - run it in the root, log in $LOGS/REL-NAME.log
step() {
    in_root "$3" "$4" >"$LOGS/$1-$2.log" 2>&1
}

PKGS="exorelay exorelay-milter exorelay-sendmail"
CONF=/etc/exorelay/exorelay.conf
SECRET=/etc/exorelay/main.secret

# prepare_build REL - the build root: base + toolchain, packaging tools, the
# Build-Depends of debian/control; kept between runs
prepare_build() {
    local b=$DEBROOT_DIR/deb-build-$1
    if [ ! -e "$b/.exorelay-build" ]; then
        debroot_copy "$1" "$b" || return 1
        debroot_mount "$b" || return 1
        in_root "$b" "apt-get install -y -qq --no-install-recommends build-essential \
            dpkg-dev debhelper lintian devscripts git ca-certificates" || return 1
        touch "$b/.exorelay-build"
    fi
    debroot_mount "$b"
}

# copy_tree DIR - this tree (tracked and new files, uncommitted changes
# included; no build output) into DIR/src/exorelay
copy_tree() {
    rm -rf "$1/src" && mkdir -p "$1/src/exorelay" &&
        (cd "$TOP" && git ls-files -co --exclude-standard -z | xargs -0 tar -c --no-recursion -f -) |
        tar -x -C "$1/src/exorelay"
}

# build REL - packages N and N+1 into the build root's /out/n and /out/n1
build() {
    local rel=$1 b=$DEBROOT_DIR/deb-build-$1
    copy_tree "$b" || return 1
    step "$rel" build-deps "$b" "apt-get update -qq && apt-get build-dep -y -qq ./src/exorelay" ||
        { show_log "$LOGS/$rel-build-deps.log"; return 1; }
    step "$rel" build-n "$b" "cd /src/exorelay && make deb && rm -rf /out && mkdir -p /out/n &&
        cp build-deb/*.deb build-deb/*.changes build-deb/*.buildinfo /out/n/" ||
        { show_log "$LOGS/$rel-build-n.log"; return 1; }
    # N+1: the same tree, one more changelog entry
    step "$rel" build-n1 "$b" "cd /src/exorelay && v=\$(dpkg-parsechangelog -S Version) &&
        { printf 'exorelay (%s+t1) unstable; urgency=medium\n\n  * Upgrade test.\n\n -- %s  %s\n\n' \
            \"\$v\" \"\$(dpkg-parsechangelog -S Maintainer)\" \"\$(date -R)\"; cat debian/changelog; } >cl &&
        mv cl debian/changelog && DEB_BUILD_OPTIONS=nocheck make deb && mkdir -p /out/n1 &&
        cp build-deb/*.deb /out/n1/" ||
        { show_log "$LOGS/$rel-build-n1.log"; return 1; }
}

# install_debs REL NAME DIR VERSION "what" - apt-get install the three
# packages of the build root's DIR (no dbgsym) into the release's install
# root; each must then be installed at VERSION
install_debs() {
    local r=$DEBROOT_DIR/deb-inst-$1 files="" p
    for p in $PKGS; do files="$files ./$(basename "$(ls "$3/${p}_"*.deb)")"; done
    step "$1" "$2" "$r" "cd /debs && apt-get install -y -q $files"
    tap_log $? "$1: apt-get install of $5 ($4)" "$LOGS/$1-$2.log"
    for p in $PKGS; do
        [ "$(in_root "$r" "dpkg-query -W -f='\${Status} \${Version}' $p")" = "install ok installed $4" ]
        tap_ok $? "$1: $p $4 is installed"
    done
}

run_release() {
    local rel=$1 b=$DEBROOT_DIR/deb-build-$1 r=$DEBROOT_DIR/deb-inst-$1
    local v v1 hc_opts unitdir line out

    if ! prepare_build "$rel" >"$LOGS/$rel-prepare.log" 2>&1; then
        tap_ok 1 "$rel: build root prepared"; show_log "$LOGS/$rel-prepare.log"; return
    fi
    build "$rel"
    tap_ok $? "$rel: make deb builds $PKGS, version N and N+1"
    [ -n "$(ls "$b"/out/n1/*.deb 2>/dev/null)" ] || return
    v=$(in_root "$b" "dpkg-deb -f /out/n/exorelay_*.deb Version")
    v1=$(in_root "$b" "dpkg-deb -f /out/n1/exorelay_*.deb Version")
    echo "# $rel: N = $v, N+1 = $v1"

    step "$rel" lintian "$b" "cd /out/n && setpriv --reuid=nobody --regid=nogroup --clear-groups \
        env HOME=/tmp lintian --fail-on error *.changes"
    tap_ok $? "$rel: lintian reports no errors"
    grep -E '^[EWI]: ' "$LOGS/$rel-lintian.log" | sed 's/^/#   lintian: /'

    # --- a clean root: install N ------------------------------------------
    debroot_copy "$rel" "$r" && debroot_mount "$r" && mkdir -p "$r/debs" &&
        cp "$b"/out/n/*.deb "$b"/out/n1/*.deb "$r/debs/"
    install_debs "$rel" install "$b/out/n" "$v" "version N into a clean root"

    in_root "$r" "id -u exorelay && getent group exorelay && getent group exorelay-drop" >/dev/null
    tap_ok $? "$rel: the user exorelay, the groups exorelay and exorelay-drop exist"
    out=$(in_root "$r" "stat -c '%a %U %G' /usr/sbin/exorelay-sendmail; dpkg-statoverride --list /usr/sbin/exorelay-sendmail")
    [ "$out" = "2755 root exorelay-drop
root exorelay-drop 2755 /usr/sbin/exorelay-sendmail" ]
    tap_ok $? "$rel: exorelay-sendmail is setgid exorelay-drop, by dpkg-statoverride ($(echo $out))"
    out=$(in_root "$r" "stat -c '%a %U %G' /var/spool/exorelay /var/spool/exorelay/maildrop \
        /var/spool/exorelay/state /var/spool/exorelay/queue /var/lib/exorelay")
    [ "$out" = "755 exorelay exorelay
1770 exorelay exorelay-drop
2750 exorelay exorelay-drop
700 exorelay exorelay
700 exorelay exorelay" ]
    tap_ok $? "$rel: spool and state directories as INSTALL section 6.2 says ($(echo $out))"
    in_root "$r" "for n in /usr/sbin/sendmail /usr/bin/mailq /usr/lib/sendmail; do
        [ \$(readlink -f \$n) = /usr/sbin/exorelay-sendmail ] || exit 1; done"
    tap_ok $? "$rel: /usr/sbin/sendmail, /usr/lib/sendmail and mailq are exorelay-sendmail"
    [ "$(in_root "$r" "dpkg-query -W -f='\${Provides}' exorelay-sendmail")" = mail-transport-agent ]
    tap_ok $? "$rel: exorelay-sendmail provides mail-transport-agent"

    unitdir=$(in_root "$r" "dpkg -L exorelay | sed -n 's,/exorelay.service\$,,p'")
    echo "# $rel: units in $unitdir"
    in_root "$r" "grep -qx 'ExecStart=/usr/sbin/exorelay run -f' $unitdir/exorelay.service &&
        grep -qx 'ExecStartPre=/usr/sbin/exorelay check' $unitdir/exorelay.service &&
        grep -qx 'ExecStart=/usr/sbin/exorelay-milter -f' $unitdir/exorelay-milter.service &&
        grep -qx 'RuntimeDirectory=exorelay' $unitdir/exorelay-milter.service &&
        ! grep -q /usr/local $unitdir/*.service"
    tap_ok $? "$rel: the units run /usr/sbin/...; the milter's /run/exorelay is a RuntimeDirectory"
    in_root "$r" "test -L /etc/systemd/system/multi-user.target.wants/exorelay.service &&
        test -L /etc/systemd/system/multi-user.target.wants/exorelay-milter.service"
    tap_ok $? "$rel: both units are enabled"
    in_root "$r" "dpkg-query -W -f='\${Conffiles}' exorelay" | grep -q " $CONF "
    tap_ok $? "$rel: $CONF is a conffile"

    # --- the shipped config: nothing starts before it is filled in ----------
    in_root "$r" "exorelay check" >"$LOGS/$rel-check.log" 2>&1; out=$?
    [ $out -eq 78 ]
    tap_ok $? "$rel: exorelay check on the shipped config exits 78 (got $out)"
    named=0
    for key in tenant client_id credential_expiry mailbox; do
        line=$(in_root "$r" "grep -n '^$key = CHANGE-ME' $CONF" | cut -d: -f1)
        grep -q "^$CONF:$line: $key is not filled in yet" "$LOGS/$rel-check.log" || named=1
    done
    tap_ok $named "$rel: ... naming FILE:LINE of each CHANGE-ME (tenant, client_id, credential_expiry, mailbox)"
    [ $named -eq 0 ] || show_log "$LOGS/$rel-check.log"
    in_root "$r" "timeout 20 exorelay run -f" >"$LOGS/$rel-run.log" 2>&1; out=$?
    [ $out -eq 78 ] && grep -q "tenant is not filled in yet" "$LOGS/$rel-run.log"
    tap_ok $? "$rel: the relay (exorelay run -f) refuses to start: 78 (got $out)"
    in_root "$r" "timeout 20 exorelay-milter -f" >"$LOGS/$rel-milter.log" 2>&1; out=$?
    [ $out -eq 78 ]
    tap_ok $? "$rel: the milter refuses to start: 78 (got $out)"

    # --- the admin fills it in; an ordinary user queues a message ------------
    in_root "$r" "sed -i -e 's/^tenant = CHANGE-ME/tenant = contoso.onmicrosoft.com/' \
        -e 's/^client_id = CHANGE-ME/client_id = 3e1f0c2a-5b7d-4e8f-9a6b-1c2d3e4f5a6b/' \
        -e 's/^credential_expiry = CHANGE-ME/credential_expiry = 2099-12-31/' \
        -e 's/^mailbox = CHANGE-ME/mailbox = no-reply@contoso.onmicrosoft.com/' $CONF &&
        install -m 0600 -o exorelay /dev/null $SECRET && echo not-a-real-secret-$rel >$SECRET &&
        exorelay check" >"$LOGS/$rel-filled.log" 2>&1
    tap_log $? "$rel: filled in (and main.secret written), exorelay check passes" "$LOGS/$rel-filled.log"
    in_root "$r" "printf 'Subject: t_deb\n\nqueued as nobody\n' |
        setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/sbin/sendmail admin@example.com &&
        setpriv --reuid=nobody --regid=nogroup --clear-groups mailq" >"$LOGS/$rel-submit.log" 2>&1
    out=$?
    [ $out -eq 0 ] && grep -q admin@example.com "$LOGS/$rel-submit.log" &&
        [ "$(in_root "$r" "find /var/spool/exorelay/maildrop -type f -user nobody | wc -l")" = 1 ]
    tap_log $? "$rel: nobody queues a message with /usr/sbin/sendmail, mailq shows it" "$LOGS/$rel-submit.log"
    before=$(in_root "$r" "sha256sum $CONF $SECRET; stat -c '%a %U' $SECRET")

    # --- hardening-check on the installed programs --------------------------
    # The x86 CET marking (control-flow check) needs every object linked in
    # to carry it; the C start files of Debian 12 and 13 do not, so no
    # program there passes (nor does apt-get): the check is skipped when
    # the release's Scrt1.o lacks it. Branch protection is arm64's.
    hc_opts=""
    in_root "$b" "readelf -n /usr/lib/\$(dpkg-architecture -qDEB_HOST_MULTIARCH)/Scrt1.o" |
        grep -q 'IBT, SHSTK' || hc_opts=--nocfprotection
    [ "$(in_root "$b" "dpkg --print-architecture")" = arm64 ] ||
        ! in_root "$b" "hardening-check --help" | grep -q nobranchprotection ||
        hc_opts="$hc_opts --nobranchprotection"
    rm -rf "$b/hc" && mkdir "$b/hc" &&
        cp "$r"/usr/sbin/exorelay "$r"/usr/sbin/exorelay-milter "$r"/usr/sbin/exorelay-sendmail "$b/hc/"
    step "$rel" hardening "$b" "hardening-check $hc_opts /hc/exorelay /hc/exorelay-milter /hc/exorelay-sendmail"
    tap_ok $? "$rel: hardening-check $hc_opts passes on the installed programs"
    grep -vE 'yes|^/hc' "$LOGS/$rel-hardening.log" | sed 's/^/#   /'

    # --- upgrade to N+1 -------------------------------------------------------
    install_debs "$rel" upgrade "$b/out/n1" "$v1" "N+1 over N"
    [ "$(in_root "$r" "sha256sum $CONF $SECRET; stat -c '%a %U' $SECRET")" = "$before" ] &&
        [ -z "$(in_root "$r" "ls /etc/exorelay | grep dpkg")" ]
    tap_ok $? "$rel: the admin's config and secret are untouched (content, mode, owner; no .dpkg-*)"
    [ "$(in_root "$r" "stat -c '%a %G' /usr/sbin/exorelay-sendmail")" = "2755 exorelay-drop" ] &&
        [ "$(in_root "$r" "find /var/spool/exorelay/maildrop -type f -user nobody | wc -l")" = 1 ]
    tap_ok $? "$rel: still setgid exorelay-drop; the queued message is still there"

    # --- purge ----------------------------------------------------------------
    step "$rel" purge "$r" "apt-get purge -y -q $PKGS"
    tap_log $? "$rel: apt-get purge $PKGS" "$LOGS/$rel-purge.log"
    in_root "$r" "for p in $PKGS; do dpkg-query -W -f='\${Status}' \$p 2>/dev/null |
            grep -q 'not-installed' || ! dpkg-query -W \$p >/dev/null 2>&1 || exit 1; done &&
        ! test -e $CONF && ! test -e /usr/sbin/sendmail && ! test -e /usr/bin/mailq &&
        ! test -e /var/lib/exorelay &&
        ! dpkg-statoverride --list /usr/sbin/exorelay-sendmail >/dev/null &&
        ! test -e /etc/systemd/system/multi-user.target.wants/exorelay.service"
    tap_ok $? "$rel: purged: conffile, links, state, statoverride, unit links gone"
    [ "$(in_root "$r" "sha256sum $SECRET; stat -c '%a %U' $SECRET")" = "$(echo "$before" | sed 1d)" ]
    tap_ok $? "$rel: the admin's secret is kept, unchanged"
    [ "$(in_root "$r" "find /var/spool/exorelay/maildrop -type f | wc -l")" = 1 ] &&
        grep -q "messages are left in /var/spool/exorelay" "$LOGS/$rel-purge.log"
    tap_ok $? "$rel: the spool holding a message is kept, and purge says so"
    debroot_umount "$r"
}

for rel in ${EXORELAY_DEB_RELEASES:-bookworm trixie}; do
    run_release "$rel"
done
echo "# logs: $LOGS (KEEP_TMP=1 keeps them)"
