#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-only
# Builds the libFuzzer targets: called by `make fuzz` with the compiler
# and Dovecot's flags in the environment (FUZZ_CC, FUZZ_CFLAGS,
# FUZZ_CPPFLAGS, FUZZ_LIBS, FUZZ_LIB_SOURCES, FUZZ_TARGETS).
# usage: build.sh SRCDIR OUTDIR
# Each tests/fuzz/fuzz-<name>.c becomes OUTDIR/fuzz-<name>, linked with
# fuzz-common.c, the test helpers in tests/lib (shared with the unit
# tests), module/lib's sources and altpop-login's pure ones (compiled again
# with the sanitizers) and libdovecot. A target is rebuilt when any source or
# header is newer than it.
set -e
srcdir=$1
outdir=$2
mkdir -p "$outdir"
if ! command -v "$FUZZ_CC" >/dev/null 2>&1; then
	echo "make fuzz: $FUZZ_CC not found (scripts/install-deps.sh installs clang and libclang-rt-dev; or make fuzz FUZZ_CC=clang-NN)" >&2
	exit 1
fi
lib_sources=""
for f in $FUZZ_LIB_SOURCES; do
	lib_sources="$lib_sources $srcdir/$f"
done
for name in $FUZZ_TARGETS; do
	out=$outdir/fuzz-$name
	src="$srcdir/tests/fuzz/fuzz-$name.c $srcdir/tests/fuzz/fuzz-common.c"
	src="$src $(echo "$srcdir"/tests/lib/*.c)"
	if [ -f "$out" ] && [ -z "$(find $src $lib_sources \
	     "$srcdir"/include/*.h "$srcdir"/tests/fuzz/*.h \
	     "$srcdir"/module/login/kpop-fsm.h \
	     "$srcdir"/module/login/login-cmd-table.h \
	     "$srcdir"/tests/lib/*.h \
	     -newer "$out" 2>/dev/null)" ]; then
		continue
	fi
	echo "  FUZZ     $out"
	# shellcheck disable=SC2086
	$FUZZ_CC $FUZZ_CFLAGS $FUZZ_CPPFLAGS -I"$srcdir/include" \
		-I"$srcdir/module/login" \
		-I"$srcdir/tests/fuzz" -I"$srcdir/tests/lib" -o "$out.tmp" \
		$src $lib_sources $FUZZ_LIBS
	mv "$out.tmp" "$out"
done
