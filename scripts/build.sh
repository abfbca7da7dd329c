#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-only
# Configures (once) and builds altpop in the source tree.
# SANITIZE=1: build with ASan + UBSan (configure --enable-sanitizers); the
# tree is reconfigured when it was configured the other way.
set -e
cd "$(dirname "$0")/.."
if [ "${SANITIZE:-}" = 1 ]; then
	opts=--enable-sanitizers
else
	opts=
fi
if [ ! -f configure ]; then
	./autogen.sh
fi
if [ -f Makefile ] && [ -x config.status ]; then
	case "$(./config.status --config)" in
	*--enable-sanitizers*) have=--enable-sanitizers ;;
	*) have= ;;
	esac
	if [ "$have" != "$opts" ]; then
		make clean >/dev/null
		rm -f Makefile
	fi
fi
if [ ! -f Makefile ]; then
	./configure $opts
fi
make -j"$(nproc)"
