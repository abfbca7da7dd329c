#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-only
# Package test (issue 12): for Debian 12 (Dovecot 2.3), Debian 13
# (Dovecot 2.4.1) and Debian testing "forky" (Dovecot 2.4.5), in a clean
# minimal chroot of each, debootstrapped from the
# Debian archive this machine's apt uses:
#   - install build-essential and the Build-Depends only, build the packages
#     with dpkg-buildpackage from a clean copy of this tree, twice: the
#     tree's version and a test-only older version (its snippet differs);
#   - lintian: fail on any error or warning that is not overridden;
#   - install the old packages with apt-get, check they leave Dovecot's
#     configuration loadable and altpop disabled, enable altpop as
#     README.Debian says and edit the conf.d file as an admin would, start
#     the chroot's Dovecot (in a private network namespace), deliver a
#     message and fetch it with curl over POP3 (bytes compared), doveconf -n
#     (debian/tests/enable-and-fetch);
#   - dovecot-altpop-cyrussasl: a user whose password is only in a sasldb2
#     logs in with AUTH LOGIN, PLAIN and CRAM-MD5
#     (debian/tests/cyrussasl-login);
#   - upgrade to the new packages (the edit must survive; an old-style
#     kpop listener in service altpop-login must be named by the postinst,
#     moved as it says it loads), fetch again;
#   - apt-get remove (config kept, Dovecot's config still loads), install
#     again (config back), apt-get purge: no file of the packages, no ucf
#     record and no config file left;
#   - with "all": the Debian 12 package must be refused by apt on Debian 13.
#
#   tests/package/run.sh [bookworm|trixie|forky|all]     (default: all)
#
# ALTPOP_PKG_CACHE=DIR (default /var/cache/altpop/pkg) keeps the debootstrapped
# base systems and the downloaded .debs between runs. Each run works in a
# fresh overlay of the base system whose changes live in memory (tmpfs,
# at most ALTPOP_PKG_TMPFS_SIZE, default 4G, per release) and vanish with
# the run; the logs and the built packages are copied to DIR/<release>-out.
# All releases run at the same time. Run as root.
set -e
cd "$(dirname "$0")/../.."
. scripts/debian-mirror.sh
CACHE=${ALTPOP_PKG_CACHE:-/var/cache/altpop/pkg}
NEW_VERSION=$(dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null ||
	sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
OLD_VERSION="$NEW_VERSION~pkgtest1"

if [ "$(id -u)" != 0 ]; then
	echo "tests/package/run.sh: run as root (debootstrap, chroot, mount)" >&2
	exit 1
fi

say() { echo "== $(date +%T) package test${REL:+ ($REL)}: $*"; }
fail() { echo "== package test${REL:+ ($REL)}: FAILED: $*" >&2; exit 1; }

# ---- one release, inside a private mount namespace (see the end) ----
if [ "${1:-}" = "--in-namespace" ]; then
	REL=$2
	BASE=$CACHE/$REL-base
	W=$CACHE/$REL-work
	ARCHIVES=$CACHE/$REL-archives

	OUT=$CACHE/$REL-out
	RUN=$CACHE/$REL-run
	L=$CACHE/$REL-lintian
	umount_all() {
		for m in var/cache/apt/archives dev/pts dev sys proc ""; do
			for d in "$W" "$L"; do
				while mountpoint -q "$d/$m" 2>/dev/null; do
					umount -l "$d/$m" || break
				done
			done
		done
		while mountpoint -q "$RUN" 2>/dev/null; do
			umount -l "$RUN" || break
		done
	}
	finish() {
		rc=$?
		if [ -d "$W/root/pkgtest" ]; then
			cp "$W"/root/pkgtest/*.log "$W"/root/pkgtest/*.deb "$OUT/" 2>/dev/null || true
			cp -r "$W/root/artifacts" "$OUT/" 2>/dev/null || true
		fi
		umount_all
		exit $rc
	}
	trap finish EXIT

	# Runs a shell command in the chroot with a clean environment.
	inch() {
		chroot "$W" /usr/bin/env -i \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
			AUTOPKGTEST_ARTIFACTS=/root/artifacts \
			sh -ec "$1"
	}
	# Runs a command in the chroot inside a new network namespace with only
	# loopback: Dovecot's ports cannot clash with anything on the machine.
	innet() {
		unshare -n sh -ec 'ip link set lo up; exec "$@"' x \
			chroot "$W" /usr/bin/env -i \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 AUTOPKGTEST_ARTIFACTS=/root/artifacts \
			"$@"
	}

	t0=$(date +%s)
	# -- the base system: debootstrap once, kept in the cache
	if [ ! -f "$BASE/.altpop-base-done" ]; then
		MIRROR=$(debian_mirror_url)
		SECURITY=$(debian_security_url)
		[ -n "$MIRROR" ] || fail "no Debian mirror in /etc/apt/sources.list(.d)"
		say "debootstrap --variant=minbase $REL (first run only)"
		rm -rf "$BASE"
		mkdir -p "$BASE" "$ARCHIVES"
		# Debian 12's debootstrap has no script named forky
		# (testing): it is made like sid
		script=
		[ "$REL" != forky ] || script=/usr/share/debootstrap/scripts/sid
		debootstrap --variant=minbase --cache-dir="$ARCHIVES" \
			"$REL" "$BASE" "$MIRROR" $script > "$CACHE/$REL-debootstrap.log" 2>&1 ||
			{ tail -20 "$CACHE/$REL-debootstrap.log"; fail "debootstrap"; }
		if [ "$REL" = forky ]; then
			# testing has no -updates; the archive's testing
			# Release file may be past its Valid-Until date
			# (signatures are still checked)
			echo "deb $MIRROR $REL main" > "$BASE/etc/apt/sources.list"
			echo 'Acquire::Check-Valid-Until "false";' \
				> "$BASE/etc/apt/apt.conf.d/99altpop-valid-until"
		else
			{
				echo "deb $MIRROR $REL main"
				echo "deb $MIRROR $REL-updates main"
				[ -z "$SECURITY" ] || echo "deb $SECURITY $REL-security main"
			} > "$BASE/etc/apt/sources.list"
		fi
		# no services started by package scripts; a throw-away system
		# needs neither fsync nor man-db's index
		printf '#!/bin/sh\nexit 101\n' > "$BASE/usr/sbin/policy-rc.d"
		chmod +x "$BASE/usr/sbin/policy-rc.d"
		echo force-unsafe-io > "$BASE/etc/dpkg/dpkg.cfg.d/altpop-unsafe-io"
		printf 'APT::Install-Recommends "false";\nAcquire::Languages "none";\n' \
			> "$BASE/etc/apt/apt.conf.d/90altpop"
		chroot "$BASE" sh -c 'echo "man-db man-db/auto-update boolean false" |
			debconf-set-selections'
		cp /etc/resolv.conf "$BASE/etc/resolv.conf" 2>/dev/null || true
		chroot "$BASE" apt-get update -q >/dev/null
		touch "$BASE/.altpop-base-done"
	fi
	# -- a fresh overlay of it for this run, its changes in memory
	umount_all
	rm -rf "$OUT" "$W" "$L"
	mkdir -p "$OUT" "$W" "$L" "$RUN" "$ARCHIVES"
	mount -t tmpfs -o "size=${ALTPOP_PKG_TMPFS_SIZE:-4G},mode=0755" altpop-pkgtest "$RUN"
	mkdir -p "$RUN/upper" "$RUN/work"
	mount -t overlay -o "lowerdir=$BASE,upperdir=$RUN/upper,workdir=$RUN/work" \
		altpop-pkgtest "$W"
	mount -t proc proc "$W/proc"
	mount -t sysfs sysfs "$W/sys"
	mount --bind /dev "$W/dev"
	mount --bind /dev/pts "$W/dev/pts"
	mount --bind "$ARCHIVES" "$W/var/cache/apt/archives"
	cp /etc/resolv.conf "$W/etc/resolv.conf" 2>/dev/null || true

	# -- a clean copy of the tree (tracked and new files, no build products)
	mkdir -p "$W/root/pkgtest/src" "$W/root/pkgtest/old" "$W/root/artifacts"
	if [ -d .git ] || [ -f .git ]; then
		git ls-files -co --exclude-standard -z |
			tar --null -T - -cf - | tar -xf - -C "$W/root/pkgtest/src"
	else
		tar --exclude=.git --exclude=debian/.debhelper -cf - . |
			tar -xf - -C "$W/root/pkgtest/src"
	fi

	say "build-essential and the Build-Depends"
	inch 'apt-get update -q >/dev/null
		apt-get install -y -q build-essential >/root/pkgtest/apt.log 2>&1
		cd /root/pkgtest/src && apt-get build-dep -y -q ./ >>/root/pkgtest/apt.log 2>&1
		dpkg-checkbuilddeps' ||
		{ tail -20 "$W/root/pkgtest/apt.log"; fail "installing the build dependencies"; }
	t1=$(date +%s)

	# lintian gets a chroot of its own (another overlay of the base system),
	# installed while the packages build, so the build chroot holds only
	# build-essential and the Build-Depends
	mkdir -p "$RUN/lupper" "$RUN/lwork"
	mount -t overlay -o "lowerdir=$BASE,upperdir=$RUN/lupper,workdir=$RUN/lwork" \
		altpop-pkgtest "$L"
	mount -t proc proc "$L/proc"
	mount --bind /dev "$L/dev"
	mount --bind "$ARCHIVES" "$L/var/cache/apt/archives"
	cp /etc/resolv.conf "$L/etc/resolv.conf" 2>/dev/null || true
	chroot "$L" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive sh -ec \
		'apt-get update -q >/dev/null; apt-get install -y -q lintian' \
		> "$OUT/apt-lintian.log" 2>&1 &
	lintian_apt=$!

	# nocheck: the unit tests run in tests/run.sh; the packages are the same
	BUILD_OPTIONS=${ALTPOP_PKG_BUILD_OPTIONS-nocheck}
	say "dpkg-buildpackage -b -us -uc ($NEW_VERSION${BUILD_OPTIONS:+, $BUILD_OPTIONS}), Dovecot $(chroot "$W" dovecot --version)"
	inch "cd /root/pkgtest/src && DEB_BUILD_OPTIONS='$BUILD_OPTIONS' dpkg-buildpackage -b -us -uc >../build.log 2>&1" ||
		{ tail -30 "$W/root/pkgtest/build.log"; fail "dpkg-buildpackage"; }
	# The "previous version": the same tree with a test-only changelog entry
	# of a lower version and a snippet that differs (an extra comment line),
	# as an older release's would. Built in the same tree without cleaning
	# (only the packaging steps run again).
	say "dpkg-buildpackage -b -us -uc -nc ($OLD_VERSION, the upgrade's old version)"
	inch "cd /root/pkgtest/src
		{ printf 'dovecot-altpop (%s) unstable; urgency=medium\n\n  * Test-only build (tests/package/run.sh).\n\n -- %s  %s\n\n' \
			'$OLD_VERSION' \"\$(dpkg-parsechangelog -S Maintainer)\" \"\$(dpkg-parsechangelog -S Date)\"
		  cat debian/changelog; } > debian/changelog.new
		mv debian/changelog.new debian/changelog
		for f in dovecot-conf/conf.d/20-altpop.conf dovecot-conf/conf.d-2.4/20-altpop.conf; do
			echo '# (as shipped by $OLD_VERSION)' >> \$f
		done
		DEB_BUILD_OPTIONS='$BUILD_OPTIONS' dpkg-buildpackage -b -us -uc -nc >../build-old.log 2>&1" ||
		{ tail -30 "$W/root/pkgtest/build-old.log"; fail "dpkg-buildpackage (old version)"; }
	t2=$(date +%s)

	P=/root/pkgtest
	NEW= OLD=
	for pkg in dovecot-altpop dovecot-altpop-kpop dovecot-altpop-cyrussasl; do
		NEW="$NEW $P/${pkg}_${NEW_VERSION}_amd64.deb"
		OLD="$OLD $P/${pkg}_${OLD_VERSION}_amd64.deb"
	done
	PACKAGES="dovecot-altpop dovecot-altpop-kpop dovecot-altpop-cyrussasl"
	for f in $NEW $OLD; do
		[ -f "$W$f" ] || fail "$f was not built"
	done
	abi=$(cat "$W/usr/share/dovecot/dovecot-abi")
	for f in $NEW; do
		dpkg-deb -f "$W$f" Depends | tr ',' '\n' | grep -qx " *dovecot-abi-$abi" ||
			fail "$(basename "$f") does not depend on dovecot-abi-$abi: $(dpkg-deb -f "$W$f" Depends)"
	done

	say "lintian (fails on errors and warnings that are not overridden)"
	wait "$lintian_apt" || { tail -20 "$OUT/apt-lintian.log"; fail "installing lintian"; }
	mkdir -p "$L/root/lint"
	cp "$W$P"/*_"${NEW_VERSION}"_* "$L/root/lint/"
	chroot "$L" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 sh -c "cd /root/lint && lintian --fail-on error,warning \
		-I -E --pedantic dovecot-altpop_${NEW_VERSION}_amd64.changes" \
		> "$OUT/lintian.txt" 2>&1 || lintian_rc=$?
	grep -v 'root privileges' "$OUT/lintian.txt" || true
	[ "${lintian_rc:-0}" = 0 ] || fail "lintian (exit ${lintian_rc})"
	t3=$(date +%s)

	# -- install the old version, as an admin would
	say "apt-get install ./ the $OLD_VERSION packages"
	inch "apt-get install -y -q $OLD curl sasl2-bin libsasl2-modules >$P/install-old.log 2>&1" ||
		{ tail -20 "$W$P/install-old.log"; fail "apt-get install (old)"; }
	grep -q "altpop is installed but NOT enabled" "$W$P/install-old.log" ||
		fail "the postinst did not say that altpop is not enabled"
	CONF=/etc/dovecot/conf.d/20-altpop.conf
	[ -f "$W$CONF" ] || fail "$CONF not installed"
	inch "ucfq -w dovecot-altpop | grep -q '^$CONF:dovecot-altpop:'" ||
		fail "$CONF is not registered with ucf"
	inch 'doveconf -n >/dev/null' || fail "Dovecot's configuration does not load after installing"
	inch 'doveconf -h protocols' | grep -q altpop &&
		fail "installing enabled altpop: $(inch 'doveconf -h protocols' | tr '\n' ' ')"

	# the admin: a test user, and an edit of the conf.d file
	inch 'useradd -m altpoptest && echo altpoptest:Secret-1 | chpasswd'
	sed -i 's/^  #altpop_uidl_format = dovecot$/  altpop_uidl_format = courier/' "$W$CONF"
	grep -q '^  altpop_uidl_format = courier$' "$W$CONF" || fail "could not edit $CONF"

	say "enable altpop (README.Debian), start Dovecot, deliver, fetch with curl"
	innet /bin/sh /root/pkgtest/src/debian/tests/enable-and-fetch ||
		fail "debian/tests/enable-and-fetch with $OLD_VERSION"
	grep -Eq '^1 UID[0-9]+-[0-9]+$' "$W/root/artifacts/uidl" ||
		fail "UIDL is not in the edited format (courier): $(cat "$W/root/artifacts/uidl")"

	# An admin who enabled KPOP before it had a login service of its own
	# put the kpop listener into altpop-login: the upgrade must say what
	# to change.
	printf 'service altpop-login {\n  inet_listener kpop {\n    port = 1109\n  }\n}\n' >> "$W$CONF"
	inch 'doveconf -n >/dev/null' || fail "the old-style kpop listener does not load before the upgrade"

	say "upgrade to $NEW_VERSION (apt-get install ./)"
	inch "apt-get install -y -q $NEW >$P/upgrade.log 2>&1" ||
		{ tail -20 "$W$P/upgrade.log"; fail "apt-get install (upgrade)"; }
	grep -q 'KPOP now has its own login service' "$W$P/upgrade.log" ||
		{ tail -20 "$W$P/upgrade.log"; fail "the upgrade did not say where the kpop listener belongs now"; }
	grep -q 'service altpop-kpop-login' "$W$P/upgrade.log" ||
		fail "the upgrade's KPOP message does not name service altpop-kpop-login"
	# the admin does what it says: the block moves to altpop-kpop-login
	head -n -5 "$W$CONF" > "$W$CONF.new" && mv "$W$CONF.new" "$W$CONF"
	printf 'service altpop-kpop-login {\n  inet_listener kpop {\n    port = 1109\n  }\n}\n' >> "$W$CONF"
	inch 'doveconf -n' | awk '/^service altpop-kpop-login \{/ { s = 1 } s && /inet_listener kpop/ { ok = 1 } END { exit !ok }' ||
		fail "doveconf -n shows no kpop listener in service altpop-kpop-login after the move"
	grep -q '^  altpop_uidl_format = courier$' "$W$CONF" ||
		fail "the upgrade lost the admin's edit of $CONF"
	# Both the admin and the new version changed the file: ucf (without a
	# terminal) keeps the admin's and puts the new one beside it.
	if [ -e "$W$CONF.ucf-dist" ]; then
		cmp -s "$W$CONF.ucf-dist" "$W/usr/share/dovecot/conf.d/20-altpop.conf" ||
			fail "$CONF.ucf-dist is not the new version's snippet"
		say "ucf kept the admin's file and left the new version as $CONF.ucf-dist"
	fi
	[ "$(inch 'dpkg-query -W -f="\${Version}" dovecot-altpop')" = "$NEW_VERSION" ] ||
		fail "dovecot-altpop $NEW_VERSION not installed"
	innet /bin/sh /root/pkgtest/src/debian/tests/enable-and-fetch ||
		fail "debian/tests/enable-and-fetch after the upgrade"
	grep -Eq '^1 UID[0-9]+-[0-9]+$' "$W/root/artifacts/uidl" ||
		fail "UIDL after the upgrade not in the edited format: $(cat "$W/root/artifacts/uidl")"

	say "dovecot-altpop-cyrussasl: a sasldb2 user logs in (AUTH LOGIN, PLAIN, CRAM-MD5)"
	innet /bin/sh /root/pkgtest/src/debian/tests/cyrussasl-login ||
		fail "debian/tests/cyrussasl-login"
	inch 'doveconf -n >/dev/null' || fail "Dovecot's configuration does not load after cyrussasl-login"

	say "apt-get remove: the configuration is kept, Dovecot's still loads"
	inch "apt-get remove -y -q $PACKAGES >$P/remove.log 2>&1" ||
		{ tail -20 "$W$P/remove.log"; fail "apt-get remove"; }
	[ ! -e "$W$CONF" ] || fail "$CONF still read by Dovecot after remove"
	grep -q '^  altpop_uidl_format = courier$' "$W$CONF.removed" ||
		fail "remove did not keep the admin's configuration ($CONF.removed)"
	[ ! -e "$W/usr/lib/dovecot/altpop-login" ] || fail "remove left the binaries"
	inch 'doveconf -n >/dev/null' || fail "Dovecot's configuration does not load after remove"

	say "install again: the configuration comes back"
	inch "apt-get install -y -q $NEW >$P/reinstall.log 2>&1" ||
		{ tail -20 "$W$P/reinstall.log"; fail "apt-get install (again)"; }
	grep -q '^  altpop_uidl_format = courier$' "$W$CONF" ||
		fail "reinstalling did not restore $CONF"
	inch 'doveconf -h protocols' | grep -q altpop || fail "altpop not enabled again after reinstalling"

	say "apt-get purge: nothing of the packages is left"
	inch "apt-get purge -y -q $PACKAGES >$P/purge.log 2>&1" ||
		{ tail -20 "$W$P/purge.log"; fail "apt-get purge"; }
	left=""
	for f in $NEW $OLD; do
		for p in $(dpkg-deb -c "$W$f" | awk '{ print substr($6, 2) }'); do
			case "$p" in
			*/) # directories: only those no other package owns
				p=${p%/}
				[ -d "$W$p" ] || continue
				[ -z "$(ls -A "$W$p")" ] && [ -z "$(inch "dpkg-query -S '$p' 2>/dev/null" || true)" ] &&
					left="$left $p/" ;;
			*)	[ -e "$W$p" ] || [ -L "$W$p" ] && left="$left $p" ;;
			esac
		done
	done
	for f in "$W$CONF"* "$W/var/lib/ucf/cache/:etc:dovecot:conf.d:20-altpop.conf"*; do
		[ -e "$f" ] && left="$left ${f#"$W"}"
	done
	grep -q '20-altpop' "$W/var/lib/ucf/hashfile" "$W/var/lib/ucf/registry" 2>/dev/null &&
		left="$left (ucf records of 20-altpop.conf)"
	[ -z "$(inch 'ucfq -w dovecot-altpop')" ] || left="$left (ucfq dovecot-altpop)"
	inch 'dpkg-query -W -f="\${db:Status-Abbrev}" dovecot-altpop 2>/dev/null' | grep -q . &&
		[ "$(inch 'dpkg-query -W -f="\${db:Status-Abbrev}" dovecot-altpop 2>/dev/null')" != "un " ] &&
		left="$left (dpkg still knows dovecot-altpop)"
	[ -z "$left" ] || fail "purge left:$left"
	inch 'doveconf -n >/dev/null' || fail "Dovecot's configuration does not load after purge"

	t4=$(date +%s)
	say "passed: build deps $((t1 - t0)) s, builds $((t2 - t1)) s, lintian $((t3 - t2)) s, install/upgrade/remove/purge $((t4 - t3)) s"
	exit 0
