#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-only
# Runs the whole altpop test suite as root: installs what it needs from
# Debian, builds (the README's steps), runs the unit tests (Dovecot's
# lib-test), the fuzz targets (a short run each), a benchmark smoke run and
# the integration tests (a real Dovecot
# with altpop loaded, real POP3 clients, a real Kerberos KDC).
#
#   tests/run.sh                     against the Dovecot this machine has
#   tests/run.sh --dovecot TARGET    against one Debian release's Dovecot:
#     2.3 | debian12       Debian 12's 2.3.19.1 (this machine must be
#                          Debian 12)
#     2.4 | debian13       Debian 13's 2.4.1: on Debian 13 directly, on
#                          Debian 12 inside a Debian 13 chroot
#     testing              Debian testing's (forky) 2.4.5, in a chroot
#     debian12-bpo         Debian 12 with bookworm-backports' 2.3.21.1, in a
#                          chroot: build, unit tests, fuzz targets and the
#                          core integration tests (pytest -m core)
#     all                  all four (what CI runs): Debian 12 here (plain,
#                          with the benchmark smoke run), Debian 13 (plain),
#                          testing (the sanitizer run, see below), Debian 12
#                          backports (core), then the Debian package test
#                          (tests/package/run.sh) on Debian 12, 13, testing
#   (scripts/debian-chroot.sh builds the chroots, kept for the next run)
# Further arguments go to pytest (e.g. -x, -k fetchmail, a test file).
# ALTPOP_SANITIZE=1: build with ASan + UBSan (SANITIZE=1 scripts/build.sh)
# and run the unit and integration tests with it (no benchmark smoke run),
# then the tests marked plain_build in a plain build.
# ALTPOP_SUITE=core: only the core integration tests, no benchmark smoke run.
# ALTPOP_SUITE=soak: only the build and the soak (tests/bench/soak.py) for
# ALTPOP_SOAK_MINUTES (default 2; the plain suite runs a 2-minute soak
# after the benchmark smoke run), its JSON summary in ALTPOP_SOAK_JSON.
# ALTPOP_CHROOT_BASE=DIR: where the other releases' chroots are kept
# (default /var/cache/altpop; a second tree's runs can use their own).
set -e
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "tests/run.sh: run as root (installs packages, starts Dovecot in a private mount namespace)" >&2
	exit 1
fi

want=installed
if [ "${1:-}" = "--dovecot" ]; then
	want=${2:?tests/run.sh: --dovecot needs debian12, debian12-bpo, debian13, testing or all}
	shift 2
fi
case "$want" in
2.3) want=debian12 ;;
2.4) want=debian13 ;;
esac
case "$want" in
installed|debian12|debian12-bpo|debian13|testing|all) ;;
*) echo "tests/run.sh: --dovecot $want: use debian12 (2.3), debian12-bpo, debian13 (2.4), testing or all" >&2; exit 1 ;;
esac

scripts/install-deps.sh
have=$(dovecot --version | cut -c1-3)

# The soak: mixed clients, deliveries, kill -9 and backend restarts for
# ALTPOP_SOAK_MINUTES, then nothing lost, duplicated or leaked
run_soak() {
	echo "== Dovecot $(dovecot --version): soak, ${ALTPOP_SOAK_MINUTES:-2} minutes (kill -9, backend restarts; nothing lost or duplicated)"
	/usr/bin/python3 tests/bench/soak.py --minutes "${ALTPOP_SOAK_MINUTES:-2}" \
		${ALTPOP_SOAK_JSON:+--json "$ALTPOP_SOAK_JSON"}
}

