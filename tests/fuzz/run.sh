#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-only
# Runs every libFuzzer target on its committed seed corpus.
#   tests/fuzz/run.sh                  each target 12 s (all thirteen with
#                                      the build: about 4 min)
#   tests/fuzz/run.sh --seconds N      each target N seconds
#   tests/fuzz/run.sh --runs N         each target N executions (long soak,
#                                      e.g. --runs 10000000)
#   tests/fuzz/run.sh ... TARGET...    only these targets (names as in
#                                      tests/fuzz/fuzz-<name>.c)
# Run from the build directory (configured tree); builds the targets with
# `make fuzz` first. New inputs go to a scratch copy of the corpus, never
# into the committed one. Fails on any crash, leak, sanitizer report or
# timeout; the input that failed is kept in tests/fuzz/ (crash-*, leak-*,
# ...): add it to tests/fuzz/corpus/<name>/ with the fix.
set -e
seconds=12
runs=
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	-h|--help) sed -n '3,15p' "$0"; exit 0 ;;
	--*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
here=$(cd "$(dirname "$0")" && pwd)
make -s fuzz >&2
targets=$*
if [ -z "$targets" ]; then
	for f in "$here"/fuzz-*.c; do
		n=${f##*/fuzz-}; n=${n%.c}
		[ "$n" = common ] || targets="$targets $n"
	done
fi
if [ -n "$runs" ]; then
	limit="-runs=$runs"
else
	limit="-max_total_time=$seconds"
fi
# leaks are reported (detect_leaks), UBSan stops at the first report
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
scratch=$(mktemp -d /tmp/altpop-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
failed=""
for t in $targets; do
	bin=tests/fuzz/fuzz-$t
	if [ ! -x "$bin" ]; then
		echo "run.sh: no target $bin" >&2
		exit 2
	fi
	mkdir -p "$scratch/$t"
	cp "$here/corpus/$t"/* "$scratch/$t/" 2>/dev/null || true
	start=$(date +%s)
	if "$bin" -error_exitcode=77 -timeout=10 -rss_limit_mb=2048 \
		-detect_leaks=1 -print_final_stats=1 \
		-artifact_prefix=tests/fuzz/ $limit "$scratch/$t" \
		>"$scratch/$t.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
			"$scratch/$t.log")
		echo "fuzz-$t: ok, $execs runs in $(( $(date +%s) - start )) s"
	else
		echo "fuzz-$t: FAILED"
		tail -40 "$scratch/$t.log"
		failed="$failed $t"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz targets failed:$failed" >&2
	exit 1
fi
