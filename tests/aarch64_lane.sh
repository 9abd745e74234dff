#!/usr/bin/env bash
# The aarch64 lane of tests/run.sh: cross-builds the driver and the GoogleTest suite for 64-bit Arm
# (the aarch64 preset, cmake/aarch64-linux-gnu.cmake) and runs under qemu-aarch64-static the whole
# suite's shards, for the scalar and neon tiers, then a short `attnbench run` of the peak probes and
# the attention kernels that saves a result and its report, and `attnbench report` on that result.
# Correctness only: the emulator's times say nothing of an Arm CPU's speed, and the saved result
# says it ran emulated. Needs tools/deps.sh's aarch64 packages; ends with ctest's summary line.
#   bash tests/aarch64_lane.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in aarch64-linux-gnu-g++ qemu-aarch64-static; do
  command -v "$tool" >/dev/null || { echo "aarch64 lane: $tool is not installed (bash tools/deps.sh)"; exit 1; }
done
jobs=$(nproc)
cmake --preset aarch64 >/dev/null
cmake --build --preset aarch64 -j"$jobs" --target attn_tests attnbench 2>&1 | grep -E "error|warning: unused|\*\*\*" || true
for target in attn_tests attnbench; do
  [[ -x build/aarch64/$target ]] ||
    { echo "aarch64 lane: the cross build failed"; cmake --build --preset aarch64 -j1 --target "$target"; exit 1; }
done

# The emulator with the multiarch system's arm64 C library, as the toolchain file runs the tests.
emulator=(qemu-aarch64-static -L /)
results=build/aarch64/results
rm -rf "$results"
echo "== aarch64: attnbench run under ${emulator[0]} (times measure the emulator)"
"${emulator[@]}" build/aarch64/attnbench run --stage peak,attention --variant naive,simd,omp,flash \
  --seq 64,128 --heads 2 --dim 32 --threads 1,2 --benchmark_min_time=0.01 --results "$results" >build/aarch64/run.log 2>&1 ||
  { cat build/aarch64/run.log; echo "aarch64 lane: attnbench run failed under the emulator"; exit 1; }
saved=$(find "$results" -name '*.json' | head -1)
[[ -n $saved && -s $(dirname "$saved")/REPORT.md ]] || { echo "aarch64 lane: the run saved no result and report"; exit 1; }
grep -q '"emulated"' "$saved" || { echo "aarch64 lane: $saved does not say it ran emulated"; exit 1; }
"${emulator[@]}" build/aarch64/attnbench report "$saved" >build/aarch64/report.log 2>&1 ||
  { cat build/aarch64/report.log; echo "aarch64 lane: attnbench report failed on $saved"; exit 1; }
echo "aarch64: saved $saved and its report"

rm -f build/aarch64/tier-counts/shard*.txt
ctest --preset aarch64 -j"$jobs" --progress | tee build/aarch64/ctest.log
