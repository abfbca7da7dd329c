#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-only
# Tests altpop against a Dovecot built from its upstream source, without
# Debian's patches, in a Debian chroot of its own. As root:
#   tests/upstream-dovecot.sh VERSION [PYTEST ARGS...]
# VERSION:
#   2.4.1     a Debian 13 (trixie) system, Dovecot from trixie's source
#             package (1:2.4.1+dfsg1-*)
#   2.3.21.1  a Debian 12 (bookworm) system, Dovecot from bookworm-backports'
#             source package (1:2.3.21.1+dfsg1-1~bpo12+1)
#   2.3.19.1  a Debian 12 (bookworm) system, Dovecot from bookworm's source
#             package (1:2.3.19.1+dfsg1-2.1*)
# The Debian mirror (the first one in this machine's apt sources) must
# have the upstream tarball; the .dsc and the Debian part may be missing.
# Where it lacks the tarball (mirrors keep only the newest backport's
# files, and 2.3.21.1's are gone from some), ALTPOP_UPSTREAM_GIT=DIR names
# a clone of Dovecot's core repository: its release tag VERSION is built
# instead (git archive; the generated Unicode tables come from Debian's
# unicode-data package, as Dovecot's Makefiles would download them).
# Only the source package's upstream tarball (*.orig.tar.*: Dovecot's
# release, repacked by Debian without non-free files) is built; the Debian
# part (*.debian.tar.*, with Debian's patches) is never unpacked. Dovecot is
# installed with Debian's layout (/usr/sbin/dovecot, /usr/bin/doveconf,
# /usr/lib/dovecot/{pop3,pop3-login,lmtp,...,dovecot-config,modules},
# /usr/include/dovecot, /usr/share/aclocal/dovecot.m4) and the users
# Debian's postinst creates (dovecot, dovenull), so altpop builds and its
# tests run there as on a Debian machine with dovecot-dev.
# Then, on a copy of this tree (as tests/run.sh does for Debian 13):
# scripts/install-deps.sh with ALTPOP_DOVECOT_FROM_SOURCE=1 (no Debian
# dovecot-* package; an apt pin refuses them as well), the build
# (EXTRA_CFLAGS=-Werror scripts/build.sh), the unit tests (make check), the
# fuzz targets (tests/fuzz/run.sh) and the core integration tests (pytest
# marker "core", or, while there is none, a fixed list of test files);
# PYTEST ARGS replace that selection (e.g. -k fetchmail, a test file).
# Everything is kept for the next run: the chroot (debootstrap) and the
# Dovecot build (redone only when the installed version or the configure
# options differ); only the copy of this tree is made anew.
# ALTPOP_UPSTREAM_DIR=DIR: the chroot (default /var/cache/altpop/upstream-VERSION).
# ALTPOP_IT_JOBS=N: integration test workers (default 3, as tests/run.sh).
# Prints one summary line at the end (result and time of each phase) and
# exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)

VERSION=${1:-}
case "$VERSION" in
2.4.1) suite=trixie; src_suite=trixie ;;
2.3.21.1) suite=bookworm; src_suite=bookworm-backports ;;
2.3.19.1) suite=bookworm; src_suite=bookworm ;;
*) echo "usage: tests/upstream-dovecot.sh 2.4.1|2.3.21.1|2.3.19.1 [PYTEST ARGS...]" >&2; exit 2 ;;
esac
shift
DIR=${ALTPOP_UPSTREAM_DIR:-/var/cache/altpop/upstream-$VERSION}
me="tests/upstream-dovecot.sh $VERSION"

if [ "$(id -u)" != 0 ]; then
	echo "$me: run as root (debootstrap, chroot, mount)" >&2
	exit 1
fi

# One run per chroot at a time.
mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
if ! flock -n 9; then
	echo "$me: another run holds $DIR.lock" >&2
	exit 1
fi

