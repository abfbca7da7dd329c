#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-only
# Quick start: installs what altpop needs (Debian 12 with Dovecot 2.3, or
# Debian 13 with Dovecot 2.4; as root), builds it and starts a demo Dovecot
# on 127.0.0.1 with altpop loaded.
#   scripts/demo.sh        start
#   scripts/demo.sh stop   stop and clean up
set -e
cd "$(dirname "$0")/.."
if [ "${1:-}" = "stop" ]; then
	exec /usr/bin/python3 scripts/demo.py stop
fi
if [ "$(id -u)" != 0 ]; then
	echo "demo.sh: run as root (installs packages, starts Dovecot)" >&2
	exit 1
fi
scripts/install-deps.sh
scripts/build.sh
exec /usr/bin/python3 scripts/demo.py
