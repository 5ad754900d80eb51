#!/bin/sh
# deps.sh - install the Debian packages that exorelay's build, tests and demo
# need, when any is missing. Idempotent and silent when all are present.
# Runs as root on Debian 12 or 13 (apt-get; Ubuntu 24.04 offers the same
# names); says what to do otherwise. Waits for another apt/dpkg to finish
# rather than failing on its lock.
set -e
APT_LOCK_WAIT=${APT_LOCK_WAIT:-900}
apt_get() { apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" "$@"; }
# offered PKG - the system's package lists know PKG (a real package, not
# only a name that another provides)
offered() {
    apt-cache show --no-all-versions "$1" 2>/dev/null | grep -q '^Package:'
}
# The fuzz targets (t_fuzz.sh, make fuzz) need clang with its libFuzzer
# runtime: the release's default clang and runtime (clang, libclang-rt-dev:
# clang-14 on Debian 12, clang-19 on Debian 13, clang-18 on Ubuntu 24.04),
# or, where no unversioned runtime package is offered, the runtime of the
# version that the default clang depends on. tests/fuzz/cc.sh then finds
# the clang whose runtime is installed.
clang_pkgs() {
    if offered libclang-rt-dev; then
        echo "clang libclang-rt-dev"
        return
    fi
    v=$(apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n 1)
    if [ -n "$v" ] && offered "libclang-rt-$v-dev"; then
        echo "clang-$v libclang-rt-$v-dev"
    else
        echo "clang"
    fi
}
# What the lists offer is known only after an update: on a fresh machine
# (no package lists yet) update first.
if [ "$(id -u)" = 0 ] && ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
    apt_get update -qq || true
fi
PKGS="gcc make pkg-config libmilter-dev libcurl4-openssl-dev libjansson-dev
libssl-dev openssl ca-certificates curl postfix miltertest faketime
python3 python3-cryptography valgrind groff-base man-db libfaketime
iproute2 procps psmisc time strace util-linux $(clang_pkgs) pflogsumm msmtp"
# Sendmail (for t_milter_sendmail.sh) conflicts with postfix as a package:
# only its .debs are fetched (apt-get download), into a cache that the test
# unpacks into a private directory (tests/lib/sendmail.sh).
SM_CACHE=${EXORELAY_TEST_CACHE:-/var/cache/exorelay-tests}
SM_DEBS="sendmail-bin sendmail-cf m4 libwrap0"
fetch_sendmail_debs() {
    [ "$(id -u)" = 0 ] || return 0
    for p in $SM_DEBS; do
        ls "$SM_CACHE/${p}_"*.deb >/dev/null 2>&1 && continue
        mkdir -p "$SM_CACHE"
        (cd "$SM_CACHE" && apt_get download -qq "$p" >/dev/null 2>&1) ||
            echo "deps: could not download $p into $SM_CACHE (the Sendmail test will skip)" >&2
    done
}
fetch_sendmail_debs

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run 'make deps' as root, or: apt-get install$missing" >&2
    exit 1
fi
echo "deps: installing$missing"
# Postfix asks questions on install: answer them for a local-only start; the
# tests run their own private Postfix instances and never use this one.
echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
echo "postfix postfix/mailname string $(hostname -f 2>/dev/null || echo localhost.localdomain)" |
    debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt_get update -qq || true
apt_get install -y -qq --no-install-recommends $missing >/dev/null
