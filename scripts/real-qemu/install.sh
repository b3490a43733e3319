#!/usr/bin/env bash
# install.sh — install the two real QEMUs compat's tests use as their oracle,
# side by side, on a Debian bookworm machine (root; about a minute).
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
#
# Idempotent: a step whose result is there is skipped. Prints both versions.
# The tests find the binaries through COMPAT_QEMU72 and COMPAT_QEMU10, which
# default to the two paths above.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

Q10ROOT=${Q10ROOT:-/opt/qemu10}
APTDIR=${APTDIR:-/var/cache/compat-real-qemu}
V10='1:10.0.2+ds-2+deb13u1~bpo12+1'
SEABIOS10='1.16.3-2~bpo12+1'
MIRROR=${MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

[ "$(id -u)" = 0 ] || { echo "install.sh: needs root (apt-get, dpkg -x, unshare)" >&2; exit 1; }
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

/usr/bin/qemu-system-x86_64 --version | head -1
"$Q10ROOT/qemu10" --version | head -1