# the chroot (scripts/debian-chroot.sh): a SUITE system with deb-src of
# the source suite, no Debian Dovecot package, Dovecot's build deps
release="src:$suite:$src_suite"
trap 'scripts/debian-chroot.sh --umount "$release" "$DIR"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Phases: name, result and time of each, for the summary line.
summary=""
rc=0
now() { date +%s; }
# phase NAME COMMAND...: runs COMMAND, records ok/FAILED and its time
phase() {
	_name=$1
	shift
	echo "== $me: $_name"
	_t0=$(now)
	if "$@"; then _r=ok; else _r=FAILED; rc=1; fi
	_t=$(($(now) - _t0))
	echo "== $me: $_name $_r (${_t}s)"
	summary="$summary, $_name $_r ${_t}s"
	[ "$_r" = ok ]
}
finish() {
	if [ "$rc" = 0 ]; then
		echo "== $me: PASSED: $dovecot_desc$summary"
	else
		echo "== $me: FAILED: $dovecot_desc$summary" >&2
	fi
	exit "$rc"
}
dovecot_desc="Dovecot $VERSION (upstream, not built yet)"

# chroot_run COMMAND...: COMMAND inside the chroot, with a clean environment
chroot_run() {
	chroot "$DIR" env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive CI="${CI:-}" "$@"
}

# ---- Dovecot from the upstream tarball, Debian's layout ----
write_dovecot_build() {
	cat > "$DIR/root/altpop-setup/dovecot-build.sh" <<'EOF'
# Runs inside the chroot: sh dovecot-build.sh VERSION
set -e
VERSION=$1
work=/root/dovecot-upstream
stamp=$work/installed
# Debian's layout (as the dovecot-core, -dev, -pop3d, -lmtpd, -gssapi
# packages install it: GSSAPI as a plugin, modules/auth/libmech_gssapi.so);
# everything else is Dovecot's default
opts="--prefix=/usr --sysconfdir=/etc --localstatedir=/var --libexecdir=/usr/lib
 --with-moduledir=/usr/lib/dovecot/modules --with-rundir=/run/dovecot
 --docdir=/usr/share/doc/dovecot-core --disable-static
 --with-gssapi=plugin --with-pam --with-libcap --with-bzlib --with-lz4 --with-zstd"
case "$VERSION" in
# 2.4 always uses OpenSSL and zlib (no options for them)
2.3.*) opts="$opts --with-ssl=openssl --with-zlib" ;;
esac
# from the release tag of a Dovecot git clone (git-VERSION.tar, made by
# the caller) rather than from the Debian mirror's tarball
gitsrc=$work/../dovecot-git-$VERSION.tar
from=tarball
[ -f "$gitsrc" ] && from="git $(sha256sum < "$gitsrc" | cut -c1-16)"
want="$VERSION $from $(echo $opts)"
# (upstream's 2.4 tarballs say 2.4.1-4: the release's build number)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x /usr/sbin/dovecot ]; then
	case "$(/usr/sbin/dovecot --version)" in
	"$VERSION "*|"$VERSION-"*)
		echo "Dovecot $(/usr/sbin/dovecot --version) (upstream) already installed: kept"
		exit 0 ;;
	esac
fi
rm -f "$stamp"
apt-get update
if [ "$from" != tarball ]; then
	apt-get install -y --no-install-recommends autoconf automake libtool \
		pkg-config bison flex perl gettext unicode-data
	rm -rf "$work"
	mkdir -p "$work/src"
	tar -xf "$gitsrc" -C "$work/src"
	cd "$work/src"
	# what Dovecot's Makefiles and autogen.sh would download
	cp /usr/share/unicode/UnicodeData.txt src/lib/
	[ ! -d src/lib-fts ] ||
		cp /usr/share/unicode/auxiliary/WordBreakProperty.txt \
			/usr/share/unicode/PropList.txt src/lib-fts/
	# (2.3's autogen.sh adds the wiki export to doc/wiki: none here)
	if [ -f doc/wiki/Makefile.am.in ]; then
		cp doc/wiki/Makefile.am.in doc/wiki/Makefile.am
	fi
	# (AM_ICONV and config.rpath: gettext's, as autogen.sh copies it)
	cp /usr/share/gettext/config.rpath .
	autoreconf -i
	# (the git tree has the manual pages' sources only: not built)
	export PANDOC=false
	orig="git-tag-$VERSION"
	debver="Dovecot's repository"
	echo "Dovecot $VERSION: building its git release tag"
