#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-only
# Builds Emacs's movemail (the second KPOP client, besides fetchmail) from
# the emacs source package of the Debian release this runs on, with POP and
# Kerberos V5 and nothing else: only lib/ (gnulib) and lib-src/movemail are
# built. The source comes with `apt-get source` through a private package
# list of deb-src lines for the Debian archive this machine's apt already
# uses (the system's apt configuration is not changed).
#
#   tests/movemail/build.sh [CACHE]     prints the path of the movemail binary
#
# CACHE (default $ALTPOP_MOVEMAIL_CACHE, else /var/cache/altpop/movemail)
# keeps the build per release (CACHE/<release>/movemail): later runs reuse
# it. Needs dpkg-dev, xz-utils, autoconf, automake, make, gcc, libkrb5-dev,
# libncurses-dev
# (scripts/install-deps.sh installs them).
set -e
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/debian-mirror.sh"
. /etc/os-release
cache=${1:-${ALTPOP_MOVEMAIL_CACHE:-/var/cache/altpop/movemail}}/$VERSION_CODENAME
bin=$cache/movemail
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi
log=$cache/build.log
: >"$log"
fail() {
	echo "tests/movemail/build.sh: $1 (log: $log)" >&2
	tail -n 20 "$log" >&2
	exit 1
}
mirror=$(debian_mirror_url)
[ -n "$mirror" ] || fail "no Debian archive in this machine's apt sources"
work=$cache/work
rm -rf "$work"
mkdir -p "$work/lists/partial"
echo "deb-src $mirror $VERSION_CODENAME main" >"$work/sources.list"
apt="-o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists=$work/lists"
# shellcheck disable=SC2086
apt-get -q $apt update >>"$log" 2>&1 || fail "apt-get update of the deb-src list failed"
# shellcheck disable=SC2086
if ! (cd "$work" && apt-get -q $apt source emacs) >>"$log" 2>&1; then
	# An archive can lack the .dsc while it has the tarballs, which apt
	# has fetched and checked against the Sources index: unpack them as
	# dpkg-source does for the "3.0 (quilt)" format (the upstream tarball,
	# debian/ over it, the patches of debian/patches/series in order).
	orig=$(find "$work" -maxdepth 1 -name 'emacs_*.orig.tar.*' | head -n 1)
	deb=$(find "$work" -maxdepth 1 -name 'emacs_*.debian.tar.*' | head -n 1)
	[ -n "$orig" ] && [ -n "$deb" ] || fail "apt-get source emacs failed"
	echo "apt-get source failed, unpacking $orig and $deb" >>"$log"
	mkdir "$work/upstream"
	tar -xf "$orig" -C "$work/upstream" >>"$log" 2>&1 || fail "cannot unpack $orig"
	top=$(find "$work/upstream" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	[ -n "$top" ] || fail "$orig has no source directory"
	mv "$top" "$work/emacs-src"
	tar -xf "$deb" -C "$work/emacs-src" >>"$log" 2>&1 || fail "cannot unpack $deb"
	if [ -f "$work/emacs-src/debian/patches/series" ]; then
		sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$work/emacs-src/debian/patches/series" |
		while read -r patch _; do
			(cd "$work/emacs-src" && patch -p1 -s -N <"debian/patches/$patch") \
				>>"$log" 2>&1 || { echo "patch $patch failed" >>"$log"; exit 1; }
		done || fail "a Debian patch did not apply"
	fi
fi
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'emacs-*' | head -n 1)
[ -n "$src" ] || fail "apt-get source emacs left no source tree"
cd "$src"
# the Debian source has no generated configure
./autogen.sh autoconf >>"$log" 2>&1 || fail "autogen.sh failed"
# configure insists on makeinfo or pre-built manuals; no manual is built
mkdir -p info
touch info/emacs
./configure --without-all --without-x --with-pop --with-kerberos5 \
	--without-mailutils --with-dumping=none --without-native-compilation \
	>>"$log" 2>&1 || fail "configure failed"
grep -q '^#define KERBEROS5 1' src/config.h || fail "configure did not enable Kerberos 5"
grep -q '^#define MAIL_USE_POP 1' src/config.h || fail "configure did not enable POP"
make -C lib -j"$(nproc)" >>"$log" 2>&1 || fail "make -C lib failed"
make -C lib-src movemail >>"$log" 2>&1 || fail "make -C lib-src movemail failed"
cp lib-src/movemail "$bin.tmp"
mv "$bin.tmp" "$bin"
basename "$src" >"$cache/version"
cd /
rm -rf "$work"
echo "$bin"
