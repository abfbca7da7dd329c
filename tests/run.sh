#!/bin/sh
# Runs the whole altpop test suite as root: installs what it needs from
# Debian, builds (the README's steps), runs the unit tests (Dovecot's
# lib-test), the fuzz targets (a short run each), a benchmark smoke run and
# the integration tests (a real Dovecot
# with altpop loaded, real POP3 clients, a real Kerberos KDC).
#
#   tests/run.sh                     against the Dovecot this machine has
#   tests/run.sh --dovecot 2.3       only Dovecot 2.3 (a Debian 12 machine)
#   tests/run.sh --dovecot 2.4       only Dovecot 2.4: on Debian 13 directly,
#                                    on Debian 12 inside a Debian 13 chroot
#                                    (scripts/debian13-chroot.sh builds it)
#   tests/run.sh --dovecot all       2.3 here, then 2.4 (a sanitizer run,
#                                    see below) in the chroot, then
#                                    the Debian package test (tests/package/run.sh)
# Further arguments go to pytest (e.g. -x, -k fetchmail, a test file).
# ALTPOP_SANITIZE=1: build with ASan + UBSan (SANITIZE=1 scripts/build.sh)
# and run the unit and integration tests with it (no benchmark smoke run),
# then the tests marked plain_build in a plain build; --dovecot all runs
# 2.4 so.
# ALTPOP_CHROOT=DIR keeps the Debian 13 system elsewhere (it is reused).
set -e
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "tests/run.sh: run as root (installs packages, starts Dovecot in a private mount namespace)" >&2
	exit 1
fi

want=installed
if [ "${1:-}" = "--dovecot" ]; then
	want=${2:?tests/run.sh: --dovecot needs 2.3, 2.4 or all}
	shift 2
fi
case "$want" in
installed|2.3|2.4|all) ;;
*) echo "tests/run.sh: --dovecot $want: use 2.3, 2.4 or all" >&2; exit 1 ;;
esac

scripts/install-deps.sh
have=$(dovecot --version | cut -c1-3)

# The suite against this machine's own Dovecot.
run_here() {
	# the build must be warning-free with Dovecot's own warning flags
	SANITIZE="${ALTPOP_SANITIZE:-}" EXTRA_CFLAGS="${EXTRA_CFLAGS:--Werror}" \
		scripts/build.sh
	if [ "${ALTPOP_SANITIZE:-}" = 1 ]; then
		echo "== Dovecot $(dovecot --version): sanitizer build (ASan + UBSan): any report fails a test"
	fi

	echo "== Dovecot $(dovecot --version): unit tests"
	make check

	echo "== Dovecot $(dovecot --version): fuzz targets, a short run each on its corpus"
	tests/fuzz/run.sh

	if [ "${ALTPOP_SANITIZE:-}" != 1 ]; then
		echo "== Dovecot $(dovecot --version): benchmark smoke run (ratios are reported, not asserted)"
		/usr/bin/python3 tests/bench/run.py --quick
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

# The suite inside a Debian 13 chroot, on a copy of this tree (without
# build products), the README's steps run there as on a Debian 13 machine.
run_in_debian13() {
	chroot_dir=${ALTPOP_CHROOT:-/var/cache/altpop/trixie}
	scripts/debian13-chroot.sh "$chroot_dir"
	trap 'scripts/debian13-chroot.sh --umount "$chroot_dir"' EXIT
	rm -rf "$chroot_dir/root/altpop"
	mkdir -p "$chroot_dir/root/altpop"
	if [ -d .git ] && command -v git >/dev/null 2>&1; then
		git ls-files -co --exclude-standard -z |
			tar --null -T - -cf - | tar -xf - -C "$chroot_dir/root/altpop"
	else
		tar --exclude=.git -cf - . | tar -xf - -C "$chroot_dir/root/altpop"
	fi
	chroot "$chroot_dir" env \
		ALTPOP_IT_REQUIRE="${ALTPOP_IT_REQUIRE:-}" CI="${CI:-}" \
		ALTPOP_SANITIZE="${ALTPOP_SANITIZE:-}" \
		ALTPOP_IT_JOBS="${ALTPOP_IT_JOBS:-}" \
		EXTRA_CFLAGS="${EXTRA_CFLAGS:-}" \
		sh -c 'cd /root/altpop && sh tests/run.sh --dovecot 2.4 "$@"' x "$@"
}

case "$want-$have" in
installed-*|2.3-2.3|2.4-2.4)
	run_here "$@" ;;
2.4-2.3)
	run_in_debian13 "$@" ;;
all-2.3)
	# both versions run even when the first fails; either failing fails
	rc=0
	# 2.3 plain (with the benchmark smoke run; ALTPOP_SANITIZE=1 makes it
	# a sanitizer run too), 2.4 the sanitizer run followed by its plain_build
	# tests in a plain build (README, Sanitizers)
	sh tests/run.sh --dovecot 2.3 "$@" || rc=1
	ALTPOP_SANITIZE=1 sh tests/run.sh --dovecot 2.4 "$@" || rc=1
	# the Debian packages, built and exercised in clean Debian 12 and 13
	# chroots (once, not per version)
	sh tests/package/run.sh all || rc=1
	[ $rc = 0 ] && echo "== tests/run.sh: Dovecot 2.3 and 2.4 and the packages passed" ||
		echo "== tests/run.sh: FAILED on Dovecot 2.3 or 2.4 or the packages (see above)" >&2
	exit $rc ;;
all-2.4)
	echo "tests/run.sh: this machine has Dovecot 2.4; 2.3 needs a Debian 12 machine: running 2.4 only" >&2
	run_here "$@" ;;
*)
	echo "tests/run.sh: Dovecot $want is not on this machine (it has $have); 2.3 needs Debian 12, 2.4 runs on Debian 13 or, from Debian 12, in a chroot" >&2
	exit 1 ;;
esac