# The suite against this machine's own Dovecot.
run_here() {
	# the build must be warning-free with Dovecot's own warning flags
	SANITIZE="${ALTPOP_SANITIZE:-}" EXTRA_CFLAGS="${EXTRA_CFLAGS:--Werror}" \
		scripts/build.sh
	if [ "${ALTPOP_SANITIZE:-}" = 1 ]; then
		echo "== Dovecot $(dovecot --version): sanitizer build (ASan + UBSan): any report fails a test"
	fi

	if [ "${ALTPOP_SUITE:-}" = soak ]; then
		run_soak
		return
	fi

	echo "== Dovecot $(dovecot --version): unit tests"
	make check

	echo "== Dovecot $(dovecot --version): fuzz targets, a short run each on its corpus"
	tests/fuzz/run.sh

	if [ "${ALTPOP_SUITE:-}" = core ]; then
		echo "== Dovecot $(dovecot --version): core integration tests (-m core)"
		ALTPOP_IT_JOBS=${ALTPOP_IT_JOBS:-3}
		export ALTPOP_IT_JOBS
		tests/run-integration.sh -m core "$@"
		return
	fi
	if [ "${ALTPOP_SANITIZE:-}" != 1 ]; then
		echo "== Dovecot $(dovecot --version): benchmark smoke run (ratios are reported, not asserted)"
		/usr/bin/python3 tests/bench/run.py --quick
		run_soak
	fi

	echo "== Dovecot $(dovecot --version): integration tests"
	# three workers: most of a test's time is spent waiting on servers
	# and clients, not on the two cores
	ALTPOP_IT_JOBS=${ALTPOP_IT_JOBS:-3}
	export ALTPOP_IT_JOBS
	if [ "${ALTPOP_SANITIZE:-}" != 1 ]; then
		tests/run-integration.sh "$@"
		return
	fi
	# a sanitizer run: then, in a plain build, the tests that say nothing
	# in a sanitizer build and skip themselves there (marked plain_build)
	rc=0
	tests/run-integration.sh "$@" || rc=1
	echo "== Dovecot $(dovecot --version): plain build, the tests a sanitizer build skips (-m plain_build)"
	SANITIZE= EXTRA_CFLAGS="${EXTRA_CFLAGS:--Werror}" scripts/build.sh
	# (pytest's 5: the arguments selected none of them)
	tests/run-integration.sh -m plain_build "$@" || [ $? = 5 ] || rc=1
	return $rc
}

# The suite inside a chroot of another Debian release (scripts/debian-chroot.sh),
# on a copy of this tree (without build products: git's list of files, also
# in a git worktree, where .git is a file), the README's steps run there as
# on a machine of that release.
run_in_chroot() {
	release=$1
	shift
	chroot_dir=${ALTPOP_CHROOT_BASE:-/var/cache/altpop}/$release
	scripts/debian-chroot.sh "$release" "$chroot_dir"
	trap 'scripts/debian-chroot.sh --umount "$release" "$chroot_dir"' EXIT
	rm -rf "$chroot_dir/root/altpop"
	mkdir -p "$chroot_dir/root/altpop"
	if command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
		git ls-files -co --exclude-standard -z |
			tar --null -T - -cf - | tar -xf - -C "$chroot_dir/root/altpop"
	else
		tar --exclude=.git -cf - . | tar -xf - -C "$chroot_dir/root/altpop"
	fi
	# a Debian 12 chroot builds the same movemail as this Debian 12
	# machine: reuse the one built here (tests/movemail/build.sh's cache)
	if [ "$release" = bookworm-bpo ] && [ "$host_release" = bookworm ] &&
		[ -x /var/cache/altpop/movemail/bookworm/movemail ] &&
		[ ! -x "$chroot_dir/var/cache/altpop/movemail/bookworm/movemail" ]; then
		mkdir -p "$chroot_dir/var/cache/altpop/movemail"
		cp -a /var/cache/altpop/movemail/bookworm "$chroot_dir/var/cache/altpop/movemail/"
	fi
	rc=0
	chroot "$chroot_dir" env \
		ALTPOP_IT_REQUIRE="${ALTPOP_IT_REQUIRE:-}" CI="${CI:-}" \
		ALTPOP_SANITIZE="${ALTPOP_SANITIZE:-}" \
		ALTPOP_SUITE="${ALTPOP_SUITE:-}" \
		ALTPOP_SOAK_MINUTES="${ALTPOP_SOAK_MINUTES:-}" \
		ALTPOP_SOAK_JSON="${ALTPOP_SOAK_JSON:-}" \
		ALTPOP_IT_JOBS="${ALTPOP_IT_JOBS:-}" \
		EXTRA_CFLAGS="${EXTRA_CFLAGS:-}" \
		sh -c 'cd /root/altpop && sh tests/run.sh "$@"' x "$@" || rc=$?
	scripts/debian-chroot.sh --umount "$release" "$chroot_dir"
	trap - EXIT
	return $rc
}

