#!/bin/sh
# t_install.sh - what "make install" puts where (the systemd units naming the
# installed programs, the config with CHANGE-ME placeholders, never over an
# existing config; "make uninstall" takes the units back), and that the
# programs of this build are hardened as "make" builds them: PIE, full
# RELRO (BIND_NOW), stack protector, fortified libc calls (the last not in
# sanitizer builds, which leave fortify out).
. "$(dirname "$0")/lib/common.sh"
command -v readelf >/dev/null 2>&1 || skip_all "readelf (binutils) is missing"

DEST=$TESTS_TMP/dest
make -s -C "$TOP" install DESTDIR="$DEST" PREFIX=/opt/xr UNITDIR=/opt/xr/units \
    BUILD="$BUILD" >"$TESTS_TMP/install.out" 2>&1
tap_ok $? "make install DESTDIR=... PREFIX=/opt/xr UNITDIR=/opt/xr/units"
U=$DEST/opt/xr/units
grep -qx 'ExecStart=/opt/xr/sbin/exorelay run -f' "$U/exorelay.service" &&
    grep -qx 'ExecStartPre=/opt/xr/sbin/exorelay check' "$U/exorelay.service" &&
    grep -qx 'ExecStart=/opt/xr/sbin/exorelay-milter -f' "$U/exorelay-milter.service" &&
    ! grep -q /usr/local "$U/exorelay.service" "$U/exorelay-milter.service"
tap_ok $? "the units are installed and name the programs under SBINDIR"
[ "$(stat -c %a "$U/exorelay.service")" = 644 ]
tap_ok $? "units are mode 0644"
cmp -s "$DEST/etc/exorelay/exorelay.conf" "$TOP/conf/exorelay.conf"
tap_ok $? "the config installed is conf/exorelay.conf (with CHANGE-ME placeholders)"
echo "# mine" >"$DEST/etc/exorelay/exorelay.conf"
make -s -C "$TOP" install DESTDIR="$DEST" PREFIX=/opt/xr UNITDIR=/opt/xr/units \
    BUILD="$BUILD" >"$TESTS_TMP/install2.out" 2>&1 &&
    [ "$(cat "$DEST/etc/exorelay/exorelay.conf")" = "# mine" ]
tap_ok $? "a second make install keeps the existing config"
make -s -C "$TOP" uninstall DESTDIR="$DEST" PREFIX=/opt/xr UNITDIR=/opt/xr/units \
    >/dev/null 2>&1 && [ ! -e "$U/exorelay.service" ] && [ ! -e "$U/exorelay-milter.service" ]
tap_ok $? "make uninstall removes the units"

make -s -C "$TOP" install DESTDIR="$TESTS_TMP/dest2" BUILD="$BUILD" >/dev/null 2>&1 &&
    [ -f "$TESTS_TMP/dest2/usr/local/lib/systemd/system/exorelay.service" ] &&
    grep -qx 'ExecStart=/usr/local/sbin/exorelay run -f' \
        "$TESTS_TMP/dest2/usr/local/lib/systemd/system/exorelay.service"
tap_ok $? "default: units in /usr/local/lib/systemd/system (systemd reads it)"

# --- hardening of the built programs ----------------------------------------
for p in exorelay exorelay-milter exorelay-sendmail; do
    f=$BIN/$p
    [ -x "$f" ] || f=$BUILD/bin/$p          # $BIN may hold wrappers (valgrind)
    readelf -h "$f" | grep -q 'Type: *DYN'
    tap_ok $? "$p: position independent (ELF type DYN)"
    readelf -lW "$f" | grep -q GNU_RELRO && readelf -dW "$f" | grep -Eq 'BIND_NOW|FLAGS_1.*NOW'
    tap_ok $? "$p: full RELRO (GNU_RELRO and BIND_NOW)"
    readelf -sW --dyn-syms "$f" | grep -q __stack_chk_fail
    tap_ok $? "$p: stack protector (__stack_chk_fail)"
    if readelf -sW --dyn-syms "$f" | grep -q __asan_init; then
        echo "ok $((_tap_n + 1)) # skip $p: a sanitizer build, built without fortify"
        _tap_n=$((_tap_n + 1))
    else
        readelf -sW --dyn-syms "$f" | grep -Eq '__[a-z_]+_chk(@| )'
        tap_ok $? "$p: fortified libc calls (__*_chk)"
    fi
done
