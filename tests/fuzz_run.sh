#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang and runs each for SECONDS (default 45) from its
# committed seed corpus (fuzz/corpus/<target>, read only; new inputs go to a scratch folder):
#   bash tests/fuzz_run.sh [SECONDS]
# Prints one line per target (inputs tried, seconds) and exits non-zero when a target crashed,
# hung (an input over 10 s) or ran out of memory, leaving the input that did it in build/fuzz/.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-45}
cxx=$(command -v clang++-14 || command -v clang++) || { echo "fuzz: clang++ is not installed"; exit 1; }
cmake -S fuzz -B build/fuzz -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
  cmake --build build/fuzz -j"$(nproc)" >/dev/null || { echo "fuzz: the build failed"; exit 1; }
status=0
run() {
  local target=$1 scratch=build/fuzz/scratch-$1
  rm -rf "$scratch" && mkdir -p "$scratch"
  (cd build/fuzz && "./fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "../../$scratch" "../../fuzz/corpus/$target" >"log-$target.txt" 2>&1)
}
pids=()
for target in shape_descriptor shape_file result_json; do run "$target" & pids+=($!); done
i=0
for target in shape_descriptor shape_file result_json; do
  wait "${pids[$i]}"; rc=$?; i=$((i + 1))
  units=$(sed -n 's/^stat::number_of_executed_units: *//p' "build/fuzz/log-$target.txt")
  if [[ $rc -eq 0 ]]; then
    echo "fuzz_$target: ${units:-?} inputs in ${seconds} s, no crash, hang or leak"
  else
    echo "fuzz_$target: FAILED (exit $rc) after ${units:-?} inputs; see build/fuzz/log-$target.txt"
    grep -E "ERROR|SUMMARY|Test unit written" "build/fuzz/log-$target.txt" | head -5
    status=1
  fi
done
exit $status
