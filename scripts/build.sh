#!/bin/sh
# Configures (once) and builds altpop in the source tree.
set -e
cd "$(dirname "$0")/.."
if [ ! -f configure ]; then
	./autogen.sh
fi
if [ ! -f Makefile ]; then
	./configure
fi
make -j"$(nproc)"