else
# the newest Debian revision of this upstream version in the deb-src source
debver=
for v in $(apt-cache showsrc dovecot | sed -n 's/^Version: //p'); do
	case "$v" in
	1:$VERSION+dfsg1-*)
		if [ -z "$debver" ] || dpkg --compare-versions "$v" gt "$debver"; then
			debver=$v
		fi ;;
	esac
done
if [ -z "$debver" ]; then
	echo "dovecot-build.sh: no dovecot source package 1:$VERSION+dfsg1-* in the deb-src sources" >&2
	exit 1
fi
rm -rf "$work"
mkdir -p "$work/dl"
cd "$work/dl"
# the upstream tarball (not the component tarball orig-pigeonhole) and its
# SHA-256 from the Sources index (signed through the Release file)
set -- $(apt-cache showsrc dovecot | awk -v v="$debver" '
	/^Version: / { ok = ($2 == v) }
	/^[^ ]/ { sums = ($1 == "Checksums-Sha256:") }
	ok && sums && $3 ~ /^dovecot_[^-]*\.orig\.tar\.[a-z0-9]+$/ { print $3, $1; exit }')
orig=${1:-}
sha=${2:-}
if [ -z "$orig" ]; then
	echo "dovecot-build.sh: no upstream tarball listed for dovecot $debver" >&2
	exit 1
fi
# apt fetches the Debian part too; it is never unpacked, and a mirror
# that lacks it (or the .dsc) does not matter as long as the upstream
# tarball came and matches the index
if ! apt-get source --download-only "dovecot=$debver"; then
	echo "dovecot-build.sh: apt-get source failed; going on if $orig came complete"
fi
if [ ! -f "$orig" ]; then
	echo "dovecot-build.sh: the Debian mirror did not give $orig (of dovecot $debver);" \
		"set ALTPOP_UPSTREAM_GIT to a clone of Dovecot's core repository to build its tag $VERSION instead" >&2
	exit 1
fi
if ! echo "$sha  $orig" | sha256sum -c -; then
	echo "dovecot-build.sh: $orig is not the one the Sources index lists" >&2
	exit 1
fi
echo "Dovecot $debver: building $orig (Debian's patches not applied)"
mkdir "$work/src"
tar -xf "$orig" -C "$work/src" --strip-components=1
cd "$work/src"
if [ -d debian ]; then
	echo "dovecot-build.sh: $orig holds a debian directory" >&2
	exit 1
fi
fi
./configure $opts
make -j2
make install
# the users Debian's dovecot-core postinst creates
adduser --system --group --home /usr/lib/dovecot --gecos "Dovecot mail server" \
	--no-create-home --disabled-password --quiet dovecot || true
adduser --system --group --home /nonexistent --no-create-home --gecos "Dovecot login user" \
	--disabled-password --quiet dovenull || true
# module directories Debian's packages have (settings: where plugin
# settings modules go; auth: the GSSAPI mechanism)
mkdir -p /usr/lib/dovecot/modules/settings /usr/lib/dovecot/modules/auth
ldconfig
echo "$orig $debver" > "$work/source"
echo "$want" > "$stamp"
echo "Dovecot $(/usr/sbin/dovecot --version) (upstream, from $orig of $debver) installed"
EOF
}

