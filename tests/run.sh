#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the release and the
# AddressSanitizer + UndefinedBehaviorSanitizer configurations and runs the whole suite in both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
jobs=$(nproc)
for preset in release asan; do
  echo "== $preset: configure, build, test"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs" 2>&1 | grep -E "error|warning: unused|\*\*\*" || true
  test -x "build/$preset/attn_tests" || { echo "attnbench: the $preset build failed" >&2; cmake --build --preset "$preset" -j1; exit 1; }
  ctest --preset "$preset" -j"$jobs" --progress
done