fi

# ---- main: each release in its own mount namespace, so every mount goes
# away with it, whatever happens ----
want=${1:-all}
case "$want" in
bookworm|trixie|forky) releases=$want ;;
all) releases="bookworm trixie forky" ;;
*) echo "usage: tests/package/run.sh [bookworm|trixie|forky|all]" >&2; exit 1 ;;
esac
for tool in debootstrap unshare ip; do
	if ! command -v $tool >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			debootstrap util-linux iproute2 >/dev/null
		break
	fi
done
mkdir -p "$CACHE"
start=$(date +%s)
rc=0
# both releases at once: their downloads and builds overlap
pids=""
for rel in $releases; do
	unshare -m --propagation private sh "$0" --in-namespace "$rel" &
	pids="$pids $!"
done
for pid in $pids; do
	wait "$pid" || rc=1
done
if [ "$want" = all ] && [ $rc = 0 ]; then
	REL="Debian 12 package on Debian 13"
	deb=$CACHE/bookworm-out/dovecot-altpop_${NEW_VERSION}_amd64.deb
	cp "$deb" "$CACHE/trixie-base/root/"
	if chroot "$CACHE/trixie-base" apt-get install -s -q "./root/$(basename "$deb")" \
		> "$CACHE/cross.log" 2>&1; then
		echo "== package test: FAILED: apt accepts the Debian 12 package on Debian 13's Dovecot" >&2
		rc=1
	else
		grep -q 'dovecot-abi-2.3' "$CACHE/cross.log" ||
			{ cat "$CACHE/cross.log"; echo "== package test: FAILED: refused, but not for the ABI" >&2; rc=1; }
		[ $rc != 0 ] || say "refused by apt (depends on dovecot-abi-2.3.abiv19)"
	fi
	rm -f "$CACHE/trixie-base/root/$(basename "$deb")"
fi
REL=
if [ $rc = 0 ]; then
	say "$releases passed in $(( $(date +%s) - start )) s"
else
	echo "== package test: FAILED (see above)" >&2
fi
exit $rc