# ALTPOP_UPSTREAM_GIT: the release tag's tree, for dovecot-build.sh
export_git_tag() {
	_tar=$DIR/root/dovecot-git-$VERSION.tar
	if [ -z "${ALTPOP_UPSTREAM_GIT:-}" ]; then
		rm -f "$_tar"
		return 0
	fi
	if ! git -C "$ALTPOP_UPSTREAM_GIT" rev-parse -q --verify "refs/tags/$VERSION^{commit}" >/dev/null; then
		echo "$me: ALTPOP_UPSTREAM_GIT=$ALTPOP_UPSTREAM_GIT has no tag $VERSION" >&2
		return 1
	fi
	git -C "$ALTPOP_UPSTREAM_GIT" archive --format=tar "$VERSION" > "$_tar.new" &&
	if cmp -s "$_tar.new" "$_tar"; then rm -f "$_tar.new"; else mv "$_tar.new" "$_tar"; fi
}
build_dovecot() {
	write_dovecot_build &&
	export_git_tag &&
	chroot_run sh /root/altpop-setup/dovecot-build.sh "$VERSION" &&
	for f in /usr/sbin/dovecot /usr/bin/doveconf /usr/bin/doveadm \
		/usr/lib/dovecot/pop3 /usr/lib/dovecot/pop3-login /usr/lib/dovecot/lmtp \
		/usr/lib/dovecot/dovecot-config /usr/include/dovecot/lib.h \
		/usr/share/aclocal/dovecot.m4; do
		[ -e "$DIR$f" ] || { echo "$me: $f missing after the Dovecot build" >&2; return 1; }
	done
}

# ---- altpop: a copy of this tree, its deps, build and tests ----
copy_tree() {
	rm -rf "$DIR/root/altpop" &&
	mkdir -p "$DIR/root/altpop" &&
	if [ -d .git ] && command -v git >/dev/null 2>&1; then
		git ls-files -co --exclude-standard -z |
			tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$DIR/root/altpop"
	else
		tar --exclude=.git -cf - . | tar -xf - -C "$DIR/root/altpop"
	fi
}
in_tree() {
	chroot_run ALTPOP_IT_REQUIRE=1 ALTPOP_IT_JOBS="${ALTPOP_IT_JOBS:-3}" \
		ALTPOP_UPSTREAM_DOVECOT="$VERSION" \
		ALTPOP_DOVECOT_FROM_SOURCE=1 EXTRA_CFLAGS=-Werror \
		sh -c 'cd /root/altpop && "$@"' x "$@"
}
# the core integration tests: the "core" marker when conftest has one,
# else these files
core_files="test_fetchmail.py test_poplib.py test_curl.py test_differential.py
 test_kpop.py test_login.py"
run_integration() {
	if [ $# -gt 0 ]; then
		in_tree tests/run-integration.sh "$@"
	elif grep -Eqs '"core[:( ]|^[[:space:]]*core:' tests/integration/conftest.py \
		pytest.ini setup.cfg tox.ini pyproject.toml; then
		in_tree tests/run-integration.sh -m core
	else
		set --
		for f in $core_files; do
			if [ -f "tests/integration/$f" ]; then
				set -- "$@" "tests/integration/$f"
			else
				echo "$me: tests/integration/$f missing: not run" >&2
			fi
		done
		in_tree tests/run-integration.sh "$@"
	fi
}

phase chroot scripts/debian-chroot.sh "$release" "$DIR" || finish
phase dovecot build_dovecot || finish
dovecot_desc="Dovecot $(chroot_run /usr/sbin/dovecot --version) (upstream, $(chroot_run cat /root/dovecot-upstream/source 2>/dev/null | cut -d' ' -f1))"
phase altpop-copy copy_tree || finish
# (a no-op normally: the deps phase installed it all)
phase altpop-deps in_tree scripts/install-deps.sh || finish
phase altpop-build in_tree scripts/build.sh || finish
phase unit in_tree make check
phase fuzz in_tree tests/fuzz/run.sh
phase integration run_integration "$@"
finish
