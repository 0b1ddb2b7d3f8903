#!/bin/bash
# run.sh BUILD_DIR SECONDS - runs every libFuzzer target in BUILD_DIR/tests/fuzz for SECONDS
# each, on a scratch copy of its seed corpus, and prints "fuzz_X: ok (N runs)" or
# "fuzz_X: CRASH" per target on stdout (details of a crash on stderr). Exits 1 if any target
# crashed or none was found.
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
build=$1
secs=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

found=0
failed=0
for bin in "$build"/tests/fuzz/fuzz_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	found=$((found + 1))
	name=$(basename "$bin")
	work=$tmp/$name
	mkdir -p "$work/corpus" "$work/artifacts"
	if [ -d "$here/corpus/${name#fuzz_}" ]; then
		cp "$here/corpus/${name#fuzz_}"/* "$work/corpus/" 2>/dev/null
	fi
	if "$bin" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
		echo "$name: ok (${runs:-?} runs)"
	else
		failed=$((failed + 1))
		echo "$name: CRASH"
		# keep what reproduces it, and say why on stderr
		keep=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
		cp "$work/artifacts/"* "$work/log" "$keep/" 2>/dev/null
		{
			grep -m 5 -E 'ERROR|SUMMARY|runtime error|deadly signal' "$work/log"
			echo "log and reproducer kept in $keep"
		} | sed 's/^/    /' >&2
	fi
done

if [ "$found" -eq 0 ]; then
	echo "no fuzz_* targets in $build/tests/fuzz (configure with -Dfuzz=true and CC=clang)" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
