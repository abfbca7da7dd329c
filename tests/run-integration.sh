#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-only
# Run the integration tests (real, throw-away Dovecot instances; needs root).
# Build first (./autogen.sh && ./configure && make): the altpop cases are
# skipped when the tree is not configured.  Arguments go to pytest, e.g.
#   tests/run-integration.sh -k fetchmail -x
#   tests/run-integration.sh tests/integration/test_curl.py
# (when an argument names a test file or directory, only that is run).
# ALTPOP_IT_REQUIRE=1: fail instead of skipping when altpop is not built.
# ALTPOP_IT_STOCK_ONLY=1: do not stage altpop; only stock Dovecot pop3 runs.
# ALTPOP_IT_KEEP=1: keep each instance's directory (config, log, mail).
# ALTPOP_IT_JOBS=N: run the tests in N parallel workers (pytest-xdist, one
# test file per worker at a time; each worker picks its servers' ports from
# a slice of its own); unset or 1: one after another.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
default=tests/integration
for arg in "$@"; do
	case "$arg" in
	-*) ;;
	*::*) default= ;;
	*) if [ -e "$arg" ]; then default=; fi ;;
	esac
done
jobs=
if [ "${ALTPOP_IT_JOBS:-1}" -gt 1 ] 2>/dev/null &&
	/usr/bin/python3 -c 'import xdist' 2>/dev/null; then
	jobs="-n $ALTPOP_IT_JOBS --dist loadfile"
fi
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider $jobs $default "$@"