# The Debian release this machine is (12, 13, ...), from os-release
host_release=$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")
have=$(dovecot --version | cut -c1-3)

case "$want-$host_release" in
installed-*|debian12-bookworm|debian13-trixie)
	run_here "$@" ;;
debian13-bookworm)
	run_in_chroot trixie "$@" ;;
testing-*)
	run_in_chroot forky "$@" ;;
debian12-bpo-bookworm)
	ALTPOP_SUITE=core run_in_chroot bookworm-bpo "$@" ;;
all-bookworm)
	# every release runs even when one fails; any failing fails
	rc=0
	# the chroots are made (first run) or refreshed in the background
	# while Debian 12's suite runs here: their downloads and package
	# installs overlap the tests' waiting on servers
	base=${ALTPOP_CHROOT_BASE:-/var/cache/altpop}
	mkdir -p "$base"
	(
		for r in trixie forky bookworm-bpo; do
			nice -n 10 scripts/debian-chroot.sh "$r" "$base/$r" \
				> "$base/$r-prepare.log" 2>&1 ||
				echo "failed" > "$base/$r-prepare.failed"
		done
	) &
	prepare=$!
	rm -f "$base"/*-prepare.failed
	t0=$(date +%s)
	sh tests/run.sh --dovecot debian12 "$@" || rc=1
	t1=$(date +%s)
	wait $prepare || true
	for r in trixie forky bookworm-bpo; do
		if [ -f "$base/$r-prepare.failed" ]; then
			tail -n 30 "$base/$r-prepare.log"
			echo "== tests/run.sh: preparing the $r chroot failed (log above)" >&2
		fi
	done
	t2=$(date +%s)
	sh tests/run.sh --dovecot debian13 "$@" || rc=1
	t3=$(date +%s)
	# the newest Dovecot gets the sanitizer run followed by its
	# plain_build tests in a plain build (doc/testing.md, Sanitizers)
	ALTPOP_SANITIZE=1 sh tests/run.sh --dovecot testing "$@" || rc=1
	t4=$(date +%s)
	sh tests/run.sh --dovecot debian12-bpo "$@" || rc=1
	t5=$(date +%s)
	# the Debian packages, built and exercised in clean Debian 12, 13
	# and testing chroots (once, not per version)
	sh tests/package/run.sh all || rc=1
	t6=$(date +%s)
	echo "== tests/run.sh: times: Debian 12 $((t1 - t0)) s, waiting for the chroots $((t2 - t1)) s, Debian 13 $((t3 - t2)) s, testing (sanitizers) $((t4 - t3)) s, Debian 12 backports (core) $((t5 - t4)) s, packages $((t6 - t5)) s"
	[ $rc = 0 ] && echo "== tests/run.sh: Debian 12 (2.3.19.1), Debian 13 (2.4.1), testing (2.4.5), Debian 12 backports (2.3.21.1) and the packages passed" ||
		echo "== tests/run.sh: FAILED on one of the Dovecots or the packages (see above)" >&2
	exit $rc ;;
all-*)
	echo "tests/run.sh: --dovecot all runs on a Debian 12 machine (it needs Debian 12's own Dovecot); running this machine's Dovecot only" >&2
	run_here "$@" ;;
*)
	echo "tests/run.sh: --dovecot $want cannot run on this machine ($host_release, Dovecot $have): debian12 and debian12-bpo need Debian 12; debian13 runs on Debian 13 or, from Debian 12, in a chroot; testing runs in a chroot" >&2
	exit 1 ;;
esac
