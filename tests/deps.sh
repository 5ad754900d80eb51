#!/bin/sh
# deps.sh - install the Debian packages that exorelay's build, tests and demo
# need, when any is missing. Idempotent and silent when all are present.
# Runs as root on Debian 12 (apt-get); says what to do otherwise.
set -e
PKGS="gcc make pkg-config libmilter-dev libcurl4-openssl-dev libjansson-dev
libssl-dev openssl ca-certificates curl postfix miltertest faketime
python3 python3-cryptography valgrind groff-base man-db libfaketime
iproute2 procps psmisc time clang-14 libclang-rt-14-dev strace util-linux"
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
        (cd "$SM_CACHE" && apt-get download -qq "$p" >/dev/null 2>&1) ||
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
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends $missing >/dev/null
