#!/usr/bin/env bash
# install.sh — install the four real QEMUs compat's tests use as their oracle,
# side by side, on a Debian bookworm machine (root; about three minutes).
#
#   QEMU 7.2.22  Debian's own package (qemu-system-x86 from bookworm), installed
#                with apt: /usr/bin/qemu-system-x86_64.
#   QEMU 10.0.2  Debian's backport (bookworm-backports), downloaded with a private
#                apt state (the system's sources and package list stay as they
#                are) and unpacked with dpkg -x into $Q10ROOT (/opt/qemu10).
#                That build looks for its firmware, data and modules at fixed
#                paths (/usr/share/qemu, /usr/share/seabios,
#                /usr/lib/x86_64-linux-gnu/qemu), where 7.2's are; the wrapper
#                $Q10ROOT/qemu10 runs it in a private mount namespace with those
#                three folders bind-mounted from the unpacked tree.
#   QEMU 5.2.0   Debian bullseye's package, in a root of its own suite made with
#                debootstrap --variant=minbase ($Q52ROOT/root, about 400 MB):
#                the wrapper $Q52ROOT/qemu52 runs it with chroot, in a private
#                mount namespace where the host's /tmp is bind-mounted onto
#                the root's, so that files under /tmp (streams, dumps) are
#                where the caller sees them.
#   QEMU 11.1.3  Debian sid's package, the same way ($Q111ROOT, qemu111).
#
# Idempotent: a step whose result is there is skipped. Prints the four
# versions. The tests find the binaries through COMPAT_QEMU52, COMPAT_QEMU72,
# COMPAT_QEMU10 and COMPAT_QEMU111, which default to the paths above.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

Q10ROOT=${Q10ROOT:-/opt/qemu10}
Q52ROOT=${Q52ROOT:-/opt/qemu52}
Q111ROOT=${Q111ROOT:-/opt/qemu111}
APTDIR=${APTDIR:-/var/cache/compat-real-qemu}
V10='1:10.0.2+ds-2+deb13u1~bpo12+1'
SEABIOS10='1.16.3-2~bpo12+1'
MIRROR=${MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

[ "$(id -u)" = 0 ] || { echo "install.sh: needs root (apt-get, dpkg -x, debootstrap, unshare)" >&2; exit 1; }
quiet() { local log; log=$(mktemp); "$@" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; return 1; }; rm -f "$log"; }

# QEMU 7.2: the distribution's package.
if ! dpkg-query -W -f='${Status}' qemu-system-x86 2>/dev/null | grep -q 'install ok installed'; then
    echo "installing qemu-system-x86 (7.2) with apt"
    quiet apt-get update
    quiet apt-get install -y --no-install-recommends qemu-system-x86
fi

# QEMU 10.0: the backport's packages, unpacked, not installed. Besides the
# emulator: its firmware (10.0 needs seabios newer than bookworm's) and its
# module packages (-dump-vmstate loads every module of the build).
if ! "$Q10ROOT/usr/bin/qemu-system-x86_64" --version 2>/dev/null | grep -q '10\.0\.2'; then
    echo "downloading QEMU $V10 from bookworm-backports into $APTDIR"
    mkdir -p "$APTDIR"/{lists/partial,cache,parts,debs}
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$MIRROR" bookworm "$keyring" "$MIRROR" bookworm-backports \
        > "$APTDIR/sources.list"
    apt_private=(-o "Dir::Etc::SourceList=$APTDIR/sources.list" -o "Dir::Etc::SourceParts=$APTDIR/parts"
                 -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache"
                 -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$APTDIR/parts")
    quiet apt-get "${apt_private[@]}" update
    (cd "$APTDIR/debs" && quiet apt-get "${apt_private[@]}" download \
        "qemu-system-x86=$V10" "qemu-system-common=$V10" "qemu-system-data=$V10" \
        "qemu-system-modules-opengl=$V10" "qemu-system-modules-spice=$V10" "seabios=$SEABIOS10")
    mkdir -p "$Q10ROOT"
    for deb in "$APTDIR"/debs/*.deb; do dpkg -x "$deb" "$Q10ROOT"; done
fi
cat > "$Q10ROOT/qemu10" <<'WRAPPER'
#!/bin/sh
# QEMU 10.0.2 unpacked beside the system's QEMU: its data, firmware and module
# folders bind-mounted over the system's in a private mount namespace, which
# the host never sees. unshare and sh both exec: this script's PID is QEMU's.
R=$(dirname "$(readlink -f "$0")")
exec unshare -m sh -c '
mount --bind "$0/usr/lib/x86_64-linux-gnu/qemu" /usr/lib/x86_64-linux-gnu/qemu &&
mount --bind "$0/usr/share/qemu" /usr/share/qemu &&
mount --bind "$0/usr/share/seabios" /usr/share/seabios &&
exec "$0/usr/bin/qemu-system-x86_64" "$@"' "$R" "$@"
WRAPPER
chmod +x "$Q10ROOT/qemu10"

# QEMU 5.2 and 11.1: their suites' packages in debootstrap roots.
chrooted() { # chrooted DIR SUITE VERSION WRAPPER
    local dir=$1 suite=$2 version=$3 wrapper=$4
    if ! chroot "$dir/root" qemu-system-x86_64 --version 2>/dev/null | grep -q "version $version"; then
        if ! command -v debootstrap >/dev/null; then
            echo "installing debootstrap with apt"
            quiet apt-get update
            quiet apt-get install -y --no-install-recommends debootstrap
        fi
        echo "making a $suite root with QEMU $version in $dir/root"
        rm -rf "$dir/root"
        mkdir -p "$dir"
        quiet debootstrap --variant=minbase --include=qemu-system-x86 "$suite" "$dir/root" "$MIRROR"
    fi
    cat > "$dir/$wrapper" <<WRAPPER
#!/bin/sh
# QEMU $version in a debootstrap root of Debian $suite, run with chroot in a
# private mount namespace where the host's /tmp is the root's /tmp: files
# under /tmp are where the caller sees them. unshare, sh and chroot all
# exec: this script's PID is QEMU's.
exec unshare -m sh -c 'mount --bind /tmp "\$0/tmp" && exec chroot "\$0" qemu-system-x86_64 "\$@"' "$dir/root" "\$@"
WRAPPER
    chmod +x "$dir/$wrapper"
}
chrooted "$Q52ROOT" bullseye 5.2.0 qemu52
chrooted "$Q111ROOT" sid 11.1.3 qemu111

"$Q52ROOT/qemu52" --version | head -1
/usr/bin/qemu-system-x86_64 --version | head -1
"$Q10ROOT/qemu10" --version | head -1
"$Q111ROOT/qemu111" --version | head -1
