#!/usr/bin/env bash
# scripts/build.sh [--fuzz] — configure (once) and build build/ with gcc; with --fuzz, also
# build-fuzz/ with clang and -Dfuzz=true (the libFuzzer targets, built with ASan + UBSan by
# tests/fuzz/meson.build).
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz=0
case ${1:-} in
    --fuzz) fuzz=1 ;;
    "") ;;
    *) echo "usage: $0 [--fuzz]" >&2; exit 2 ;;
esac

# meson setup only when the directory has never been configured successfully; afterwards
# ninja re-runs meson by itself whenever a meson.build changes.
if [ ! -f build/build.ninja ]; then
    CC=gcc meson setup build
fi
ninja -C build

if [ $fuzz -eq 1 ]; then
    if [ ! -f build-fuzz/build.ninja ]; then
        CC=clang meson setup build-fuzz -Dfuzz=true
    fi
    ninja -C build-fuzz
fi
