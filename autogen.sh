#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-only
# Generates configure and Makefile.in (needs autoconf, automake, libtool:
# scripts/install-deps.sh installs them).
set -e
cd "$(dirname "$0")"
mkdir -p m4
autoreconf -fi
rm -rf autom4te.cache
