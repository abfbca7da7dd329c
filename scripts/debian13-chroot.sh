#!/bin/sh
# Builds (once) and mounts a Debian 13 ("trixie") system in a directory, so
# altpop can be built and tested against Debian 13's Dovecot 2.4 on a
# Debian 12 machine.  Everything comes from the Debian archive this machine
# already uses (the first URI in its apt sources).  As root:
#   scripts/debian13-chroot.sh [DIR]          create/refresh and mount
#   scripts/debian13-chroot.sh --umount [DIR] unmount proc, dev, sys
# DIR defaults to $ALTPOP_CHROOT or /var/cache/altpop/trixie; it is kept
# between runs (a second run only mounts it and checks the packages).
set -e
here=$(cd "$(dirname "$0")" && pwd)

umount_only=no
if [ "${1:-}" = "--umount" ]; then
	umount_only=yes
	shift
fi
DIR=${1:-${ALTPOP_CHROOT:-/var/cache/altpop/trixie}}

if [ "$(id -u)" != 0 ]; then
	echo "debian13-chroot.sh: run as root (debootstrap, chroot, mount)" >&2
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

if [ ! -x "$DIR/usr/bin/apt-get" ] || [ ! -f "$DIR/.altpop-debootstrap-done" ]; then
	if ! command -v debootstrap >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap
	fi
	MIRROR=$(debian_mirror_url)
	if [ -z "$MIRROR" ]; then
		echo "debian13-chroot.sh: no Debian mirror found in /etc/apt/sources.list(.d)" >&2
		exit 1
	fi
	echo "== debootstrap trixie into $DIR from $MIRROR"
	do_umount
	rm -rf "$DIR"
	mkdir -p "$DIR"
	debootstrap --variant=minbase trixie "$DIR" "$MIRROR"
	printf '#!/bin/sh\nexit 101\n' > "$DIR/usr/sbin/policy-rc.d"
	chmod +x "$DIR/usr/sbin/policy-rc.d"
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
chroot "$DIR" /bin/sh /root/altpop-setup/install-deps.sh
echo "== Debian 13 chroot ready: $DIR ($(chroot "$DIR" dovecot --version))"
