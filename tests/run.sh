#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the release and the
# AddressSanitizer + UndefinedBehaviorSanitizer configurations and runs the whole suite in both,
# then runs the libFuzzer targets of fuzz/ for 30 s each.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
jobs=$(nproc)
summary=()
for preset in release asan; do
  echo "== $preset: configure, build, test"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs" 2>&1 | grep -E "error|warning: unused|\*\*\*" || true
  test -x "build/$preset/attn_tests" || { echo "attnbench: the $preset build failed" >&2; cmake --build --preset "$preset" -j1; exit 1; }
  ctest --preset "$preset" -j"$jobs" --progress | tee "build/$preset/ctest.log"
  summary+=("$(grep -E '[0-9]+% tests passed' "build/$preset/ctest.log")")
done
# The parsers under libFuzzer, from their seed corpora, 30 s each (run side by side).
echo "== fuzz: build with clang, run each target"
fuzz_ok=0
bash tests/fuzz_run.sh 30 | tee build/fuzz.log || fuzz_ok=1
# ctest ends with its total time; repeat each configuration's summary so that they close the log.
echo "== summary: fuzz, release, then asan"
cat build/fuzz.log
printf '%s\n' "${summary[@]}"
exit $fuzz_ok
