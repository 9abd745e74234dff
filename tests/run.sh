#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the release and the
# AddressSanitizer + UndefinedBehaviorSanitizer configurations and runs the whole suite in both,
# runs the GoogleTest suite once more with the avx512 tier emulated on AVX2, cross-builds for
# aarch64 and runs that suite and the driver under qemu (tests/aarch64_lane.sh) on an x86-64
# machine, builds and tests the release configuration again in a Debian 13 root
# (tests/debian13_lane.sh) unless this machine runs Debian 13 itself, then runs the libFuzzer
# targets of fuzz/ for 30 s each. Its summary names the ISA tiers each configuration could not
# test on this CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
jobs=$(nproc)
summary=()
tiers=()
# Minutes each configuration took (build and tests), for the summary.
took=("deps: $((SECONDS / 60)) min")
lane_took() { took+=("$1: $(((SECONDS - $2) / 60)) min"); }
# One line on the ISA tiers a configuration's test shards could not run on this CPU and how many
# cases each skipped, added up from the counts every shard writes (tests/tiers.hpp).
tier_account() {  # tier_account LABEL [TIER_COUNTS_DIR (default build/LABEL/tier-counts)]
  local preset=$1 files=("${2:-build/$1/tier-counts}"/shard*.txt)
  if [[ ! -e ${files[0]} ]]; then echo "$preset: no shard wrote its tier counts"; return; fi
  awk -v preset="$preset" '
    function commas(n,   s, out) {
      s = sprintf("%d", n); out = ""
      while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
      return s out
    }
    !($1 in ran) { order[++n] = $1 }
    { ran[$1] = $2; skipped[$1] += $3 }
    END {
      for (i = 1; i <= n; ++i) {
        t = order[i]
        if (ran[t] != "no") {
          list = list (list == "" ? "" : ", ") t (ran[t] == "emulated" ? " (emulated on AVX2 by SIMDe)" : "")
          continue
        }
        printf "%s: not tested on this CPU: %s — %s cases skipped\n", preset, t, commas(skipped[t])
        missing = 1
      }
      if (!missing) printf "%s: every ISA tier ran on this CPU: %s\n", preset, list
    }' "${files[@]}"
}
# release and asan: everything; avx512-emu: the GoogleTest suite with the avx512 tier emulated on
# AVX2 (tests/emu/), so that a CPU without AVX-512 still tests that tier's code, correctness only.
for preset in release asan avx512-emu; do
  start=$SECONDS
  echo "== $preset: configure, build, test"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs" 2>&1 | grep -E "error|warning: unused|\*\*\*" || true
  test -x "build/$preset/attn_tests" || { echo "attnbench: the $preset build failed" >&2; cmake --build --preset "$preset" -j1; exit 1; }
  rm -f "build/$preset/tier-counts"/shard*.txt
  ctest --preset "$preset" -j"$jobs" --progress | tee "build/$preset/ctest.log"
  summary+=("$(grep -E '[0-9]+% tests passed' "build/$preset/ctest.log")")
  tiers+=("$(tier_account "$preset")")
  lane_took "$preset" "$start"
done
# The aarch64 build's scalar and neon tiers, under qemu-user: correctness, not speed. Left out on
# an Arm machine (the configurations above tested it natively), on Ubuntu (no arm64 packages on
# its x86-64 mirrors) and with ATTN_AARCH64_LANE=skip.
if [[ $(uname -m) != x86_64 ]]; then
  echo "== aarch64: this machine runs $(uname -m): the configurations above tested its tiers natively"
elif [[ ${ATTN_AARCH64_LANE:-run} == skip || $(. /etc/os-release && echo "$ID") != debian ]]; then
  echo "== aarch64: skipped (ATTN_AARCH64_LANE=skip, or not a Debian machine)"
else
  echo "== aarch64: cross-build, test under qemu-aarch64-static"
  start=$SECONDS
  bash tests/aarch64_lane.sh
  summary+=("$(grep -E '[0-9]+% tests passed' build/aarch64/ctest.log)")
  tiers+=("$(tier_account aarch64 | sed 's/on this CPU/under qemu/')")
  lane_took aarch64 "$start"
fi
# Debian 13's compiler and libraries (g++ 14, xsimd 13, oneDNN 3, Google Benchmark 1.9) on the same
# sources, in a debootstrapped root kept under build/debian13 between runs.
if [[ $(. /etc/os-release && echo "$ID$VERSION_ID") == debian13 ]]; then
  echo "== debian13: this machine runs Debian 13: the configurations above tested it"
elif [[ ${ATTN_DEBIAN13_LANE:-run} == skip ]]; then
  echo "== debian13: skipped (ATTN_DEBIAN13_LANE=skip: a container, whose Debian 13 job tests it natively)"
else
  echo "== debian13: build and test in a Debian 13 root"
  start=$SECONDS
  mkdir -p build/debian13
  bash tests/debian13_lane.sh | tee build/debian13/lane.log
  summary+=("$(grep -E '[0-9]+% tests passed' build/debian13/ctest.log)")
  tiers+=("$(tier_account debian13 build/debian13/root/build/release/tier-counts)")
  lane_took debian13 "$start"
fi
# The parsers under libFuzzer, from their seed corpora, 30 s each (run side by side).
echo "== fuzz: build with clang, run each target"
fuzz_ok=0
start=$SECONDS
bash tests/fuzz_run.sh 30 | tee build/fuzz.log || fuzz_ok=1
lane_took fuzz "$start"
# ctest ends with its total time; repeat each configuration's summary so that they close the log.
echo "== summary: minutes per configuration, fuzz, the ISA tiers each configuration tested, then release, asan, avx512-emu, aarch64, debian13"
echo "took: ${took[*]/%/;} $((SECONDS / 60)) min in all"
cat build/fuzz.log
printf '%s\n' "${tiers[@]}"
printf '%s\n' "${summary[@]}"
exit $fuzz_ok
