# debroot.sh - clean Debian roots for tests/t_deb.sh (source it; bash; root).
#
#   debroot_base RELEASE        /var/tmp/deb-root-RELEASE: debootstrap
#                               minbase with the host's Debian mirror and
#                               fresh package lists; made once, then only
#                               copied (never changed, never mounted)
#   debroot_copy RELEASE DIR    DIR: a fresh copy of the base root
#   debroot_mount DIR           /proc, /sys, /dev, /dev/pts inside DIR
#                               (undone at exit); /run stays the root's own
#                               and empty, so no service starts in it
#   in_root DIR CMD...          run a shell command line inside DIR
#
# The mirror is the one of /etc/apt/sources.list.d/debian.sources (the
# first URIs line). DEBROOT_DIR overrides /var/tmp.
: "${DEBROOT_DIR:=/var/tmp}"

debroot_mirror() {
    sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1
}

# debroot_base RELEASE - print the base root's path; 1 when it cannot be made
debroot_base() {
    local rel=$1 root=$DEBROOT_DIR/deb-root-$1 mirror
    if [ ! -e "$root/.exorelay-base" ]; then
        mirror=$(debroot_mirror)
        [ -n "$mirror" ] || { echo "no mirror in /etc/apt/sources.list.d/debian.sources" >&2; return 1; }
        rm -rf "$root"
        debootstrap --variant=minbase "$rel" "$root" "$mirror" >"$root.log" 2>&1 ||
            { echo "debootstrap $rel failed: $root.log" >&2; return 1; }
        printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "$mirror" "$rel" "$rel" >"$root/etc/apt/sources.list.d/debian.sources"
        rm -f "$root/etc/apt/sources.list"
        cp /etc/resolv.conf "$root/etc/" 2>/dev/null
        chroot "$root" apt-get update -qq >>"$root.log" 2>&1 ||
            { echo "apt-get update in $root failed: $root.log" >&2; return 1; }
        touch "$root/.exorelay-base"
    fi
    echo "$root"
}

# debroot_copy RELEASE DIR - a fresh copy of the base root in DIR
debroot_copy() {
    local base
    base=$(debroot_base "$1") || return 1
    debroot_umount "$2"
    rm -rf "$2" && cp -a "$base" "$2" && rm -f "$2/.exorelay-base"
}

_debroot_mounted=""
debroot_mount() {
    local m
    for m in proc sys dev dev/pts; do
        mountpoint -q "$1/$m" || mount --bind "/$m" "$1/$m" || return 1
    done
    case " $_debroot_mounted " in *" $1 "*) ;; *)
        _debroot_mounted="$_debroot_mounted $1"
        cleanup_add "debroot_umount '$1'" ;;
    esac
}

debroot_umount() {
    local m
    for m in dev/pts dev sys proc; do
        mountpoint -q "$1/$m" && umount -l "$1/$m"
    done
    return 0
}

# in_root DIR "command line" - run it in DIR with a plain environment
in_root() {
    local dir=$1; shift
    chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive /bin/bash -c "$*"
}
