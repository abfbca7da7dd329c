#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-only
# Builds (once) and mounts a Debian system of another release in a
# directory, so altpop can be built and tested against that release's
# Dovecot on this machine. Everything comes from the Debian archive this
# machine already uses (the first URI in its apt sources). As root:
#   scripts/debian-chroot.sh RELEASE [DIR]          create/refresh and mount
#   scripts/debian-chroot.sh --umount RELEASE [DIR] unmount proc, dev, sys
# RELEASE:
#   trixie        Debian 13, Dovecot 2.4.1
#   forky         Debian testing, Dovecot 2.4.2 and later
#   bookworm-bpo  Debian 12 with Dovecot from bookworm-backports (2.3.21.1)
#   src:SUITE:SRC a SUITE system (trixie, bookworm) for a Dovecot built from
#                 source (tests/upstream-dovecot.sh): deb-src of SRC (the
#                 suite whose source package is built), apt refuses every
#                 dovecot-* package; the packages are installed with
#                 ALTPOP_DOVECOT_FROM_SOURCE=1 (Dovecot's build deps)
# DIR defaults to /var/cache/altpop/RELEASE; it is kept between runs (a
# second run only mounts it and checks the packages).
set -e
here=$(cd "$(dirname "$0")" && pwd)

umount_only=no
if [ "${1:-}" = "--umount" ]; then
	umount_only=yes
	shift
fi
RELEASE=${1:?usage: scripts/debian-chroot.sh [--umount] trixie|forky|bookworm-bpo [DIR]}
DIR=${2:-/var/cache/altpop/$RELEASE}

# suite: what debootstrap installs; script: debootstrap's script for it
case "$RELEASE" in
trixie) suite=trixie; script= ;;
# Debian 12's debootstrap has no script named forky: testing is made
# like sid
forky) suite=forky; script=/usr/share/debootstrap/scripts/sid ;;
bookworm-bpo) suite=bookworm; script= ;;
src:trixie:*|src:bookworm:*)
	suite=${RELEASE#src:}
	src_suite=${suite#*:}
	suite=${suite%%:*}
	script= ;;
*) echo "debian-chroot.sh: unknown release $RELEASE (trixie, forky, bookworm-bpo or src:SUITE:SRC)" >&2; exit 1 ;;
esac
from_source=
case "$RELEASE" in src:*) from_source=1 ;; esac

if [ "$(id -u)" != 0 ]; then
	echo "debian-chroot.sh: run as root (debootstrap, chroot, mount)" >&2
	exit 1
fi

do_umount() {
	for m in dev/pts dev sys proc ""; do
		while mountpoint -q "$DIR/$m" 2>/dev/null; do
			umount -l "$DIR/$m" || break
		done
	done
}
if [ "$umount_only" = yes ]; then
	do_umount
	exit 0
fi

# The mirror this machine's apt uses: debian_mirror_url
. "$here/debian-mirror.sh"
MIRROR=$(debian_mirror_url)

if [ ! -x "$DIR/usr/bin/apt-get" ] || [ ! -f "$DIR/.altpop-debootstrap-done" ]; then
	if ! command -v debootstrap >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap
	fi
	if [ -z "$MIRROR" ]; then
		echo "debian-chroot.sh: no Debian mirror found in /etc/apt/sources.list(.d)" >&2
		exit 1
	fi
	echo "== debootstrap $suite into $DIR from $MIRROR"
	do_umount
	rm -rf "$DIR"
	mkdir -p "$DIR"
	debootstrap --variant=minbase "$suite" "$DIR" "$MIRROR" $script
	printf '#!/bin/sh\nexit 101\n' > "$DIR/usr/sbin/policy-rc.d"
	chmod +x "$DIR/usr/sbin/policy-rc.d"
	case "$RELEASE" in
	forky)
		# The archive's testing Release file may be past its
		# Valid-Until date; signatures are still checked.
		echo 'Acquire::Check-Valid-Until "false";' \
			> "$DIR/etc/apt/apt.conf.d/99altpop-valid-until" ;;
	bookworm-bpo)
		echo "deb $MIRROR bookworm-backports main" \
			> "$DIR/etc/apt/sources.list.d/backports.list"
		# Dovecot (all its packages) from backports, the rest from
		# bookworm
		printf 'Package: dovecot-*\nPin: release n=bookworm-backports\nPin-Priority: 990\n' \
			> "$DIR/etc/apt/preferences.d/altpop-dovecot-backports" ;;
	src:*)
		# Dovecot's source package (deb-src only)
		echo "deb-src $MIRROR $src_suite main" \
			> "$DIR/etc/apt/sources.list.d/altpop-dovecot-src.list"
		# Dovecot is the one built from source: never Debian's
		printf 'Package: dovecot-*\nPin: version *\nPin-Priority: -1\n' \
			> "$DIR/etc/apt/preferences.d/altpop-no-debian-dovecot" ;;
	esac
	touch "$DIR/.altpop-debootstrap-done"
fi

# DIR on itself makes / a mount point inside the chroot, so the tests'
# "unshare -m" (a private mount namespace per Dovecot instance) works there.
if ! mountpoint -q "$DIR"; then
	mount --bind "$DIR" "$DIR"
	mount --make-private "$DIR"
fi
mountpoint -q "$DIR/proc" || mount -t proc proc "$DIR/proc"
mountpoint -q "$DIR/sys" || mount -t sysfs sysfs "$DIR/sys"
mountpoint -q "$DIR/dev" || mount --bind /dev "$DIR/dev"
mountpoint -q "$DIR/dev/pts" || mount --bind /dev/pts "$DIR/dev/pts"
# The chroot shares this machine's network: same host name, same hosts file
# (clients such as fetchmail resolve the machine's own name).
cp /etc/hosts "$DIR/etc/hosts" 2>/dev/null || true
cp /etc/resolv.conf "$DIR/etc/resolv.conf" 2>/dev/null || true

# The same package list the host uses (scripts/install-deps.sh).
mkdir -p "$DIR/root/altpop-setup"
cp "$here/install-deps.sh" "$DIR/root/altpop-setup/install-deps.sh"
chroot "$DIR" env ALTPOP_DOVECOT_FROM_SOURCE="$from_source" \
	/bin/sh /root/altpop-setup/install-deps.sh
if [ -n "$from_source" ]; then
	if chroot "$DIR" dpkg-query -W -f '${Package} ${Status}\n' 'dovecot-*' 2>/dev/null |
		grep 'install ok installed'; then
		echo "debian-chroot.sh: Debian's Dovecot packages are installed in $DIR" >&2
		exit 1
	fi
	echo "== Debian chroot $RELEASE ready for a Dovecot from source: $DIR"
else
	echo "== Debian chroot $RELEASE ready: $DIR ($(chroot "$DIR" dovecot --version))"
fi
