#!/bin/sh
# Runs the whole altpop test suite on a Debian 12 machine, as root:
# installs what it needs from Debian, builds, runs the unit tests (Dovecot's
# lib-test) and the integration tests (a real Dovecot with altpop loaded,
# real POP3 clients, a real Kerberos KDC). Extra arguments go to pytest.
set -e
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "tests/run.sh: run as root (installs packages, starts Dovecot in a private mount namespace)" >&2
	exit 1
fi

scripts/install-deps.sh
# the build must be warning-free with Dovecot's own warning flags
EXTRA_CFLAGS="${EXTRA_CFLAGS:--Werror}" scripts/build.sh

echo "== unit tests"
make check

echo "== benchmark smoke run (ratios are reported, not asserted)"
/usr/bin/python3 tests/bench/run.py --quick

echo "== integration tests"
exec tests/run-integration.sh "$@"
